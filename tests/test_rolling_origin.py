"""The rolling-origin study's blocks (experiments/rolling_origin.py): no block trains on its future."""

import pytest

from experiments import rolling_origin
from stance.errors import StanceError
from training import timesplit


def _dates():
    # 20 articles, one a month from 2024-01; two undated
    dates = {f"a{i:02d}": f"2024-{i + 1:02d}-01" if i < 12 else f"2025-{i - 11:02d}-01" for i in range(18)}
    return dates | {"u1": None, "u2": None}


def test_block_one_is_the_time_split_and_later_blocks_see_only_older_dated_articles():
    dates = _dates()
    cuts = rolling_origin.blocks(dates, dates, n=3, share=0.2)
    first = timesplit.split(dates, dates, 0.2)
    assert cuts[0] == (set(first.train), set(first.test))  # what `stance train` reports
    assert {"u1", "u2"} <= cuts[0][0]  # the time split trains on the undated articles
    tests = [test for _, test in cuts]
    assert all(len(t) >= 4 for t in tests)  # 0.2 of 20 articles each
    assert not set.intersection(*tests) and len(set.union(*tests)) == sum(map(len, tests))
    for train, test in cuts[1:]:
        assert not {"u1", "u2"} & train  # an undated article may be newer than the block
        assert max(dates[a] for a in train) < min(dates[a] for a in test)
    # newest block first
    assert min(dates[a] for a in tests[0]) > max(dates[a] for a in tests[1])


def test_too_few_dated_articles_for_the_blocks_is_a_clear_error():
    dates = {f"a{i}": f"2024-0{i + 1}-01" for i in range(5)}
    with pytest.raises(StanceError, match="too few dated articles"):
        rolling_origin.blocks(dates, dates, n=5, share=0.2)


def test_a_change_to_the_fitting_code_is_a_new_cache_key(tmp_path, monkeypatch):
    # predictions made by older code are never read back as the current code's
    (tmp_path / "training" / "models").mkdir(parents=True)
    model = tmp_path / "training" / "models" / "hybrid.py"
    model.write_text("ALPHA = 1\n")
    (tmp_path / "training" / "report.py").write_text("# not fitting code\n")
    monkeypatch.setattr(rolling_origin, "ROOT", tmp_path)
    before = rolling_origin.code_digest()
    assert rolling_origin.code_digest() == before
    (tmp_path / "training" / "report.py").write_text("# a report change refits nothing\n")
    assert rolling_origin.code_digest() == before
    model.write_text("ALPHA = 2\n")
    assert rolling_origin.code_digest() != before
