import numpy as np

from training.dataset import features, grouped_folds


def test_label_features_come_from_the_scheme(built, scheme):
    dd, meta = built
    feats = dd["train"].features
    assert feats["actor"].names == scheme.actor_labels
    assert feats["stance"].names == scheme.stance_labels
    assert feats == features(scheme)
    assert meta["scheme_hash"] == scheme.hash


def test_split_is_grouped_by_article_and_covers_every_sentence(built):
    dd, meta = built
    train, test = set(dd["train"]["article"]), set(dd["test"]["article"])
    assert train and test and not train & test
    assert len(dd["train"]) + len(dd["test"]) == 2466
    assert meta["articles"] == {"train": len(train), "test": len(test)}


def test_cv_folds_never_leak_an_article(built):
    from datasets import concatenate_datasets

    data = concatenate_datasets([built[0]["train"], built[0]["test"]])
    articles = np.array(data["article"])
    seen_test = []
    for train_idx, test_idx in grouped_folds(data, k=5, seed=13):
        assert not set(articles[train_idx]) & set(articles[test_idx])
        seen_test += list(test_idx)
    assert sorted(seen_test) == list(range(len(data)))  # every sentence held out exactly once


def test_primary_pair_and_context_are_in_each_row(built, scheme):
    train = built[0]["train"]
    row = next(r for r in train if len(r["pairs"]) > 1)
    first = row["pairs"][0]
    assert (row["actor"], row["stance"]) == (first["actor"], first["stance"])
    none_id = scheme.stance_labels.index("none")
    for r in train:
        assert (r["stance"] == none_id) == (r["actor"] == scheme.actor_labels.index("none"))
    with_prev = [r for r in train if r["prev_text"]]
    assert len(with_prev) == len(train) - len(set(train["article"]))


def test_a_dataset_built_with_an_older_layout_is_refused_not_trained_on(built, scheme, tmp_path, monkeypatch):
    import json as _json
    import shutil

    import pytest

    from stance import paths
    from stance.errors import StanceError
    from training import dataset

    _, meta = built
    copy = tmp_path / "datasets"
    shutil.copytree(paths.datasets(), copy)
    monkeypatch.setattr(paths, "datasets", lambda: copy)
    meta_file = copy / meta["data_version"] / "meta.json"
    meta_file.write_text(_json.dumps({**meta, "layout": "1"}))
    with pytest.raises(StanceError) as err:
        dataset.load(meta["data_version"], scheme)
    assert str(err.value) == (
        f"dataset {meta['data_version']} was built with an older column layout (1, now {dataset.LAYOUT}); "
        "rebuild it with `stance build-dataset`"
    )


def test_building_an_older_snapshot_says_train_now_uses_it_and_what_it_lacks(
    scheme, tmp_path, monkeypatch, capsys
):
    """`build-dataset --snapshot OLD` makes OLD's data the one `stance train` uses: both commands
    say so, with how many of the latest snapshot's sentences it lacks; the latest says nothing."""
    from labeling.snapshot import latest_snapshot
    from stance import paths
    from training import dataset

    monkeypatch.setattr(paths, "datasets", lambda: tmp_path / "datasets")
    old = paths.snapshots() / "annotations-b18cd89cc529.jsonl"  # the 35 articles, before the coverage
    dataset.cli(snapshot=old)
    note = (
        "note: data b18cd89cc529 lacks 2058 of the 2466 labeled sentences of the latest snapshot "
        f"({latest_snapshot().stem.removeprefix('annotations-')}); `stance train` now trains on it"
    )
    assert capsys.readouterr().err.startswith(note)
    assert f"note: {dataset.latest_built_note()}".startswith(note)  # what `stance train` prints first
    dataset.cli(snapshot=None)
    assert capsys.readouterr().err == "" and dataset.latest_built_note() is None
