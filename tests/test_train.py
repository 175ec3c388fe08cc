"""Training for real on the committed data, into a scratch MLflow store."""

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from datasets import concatenate_datasets
from mlflow import MlflowClient

from training import confidence, tracking
from training.evaluate import metrics
from training.models.baseline import BaselineRecipe
from training.recipes import make_classifier


def test_baseline_beats_the_majority_class_on_the_newest_articles(built, scheme):
    dd, _ = built
    train_split, test = dd["train"], dd["test"]
    model = make_classifier(BaselineRecipe(), scheme).fit(
        train_split["text"], np.array(train_split["actor"]), np.array(train_split["stance"])
    )
    a_p, s_p = model.predict_proba(test["text"])
    got = metrics(np.array(test["actor"]), np.array(test["stance"]), a_p, s_p, scheme)
    # the floor: predict the most frequent training class for every sentence
    majority = np.bincount(train_split["stance"]).argmax()
    floor_p = np.eye(len(scheme.stance_labels))[[majority] * len(test)]
    floor_a = np.eye(len(scheme.actor_labels))[[scheme.actor_labels.index("none")] * len(test)]
    floor = metrics(np.array(test["actor"]), np.array(test["stance"]), floor_a, floor_p, scheme)
    assert got["stance_macro_f1"] > floor["stance_macro_f1"] + 0.2
    assert got["stance_accuracy"] >= floor["stance_accuracy"]
    # the held-out articles are the newest (the time split): actor macro-F1 0.31 against the floor's 0.12
    assert got["actor_macro_f1"] > floor["actor_macro_f1"] + 0.15


def test_probabilities_cover_every_class_and_sum_to_one(built, scheme):
    dd, _ = built
    model = make_classifier(BaselineRecipe(), scheme).fit(
        dd["train"]["text"][:60], np.array(dd["train"]["actor"][:60]), np.array(dd["train"]["stance"][:60])
    )
    a_p, s_p = model.predict_proba(["Pakistan demanded action against the TTP.", "The talks resumed."])
    assert a_p.shape == (2, len(scheme.actor_labels)) and s_p.shape == (2, len(scheme.stance_labels))
    assert np.allclose(a_p.sum(1), 1) and np.allclose(s_p.sum(1), 1)


def test_a_run_records_config_data_version_metrics_and_artifacts(trained, built):
    run = MlflowClient().get_run(trained["run_id"])
    _, meta = built
    tags, params, m = run.data.tags, run.data.params, run.data.metrics
    assert tags["data_version"] == meta["data_version"] and tags["scheme_hash"] == meta["scheme_hash"]
    assert tags["git_commit"] and tags["code_version"] and tags["kind"] == "baseline"
    assert params["cv_folds"] == "3" and params["C"] == "4.0" and params["sentences"] == "2466"
    for name in (
        "stance_macro_f1",
        "stance_macro_f1_std",
        "actor_accuracy",
        "actor_accuracy_std",
        "stance_ece",
    ):
        assert name in m
    for label in ("demand", "denial", "accusation", "mediation", "none"):
        assert {f"stance_f1_{label}", f"stance_precision_{label}", f"stance_recall_{label}"} <= set(m)
    artifacts = {a.path for a in MlflowClient().list_artifacts(trained["run_id"], "evaluation")}
    assert artifacts == {
        "evaluation/confusion_actor.png",
        "evaluation/confusion_stance.png",
        "evaluation/reliability_stance.png",
        "evaluation/per_class.md",
        "evaluation/misclassified.jsonl",
        "evaluation/oof_predictions.jsonl",
        "evaluation/confidence.md",
        "evaluation/time_split_predictions.jsonl",
        "evaluation/confidence_time_split.md",
        "evaluation/rolling_origin_predictions.jsonl",
        "evaluation/trust.md",  # how far to trust each pair it calls, also kept in the model
    }
    assert m["stance_macro_f1"] > 0.35  # well above the majority floor (~0.14)
    # the data it read, as MLflow datasets the runs table lists, and the recipe file it ran
    version, rows = meta["data_version"], meta["rows"]
    read = {
        d.dataset.name: (d.dataset.digest, json.loads(d.dataset.profile)["num_rows"], d.tags[0].value)
        for d in run.inputs.dataset_inputs
    }
    assert read == {
        f"stance-{version}-train": (version, rows["train"], "train: older or undated"),
        f"stance-{version}-test": (version, rows["test"], "test: the time split's newest"),
    }
    recipe = {a.path for a in MlflowClient().list_artifacts(trained["run_id"], "recipe")}
    assert recipe == {"recipe/test-baseline.yaml", "recipe/resolved.json"}
    resolved = mlflow.artifacts.load_dict(f"runs:/{trained['run_id']}/recipe/resolved.json")
    assert resolved["kind"] == "baseline" and resolved["cv_folds"] == 3


def test_the_logged_out_of_fold_predictions_reproduce_the_logged_metrics(trained, built, scheme):
    """An engineer can recompute (or ensemble) the CV figures from the run, without retraining."""
    import json

    import mlflow
    from sklearn.metrics import f1_score

    folder = mlflow.artifacts.download_artifacts(run_id=trained["run_id"], artifact_path="evaluation")
    text = (Path(folder) / "oof_predictions.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in text.splitlines()]
    data = concatenate_datasets([built[0]["train"], built[0]["test"]])
    assert sorted(r["sentence_id"] for r in rows) == sorted(data["sentence_id"])  # each sentence once
    for r in rows:
        assert list(r["stance_p"]) == scheme.stance_labels and list(r["actor_p"]) == scheme.actor_labels
        assert max(r["stance_p"], key=r["stance_p"].get) == r["predicted"][1]
    folds = sorted({r["fold"] for r in rows})
    per_fold = []
    for k in folds:
        fold = [r for r in rows if r["fold"] == k]
        assert len({r["article"] for r in fold} & {r["article"] for r in rows if r["fold"] != k}) == 0
        per_fold.append(
            f1_score([r["true"][1] for r in fold], [r["predicted"][1] for r in fold], average="macro")
        )
    logged = MlflowClient().get_run(trained["run_id"]).data.metrics
    assert abs(np.mean(per_fold) - logged["stance_macro_f1"]) < 1e-9
    # the profile figure: (actor, stance) pairs per article, labeled against reported
    gold = {(r["article"], *r["true"]) for r in rows if r["true"][1] != "none"}
    pred = {(r["article"], *r["predicted"]) for r in rows if r["predicted"][1] != "none"}
    assert abs(len(gold & pred) / len(pred) - logged["profile_pair_precision"]) < 1e-9
    assert abs(len(gold & pred) / len(gold) - logged["profile_pair_recall"]) < 1e-9


def test_first_model_is_champion_and_reloads_with_the_same_predictions(trained, built, scheme):
    import mlflow

    client = MlflowClient()
    champ = client.get_model_version_by_alias(tracking.REGISTERED_MODEL, "champion")
    assert champ.run_id == trained["run_id"]
    info = mlflow.models.get_model_info(f"models:/{tracking.REGISTERED_MODEL}@champion")
    assert info.metadata["scheme_hash"] == scheme.hash
    # `context` (the preceding sentences) is optional: a caller that sends only `text` is answered
    assert info.signature.inputs.input_names() == ["text", "context"]
    assert [c.required for c in info.signature.inputs.inputs] == [True, False]
    loaded = mlflow.pyfunc.load_model(f"models:/{tracking.REGISTERED_MODEL}@champion")
    texts = built[0]["test"]["text"][:8]
    out = loaded.predict(pd.DataFrame({"text": texts}))
    # same as a fresh fit on all data with the same recipe (training is deterministic)
    from datasets import concatenate_datasets

    data = concatenate_datasets([built[0]["train"], built[0]["test"]])
    model = make_classifier(BaselineRecipe(cv_folds=3), scheme).fit(
        data["text"], np.array(data["actor"]), np.array(data["stance"])
    )
    _, s_p = model.predict_proba(texts)
    assert np.allclose(out[[f"stance:{s}" for s in scheme.stance_labels]].to_numpy(), s_p, atol=1e-9)


def test_a_registered_version_says_what_it_is_and_how_it_scored(trained, built):
    client = MlflowClient()
    version = client.get_model_version_by_alias(tracking.REGISTERED_MODEL, "champion")
    tags = version.tags
    assert tags["recipe"] == "test-baseline" and tags["kind"] == "baseline"
    assert tags["data_version"] == built[1]["data_version"]
    assert float(tags["stance_macro_f1"]) == pytest.approx(trained["metrics"]["stance_macro_f1"], abs=1e-4)
    assert version.description.startswith("recipe test-baseline, kind baseline, data_version ")
    m = trained["metrics"]
    rolling = f"{m['rolling_stance_macro_f1']:.4f}"
    assert tags["rolling_stance_macro_f1"] == rolling
    assert f"run {trained['run_id']}" in version.description
    # its figures with their intervals, named as the run's page names them, the champion rule's
    # first: the registry page gave "actor_accuracy 0.7599" (over every sentence, no interval) where
    # the run gave "actor accuracy end to end 0.699 [0.675, 0.723]" for the same grouped CV
    from training.run_figures import figure_lines

    rolling_line, *_, cv_line = figure_lines(m, 3, order=("rolling", "time", "cv"))
    assert f"\n- {rolling_line}\n" in version.description and version.description.endswith(f"- {cv_line}")
    assert f"actor accuracy end to end {m['cv_actor_accuracy_e2e']:.3f} [" in cv_line
    assert "actor_accuracy " not in version.description and "grouped-CV" not in version.description
    # and its tags name each figure for what it is: a tag `actor_accuracy` (grouped CV over every
    # sentence, 0.7599 for make demo's champion) sat beside the description's actor accuracy end to
    # end (0.699): the tag of that name is now the description's figure, the other named as it is
    assert tags["cv_actor_accuracy_e2e"] == f"{m['cv_actor_accuracy_e2e']:.4f}"
    assert f"actor accuracy end to end {float(tags['cv_actor_accuracy_e2e']):.3f} [" in cv_line
    assert tags["actor_accuracy_every_sentence"] == f"{m['actor_accuracy']:.4f}"
    assert "actor_accuracy" not in tags
    # the registered model itself says what it is, what goes in and out, and what its aliases mean
    about = client.get_registered_model(tracking.REGISTERED_MODEL).description
    assert about.startswith(
        "Who takes which stance: for each sentence, its actor (pakistan, afghan_taliban, "
    )
    assert "`champion`" in about and "`challenger`" in about and "90 % intervals by article" in about
    run = client.get_run(trained["run_id"])
    assert run.info.status == "FINISHED"  # registered only once the run had finished
    m = run.data.metrics
    folds = [m[f"stance_macro_f1_fold{i}"] for i in (1, 2, 3)]  # every fold by name, not only the last
    assert np.mean(folds) == pytest.approx(m["stance_macro_f1"])
    assert 0 <= m["stance_ece_pooled"] <= 1 and "stance_ece" in m


def test_a_run_describes_itself_on_its_mlflow_page(trained, built):
    """The run page's description gives what `stance train` prints: the recipe, the data version,
    each figure with its interval (the run's own metrics) and what became of the model."""
    from training.run_figures import figure_lines

    run = MlflowClient().get_run(trained["run_id"])
    text = run.data.tags["mlflow.note.content"]
    assert text.startswith(f"**test-baseline** (baseline) on data version {built[1]['data_version']}.")
    m = run.data.metrics
    cv, time_split, rolling, new_outlets = figure_lines(m, 3)  # as `stance train` prints them
    e2e = f"actor accuracy end to end {m['cv_actor_accuracy_e2e']:.3f} [{m['cv_actor_accuracy_e2e_lo']:.3f}, "
    assert e2e in cv  # CV gives the actor figure the split lines give, not accuracy over every sentence
    assert cv.endswith("(grouped 3-fold CV by article)") and rolling.startswith(
        "rolling origin (3 blocks, 133 articles"
    )
    listed = [line for line in text.splitlines() if line.lstrip().startswith("- ")]
    assert listed == [
        f"- {rolling}",
        f"  - {new_outlets.strip()}",
        f"- {time_split}",
        f"- {cv}",
    ]  # the rule's first
    rolling = f"stance macro-F1 {m['rolling_stance_macro_f1']:.3f} [{m['rolling_stance_macro_f1_lo']:.3f}, "
    assert rolling in text
    assert (
        text.splitlines()[-1]
        == f"Model at training: {tracking.REGISTERED_MODEL}: {run.data.tags['registry_decision']}"
    )


def test_a_run_says_in_words_what_each_of_its_metrics_is(trained, tmp_path):
    """Unprefixed figures are grouped CV's fold means, but the per-class ones beside them are pooled,
    as `cv_…` are: nothing on the run page said which. Its `metrics.md` gives every metric logged
    its value and a line, and the description says where to look."""
    import re

    client = MlflowClient()
    run = client.get_run(trained["run_id"])
    text = Path(client.download_artifacts(trained["run_id"], "metrics.md", str(tmp_path))).read_text()
    rows = dict(re.findall(r"^\| `([^`]+)` \| [^|]+ \| (.+) \|$", text, re.M))
    assert set(rows) == set(run.data.metrics) and len(rows) > 100
    assert "not described yet" not in text
    assert rows["stance_macro_f1"].endswith("grouped CV: mean over the folds")
    assert rows["stance_macro_f1_std"].endswith("grouped CV: standard deviation over the folds")
    pooled = "grouped CV, pooled: every sentence's out-of-fold prediction at once"
    for name in ("cv_stance_macro_f1", "stance_f1_demand", "profile_pair_recall", "stance_ece_pooled"):
        assert rows[name].endswith(pooled), name
    assert rows["rolling_stance_macro_f1_lo"].endswith("low end of its 90 % bootstrap interval by article")
    assert "time split" in rows["time_stance_macro_f1"] and rows["train_seconds"].startswith("seconds")
    assert "Each in words: `metrics.md` (artifacts)." in run.data.tags["mlflow.note.content"]


def test_the_logged_model_lists_the_kinds_pip_requirements_pinned(trained):
    import mlflow

    from tests.test_recipes import REQUIREMENTS
    from training.logged_model import pinned

    logged = Path(mlflow.pyfunc.get_model_dependencies(trained["model_uri"])).read_text().split()
    assert [line.split("==")[0] for line in logged] == REQUIREMENTS["baseline"]
    assert logged == pinned(tuple(REQUIREMENTS["baseline"]))  # the versions installed here
    assert f"mlflow=={mlflow.__version__}" in logged


def test_a_run_logs_cv_and_time_split_figures_with_intervals(trained, built):
    m = MlflowClient().get_run(trained["run_id"]).data.metrics
    for prefix in ("cv", "time"):
        for figure in ("stance_macro_f1", "actor_accuracy_e2e", "actor_precision_e2e"):
            name = f"{prefix}_{figure}"
            assert m[f"{name}_lo"] <= m[name] <= m[f"{name}_hi"], name
    dd, meta = built
    assert (m["time_articles"], m["time_sentences"]) == (44, 507)  # the newest dates, whole
    assert (len(meta["time_split"]["test_articles"]), len(dd["test"])) == (44, 507)
    assert (m["cv_articles"], m["cv_sentences"]) == (216, 2466)
    assert m["time_stance_macro_f1"] > 0.3  # the floor (every sentence none) scores 0.14
    # the logged time-split predictions reproduce the logged figure (and the champion rule reads them)
    import mlflow
    from sklearn.metrics import f1_score

    text = mlflow.artifacts.load_text(f"runs:/{trained['run_id']}/evaluation/time_split_predictions.jsonl")
    rows = [json.loads(line) for line in text.splitlines()]
    assert sorted(r["sentence_id"] for r in rows) == sorted(dd["test"]["sentence_id"])
    assert {r["article"] for r in rows} == set(meta["time_split"]["test_articles"])
    f1 = f1_score([r["true"][1] for r in rows], [r["predicted"][1] for r in rows], average="macro")
    assert abs(f1 - m["time_stance_macro_f1"]) < 1e-9
    # both holder figures, from the same rows: what the labels hold, and what the model reports
    bearing = [r for r in rows if r["true"][1] != "none"]
    called = [r for r in rows if r["predicted"][1] != "none"]
    assert len(called) != len(bearing)  # the two figures count different sentences
    assert m["time_actor_accuracy_e2e"] == pytest.approx(
        np.mean([r["predicted"][0] == r["true"][0] for r in bearing]), abs=1e-9
    )
    right = [r for r in called if r["true"][1] != "none" and r["predicted"][0] == r["true"][0]]
    assert m["time_actor_precision_e2e"] == pytest.approx(len(right) / len(called), abs=1e-9)
    # the confident rows' figures come from the same predictions, with predict's own p
    sure = [
        r
        for r in rows
        if confidence.pair_confidence(r["actor_p"], r["stance_p"], *r["predicted"], "none") >= 0.9
    ]
    assert abs(m["time_p90_share"] - len(sure) / len(rows)) < 1e-9
    assert abs(m["time_p90_accuracy"] - np.mean([r["true"] == r["predicted"] for r in sure])) < 1e-9


def test_train_command_with_a_bad_config_prints_one_line(tmp_path):
    from tests.conftest import run_cli

    bad = tmp_path / "typo.yaml"
    bad.write_text("kind: baseline\ncv_fold: 3\n")
    out = run_cli("train", str(bad))
    assert out.returncode == 2
    assert out.stderr.decode().strip().splitlines() == [
        f"error: {bad}: unknown key 'cv_fold' (allowed keys: C, char_ngrams, class_weight, cv_folds, kind, "
        "max_features, max_iter, min_df, seed, word_ngrams)"
    ]


def test_a_recipes_lists_and_mappings_are_logged_as_json_an_engineer_can_read_back():
    """Run params are strings in MLflow: a recipe's mapping (the hybrid's actor cues) is logged as
    JSON, which parses back to the recipe's value (it was a Python repr, with single quotes)."""
    import json

    from stance import paths
    from training.recipes import load_recipe
    from training.train import _params

    recipe = load_recipe(paths.configs() / "hybrid.yaml")
    params = _params(recipe, {"data_version": "x"}, {"article": ["a", "a", "b"]})
    assert json.loads(params["actor_cues"]) == recipe.actor_cues


def test_the_registered_models_description_names_both_figures_the_champion_rule_reads():
    """It said the champion rule put `champion` first by "rolling-origin stance macro-F1" alone; the
    rule reads actor accuracy end to end too (a clear gain on either, the other not clearly worse),
    so a version that won on holders looked as though it had won on stance."""
    from training.registry import about_model

    about = about_model()
    assert (
        "(the rolling origin's stance macro-F1 and actor accuracy end to end, paired by article: a clear "
        "gain on one, the other not clearly worse;" in about
    )
