"""Experiment specs: checked whole before any training, run into one experiment, never duplicated."""

import re

import mlflow
import pytest

from stance.errors import StanceError
from training.experiments import load_plan, run_plan

GOOD_RUN = "  - recipe: baseline\n    overrides:\n      cv_folds: {value: 3, reason: fewer folds}\n"


def write_spec(folder, body: str, name: str = "bad"):
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\ndescription: a spec for a test\n{body}")
    return path


def no_experiment(name: str) -> bool:
    return mlflow.get_experiment_by_name(name) is None


def test_an_unknown_top_level_key_fails_before_any_training(tmp_path):
    spec = write_spec(tmp_path, "data_verison: latest\nruns:\n" + GOOD_RUN)
    with pytest.raises(StanceError) as err:
        load_plan(spec)
    assert str(err.value) == (
        f"{spec}: unknown key 'data_verison' (allowed keys: data_version, description, learning_curve, "
        "name, registered_model, runs)"
    )


def test_an_unknown_key_inside_a_run_names_the_run_keys(tmp_path):
    spec = write_spec(tmp_path, "runs:\n  - recipe: baseline\n    overides: {}\n")
    with pytest.raises(
        StanceError, match=re.escape("unknown key 'runs.0.overides' (allowed keys: name, overrides, recipe)")
    ):
        load_plan(spec)


def test_an_override_key_the_recipe_kind_lacks_fails_with_the_kinds_keys(tmp_path):
    spec = write_spec(
        tmp_path, GOOD_RUN.replace("  - recipe", "runs:\n  - recipe") + "  - recipe: baseline\n    name: typo\n"
        "    overrides:\n      learning_rate: {value: 0.1, reason: a transformer key on the baseline}\n",
    )  # fmt: skip
    with pytest.raises(StanceError) as err:
        load_plan(spec)
    assert str(err.value) == (
        f"{spec}: run 'typo' (configs/baseline.yaml + overrides): unknown key 'learning_rate' (allowed keys: "
        "C, char_ngrams, class_weight, cv_folds, kind, max_features, max_iter, min_df, seed, word_ngrams)"
    )


def test_a_learning_curve_needs_two_different_shares(tmp_path):
    """[0.5, 0.5] passed as two shares and ran one CV-only point at 50 %: no curve, no model."""
    spec = write_spec(tmp_path, "learning_curve: {train_shares: [0.5, 0.5]}\nruns:\n" + GOOD_RUN)
    with pytest.raises(StanceError) as err:
        load_plan(spec, build=False)
    assert str(err.value) == (
        f"{spec}: bad value for 'learning_curve.train_shares': a curve needs at least two different "
        "shares (got [0.5, 0.5])"
    )


def test_a_recipe_that_does_not_exist_fails_clearly(tmp_path):
    spec = write_spec(tmp_path, "runs:\n" + GOOD_RUN + "  - recipe: forest\n")
    with pytest.raises(StanceError) as err:
        load_plan(spec)
    # other tests add recipes to the scratch configs/, so only the shipped ones are pinned
    prefix = f"{spec}: run 'forest': recipe 'forest' does not exist in configs/ (recipes: "
    message = str(err.value)
    assert message.startswith(prefix) and message.endswith(")")
    listed = message[len(prefix) : -1].split(", ")
    assert listed == sorted(listed)
    shipped = {"baseline", "blend-finetune", "embedding", "fewshot", "finetune", "hybrid-mpnet-attn"}
    assert shipped <= set(listed)
    assert no_experiment("bad")


def test_an_override_needs_a_reason(tmp_path):
    spec = write_spec(tmp_path, "runs:\n  - recipe: baseline\n    overrides:\n      C: 2.0\n")
    with pytest.raises(StanceError, match=re.escape("every override needs a one-line reason")):
        load_plan(spec)


def test_the_bad_spec_command_prints_one_line_and_trains_nothing(tmp_path):
    from tests.conftest import run_cli

    spec = write_spec(
        tmp_path,
        "runs:\n  - recipe: baseline\n    overrides:\n      cv_fold: {value: 3, reason: x}\n",
        "typo",
    )
    out = run_cli("experiment", "run", str(spec))
    assert out.returncode == 2
    lines = out.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"error: {spec}: run 'baseline' (configs/baseline.yaml + overrides): unknown key 'cv_fold'"
    )
    assert out.stdout == b"" and no_experiment("typo")


def test_a_spec_that_is_not_there_is_named_as_typed_and_a_root_relative_one_is_found(tmp_path):
    from tests.conftest import run_cli

    missing = run_cli("experiment", "run", "nosuch.yaml", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.decode().strip() == "error: config file not found: nosuch.yaml"
    # the project's own specs are named from its root, whatever folder the user is in
    from stance import paths

    paths.experiments().mkdir(parents=True, exist_ok=True)
    spec = write_spec(paths.experiments(), "runs:\n" + GOOD_RUN, "typed")
    try:
        found = run_cli("experiment", "run", "experiments/typed.yaml", "--dry-run", cwd=tmp_path)
    finally:
        spec.unlink()
    assert found.returncode == 0, found.stderr.decode()
    assert found.stdout.decode().startswith("experiment typed: 1 run on data version")


def test_a_spec_runs_into_one_experiment_with_its_tags(tiny_experiment, built):
    spec, results = tiny_experiment
    _, meta = built
    assert [r["entry"] for r in results] == ["baseline", "baseline-c3"] and not any(
        r["skipped"] for r in results
    )
    run = mlflow.get_run(results[1]["run_id"])
    tags = run.data.tags
    assert mlflow.get_experiment(run.info.experiment_id).name == "tiny"
    assert tags["spec_entry"] == "tiny/baseline-c3" and tags["spec"] == "experiments/tiny.yaml"
    assert tags["data_version"] == meta["data_version"] and tags["data_version_requested"] == "latest"
    assert tags["scheme_hash"] and tags["git_commit"] and tags["code_version"]
    assert tags["override_reasons"] == (
        '{"C": "a little more regularisation: a near-equal rival", "cv_folds": "fewer folds: faster tests"}'
    )
    assert run.data.params["C"] == "3.0" and run.data.params["cv_folds"] == "3"
    assert results[1]["model_uri"] == "models:/tiny-classifier/2"
    assert "aliases left to `stance promote`" in tags["registry_decision"]


def test_a_spec_runs_description_says_what_the_spec_says_of_it(tiny_experiment):
    """The run page's description keeps the spec's question, the entry and each override's reason
    beside the figures (train's own description had replaced them: two entries of one recipe read
    alike)."""
    _, results = tiny_experiment
    note = mlflow.get_run(results[1]["run_id"]).data.tags["mlflow.note.content"]
    assert note.startswith("**baseline** (baseline) on data version") and "- rolling origin (" in note
    assert (
        "\n\ntwo baseline runs a hair apart, 3 folds, for the experiment tests\n\n"
        "Run `baseline-c3`: configs/baseline.yaml\n"
        "- `cv_folds: 3`: fewer folds: faster tests\n"
        "- `C: 3.0`: a little more regularisation: a near-equal rival\n\n"
        "Model at training: tiny-classifier: registered as version 2; aliases left to `stance promote`"
    ) in note


def test_the_command_names_each_runs_figures_as_compare_ranks_them(tiny_experiment):
    """Each run's line said `stance macro-F1` for grouped CV's fold mean, which compare's ranking
    figure (the rolling origin's) is not; a skipped run showed no figure at all."""
    from tests.conftest import run_cli

    spec, results = tiny_experiment
    out = run_cli("experiment", "run", str(spec))
    assert out.returncode == 0, out.stderr.decode()
    lines = out.stdout.decode().splitlines()
    # piped, as here, the progress bar is not drawn: its last frame stayed among the lines
    assert not [line for line in lines if "━" in line or not line.strip()]
    for res in results:
        m = res["metrics"]
        assert (
            f"  {res['entry']}: exists, skipped: rolling-origin stance macro-F1 {m['rolling_stance_macro_f1']:.3f}, "
            f"grouped-CV stance macro-F1 {m['stance_macro_f1']:.3f} ± {m['stance_macro_f1_std']:.3f} "
            f"(run {res['run_id']})"
        ) in lines


def test_running_a_spec_twice_duplicates_nothing(tiny_experiment):
    spec, first = tiny_experiment
    again = run_plan(load_plan(spec), quiet=True)
    assert [r["skipped"] for r in again] == [True, True]
    assert [r["run_id"] for r in again] == [r["run_id"] for r in first]
    runs = mlflow.search_runs(experiment_names=["tiny"], filter_string="tags.spec_entry LIKE 'tiny/%'")
    assert len(runs) == 2


def test_a_learning_curve_subsamples_whole_articles_inside_each_fold(built):
    import numpy as np

    from training.evaluate import subsample_articles

    dd, _ = built
    articles = np.array(dd["train"]["article"])
    idx = np.arange(len(articles))
    small, large = (subsample_articles(idx, articles, s, seed=1) for s in (0.25, 0.5))
    n = len(set(articles))
    assert len(set(articles[small])) == round(0.25 * n) and len(set(articles[large])) == round(0.5 * n)
    assert set(articles[small]) <= set(articles[large])  # nested: the curve differs only in data size
    for a in set(articles[small]):  # whole articles, every sentence of each kept article
        assert (articles[small] == a).sum() == (articles == a).sum()


def test_a_hub_id_typo_in_an_override_fails_the_dry_run_before_anything_trains(tmp_path):
    """`--dry-run` checks the whole spec: a base model that cannot be loaded here stops it, one line."""
    from tests.conftest import run_cli

    spec = write_spec(
        tmp_path,
        "runs:\n" + GOOD_RUN + "  - recipe: hybrid\n    name: typo\n    overrides:\n"
        "      base_model: {value: sentence-transformers/all-MiniLM-L6-v22, reason: a hub id typo}\n",
        "hubtypo",
    )  # fmt: skip
    out = run_cli("experiment", "run", str(spec), "--dry-run")
    assert out.returncode == 2
    (line,) = out.stderr.decode().strip().splitlines()
    assert line == (
        f"error: {spec}: run 'typo' (configs/hybrid.yaml + overrides): base_model "
        "'sentence-transformers/all-MiniLM-L6-v22' is not a packaged model (packaged: packaged:all-MiniLM-L6-v2, "
        "packaged:all-mpnet-base-v2), a folder, or in the local model cache (hub downloads are off: HF_HUB_OFFLINE=1)"
    )
    assert out.stdout == b"" and no_experiment("hubtypo")


def test_a_dry_run_names_the_latest_data_but_builds_nothing(tmp_path, monkeypatch, capsys):
    """`--dry-run` trains nothing and changes nothing: `latest` is named, no dataset is built,
    and the dataset `stance train` uses is left where it was."""
    from labeling.snapshot import data_version, latest_snapshot
    from stance import paths
    from training.experiments import cli

    monkeypatch.setattr(paths, "datasets", lambda: tmp_path / "datasets")
    spec = write_spec(tmp_path, "runs:\n" + GOOD_RUN, "dry")
    cli(spec, dry_run=True)
    first = capsys.readouterr().out.splitlines()[0]
    assert first == f"experiment dry: 1 run on data version {data_version(latest_snapshot())}"
    assert not (tmp_path / "datasets").exists()
