"""Bootstrap intervals by article: known answers on crafted cases."""

import numpy as np
from sklearn.metrics import f1_score

from training.intervals import figures, macro_f1, paired_difference

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
    for name in ("time_stance_macro_f1", "time_actor_accuracy_e2e"):
        assert got[name] == got[name + "_lo"] == got[name + "_hi"] == 1.0


def test_end_to_end_actor_accuracy_counts_a_missed_stance_as_wrong():
    """Stance-bearing sentences only; predicted `none` is wrong even if the actor head leaned right."""
    stances = np.array([0, 1, 2, 0])  # the third is stance none: not counted
    actors = np.array([0, 1, 2, 1])
    a_pred = np.array([0, 2, 0, 0])  # right, missed (none), not counted, wrong holder
    got = figures("x", ["a", "b", "c", "d"], actors, stances, a_pred, stances, 3, NONE)
    assert got["x_actor_accuracy_e2e"] == 1 / 3


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
