"""Compare: the ranked table, the Markdown report with plots, and honesty about data versions."""

import hashlib

import mlflow
import numpy as np
import pytest

from stance.errors import StanceError
from training.compare import Comparison, compare, load
from training.compare_plots import confusion
from training.compare_tables import print_tables
from training.train import train


def test_compare_writes_a_ranked_report_with_plots_and_logs_it(tiny_experiment, scratch_root, scheme):
    _, results = tiny_experiment
    comp, report = compare("tiny")
    assert report == scratch_root / "experiments" / "tiny" / "report.md"
    text = report.read_text()
    by_score = sorted(
        results, key=lambda r: -r["metrics"]["rolling_stance_macro_f1"]
    )  # the champion rule's figure: the rolling origin's pooled blocks
    rows = [line for line in text.splitlines() if line.startswith("| 1 |") or line.startswith("| 2 |")]
    for rank, (line, res) in enumerate(zip(rows, by_score, strict=True), 1):
        m = res["metrics"]
        assert line.startswith(f"| {rank} | {res['entry']} | baseline | ")
        for figure in (
            "rolling_stance_macro_f1", "rolling_actor_accuracy_e2e", "time_stance_macro_f1",
            "rolling_new_outlet_stance_macro_f1",  # the articles from outlets the block's model never saw
        ):  # fmt: skip
            assert f"| {m[figure]:.3f} [{m[figure + '_lo']:.2f}–{m[figure + '_hi']:.2f}] |" in line
        e2e = m["cv_actor_accuracy_e2e"]
        assert (
            f"| {e2e:.3f} [{m['cv_actor_accuracy_e2e_lo']:.2f}–{m['cv_actor_accuracy_e2e_hi']:.2f}] |" in line
        )
        assert f"{m['stance_macro_f1']:.3f} ± {m['stance_macro_f1_std']:.3f}" in line
        assert f"| {m['stance_f1_demand']:.2f} |" in line
        # what an analyst reads: who takes which stance per article, reported against labeled
        assert f"| {m['profile_pair_precision']:.2f} / {m['profile_pair_recall']:.2f} |" in line
        # how much of new coverage comes with p >= 0.9, and how often that is right
        assert f"| {m['time_p90_share']:.2f} / {m['time_p90_accuracy']:.2f} |" in line
    assert "data versions" not in text  # one data version: nothing to warn about
    for png in ("per_class_f1.png", "confusion_stance.png"):
        assert f"]({png})" in text
        assert (report.parent / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    logged = mlflow.search_runs(experiment_names=["tiny-compare"], filter_string="tags.report = 'compare'")
    assert len(logged) == 1
    files = {a.path for a in mlflow.MlflowClient().list_artifacts(logged.run_id[0], "report")}
    assert files == {
        "report/report.md",
        "report/per_class_f1.png",
        "report/confusion_stance.png",
        "report/runs.json",
    }
    compare("tiny")  # again: the same report run is overwritten, not duplicated
    assert len(mlflow.search_runs(experiment_names=["tiny-compare"])) == 1


def test_the_report_run_says_what_it_compared_and_stays_out_of_the_training_runs(tiny_experiment, built):
    """The report run sat among the training runs with no params and no metrics: sorted by a metric,
    the experiment's table showed an empty row, and the run did not say which runs it compared."""
    import json

    _, results = tiny_experiment
    compare("tiny")
    training = mlflow.search_runs(experiment_names=["tiny"], output_format="list")
    assert {r.info.run_id for r in training} == {res["run_id"] for res in results}
    assert all(r.data.metrics and r.data.params for r in training)
    (run,) = mlflow.search_runs(experiment_names=["tiny-compare"], output_format="list")
    params = run.data.params
    assert params["experiment"] == "tiny" and params["data_version"] == built[1]["data_version"]
    assert json.loads(params["runs"]) == {res["entry"]: res["run_id"] for res in results}


def test_a_report_over_more_runs_than_a_param_holds_names_them_in_a_file():
    """MLflow keeps a param of at most 6000 characters and refuses the run's params beyond it: a
    compare of 150 learning-curve runs would have lost its report. The param then gives their count
    and digest; the names are in the run's report/runs.json either way."""
    import json

    from training.compare import RunRow
    from training.compare_log import report_params, runs_by_name

    rows = [RunRow(f"{i:032x}", f"recipe-{i:03d}", "hybrid", "abc", 1.0, i, {}) for i in range(150)]
    comp = Comparison("curve", rows)
    params = report_params(comp)
    assert all(len(v) <= 6000 for v in params.values())
    digest = hashlib.sha256(json.dumps(runs_by_name(comp)).encode()).hexdigest()[:12]
    assert params["runs"] == f"150 runs, by name in report/runs.json (sha256 {digest})"
    few = Comparison("curve", rows[:3])
    assert json.loads(report_params(few)["runs"]) == {f"recipe-{i:03d}": f"{i:032x}" for i in range(3)}


def _fake_run(entry: str) -> str:
    """A training run as compare reads it (tags and a figure), in the active experiment; its id."""
    with mlflow.start_run(run_name=entry) as run:
        mlflow.set_tags({"entry": entry, "kind": "baseline", "data_version": "0123abcd", "train_share": "1"})
        mlflow.log_metrics({"rolling_stance_macro_f1": 0.6, "stance_macro_f1": 0.5})
    return run.info.run_id


def test_comparing_the_same_runs_again_reuses_their_report_run_and_other_runs_get_their_own(
    scratch_root, tmp_path
):
    """As `stance train` skips an identical run: a re-run of compare adds no run; a compare of other
    runs (one trained since) is a new report run, since MLflow keeps a run's params."""
    import json

    from training import tracking

    mlflow.set_experiment(experiment_id=tracking.setup("reruns"))
    first = _fake_run("a")
    reports = lambda: mlflow.search_runs(experiment_names=["reruns-compare"], output_format="list")  # noqa: E731
    for _ in range(2):
        compare("reruns", out=tmp_path)
        assert len(reports()) == 1
    mlflow.set_experiment("reruns")
    second = _fake_run("b")
    compare("reruns", out=tmp_path)
    compare("reruns", out=tmp_path)
    runs = sorted(list(json.loads(r.data.params["runs"]).items()) for r in reports())
    assert runs == [[("a", first)], [("a", first), ("b", second)]]


def test_a_report_run_an_earlier_compare_left_among_the_training_runs_is_deleted(
    scratch_root, tmp_path, capsys
):
    """Stores written before the report runs had their own experiment: the empty row goes, once."""
    from training import tracking

    mlflow.set_experiment(experiment_id=tracking.setup("moved"))
    _fake_run("a")
    with mlflow.start_run(run_name="compare report") as old:
        mlflow.set_tag("report", "compare")
    compare("moved", out=tmp_path)
    assert mlflow.get_run(old.info.run_id).info.lifecycle_stage == "deleted"
    assert (
        f"note: deleted the report run {old.info.run_id} from experiment moved: compare reports are now "
        "logged to the experiment moved-compare"
    ) in capsys.readouterr().out
    assert len(mlflow.search_runs(experiment_names=["moved-compare"])) == 1


def test_compare_logs_only_its_report_from_a_folder_that_holds_other_files(tiny_experiment, tmp_path):
    """`--out` names any folder: its other files (here a `.env`) were uploaded to MLflow with the report."""
    (tmp_path / "notes.txt").write_text("mine\n")
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / ".env").write_text("API_TOKEN=not-for-mlflow\n")
    compare("tiny", out=tmp_path)
    logged = mlflow.search_runs(experiment_names=["tiny-compare"], filter_string="tags.report = 'compare'")
    files = {a.path for a in mlflow.MlflowClient().list_artifacts(logged.run_id[0], "report")}
    assert files == {
        "report/report.md",
        "report/per_class_f1.png",
        "report/confusion_stance.png",
        "report/runs.json",
    }
    assert (tmp_path / "notes.txt").read_text() == "mine\n"


def test_a_plot_an_earlier_report_made_does_not_stay_in_the_report_run(tiny_experiment, tmp_path):
    """The report run is reused: a file a later report no longer makes stayed among its artifacts."""
    from training.compare_log import log_report

    comp, report = compare("tiny", out=tmp_path)
    old = tmp_path / "stale_plot.png"
    old.write_bytes((tmp_path / "per_class_f1.png").read_bytes())
    run_id = log_report(comp, [report, old])
    listed = lambda: {a.path for a in mlflow.MlflowClient().list_artifacts(run_id, "report")}  # noqa: E731
    assert "report/stale_plot.png" in listed()
    compare("tiny", out=tmp_path)  # the report's own files again, the stale plot not among them
    assert listed() == {
        "report/report.md",
        "report/per_class_f1.png",
        "report/confusion_stance.png",
        "report/runs.json",
    }


def test_a_plot_the_report_no_longer_draws_is_not_left_beside_it(tiny_experiment, tmp_path):
    """A report folder is read as one report: a learning curve an earlier report drew (its spec had
    a curve then) stayed beside a report that no longer links it; the user's own files stay."""
    (tmp_path / "learning_curve.png").write_bytes(b"an earlier report's curve")
    (tmp_path / "my_plot.png").write_bytes(b"mine")
    compare("tiny", out=tmp_path)
    assert "learning_curve.png" not in (tmp_path / "report.md").read_text()
    assert not (tmp_path / "learning_curve.png").exists()
    assert (tmp_path / "my_plot.png").read_bytes() == b"mine"


def test_the_terminal_table_shows_every_headline_figure_whole(tiny_experiment, scheme, capsys):
    """What make demo prints (a pipe, a log): each figure with its interval, never cut short."""
    _, results = tiny_experiment
    comp, _ = compare("tiny", log=False)
    print_tables(comp, scheme)
    out = capsys.readouterr().out
    for res in results:
        m = res["metrics"]
        assert res["entry"] in out
        for figure in (
            "rolling_stance_macro_f1", "rolling_actor_accuracy_e2e", "rolling_actor_precision_e2e",
            "time_stance_macro_f1", "time_actor_accuracy_e2e", "cv_stance_macro_f1",
        ):  # fmt: skip
            assert f"{m[figure]:.3f} [{m[figure + '_lo']:.2f}–{m[figure + '_hi']:.2f}]" in out
    assert "…" not in out
    print_tables(comp, scheme, wide=True)  # every column, still whole
    out = capsys.readouterr().out
    assert "…" not in out and f"{results[0]['metrics']['stance_f1_demand']:.2f}" in out


def test_the_confusion_matrix_from_a_runs_logged_oof_predictions_matches_its_metrics(tiny_experiment, scheme):
    comp = load("tiny")
    row = comp.rows[0]
    m = confusion(row, scheme, "stance")
    labels = scheme.stance_labels
    assert m.sum() == 2466 and (m >= 0).all()
    for i, label in enumerate(labels):  # support and recall (diagonal / support), as logged by training
        assert m[i].sum() == row.metrics[f"stance_support_{label}"]
        assert m[i, i] / m[i].sum() == pytest.approx(row.metrics[f"stance_recall_{label}"])
        assert m[i, i] / m[:, i].sum() == pytest.approx(row.metrics[f"stance_precision_{label}"])
    actors = confusion(row, scheme, "actor")
    for i, label in enumerate(scheme.actor_labels):
        assert actors[i].sum() == row.metrics[f"actor_support_{label}"]
    accuracy = np.trace(m) / m.sum()
    assert 0.4 < accuracy < 0.9


def test_runs_on_two_data_versions_are_never_ranked_together_silently(
    scratch_root, older_version, built, scheme, capsys
):
    old, _, _ = older_version
    recipe = scratch_root / "configs" / "test-baseline.yaml"
    recipe.write_text("kind: baseline\ncv_folds: 3  # fewer folds: faster tests\n")
    new = built[1]["data_version"]
    for version in (old, new):
        train(recipe, version, experiment="two-versions", quiet=True, final_fit=False)
    comp, report = compare("two-versions")
    note = f"runs on 2 data versions: {new} (1 runs), {old} (1 runs); each is ranked only against runs on the same data version, never across"
    assert comp.mixed_note() == note
    text = report.read_text()
    assert f"**Note: {note}.**" in text
    assert f"## Data version `{new}`" in text and f"## Data version `{old}`" in text
    print_tables(comp, scheme)
    out = " ".join(capsys.readouterr().out.split())
    assert (
        "note: runs on 2 data versions" in out
        and f"data version {old}" in out
        and f"data version {new}" in out
    )


def test_a_run_logged_without_oof_predictions_is_a_note_not_a_crash(scratch_root, scheme, tmp_path, capsys):
    """Runs logged before training wrote its out-of-fold predictions: compared, no confusion matrix."""
    from training import tracking

    mlflow.set_experiment(experiment_id=tracking.setup("old-runs"))
    with mlflow.start_run(run_name="old") as run:  # what an old run holds: tags and metrics, no OOF file
        mlflow.set_tags({"entry": "old", "kind": "baseline", "data_version": "0123abcd", "train_share": "1"})
        mlflow.log_metrics({"time_stance_macro_f1": 0.5, "stance_macro_f1": 0.5, "stance_macro_f1_std": 0.1})
    comp, report = compare("old-runs", out=tmp_path, log=False)
    note = (
        f"run old ({run.info.run_id[:8]}) has no evaluation/oof_predictions.jsonl (logged before training "
        "wrote it): its confusion matrix is left out; retrain it to see one"
    )
    assert comp.notes == [note]
    assert f"**Note:** {note}." in report.read_text()
    assert (tmp_path / "confusion_stance.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # its figure without an interval says so, where the table and the report printed "[nan–nan]"
    assert "| 0.500 (no interval logged) |" in report.read_text() and "nan" not in report.read_text()
    # grouped CV's actor accuracy over every sentence, beside "CV pooled: actor acc. end to end",
    # says which it is: its header read "actor acc." alone
    assert "| actor acc. over every sentence | actor acc. (stance-bearing) |" in report.read_text()
    print_tables(comp, scheme)
    out = capsys.readouterr().out
    assert f"note: {note}" in " ".join(out.split()) and "nan" not in out


def test_comparing_runs_that_no_spec_made_writes_outside_the_checkout(trained, scratch_root):
    """`stance compare stance` (the runs of `stance train`) must not leave an untracked folder in
    experiments/; a spec's report stays beside its spec (above)."""
    _, report = compare("stance", log=False)
    assert report == scratch_root / ".stance" / "reports" / "stance" / "report.md" and report.is_file()
    assert not (scratch_root / "experiments" / "stance").exists()


def test_compare_of_an_unknown_experiment_says_which_exist(tiny_experiment):
    with pytest.raises(StanceError, match=r"no MLflow experiment named 'nope' in sqlite:///.*\(have: .*tiny"):
        load("nope")


def test_runs_with_the_rolling_origin_rank_by_it_before_runs_with_the_time_split_alone(scratch_root):
    """The rule's figure is the pooled blocks where a run has them; a time split over one era is not
    ranked against them as if it were the same figure, however high it is."""
    from training import tracking

    mlflow.set_experiment(experiment_id=tracking.setup("mixed-runs"))
    figures = {
        "before": {"time_stance_macro_f1": 0.9},
        "pooled-low": {"rolling_stance_macro_f1": 0.6, "time_stance_macro_f1": 0.95},
        "pooled-high": {"rolling_stance_macro_f1": 0.7, "time_stance_macro_f1": 0.5},
        "none": {},
    }
    for entry, m in figures.items():
        with mlflow.start_run(run_name=entry):
            mlflow.set_tags(
                {"entry": entry, "kind": "baseline", "data_version": "0123abcd", "train_share": "1"}
            )
            mlflow.log_metrics(m | {"stance_macro_f1": 0.5, "stance_macro_f1_std": 0.1})
    ranked = load("mixed-runs").ranked("0123abcd")
    assert [r.entry for r in ranked] == ["pooled-high", "pooled-low", "before", "none"]


def test_runs_on_two_time_splits_of_one_data_version_are_not_ranked_together_silently(scratch_root, tmp_path):
    """`stance build-dataset --test-share` gives the same data version another time split: runs
    trained on each have time-split and rolling-origin figures over different test articles."""
    from training import tracking

    mlflow.set_experiment(experiment_id=tracking.setup("two-splits"))
    for entry, split, figure in (("a", "split111", 0.7), ("b", "split222", 0.6), ("c", "split111", 0.5)):
        with mlflow.start_run(run_name=entry):
            tags = {"entry": entry, "kind": "baseline", "data_version": "0123abcd", "train_share": "1"}
            mlflow.set_tags(tags | {"split_hash": split})
            mlflow.log_metrics({"rolling_stance_macro_f1": figure, "stance_macro_f1": 0.5})
    comp, report = compare("two-splits", out=tmp_path, log=False)
    note = (
        "the runs on data 0123abcd were scored on 2 time splits (split111: a, c; split222: b): their "
        "time-split and rolling-origin figures are over different test articles, not one question; "
        "rank them after training them all on one split (one `stance build-dataset --test-share`)"
    )
    assert note in comp.notes
    assert f"**Note:** {note}." in report.read_text()


def test_the_report_says_when_its_runs_were_not_trained_by_one_committed_code(scratch_root, tmp_path):
    """Two runs tagged with one dirty commit were trained by different code (the tree changed
    between them): the report's first line names the code versions, not the commit alone."""
    from training import tracking

    mlflow.set_experiment(experiment_id=tracking.setup("dirty-runs"))
    for entry, code in (("a", "c0de00000001"), ("b", "c0de00000002")):
        with mlflow.start_run(run_name=entry):
            tags = {"entry": entry, "kind": "baseline", "data_version": "0123abcd", "train_share": "1"}
            mlflow.set_tags(tags | {"git_commit": "1414b65-dirty", "code_version": code})
            mlflow.log_metrics({"rolling_stance_macro_f1": 0.6, "stance_macro_f1": 0.5})
    _, report = compare("dirty-runs", out=tmp_path, log=False)
    assert (
        "the runs were trained by the code at git commit `1414b65-dirty`, with uncommitted changes: "
        "2 code versions (`c0de00000001`, `c0de00000002`; each run's `code_version` tag), so no commit "
        "holds the code of every run."
    ) in report.read_text()


def test_the_report_does_not_say_no_commit_holds_the_code_a_clean_run_of_one_commit_ran(
    scratch_root, tmp_path
):
    """`make demo`'s baseline was tagged `-dirty` (the README changed while it trained), its code
    version the champion's, whose run was at the clean commit: the report said "no commit holds
    the code of every run" where one does. Uncommitted changes outside the code are said so."""
    from training import tracking

    mlflow.set_experiment(experiment_id=tracking.setup("dirty-docs-runs"))
    for entry, commit in (("a", "1414b65"), ("b", "1414b65-dirty")):
        with mlflow.start_run(run_name=entry):
            tags = {"entry": entry, "kind": "baseline", "data_version": "0123abcd", "train_share": "1"}
            mlflow.set_tags(tags | {"git_commit": commit, "code_version": "c0de00000001"})
            mlflow.log_metrics({"rolling_stance_macro_f1": 0.6, "stance_macro_f1": 0.5})
    _, report = compare("dirty-docs-runs", out=tmp_path, log=False)
    text = report.read_text()
    assert (
        "the runs were trained by the code at git commit `1414b65`, `1414b65-dirty`, with uncommitted "
        "changes outside the Python sources: 1 code version (`c0de00000001` = commit `1414b65`; each "
        "run's `code_version` tag)."
    ) in text and "no commit holds" not in text


def test_the_table_and_report_say_which_run_is_champion_now_and_why(scratch_root, tmp_path, scheme, capsys):
    """Who is champion is the registry's, read as it stands (a run's ``registry_decision`` is what
    training decided then); the report names the champion's run and the decision that made it so."""
    from training import tracking

    client = mlflow.MlflowClient()
    mlflow.set_experiment(experiment_id=tracking.setup("crowned-runs"))
    client.create_registered_model("crowned-classifier")
    for entry, figure, decision in (
        ("old", 0.7, "is champion: there is no champion yet"),
        ("new", 0.6, "no gain"),
    ):
        with mlflow.start_run(run_name=entry) as run:
            tags = {"entry": entry, "kind": "baseline", "data_version": "0123abcd", "train_share": "1"}
            mlflow.set_tags(tags | {"registry_decision": decision})
            mlflow.log_metrics({"rolling_stance_macro_f1": figure, "stance_macro_f1": 0.5})
        client.create_model_version("crowned-classifier", f"{run.info.artifact_uri}/model", run.info.run_id)
    client.set_registered_model_alias("crowned-classifier", "champion", "1")
    client.set_registered_model_alias("crowned-classifier", "challenger", "2")
    comp, report = compare("crowned-runs", out=tmp_path, log=False)
    print_tables(comp, scheme)
    out = capsys.readouterr().out
    assert "crowned-classifier v1 champion" in out and "crowned-classifier v2 challenger" in out
    note = (
        "champion of crowned-classifier is v1, run old ("
        f"{comp.ranked('0123abcd')[0].run_id[:8]}) on data 0123abcd: is champion: there is no champion yet"
    )
    assert note in comp.notes and note in out
    text = report.read_text()
    assert f"**Note:** {note}." in text
    assert "| 1 | old | baseline | crowned-classifier v1 champion |" in text
