"""How far to trust each cell of a coverage report (training/reliability.py): right and found
per (actor, stance) pair, counted by hand."""

import pytest

from training import reliability

PAIRS = [("pakistan", "demand"), ("afghan_taliban", "denial"), ("mediator", "mediation")]


def _row(article: str, true: tuple[str, str], predicted: tuple[str, str]) -> dict:
    return {"article": article, "true": list(true), "predicted": list(predicted)}


def test_right_and_found_are_the_pairs_precision_and_recall_over_whole_pairs():
    pd, ad, none = ("pakistan", "demand"), ("afghan_taliban", "denial"), ("none", "none")
    rows = []
    for i in range(20):  # 20 articles: in each, one Pakistani demand called right
        rows.append(_row(f"a{i}", pd, pd))
    for i in range(
        5
    ):  # 5 more calls of it: a denial of Pakistan's, and the right stance with the wrong holder
        rows.append(_row(f"a{i}", ad, pd))
    rows += [_row(f"a{i}", ("afghan_taliban", "demand"), pd) for i in range(5, 10)]
    rows += [_row(f"a{i}", pd, none) for i in range(10)]  # 10 labeled demands it called none
    cells = reliability.pair_reliability(rows, PAIRS, resamples=300)
    demand = cells["pakistan/demand"]
    assert (demand["called"], demand["labeled"], demand["right"]) == (30, 30, 20)
    assert demand["precision"] == pytest.approx(20 / 30, abs=1e-3)  # a wrong holder is a wrong call
    assert demand["recall"] == pytest.approx(20 / 30, abs=1e-3)
    lo, hi = demand["precision_interval"]
    assert lo < 20 / 30 < hi and hi - lo < 0.5
    denial = cells["afghan_taliban/denial"]
    # five labeled, none called: counts only, never a share read off a handful of sentences
    assert (denial["called"], denial["labeled"], denial["right"]) == (0, 5, 0)
    assert "precision" not in denial and "recall" not in denial
    assert cells["mediator/mediation"]["called"] == 0 and denial["articles"] == 20


def test_a_call_of_a_sentences_second_labeled_pair_is_right_where_the_snapshot_says_so():
    accusation, denial = ("pakistan", "accusation"), ("afghan_taliban", "denial")
    # "Islamabad accuses the Taliban ..., which the Taliban deny": primary accusation, second denial;
    # twelve such sentences, in twelve articles, each called a denial of the Taliban's
    rows = [
        {"article": f"a{i}", "sentence_id": f"a{i}:0", "true": list(accusation), "predicted": list(denial)}
        for i in range(12)
    ]
    primary_only = reliability.pair_reliability(rows, PAIRS + [accusation], resamples=100)
    assert primary_only["afghan_taliban/denial"]["precision"] == 0.0
    both = {f"a{i}:0": [accusation, denial] for i in range(12)}
    cells = reliability.pair_reliability(rows, PAIRS + [accusation], labeled_pairs=both, resamples=100)
    assert (
        cells["afghan_taliban/denial"]["precision"] == 1.0 and cells["afghan_taliban/denial"]["labeled"] == 12
    )
    # the primary pair stays labeled and is not found: one call a sentence
    assert cells["pakistan/accusation"]["labeled"] == 12 and cells["pakistan/accusation"]["recall"] == 0.0


def test_a_snapshot_this_checkout_lacks_gives_no_pairs():
    assert reliability.snapshot_pairs("0000deadbeef") is None
    pairs = reliability.snapshot_pairs("93c2ad279699")  # the committed coverage snapshot
    two = [p for p in pairs.values() if len(p) == 2]
    assert len(two) == 171 and all(p[0] != p[1] for p in two)
