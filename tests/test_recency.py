"""Recency weights: the newest training articles count most, as the recipe's half-life says."""

from __future__ import annotations

import numpy as np
import pytest

from training.models import recency


def test_weights_halve_every_half_life_and_an_undated_article_sits_at_the_median():
    dates = ["2025-10-25", "2025-04-28", "2024-10-30", "", "2025-10-25T08:00:00"]
    w = recency.weights(dates, 180)
    assert w.mean() == pytest.approx(1.0)
    assert w[0] / w[1] == pytest.approx(2.0) and w[1] / w[2] == pytest.approx(
        2 ** (183 / 180) / 2 ** (3 / 180)
    )
    assert w[4] == pytest.approx(w[0])  # a timestamp counts by its day
    assert w[3] == pytest.approx(np.median(w[[0, 1, 2, 4]]))


def test_no_half_life_or_no_dated_article_means_no_weights():
    assert recency.weights(["2025-10-25", "2021-01-01"], None) is None
    assert recency.weights(["", ""], 90) is None
    assert recency.weights(None, 90) is None


def _relabeled(seed=0):
    """Two kinds of sentence whose labels swapped over time: in the older articles (three times
    as many) kind P is labeled 0 and kind Q 1, in the newest the other way round."""
    rng = np.random.default_rng(seed)
    p, q = np.array([3.0, 0, 0, 0]), np.array([-3.0, 0, 0, 0])

    def cloud(center, n):
        return center + rng.normal(scale=0.5, size=(n, 4))

    x = np.vstack([cloud(p, 30), cloud(q, 30), cloud(p, 10), cloud(q, 10)]).astype(np.float32)
    y = np.array([0] * 30 + [1] * 30 + [1] * 10 + [0] * 10)
    dates = ["2021-06-01"] * 60 + ["2025-10-20"] * 20
    probe = np.vstack([cloud(p, 20), cloud(q, 20)]).astype(np.float32)
    return x, y, dates, probe


def test_weighted_heads_follow_the_newest_articles_where_the_labeling_changed(scheme):
    from training.recipes import KINDS, make_classifier

    x, y, dates, probe = _relabeled()
    pakistan, mediator = scheme.actor_labels.index("pakistan"), scheme.actor_labels.index("mediator")
    actors = np.where(y == 1, mediator, pakistan)
    stances = np.where(y == 1, scheme.stance_labels.index("mediation"), scheme.stance_labels.index("demand"))
    model = make_classifier(KINDS["embedding"][0](kind="embedding"), scheme)
    old = np.array([pakistan] * 20 + [mediator] * 20)  # what the older articles say of the probes
    model._fit_heads(x, x, actors, stances)  # unweighted: the older articles outvote the newest
    assert (model.actor_.predict(probe) == old).mean() >= 0.9
    model._fit_heads(x, x, actors, stances, recency.weights(dates, 365))
    assert (model.actor_.predict(probe) == old).mean() <= 0.1
    assert (model.stance_.predict(probe) == np.where(old == pakistan, stances[60], stances[0])).mean() >= 0.9


def test_the_attention_head_follows_the_newest_articles_where_the_labeling_changed():
    from training.models import attention

    x, y, dates, probe = _relabeled(seed=1)
    extra = np.zeros((len(x), 0), dtype=np.float32)

    def tokens(rows):  # three identical tokens a sentence
        return [row[None, :].repeat(3, 0) for row in rows]

    def predicted(weight):
        head = attention.fit(tokens(x), extra, y, 2, 1, 60, 0, weight)
        return head.predict_proba(tokens(probe), extra[:40]).argmax(1)

    old = np.array([0] * 20 + [1] * 20)
    assert (predicted(None) == old).mean() >= 0.9
    assert (predicted(recency.weights(dates, 365)) == old).mean() <= 0.1
