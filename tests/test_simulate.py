"""Labeling strategies and their simulation, on tiny data with the real stand-in model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stance.errors import StanceError
from training.simulate import Settings, Split, StandIn, confidences, load_splits, select, simulate
from training.simulate_report import curves, labels_to_reach, savings


def take(split: Split, n: int) -> Split:
    return Split(split.sentences[:n], split.actors[:n], split.stances[:n], split.articles[:n])


@pytest.fixture(scope="module")
def tiny(scheme):
    pool, test = load_splits(scheme)
    return take(pool, 160), take(test, 80)


def test_uncertainty_picks_the_least_confident(tiny, scheme):
    pool, _ = tiny
    model = StandIn(scheme, [s.text for s in pool.sentences])
    first = np.arange(60)
    model.fit(first, pool.actors[first], pool.stances[first])
    candidates = np.arange(60, len(pool))
    a_p, s_p = model.predict_proba(candidates)
    conf = np.zeros(len(pool))
    conf[candidates] = confidences([pool.sentences[i] for i in candidates], a_p, s_p, scheme)
    picked = select("uncertainty", candidates, 10, np.random.default_rng(0), conf, pool.articles)
    assert len(picked) == 10
    assert set(picked) <= set(candidates)
    assert conf[picked].max() <= np.sort(conf[candidates])[10 - 1] + 1e-12  # the ten lowest, none better
    assert list(conf[picked]) == sorted(conf[picked])  # least confident first


def test_diverse_respects_its_quota():
    # article "a" holds the six least confident sentences; a quota of 2 lets only two of them in
    articles = np.array(["a"] * 6 + ["b"] * 3 + ["c"] * 3)
    conf = np.array([0.1, 0.11, 0.12, 0.13, 0.14, 0.15, 0.5, 0.6, 0.7, 0.55, 0.65, 0.75])
    picked = select("diverse", np.arange(12), 6, np.random.default_rng(0), conf, articles, quota=2)
    assert sorted(picked.tolist()) == [0, 1, 6, 7, 9, 10]
    assert max(np.unique(articles[picked], return_counts=True)[1]) <= 2
    # uncertainty alone would have spent the whole batch on article "a"
    assert set(articles[select("uncertainty", np.arange(12), 6, None, conf, articles)]) == {"a"}


def test_diverse_fills_beyond_the_quota_only_when_articles_run_out():
    articles = np.array(["a"] * 5 + ["b"])
    conf = np.linspace(0.1, 0.6, 6)
    picked = select("diverse", np.arange(6), 4, np.random.default_rng(0), conf, articles, quota=1)
    assert picked.tolist() == [0, 5, 1, 2]


def test_random_draws_distinct_candidates():
    picked = select("random", np.arange(10, 30), 8, np.random.default_rng(3))
    assert len(set(picked.tolist())) == 8 and set(picked) <= set(range(10, 30))


def test_simulation_rows_and_curves(tiny, scheme):
    pool, test = tiny
    settings = Settings(start=40, batch=60, seeds=2, max_labels=160)
    rows = simulate(pool, test, scheme, settings, log=lambda _: None)
    # 40, 100, 160 labeled for each strategy and seed
    assert len(rows) == 3 * 3 * 2
    assert {r["labeled"] for r in rows} == {40, 100, 160}
    # every strategy ends on the same labeled set, so on the same model
    last = {round(r["stance_macro_f1"], 9) for r in rows if r["labeled"] == 160 and r["seed"] == 0}
    assert len(last) == 1
    table = curves(rows)
    assert {r["seeds"] for r in table} == {2}
    assert all(
        r["stance_macro_f1_min"] <= r["stance_macro_f1_mean"] <= r["stance_macro_f1_max"] for r in table
    )


def test_labels_to_reach_interpolates_and_savings_compare_with_random():
    def curve(strategy, ys):
        return [
            {"strategy": strategy, "labeled": n, "stance_macro_f1_mean": y}
            for n, y in zip((100, 200, 300), ys, strict=True)
        ]

    assert labels_to_reach(curve("random", [0.4, 0.5, 0.6]), 0.55) == pytest.approx(250.0)
    assert labels_to_reach(curve("random", [0.4, 0.5, 0.6]), 0.7) is None
    table = curve("random", [0.4, 0.5, 0.6]) + curve("uncertainty", [0.5, 0.6, 0.6])
    out = savings(table, 0.55)
    assert out["uncertainty"] == {"labels": pytest.approx(150.0), "saved_vs_random": 100.0}


def test_bad_settings_are_one_clear_line():
    with pytest.raises(
        StanceError, match="unknown strategy 'smart'; choose from random, uncertainty, diverse"
    ):
        Settings(strategies=("random", "smart"))
    with pytest.raises(StanceError, match=r"--batch must be at least 1 \(got 0\)"):
        Settings(batch=0)
    # `--strategies ,` simulated every seed, then stopped on a max() traceback
    with pytest.raises(
        StanceError, match=r"^--strategies names no strategy; choose from random, uncertainty, diverse$"
    ):
        Settings(strategies=())
    # 0 read as "no limit" and ran the whole pool (11 minutes) unsaid; -5 said "a pool of -5"
    for wrong in (0, -5, 50):
        with pytest.raises(StanceError) as e:
            Settings(max_labels=wrong)
        assert str(e.value) == (
            f"--max-labels must be above --start (50; got {wrong}): leave it out to simulate the whole pool"
        )


def test_the_command_writes_curves_and_logs_them_to_mlflow(tmp_path):
    from tests.conftest import run_cli

    out = run_cli(
        "labeling", "simulate", "--seeds", "1", "--start", "50", "--batch", "100", "--max-labels", "150",
        "--target", "0.2", "--out", str(tmp_path),
    )  # fmt: skip
    text = out.stdout.decode() + out.stderr.decode()
    assert out.returncode == 0, text
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["target_stance_macro_f1"] == 0.2
    assert set(summary["to_target"]) == {"random", "uncertainty", "diverse"}
    header = (tmp_path / "curves.csv").read_text().splitlines()[0]
    assert header.startswith("strategy,labeled,seeds,stance_macro_f1_mean,stance_macro_f1_std")
    assert (tmp_path / "curves.png").stat().st_size > 10_000
    run_id = next(line for line in text.splitlines() if line.startswith("MLflow run ")).split()[2]
    import mlflow

    run = mlflow.get_run(run_id)
    assert run.data.params["batch"] == "100" and "uncertainty.stance_macro_f1" in run.data.metrics
    history = mlflow.MlflowClient().get_metric_history(run_id, "random.stance_macro_f1")
    assert sorted(m.step for m in history) == [50, 150]


def test_a_bad_strategy_on_the_command_line_is_one_line():
    from tests.conftest import run_cli

    out = run_cli("labeling", "simulate", "--strategies", "random,smart")
    assert out.returncode == 2
    assert (
        out.stderr.decode().strip()
        == "error: unknown strategy 'smart'; choose from random, uncertainty, diverse"
    )


def test_a_bad_target_is_refused_before_any_simulating(tmp_path):
    from tests.conftest import run_cli

    out = run_cli(
        "labeling", "simulate", "--seeds", "1", "--max-labels", "150", "--target", "62", "--no-mlflow",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert out.returncode == 2
    text = out.stdout.decode() + out.stderr.decode()
    assert text.strip() == "error: --target must be a macro-F1 in (0, 1] (got 62.0)"  # no pool, no rounds
    assert not any(tmp_path.iterdir())


def test_an_out_that_is_not_a_folder_is_refused_before_any_simulating(tmp_path):
    """`--out` a file was `error: FILE: File exists` once every seed had been simulated (minutes)."""
    from tests.conftest import run_cli

    (taken := tmp_path / "curves").write_text("kept\n")
    out = run_cli(
        "labeling", "simulate", "--seeds", "1", "--max-labels", "150", "--no-mlflow", "--out", str(taken)
    )
    text = out.stdout.decode() + out.stderr.decode()
    assert out.returncode == 2 and text.strip() == f"error: --out {taken}: exists and is not a folder"
    assert taken.read_text() == "kept\n"


def test_the_summary_lines_say_reached_or_not(tmp_path):
    from tests.conftest import run_cli

    out = run_cli(
        "labeling", "simulate", "--strategies", "random,uncertainty", "--seeds", "1", "--max-labels", "150",
        "--target", "0.99", "--no-mlflow", "--out", str(tmp_path),
    )  # fmt: skip
    text = out.stdout.decode()
    assert out.returncode == 0, text + out.stderr.decode()
    assert "random: stance macro-F1 0.990 not reached\n" in text  # was "at not reached"
    assert "uncertainty: stance macro-F1 0.990 not reached\n" in text
    out = run_cli(
        "labeling", "simulate", "--strategies", "random", "--seeds", "1", "--max-labels", "150",
        "--target", "0.01", "--no-mlflow", "--out", str(tmp_path),
    )  # fmt: skip
    assert "random: stance macro-F1 0.010 reached at 50 labels\n" in out.stdout.decode()


def test_a_strategy_slower_than_random_says_it_took_more_labels():
    """`diverse: … reached at 346 labels, -22 vs random` read as 22 labels fewer than random; it
    needed 22 more (random reached at 324). Each line now says which, in words."""
    from training.simulate_report import target_line

    lines = [
        target_line("diverse", {"labels": 346.2, "saved_vs_random": -22.4}, 0.335),
        target_line("uncertainty", {"labels": 342.0, "saved_vs_random": 105.3}, 0.55),
        target_line("uncertainty", {"labels": 324.2, "saved_vs_random": 0.1}, 0.335),
        target_line("random", {"labels": 324.0, "saved_vs_random": 0.0}, 0.335),
    ]
    assert lines == [
        "diverse: stance macro-F1 0.335 reached at 346 labels, 22 more than random",
        "uncertainty: stance macro-F1 0.550 reached at 342 labels, 105 fewer than random",
        "uncertainty: stance macro-F1 0.335 reached at 324 labels, as many as random",
        "random: stance macro-F1 0.335 reached at 324 labels",
    ]
