"""The profile-level figure: who takes which stance, per article, as an analyst reads it."""

import numpy as np

from training.evaluate import profile_pairs

# ids: actors pakistan=0, afghan_taliban=1, none=5; stances demand=0, denial=1, none=4
NONE = 4


def test_a_pair_counts_once_per_article_and_none_is_no_pair():
    articles = ["a", "a", "a", "b"]
    actors = np.array([0, 0, 5, 1])
    stances = np.array([0, 0, 4, 1])  # a: pakistan/demand twice, one none; b: afghan_taliban/denial
    # a: the pair found on one of its two sentences; b: the right stance but the wrong actor
    pred_actors = np.array([0, 5, 5, 0])
    pred_stances = np.array([0, 4, 4, 1])
    out = profile_pairs(articles, actors, stances, pred_actors, pred_stances, NONE)
    assert (
        out["profile_pair_precision"] == 0.5
    )  # 2 reported (a: pakistan/demand, b: pakistan/denial), 1 right
    assert out["profile_pair_recall"] == 0.5  # 2 labeled, 1 found
    assert out["profile_pair_f1"] == 0.5


def test_the_same_pair_in_another_article_does_not_count():
    articles = ["a", "b"]
    actors, stances = np.array([0, 5]), np.array([0, 4])
    pred_actors, pred_stances = np.array([5, 0]), np.array([4, 0])  # found in b, where nobody demands
    out = profile_pairs(articles, actors, stances, pred_actors, pred_stances, NONE)
    assert out == {"profile_pair_precision": 0.0, "profile_pair_recall": 0.0, "profile_pair_f1": 0.0}
