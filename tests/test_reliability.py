"""How far to trust each cell of a coverage report (training/reliability.py): right and found
per (actor, stance) pair, counted by hand."""

import subprocess
import sys

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


def test_a_pair_whose_calls_were_all_wrong_or_all_right_gets_an_interval_with_width():
    """0 of 16 calls read "right 0.00 [0.00, 0.00]": every resample of the articles gives 0, so the
    bootstrap said the pair is never right, for certain, from 16 calls. The exact binomial interval
    over the articles holding them says how far 8 articles can tell: up to 0.31; from 2, up to 0.78."""
    pd, ad = ("pakistan", "demand"), ("afghan_taliban", "denial")
    wrong = [_row(f"a{i}", ad, pd) for i in range(8) for _ in range(2)]  # 16 wrong calls in 8 articles
    right = [_row(f"b{i}", ad, ad) for i in range(12)]  # 12 right calls in 12 articles
    cells = reliability.pair_reliability(wrong + right, PAIRS, resamples=200)
    demand, denial = cells["pakistan/demand"], cells["afghan_taliban/denial"]
    assert (demand["called"], demand["right"], demand["precision"]) == (16, 0, 0.0)
    assert demand["precision_interval"] == [0.0, pytest.approx(1 - 0.05 ** (1 / 8), abs=1e-3)]
    assert reliability.call_note(demand) == "right 0.00 [0.00, 0.31] of 16 calls"
    assert denial["precision"] == 1.0 and denial["precision_interval"] == [
        pytest.approx(0.05 ** (1 / 12), abs=1e-3),
        1.0,
    ]
    # recall: 28 labeled denials, 12 found, spread over 20 articles: the bootstrap's own interval
    lo, hi = denial["recall_interval"]
    assert lo < 12 / 28 < hi
    two = [_row(f"c{i}", ad, pd) for i in range(2) for _ in range(6)]  # 12 wrong calls in 2 articles
    few = reliability.pair_reliability(two, PAIRS, resamples=200)["pakistan/demand"]
    assert few["precision_interval"][1] == pytest.approx(1 - 0.05**0.5, abs=1e-3)
    assert reliability.seldom_right(few) == "never right"  # the counts still say it plainly


def test_a_pair_is_called_never_right_only_from_enough_wrong_calls():
    """ "never right" beside a pair's evidence tells an analyst its sentences are likely mistakes; a
    single wrong call said it too (ttp/mediation, 0 of 1), which a coin would do half the time."""
    assert reliability.seldom_right({"called": 1, "right": 0}) is None
    assert reliability.seldom_right({"called": 4, "right": 0}) is None
    assert reliability.seldom_right({"called": 5, "right": 0}) == "never right"
    assert (
        reliability.seldom_right({"called": 12, "right": 3, "precision_interval": [0.1, 0.45]})
        == "rarely right"
    )
    assert reliability.seldom_right({"called": 12, "right": 5, "precision_interval": [0.2, 0.6]}) is None
    assert reliability.call_note({"called": 1, "right": 0}) == "right 0 of 1 call (too few for a share)"


def test_a_snapshot_this_checkout_lacks_gives_no_pairs():
    assert reliability.snapshot_pairs("0000deadbeef") is None
    pairs = reliability.snapshot_pairs("93c2ad279699")  # the committed coverage snapshot
    two = [p for p in pairs.values() if len(p) == 2]
    assert len(two) == 171 and all(p[0] != p[1] for p in two)


def _dated(article: str, block: int, true, predicted, sentence_id: str = "") -> dict:
    date = {1: "2026-01-10", 2: "2025-05-10", 3: "2024-05-10"}[block]
    return _row(article, true, predicted) | {"block": block, "date": date, "sentence_id": sentence_id}


def test_the_newest_blocks_right_calls_against_what_the_older_blocks_rates_expect():
    """Trust read on older articles, applied to newer ones: per block the share right, and the
    newest block's right calls against the older per-pair rates (hand counts)."""
    pd, ad, md = PAIRS
    wrong = ("other", "accusation")
    rows = []
    for i in range(12):  # older: Pakistan's demand called 4 times an article pair, right half
        block = 3 if i < 6 else 2
        rows += [_dated(f"o{i}", block, pd, pd), _dated(f"o{i}", block, wrong, pd)]
        rows += [_dated(f"o{i}", block, ad, ad)]  # the Afghan Taliban's denial: always right
    for i in range(10):  # newest: the demand always wrong, the denial right, a mediation never called before
        rows += [_dated(f"n{i}", 1, wrong, pd), _dated(f"n{i}", 1, ad, ad), _dated(f"n{i}", 1, md, md)]
    out = reliability.transfer(rows, list(PAIRS), resamples=300)
    assert [(b["block"], b["calls"], b["right"]) for b in out["blocks"]] == [
        (3, 18, 12),
        (2, 18, 12),
        (1, 30, 20),
    ]
    newest = out["newest"]
    # expected: 10 demands at 12/24, 10 denials at 12/12, 10 mediations at the older rate over all pairs 24/36
    assert newest["expected"] == pytest.approx(10 * 0.5 + 10 * 1 + 10 * 24 / 36, abs=0.05)
    assert newest["gap"] == pytest.approx((20 - 21.667) / 30, abs=1e-3)
    lo, hi = newest["gap_interval"]
    assert lo <= newest["gap"] <= hi  # every article alike here: a narrow interval
    assert out["pairs"]["pakistan/demand"] == {
        "older_called": 24, "older_right": 12, "newest_called": 10, "newest_right": 0
    }  # fmt: skip
    # a second labeled pair counts as right, as in the trust table
    second = rows + [_dated("n0", 1, ad, pd, "s1")]
    again = reliability.transfer(second, list(PAIRS), {"s1": [ad, pd]}, resamples=300)
    assert again["newest"]["right"] == 21
    with pytest.raises(ValueError, match="one block"):
        reliability.transfer([r for r in rows if r["block"] == 1], list(PAIRS))


def test_the_trust_transfer_study_reads_the_champions_logged_rows(trained, tmp_path):
    import json

    from tests.conftest import REPO
    from training.predict import Predictor

    out = tmp_path / "transfer"
    done = subprocess.run(
        [sys.executable, str(REPO / "experiments" / "trust_transfer.py"), "--out", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads((out / "result.json").read_text())
    trust = Predictor().trust  # the same rows the model keeps its trust from
    assert sum(b["calls"] for b in result["blocks"]) == sum(c["called"] for c in trust["cells"].values())
    assert sum(b["right"] for b in result["blocks"]) == sum(c["right"] for c in trust["cells"].values())
    assert [b["block"] for b in result["blocks"]] == [3, 2, 1] and "a call" in (out / "result.md").read_text()
    bad = subprocess.run(
        [sys.executable, str(REPO / "experiments" / "trust_transfer.py"), "--model", "models:/nothing/1",
         "--out", str(out)], capture_output=True, text=True,
    )  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "error: models:/nothing/1: no training run found for it in this store"
    ]


def test_the_trust_table_gives_each_cell_its_newest_blocks_counts_beside_the_pooled_share():
    pd, ad, _ = PAIRS
    wrong = ("other", "accusation")
    rows = [_dated(f"o{i}", 2, pd, pd) for i in range(12)]  # older: 12 demands called, all right
    rows += [_dated(f"n{i}", 1, wrong if i < 3 else pd, pd) for i in range(5)]  # newest: 2 of 5
    trust = reliability.summary(rows, reliability.ROLLING, list(PAIRS), None)
    cell = trust["cells"]["pakistan/demand"]
    assert (cell["called"], cell["right"]) == (17, 14) and cell["newest"] == {"called": 5, "right": 2}
    denial = trust["cells"]["afghan_taliban/denial"]
    assert denial["newest"] == {"called": 0, "right": 0}
    assert reliability.call_note(denial | {"called": 1}).endswith("; never called on the newest articles")
    assert trust["newest"] == {"articles": 5, "first": "2026-01-10", "last": "2026-01-10"}
    assert reliability.call_note(cell).endswith("; on the newest articles alone 2 of 5")
    table = reliability.markdown(trust)
    assert "| pakistan/demand | 17 |" in table and "| 2 of 5 |" in table
    # a pair never called says so in its calls column alone, not "0 of 0" beside it
    assert "| afghan_taliban/denial | 0 |  | 0 |  |  |" in table and "0 of 0" not in table
    older = reliability.summary(rows + [_dated("o99", 2, ad, ad)], reliability.ROLLING, list(PAIRS), None)
    assert "| afghan_taliban/denial | 1 | 1 of 1 | 1 | 1 of 1 | never called |" in reliability.markdown(older)
    # the time split's rows are one block: no newest to show apart
    alone = reliability.summary(
        [r for r in rows if r["block"] == 1], reliability.TIME_SPLIT, list(PAIRS), None
    )
    assert "newest" not in alone and "newest" not in alone["cells"]["pakistan/demand"]


def test_counts_corrected_by_the_older_blocks_rates_against_the_labeled_counts():
    """experiments/count_correction.py: each newer block counted three ways (the calls, the sum of
    probabilities, the calls x labeled / called of the older blocks), against hand counts."""
    import importlib.util

    from stance.scheme import Scheme
    from tests.conftest import REPO

    spec = importlib.util.spec_from_file_location(
        "count_correction", REPO / "experiments" / "count_correction.py"
    )
    study = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(study)
    scheme = Scheme.load()
    demand, none = ("pakistan", "demand"), ("none", "none")

    def row(article, block, predicted, p_demand):
        return _dated(article, block, demand, predicted) | {
            "actor_p": {"pakistan": 1.0},
            "stance_p": {"demand": p_demand, "none": 1 - p_demand},
        }

    rows = []
    for i in range(12):  # older: each article's two demands, one called (p 0.8), one missed (p 0.3)
        block = 3 if i < 6 else 2
        rows += [row(f"o{i}", block, demand, 0.8), row(f"o{i}", block, none, 0.3)]
    for i in range(10):  # newest: the same
        rows += [row(f"n{i}", 1, demand, 0.8), row(f"n{i}", 1, none, 0.3)]
    newest = study.one_test(rows, 1, scheme.pairs, None, scheme, resamples=200)
    # 10 calls of 20 labeled; expected 10 x (0.8 + 0.3) = 11; the older rate labeled / called = 24 / 12
    assert newest["rate_blocks"] == [2, 3] and newest["month"]["labeled"] == 20
    month = newest["month"]
    assert (month["calls_error"], month["expected_error"], month["adjusted_error"]) == (0.5, 0.45, 0.0)
    assert (month["calls_bias"], month["expected_bias"], month["adjusted_bias"]) == (-0.5, -0.45, 0.0)
    assert month["adjusted_minus_calls"] == -0.5
    assert newest["pairs"]["pakistan/demand"] == {
        "labeled": 20,
        "calls": 10,
        "expected": 11.0,
        "adjusted": 20.0,
    }
    # block 2 read with block 3's rates alone: 6 calls, fewer than FEW, so its count stays raw
    older = study.one_test(rows, 2, scheme.pairs, None, scheme, resamples=200)
    assert older["month"]["adjusted_error"] == older["month"]["calls_error"] == 0.5
