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
