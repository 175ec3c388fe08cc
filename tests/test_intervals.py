"""Bootstrap intervals and permutation tests by article: known answers on crafted cases."""

import numpy as np
from sklearn.metrics import f1_score

from training.intervals import (
    RESAMPLES,
    differing,
    figures,
    macro_f1,
    paired_difference,
    paired_e2e_permutation,
    paired_permutation,
    paired_precision_difference,
    swaps,
)

NONE = 2  # stance ids: 0 demand, 1 denial, 2 none; actor ids: 0 pakistan, 1 ttp, 2 none


def test_articles_not_sentences_are_resampled():
    """Two articles: A (9 sentences, all right) and B (1 sentence, wrong).

    Resampling two articles gives AA (p 1/4, accuracy 1), BB (1/4, 0) and AB (1/2, 0.9):
    the 90 % interval is [0, 1]. Resampling sentences would give a narrow one around 0.9.
    """
    articles = ["A"] * 9 + ["B"]
    actors, stances = np.zeros(10, int), np.zeros(10, int)
    a_pred = np.array([0] * 9 + [1])
    got = figures("t", articles, actors, stances, a_pred, stances, 3, NONE)
    assert got["t_actor_accuracy_e2e"] == 0.9
    assert (got["t_actor_accuracy_e2e_lo"], got["t_actor_accuracy_e2e_hi"]) == (0.0, 1.0)
    assert got["t_articles"] == 2 and got["t_sentences"] == 10


def test_half_right_over_100_articles_matches_the_binomial_interval():
    """100 one-sentence articles, 50 right: the bootstrap accuracy is Binomial(100, 0.5)/100,
    whose 5th and 95th percentiles are 0.42 and 0.58."""
    articles = [f"a{i}" for i in range(100)]
    actors, stances = np.zeros(100, int), np.zeros(100, int)
    a_pred = np.array([0, 1] * 50)
    got = figures("cv", articles, actors, stances, a_pred, stances, 3, NONE)
    assert got["cv_actor_accuracy_e2e"] == 0.5
    assert abs(got["cv_actor_accuracy_e2e_lo"] - 0.42) <= 0.011
    assert abs(got["cv_actor_accuracy_e2e_hi"] - 0.58) <= 0.011
    assert figures("cv", articles, actors, stances, a_pred, stances, 3, NONE) == got  # fixed seed


def test_a_perfect_model_has_a_point_interval():
    articles = ["a", "a", "b", "c"]
    stances = np.array([0, 2, 1, 0])
    actors = np.array([0, 2, 1, 1])
    got = figures("time", articles, actors, stances, actors, stances, 3, NONE)
    for name in ("time_stance_macro_f1", "time_actor_accuracy_e2e", "time_actor_precision_e2e"):
        assert got[name] == got[name + "_lo"] == got[name + "_hi"] == 1.0


def test_end_to_end_actor_accuracy_counts_a_missed_stance_as_wrong():
    """Stance-bearing sentences only; predicted `none` is wrong even if the actor head leaned right."""
    stances = np.array([0, 1, 2, 0])  # the third is stance none: not counted
    actors = np.array([0, 1, 2, 1])
    a_pred = np.array([0, 2, 0, 0])  # right, missed (none), not counted, wrong holder
    got = figures("x", ["a", "b", "c", "d"], actors, stances, a_pred, stances, 3, NONE)
    assert got["x_actor_accuracy_e2e"] == 1 / 3


def test_calling_a_stance_everywhere_wins_holder_accuracy_and_pays_in_holder_precision():
    """The end-to-end actor accuracy counts the labeled stance-bearing sentences, so a model that
    calls a stance on every sentence loses nothing on it; its companion counts the stances the
    model calls, and pays for each one where the labels hold none."""
    articles = ["a", "a", "b", "b", "c", "c"]
    stances = np.array([0, 2, 1, 2, 0, 2])  # three stance-bearing, three none
    actors = np.array([0, 2, 1, 2, 1, 2])
    careful = figures("x", articles, actors, stances, actors, stances, 3, NONE)
    eager_s = np.array([0, 0, 1, 1, 0, 0])  # a stance everywhere, the right holder where one is labeled
    eager_a = np.array([0, 0, 1, 1, 1, 0])
    eager = figures("x", articles, actors, stances, eager_a, eager_s, 3, NONE)
    assert careful["x_actor_accuracy_e2e"] == eager["x_actor_accuracy_e2e"] == 1.0
    assert careful["x_actor_precision_e2e"] == 1.0
    assert eager["x_actor_precision_e2e"] == 0.5  # 3 of the 6 stances it called are labeled, holder right
    # a stance called with the wrong holder counts against precision too
    wrong = figures("x", articles, actors, stances, np.array([1, 2, 1, 2, 1, 2]), stances, 3, NONE)
    assert wrong["x_actor_precision_e2e"] == wrong["x_actor_accuracy_e2e"] == 2 / 3


def test_a_model_that_calls_no_stance_has_no_holder_precision_rather_than_zero():
    stances, actors = np.array([0, 2]), np.array([0, 2])
    got = figures("x", ["a", "b"], actors, stances, np.array([2, 2]), np.array([2, 2]), 3, NONE)
    assert got["x_actor_accuracy_e2e"] == 0.0
    assert "x_actor_precision_e2e" not in got


def test_macro_f1_is_scikit_learns_over_the_classes_present():
    rng = np.random.default_rng(0)
    for _ in range(20):
        y, p = rng.integers(0, 5, 40), rng.integers(0, 4, 40)
        m = np.zeros((5, 5))
        np.add.at(m, (y, p), 1)
        assert abs(macro_f1(m) - f1_score(y, p, average="macro", zero_division=0)) < 1e-12


def test_paired_difference_of_identical_predictions_is_zero_and_of_a_clear_gain_is_positive():
    articles = [f"a{i // 3}" for i in range(60)]
    truth = np.array([0, 1, 2] * 20)
    assert paired_difference(articles, truth, truth, truth, 3) == (0.0, 0.0, 0.0)
    worse = truth.copy()
    worse[::2] = 2
    point, lo, hi = paired_difference(articles, truth, worse, truth, 3)
    assert point > 0 and 0 < lo <= point <= hi


def test_the_permutation_p_of_a_gain_in_three_articles_is_the_share_of_draws_that_swap_none_of_them():
    """Only a draw that leaves all three articles unswapped gives b the whole gain (about 1 in 8),
    though the paired interval lies above zero."""
    articles = [f"a{i // 3}" for i in range(60)]
    truth = np.array([0, 1, 2] * 20)
    worse = truth.copy()
    worse[[0, 21, 42]] = 1  # one sentence wrong in articles a0, a7 and a14
    assert paired_difference(articles, truth, worse, truth, 3)[1] > 0
    unswapped = (swaps(20)[:, [0, 7, 14]] == 0).all(1).sum()
    p = paired_permutation(articles, truth, worse, truth, 3)
    assert p == (1 + unswapped) / (1 + RESAMPLES) and 0.1 < p < 0.15
    assert paired_permutation(articles, truth, truth, worse, 3) == 1.0  # the other way round
    assert paired_permutation(articles, truth, truth, truth, 3) == 1.0


def right_with(rng, truth: np.ndarray, share: float) -> np.ndarray:
    """Predictions right on about ``share`` of the sentences, the rest drawn at random."""
    return np.where(rng.random(len(truth)) < share, truth, rng.integers(0, 3, len(truth)))


def test_the_permutation_p_is_spread_out_for_equal_models_and_small_for_a_clearly_better_one():
    """Twenty crafted test sets of 40 five-sentence articles: two models right 60 % of the time
    each, and one right 85 % of the time."""
    equal, better = [], []
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        articles = [f"a{i // 5}" for i in range(200)]
        truth = rng.integers(0, 3, 200)
        a, b, good = (right_with(rng, truth, share) for share in (0.6, 0.6, 0.85))
        equal.append(paired_permutation(articles, truth, a, b, 3))
        better.append(paired_permutation(articles, truth, a, good, 3))
        # a swap turns b - a into a - b: the two one-sided p add up to just over one
        assert 1 < equal[-1] + paired_permutation(articles, truth, b, a, 3) <= 1.01
    assert 0.35 <= np.mean(equal) <= 0.65
    assert sum(p < 0.05 for p in equal) <= 3 and sum(p > 0.5 for p in equal) >= 6  # a 5 % test: about 1 in 20
    assert max(better) < 0.01


def test_the_end_to_end_permutation_counts_a_gain_as_the_paired_difference_does():
    articles = [f"a{i // 2}" for i in range(20)]
    stances = np.array([0, NONE] * 10)  # one stance-bearing sentence per article
    actors = np.zeros(20, int)
    a_pred = np.zeros(20, int)
    a_pred[[0, 2, 4]] = 1  # the champion gives three articles' holder to the wrong side
    p = paired_e2e_permutation(articles, actors, stances, a_pred, actors, NONE)
    assert p == (1 + (swaps(10)[:, :3] == 0).all(1).sum()) / (1 + RESAMPLES)
    a_pred[[1, 3, 5]] = 1  # on stance-none sentences: not counted
    assert paired_e2e_permutation(articles, actors, stances, a_pred, actors, NONE) == p
    assert paired_e2e_permutation(articles, actors, np.full(20, NONE), a_pred, actors, NONE) == 1.0


def test_differing_counts_stance_decisions_and_holders_of_stance_bearing_sentences():
    articles = ["a", "a", "b", "b", "c", "c"]
    stances = np.array([0, NONE, 0, NONE, 1, 1])
    s_a, s_b = np.array([0, 2, 0, 2, 1, 1]), np.array([1, 2, 0, 2, 1, 1])  # a's first stance differs
    a_a, a_b = (
        np.array([0, 2, 0, 1, 1, 1]),
        np.array([0, 2, 0, 0, 1, 2]),
    )  # b: a stance-none holder; c: the last
    assert differing(articles, stances, s_a, s_b, a_a, a_b, NONE) == (2, 6, 2, 3)
    assert differing(articles, stances, s_a, s_a, a_a, a_a, NONE) == (0, 6, 0, 3)


def test_paired_precision_difference_sees_a_recipe_that_calls_stances_where_none_are_labeled():
    """Twenty articles, each one stance-bearing sentence and one none: b calls a stance on both,
    with the right holder where one is labeled; a calls only the labeled one."""
    articles = [f"a{i // 2}" for i in range(40)]
    stances = np.array([0, 2] * 20)
    actors = np.array([0, 2] * 20)
    eager_s, eager_a = np.zeros(40, int), np.zeros(40, int)
    point, lo, hi = paired_precision_difference(
        articles, actors, stances, stances, actors, eager_s, eager_a, 3, NONE
    )
    assert point == -0.5 and lo == hi == -0.5  # every article the same: the interval is a point
    assert paired_precision_difference(articles, actors, stances, stances, actors, stances, actors, 3, NONE) == (
        0.0, 0.0, 0.0,
    )  # fmt: skip


def _coverage_study():
    import importlib.util

    from tests.conftest import REPO

    spec = importlib.util.spec_from_file_location(
        "interval_coverage", REPO / "experiments" / "interval_coverage.py"
    )
    study = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(study)
    return study


def test_the_coverage_study_holds_the_population_figure_as_the_truth_and_redraws_articles():
    """experiments/interval_coverage.py on 20 one-sentence articles, the holder right in half: the
    truth is 0.5; drawn without replacement, 20 of 20 articles are the population itself, so every
    interval holds it (the finite-population effect at its extreme); drawn with replacement an
    article can come twice, counts as two, and the quoted interval misses now and then."""
    from stance.scheme import Scheme

    study = _coverage_study()
    rows = [
        {
            "sentence_id": f"a{i}:0",
            "article": f"a{i}",
            "true": ["pakistan", "demand"],
            "predicted": ["pakistan" if i % 2 else "ttp", "demand"],
        }
        for i in range(20)
    ]
    pop = study.Population(rows, Scheme.load(), {})
    assert pop.truth["actor_accuracy_e2e"] == 0.5
    units, ids = pop.sample(np.array([3, 3, 4]))
    assert units == [0, 1, 2] and len(ids) == 3  # an article drawn twice is two articles
    rng = np.random.default_rng(0)
    whole = study.figure_coverage(pop, [20], 50, False, rng)[20]["actor_accuracy_e2e"]
    assert all(whole[m]["coverage"] == 1.0 for m in study.METHODS)
    drawn = study.figure_coverage(pop, [20], 200, True, rng)[20]["actor_accuracy_e2e"]["project"]
    assert 0.75 < drawn["coverage"] < 0.97 and drawn["truth_below"] > 0 and drawn["truth_above"] > 0


def test_the_coverage_study_refuses_rows_it_cannot_score_in_one_line(tmp_path):
    import subprocess
    import sys

    from tests.conftest import REPO

    latest = (REPO / "labeling" / "snapshots" / "LATEST").read_text().strip()
    rows = tmp_path / "oof.jsonl"
    rows.write_text('{"sentence_id": "nowhere:0", "article": "nowhere", "true": ["none", "none"]}\n')
    done = subprocess.run(
        [sys.executable, str(REPO / "experiments" / "interval_coverage.py"), str(rows), "--out", str(tmp_path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [
        f"error: {rows}: 1 of 1 sentences not in the annotation snapshot {latest} (labeling/snapshots/): "
        "a run's out-of-fold rows of this checkout's data are needed"
    ]
