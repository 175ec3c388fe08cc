"""The rolling-origin study's blocks (experiments/rolling_origin.py): no block trains on its future."""

import pytest

from experiments import rolling_origin
from stance.errors import StanceError
from training import timesplit


def _dates():
    # 20 articles, one a month from 2024-01; two undated
    dates = {f"a{i:02d}": f"2024-{i + 1:02d}-01" if i < 12 else f"2025-{i - 11:02d}-01" for i in range(18)}
    return dates | {"u1": None, "u2": None}


def test_block_one_is_the_time_split_and_later_blocks_see_only_older_dated_articles():
    dates = _dates()
    cuts = rolling_origin.blocks(dates, dates, n=3, share=0.2)
    first = timesplit.split(dates, dates, 0.2)
    assert cuts[0] == (set(first.train), set(first.test))  # what `stance train` reports
    assert {"u1", "u2"} <= cuts[0][0]  # the time split trains on the undated articles
    tests = [test for _, test in cuts]
    assert all(len(t) >= 4 for t in tests)  # 0.2 of 20 articles each
    assert not set.intersection(*tests) and len(set.union(*tests)) == sum(map(len, tests))
    for train, test in cuts[1:]:
        assert not {"u1", "u2"} & train  # an undated article may be newer than the block
        assert max(dates[a] for a in train) < min(dates[a] for a in test)
    # newest block first
    assert min(dates[a] for a in tests[0]) > max(dates[a] for a in tests[1])


def test_too_few_dated_articles_for_the_blocks_is_a_clear_error():
    dates = {f"a{i}": f"2024-0{i + 1}-01" for i in range(5)}
    with pytest.raises(StanceError, match="too few dated articles"):
        rolling_origin.blocks(dates, dates, n=5, share=0.2)


def test_a_change_to_the_fitting_code_is_a_new_cache_key(tmp_path, monkeypatch):
    # predictions made by older code are never read back as the current code's
    (tmp_path / "training" / "models").mkdir(parents=True)
    model = tmp_path / "training" / "models" / "hybrid.py"
    model.write_text("ALPHA = 1\n")
    (tmp_path / "training" / "report.py").write_text("# not fitting code\n")
    monkeypatch.setattr(rolling_origin, "ROOT", tmp_path)
    before = rolling_origin.code_digest()
    assert rolling_origin.code_digest() == before
    (tmp_path / "training" / "report.py").write_text("# a report change refits nothing\n")
    assert rolling_origin.code_digest() == before
    model.write_text("ALPHA = 2\n")
    assert rolling_origin.code_digest() != before


def test_a_lever_setting_is_one_mlflow_run_a_rerun_updates():
    import mlflow

    figures = {
        "rolling_stance_macro_f1": 0.73,
        "rolling_actor_accuracy_e2e": 0.66,
        "diff_actor_accuracy_e2e": [0.005, -0.001, 0.011],
    }
    setting = {"heads": "actor", "weight": 1.0}
    mlflow.set_experiment(
        "elsewhere"
    )  # as a caller may have (a notebook, an earlier test): resuming still works
    first = rolling_origin.record("actor_swap", setting, figures, "no clear gain", "v1", "configs/x.yaml")
    figures["diff_actor_accuracy_e2e"] = [0.006, -0.002, 0.012]
    again = rolling_origin.record(
        "actor_swap", setting, figures, "still no clear gain", "v1", "configs/x.yaml"
    )
    other = rolling_origin.record(
        "actor_swap", setting | {"weight": 2.0}, figures, "-", "v1", "configs/x.yaml"
    )
    assert again == first != other  # the same study, setting and data: one run
    run = mlflow.get_run(first)
    # the paired difference and its interval, as the lever table gives them, sortable in the UI
    assert run.data.metrics["diff_actor_accuracy_e2e"] == 0.006
    assert (
        run.data.metrics["diff_actor_accuracy_e2e_lo"],
        run.data.metrics["diff_actor_accuracy_e2e_hi"],
    ) == (
        -0.002,
        0.012,
    )
    assert run.data.params == {"heads": "actor", "weight": "1.0"}
    assert "still no clear gain" in run.data.tags["mlflow.note.content"]
    experiment = mlflow.get_experiment(run.info.experiment_id)
    assert experiment.name == "rolling-origin-levers"
    assert len(mlflow.search_runs([experiment.experiment_id], output_format="list")) == 2


def test_a_lever_study_survives_a_tracking_server_that_is_down(monkeypatch, capsys):
    from tests.mlflow_ui import free_port
    from training import tracking

    with monkeypatch.context() as env:
        env.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")  # nothing listens
        got = rolling_origin.record(
            "actor_swap", {"weight": 1.0}, {"diff_x": [0.1, 0.0, 0.2]}, "-", "v1", "c.yaml"
        )
    tracking.setup_uri(check=False)  # MLflow's client back on the session's store for later tests
    assert got is None  # the study goes on to write its result files
    err = capsys.readouterr().err
    assert (
        err.startswith("warning: actor_swap {'weight': 1.0} not logged to MLflow (")
        and "not reachable" in err
    )
