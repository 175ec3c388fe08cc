"""The new-outlet figures (training/novelty.py, logged by ``stance train`` as ``rolling_new_outlet_*``):
an outlet counts as seen only when an article of the same block's training set came from it,
however the table spells it, and the figures count the new-outlet articles' rows and no others."""

import pytest
from datasets import Dataset

from stance.scheme import Scheme
from training import novelty, timesplit


def test_an_outlet_is_seen_only_through_its_own_blocks_training_articles(tmp_path):
    table = tmp_path / "articles.tsv"
    table.write_text(
        "article\turl\toutlet\tdate\theadline\n"
        "old1\tu\tDawn\t2024-01-01\th\n"
        "old2\tu\tAmu TV\t2024-02-01\th\n"
        "new1\tu\t  dawn \t2025-01-01\th\n"  # Dawn again, spelled apart
        "new2\tu\tKabulNow\t2025-02-01\th\n"
        "new3\tu\t\t2025-03-01\th\n"
        "mid1\tu\tKabulNow\t2024-06-01\th\n",
        encoding="utf-8",
    )
    outlet = novelty.outlets([table, tmp_path / "missing.tsv"])
    assert outlet["new1"] == "dawn" and outlet["new3"] is None
    cuts = [({"old1", "old2", "mid1"}, {"new1", "new2", "new3"}), ({"old1", "old2"}, {"mid1"})]
    assert novelty.novelty(cuts, outlet) == {
        (1, "new1"): "seen",
        (1, "new2"): "seen",  # KabulNow: mid1 is in block 1's training set
        (1, "new3"): "unknown",
        (2, "mid1"): "new",  # but not in block 2's, which trains on older articles only
    }


def _rows(articles, blocks, right):
    """One stance-bearing sentence per article: predicted right, or called none."""
    return [
        {
            "sentence_id": f"{a}-0",
            "article": a,
            "block": b,
            "true": ["pakistan", "demand"],
            "predicted": ["pakistan", "demand"] if ok else ["none", "none"],
        }
        for a, b, ok in zip(articles, blocks, right, strict=True)
    ]


def test_the_new_outlet_figures_read_only_the_articles_from_unseen_outlets():
    scheme = Scheme.load()
    # 10 dated articles, one a month; the newest 2 are the time split, the 2 before them block 2
    names = [f"a{i}" for i in range(10)]
    data = Dataset.from_dict({"article": names, "date": [f"2024-{i + 1:02d}-01" for i in range(10)]})
    cuts = timesplit.rolling_blocks(names[:8], names[8:], dict(zip(names, data["date"], strict=True)), 2)
    assert [sorted(t) for _, t in cuts] == [["a8", "a9"], ["a6", "a7"]]
    outlet = {a: "wire" for a in names} | {"a9": "new outlet", "a7": "another new one"}
    rows = _rows(["a8", "a9", "a6", "a7"], [1, 1, 2, 2], [False, True, False, True])
    figures = novelty.rolling_figures(data, rows, scheme, outlet)
    assert figures[f"{novelty.PREFIX}_articles"] == 2  # a9 and a7; a8 and a6 are the wire's
    assert figures[f"{novelty.PREFIX}_actor_accuracy_e2e"] == pytest.approx(1.0)  # both right
    # the same rows all from one outlet: nothing is new, so no figure is logged
    assert novelty.rolling_figures(data, rows, scheme, dict.fromkeys(names, "wire")) == {}
    # rows whose blocks are not the rolling origin's cut are refused, not scored
    apart = [r | {"block": 3} if r["article"] == "a7" else r for r in rows]
    assert novelty.block_cuts(data, apart) is None
    assert novelty.rolling_figures(data, apart, scheme, outlet) == {}
