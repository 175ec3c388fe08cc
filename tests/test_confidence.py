"""How far to trust p: the confidence bands an analyst reads, on hand-made predictions."""

import pytest

from training import confidence
from training.predict import SentencePrediction

ACTORS = ("pakistan", "afghan_taliban", "ttp", "mediator", "other", "none")
STANCES = ("demand", "denial", "accusation", "mediation", "none")


def row(true, predicted, p_stance, p_actor=1.0):
    """A logged prediction whose pair confidence is p_stance x p_actor (the actor's share of the holders)."""
    actor, stance = predicted
    stance_p = {s: 0.0 for s in STANCES}
    stance_p[stance] = p_stance
    rest = [s for s in STANCES if s != stance]
    for s in rest:
        stance_p[s] = (1 - p_stance) / len(rest)
    holder = actor if actor != "none" else "pakistan"
    actor_p = {a: 0.0 for a in ACTORS}
    actor_p[holder] = 0.5 * p_actor
    others = [a for a in ACTORS if a not in (holder, "none")]
    for a in others:
        actor_p[a] = 0.5 * (1 - p_actor) / len(others)
    actor_p["none"] = 0.5  # the none actor's share is left out of p(actor | a stance)
    return {"sentence_id": f"s{p_stance}", "true": list(true), "predicted": list(predicted),
            "actor_p": actor_p, "stance_p": stance_p}  # fmt: skip


def test_p_is_the_stance_times_the_actor_among_holders_and_predict_shows_the_same():
    r = row(("pakistan", "demand"), ("pakistan", "demand"), 0.8, 0.5)
    p = confidence.pair_confidence(r["actor_p"], r["stance_p"], "pakistan", "demand", "none")
    assert p == pytest.approx(0.4)  # 0.8 x (0.25 / 0.5): the none actor's half does not count
    shown = SentencePrediction("a", "a:1", 0, 1, "x", "pakistan", r["actor_p"], "demand", r["stance_p"])
    assert shown.confidence == pytest.approx(p)
    r = row(("none", "none"), ("none", "none"), 0.65)
    assert confidence.pair_confidence(r["actor_p"], r["stance_p"], "none", "none", "none") == pytest.approx(
        0.65
    )


def test_bands_count_right_pairs_and_a_p_on_an_edge_goes_up():
    rows = [
        row(("pakistan", "demand"), ("pakistan", "demand"), 0.95),  # top band, right
        row(("pakistan", "demand"), ("afghan_taliban", "demand"), 0.9),  # on the edge: top band, wrong holder
        row(("none", "none"), ("none", "none"), 1.0),  # p = 1 is in the top band
        row(("ttp", "denial"), ("ttp", "denial"), 0.75),
        row(("ttp", "denial"), ("none", "none"), 0.3),  # a missed stance: low p, wrong
        row(("none", "none"), ("mediator", "mediation"), 0.6),
    ]
    low, mid, high, top = confidence.bands(rows, "none")
    assert (low.sentences, low.right, low.with_stance) == (1, 0, 0)
    assert (mid.sentences, mid.right, mid.with_stance, mid.stance_accuracy) == (1, 0, 1, 0.0)
    assert (high.sentences, high.right, high.with_stance_right) == (1, 1, 1)
    assert (top.sentences, top.right, top.with_stance, top.with_stance_right) == (3, 2, 2, 1)
    assert top.accuracy == pytest.approx(2 / 3) and low.stance_accuracy is None
    levels = confidence.at_least(rows, "none")
    assert levels[0.9] == (pytest.approx(0.5), pytest.approx(2 / 3))
    assert levels[0.5] == (pytest.approx(5 / 6), pytest.approx(3 / 5))
    table = confidence.markdown(rows, "none", "held out")
    assert "| [0.9, 1.0] | 3 | 0.50 | 0.67 | 2 | 0.50 |" in table
    assert "| [0.0, 0.5) | 1 | 0.17 | 0.00 | 0 | – |" in table


def test_a_run_logged_before_actor_probabilities_is_refused_with_what_to_do():
    old = row(("pakistan", "demand"), ("pakistan", "demand"), 0.9)
    del old["actor_p"]
    with pytest.raises(ValueError, match="s0.9: no actor_p logged .* retrain it"):
        confidence.bands([old], "none")


def test_batch_scoring_p_is_predicts_p_row_for_row():
    import numpy as np

    rows = [
        row(("pakistan", "demand"), ("pakistan", "demand"), 0.8, 0.5),
        row(("none", "none"), ("none", "none"), 0.65),
        row(("ttp", "denial"), ("mediator", "mediation"), 0.55, 0.3),
    ]
    a = np.array([[r["actor_p"][x] for x in ACTORS] for r in rows])
    s = np.array([[r["stance_p"][x] for x in STANCES] for r in rows])
    got = confidence.pair_confidences(
        a,
        s,
        [r["predicted"][0] for r in rows],
        [r["predicted"][1] for r in rows],
        list(ACTORS),
        list(STANCES),
        "none",
    )
    want = [confidence.pair_confidence(r["actor_p"], r["stance_p"], *r["predicted"], "none") for r in rows]
    assert (
        got == pytest.approx(want) and got[1] == pytest.approx(0.65) and got[2] == pytest.approx(0.55 * 0.3)
    )
