"""The rolling origin's learning curve (experiments/label_curve.py): nested shares, the same test
articles at every share, and the doublings a target is away read off the line."""

import math

import pytest

from experiments import label_curve
from stance.errors import StanceError
from stance.scheme import Scheme
from training import timesplit

TRAIN = {f"a{i:02d}" for i in range(40)}


def test_a_smaller_share_keeps_a_subset_of_a_larger_ones_articles():
    kept = [label_curve.keep(TRAIN, s, block=1, draw=0) for s in (0.25, 0.5, 0.75, 1.0)]
    assert [len(k) for k in kept] == [10, 20, 30, 40]
    assert kept[0] < kept[1] < kept[2] < kept[3] == TRAIN
    # the same (block, draw) always keeps the same articles; another draw or block other ones
    assert label_curve.keep(TRAIN, 0.25, 1, 0) == kept[0]
    assert label_curve.keep(TRAIN, 0.25, 1, 1) != kept[0]
    assert label_curve.keep(TRAIN, 0.25, 2, 0) != kept[0]
    assert len(label_curve.keep({"a", "b", "c"}, 0.1, 1, 0)) == 2  # never fewer than two articles


@pytest.mark.parametrize("share", [0, -0.5, 1.5])
def test_a_share_outside_zero_to_one_is_refused_in_one_line(share):
    with pytest.raises(StanceError, match=r"must be in \(0, 1\]") as e:
        label_curve.keep(TRAIN, share, 1, 0)
    assert "\n" not in str(e.value)


def test_the_line_reads_the_gain_per_doubling_and_the_doublings_to_a_target():
    shares = (0.25, 0.5, 0.75, 1.0)
    values = [0.74 + 0.03 * math.log2(s) for s in shares]  # +0.03 a doubling, 0.74 with every label
    gain, at_full = label_curve.slope(shares, values)
    assert gain == pytest.approx(0.03) and at_full == pytest.approx(0.74)
    assert label_curve.doublings(gain, 0.74, 0.80) == pytest.approx(2.0)  # four times the labels
    assert label_curve.doublings(gain, 0.81, 0.80) == 0.0  # already there
    assert label_curve.doublings(0.0, 0.74, 0.80) == math.inf  # a flat curve never gets there
    assert label_curve.doublings(-0.01, 0.74, 0.80) == math.inf


def _rows(right: dict[str, bool]) -> list[dict]:
    """Two sentences an article, both a Pakistani demand; right or called none."""
    return [
        {"sentence_id": f"{a}:{i}", "article": a, "block": 1, "true": ["pakistan", "demand"],
         "predicted": ["pakistan", "demand"] if ok else ["none", "none"]}
        for a, ok in right.items() for i in range(2)
    ]  # fmt: skip


def test_each_point_is_its_draws_mean_and_every_share_is_scored_on_the_same_articles():
    scheme = Scheme.load()
    arts = [f"t{i}" for i in range(8)]
    full = _rows(dict.fromkeys(arts, True))
    half_a = _rows({a: i < 4 for i, a in enumerate(arts)})  # holders right in 4 of 8 articles
    half_b = _rows({a: i < 2 for i, a in enumerate(arts)})  # in 2 of 8
    out = label_curve.curve(
        {(0.5, 0): half_a, (0.5, 1): half_b, (1.0, 0): full}, (0.5, 1.0), scheme, resamples=200
    )
    e2e = out["figures"]["actor_accuracy_e2e"]
    alone = [timesplit.row_figures("x", r, scheme)["x_actor_accuracy_e2e"] for r in (half_a, half_b)]
    assert e2e["points"] == [pytest.approx(sum(alone) / 2, abs=1e-4), 1.0]  # (0.5 + 0.25) / 2
    assert e2e["gain_per_doubling"] == pytest.approx(1 - 0.375, abs=1e-4)
    lo, hi = e2e["intervals"][0]
    assert lo < 0.375 < hi
    # end to end = a stance called (of the labeled ones) × the holder right where one is called
    called, holder = out["figures"]["stance_called"], out["figures"]["holder_where_called"]
    assert called["points"] == [pytest.approx(0.375, abs=1e-4), 1.0] and holder["points"] == [1.0, 1.0]
    assert e2e["last_step_gain"] == pytest.approx(e2e["gain_per_doubling"])  # two points: one step
    assert e2e["doublings"] == 0.0  # 1.0 is past the 0.85 target
    with pytest.raises(StanceError, match="other articles"):
        label_curve.curve({(0.5, 0): half_a[:-2], (1.0, 0): full}, (0.5, 1.0), scheme, resamples=50)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["configs/no-such-recipe.yaml"], "no-such-recipe.yaml"),
        (["configs/baseline.yaml", "--shares", "0"], "(0, 1]"),
    ],
)
def test_a_bad_recipe_or_share_is_one_line_before_any_fit(args, says):
    import subprocess
    import sys

    from tests.conftest import REPO

    res = subprocess.run(
        [sys.executable, str(REPO / "experiments" / "label_curve.py"), *args], capture_output=True, text=True
    )
    assert res.returncode == 2
    assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1, res.stderr
    assert says in res.stderr
