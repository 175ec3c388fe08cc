"""The outlet study (experiments/outlet_novelty.py): an outlet counts as seen only when an article
of the same block's training set came from it, however the table spells it."""

from experiments import outlet_novelty


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
    outlet = outlet_novelty.outlets([table, tmp_path / "missing.tsv"])
    assert outlet["new1"] == "dawn" and outlet["new3"] is None
    cuts = [({"old1", "old2", "mid1"}, {"new1", "new2", "new3"}), ({"old1", "old2"}, {"mid1"})]
    status = outlet_novelty.novelty(cuts, outlet)
    assert status == {
        (1, "new1"): "seen",
        (1, "new2"): "seen",  # KabulNow: mid1 is in block 1's training set
        (1, "new3"): "unknown",
        (2, "mid1"): "new",  # but not in block 2's, which trains on older articles only
    }
