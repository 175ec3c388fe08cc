"""The time split: newest whole articles as test, undated ones always in training."""

import json

import numpy as np
import pytest

from stance.errors import StanceError
from training import timesplit
from training.timesplit import date_key, read_dates, split

DATES = {
    "a-2021": "2021-08-29",
    "b-2023-09": "2023-09-01",  # a month-only date counts as the 1st
    "c-2025-10-29": "2025-10-29",
    "d-2025-10-29": "2025-10-29",
    "e-2025-11-09": "2025-11-09",
    "f-2025-11-17": "2025-11-17",
    "g-undated": None,
    "h-undated": None,
}


def test_dates_inferred_or_partial_sort_as_iso_days():
    assert date_key("2025-10-19") == "2025-10-19"
    assert date_key("~2025-10-25") == "2025-10-25"  # inferred: used as it is
    assert date_key("~2023-09") == "2023-09-01"
    assert date_key("  ") is None


def test_newest_whole_dates_reach_the_share_and_undated_articles_stay_in_training():
    cut = split(DATES, DATES, share=0.25)  # 8 articles: at least 2 in test
    assert cut.test == {"e-2025-11-09", "f-2025-11-17"} and cut.cutoff == "2025-11-09"
    cut = split(DATES, DATES, share=0.3)  # at least 2.4: the next date comes whole, both its articles
    assert cut.test == {"c-2025-10-29", "d-2025-10-29", "e-2025-11-09", "f-2025-11-17"}
    assert cut.undated == ("g-undated", "h-undated")
    for share in (0.05, 0.2, 0.5, 0.7):
        cut = split(DATES, DATES, share=share)
        assert not cut.test & {"g-undated", "h-undated"}
        assert cut.train | cut.test == set(DATES) and not cut.train & cut.test
        assert min(DATES[a] for a in cut.test) > max(DATES[a] or "" for a in cut.train)


def test_nothing_dated_means_no_test_set_and_everything_trained_on():
    cut = split(["x", "y"], {}, share=0.2)
    assert cut.test == set() and cut.train == {"x", "y"} and cut.cutoff is None


def test_a_split_that_leaves_nothing_to_train_on_is_refused():
    with pytest.raises(StanceError, match="^the time split leaves nothing to train on"):
        split(["x", "y"], {"x": "2025-01-01", "y": "2025-01-01"}, share=0.2)


def test_a_bad_date_names_the_table_line_and_article(tmp_path):
    table = tmp_path / "articles.tsv"
    table.write_text(
        "article\turl\toutlet\tdate\theadline\nok-1\t\t\t2025-01-02\tA\nbad-1\t\t\t02/01/2025\tB\n"
    )
    with pytest.raises(StanceError) as err:
        read_dates([table])
    assert str(err.value) == (
        f"{table}:3 (bad-1): '02/01/2025' is not a date (YYYY-MM-DD, YYYY-MM or YYYY, '~' first if inferred)"
    )


def test_the_datasets_test_split_is_the_time_split_of_the_labeled_articles(built):
    dd, meta = built
    dates = read_dates()
    train, test = set(dd["train"]["article"]), set(dd["test"]["article"])
    assert not train & test and len(dd["train"]) + len(dd["test"]) == 2466
    assert 0.2 <= len(test) / (len(train) + len(test)) <= 0.3  # 44 of 216 today
    assert all(dates.get(a) for a in test)  # never an undated article, never an undated seed
    assert all(not a[0].isdigit() for a in test)  # the seeds (one dated 2023) are older: all in training
    assert min(dates[a] for a in test) >= max(dates[a] for a in train if dates.get(a))
    assert meta["time_split"]["test_articles"] == sorted(test)
    assert set(meta["time_split"]["undated"]) == {a for a in train if not dates.get(a)}
    assert set(dd["test"]["date"]) == {dates[a] for a in test}


def test_a_crafted_snapshot_splits_by_its_dates_and_keeps_articles_whole(tmp_path, scheme):
    from labeling.snapshot import latest_snapshot
    from training.dataset import build

    rows = [json.loads(x) for x in latest_snapshot().read_text().splitlines()]
    names = sorted({r["article"] for r in rows})[:6]
    small = tmp_path / "annotations-tiny.jsonl"
    small.write_text("".join(json.dumps(r) + "\n" for r in rows if r["article"] in names))
    dates = {names[0]: None, names[1]: "2020-01-01", names[2]: "2024-05-01", names[3]: "2024-05-01"}
    dd, cut = build(small, scheme, share=0.3, dates=dates)  # 2 dates undated by omission
    assert cut.test == {names[2], names[3]}
    assert set(dd["test"]["article"]) == cut.test
    for article in names:  # every sentence of an article on one side
        sides = {s for s in ("train", "test") if article in dd[s]["article"]}
        assert len(sides) == 1
    assert np.all(np.array(dd["test"]["date"]) == "2024-05-01")


def test_predictions_file_name_is_where_the_champion_rule_reads_it():
    assert timesplit.PREDICTIONS == "evaluation/time_split_predictions.jsonl"


def test_a_snapshot_with_no_dated_article_cannot_be_built_and_says_why(tmp_path, scheme):
    from labeling.snapshot import latest_snapshot
    from training.dataset import build

    rows = [json.loads(x) for x in latest_snapshot().read_text().splitlines()]
    small = tmp_path / "annotations-undated.jsonl"
    small.write_text("".join(json.dumps(r) + "\n" for r in rows[:30]))
    n = len({r["article"] for r in rows[:30]})
    with pytest.raises(StanceError) as err:
        build(small, scheme, dates={})
    assert str(err.value) == (
        f"{small}: 30 resolved sentences in {n} article(s) cannot fill both the train and the test split "
        "(the newest dated articles, whole): none of its articles has a date in an articles.tsv; "
        "add their dates, or label more articles"
    )


class _Recorder:
    """The classifier interface, remembering what the time split hands it."""

    def __init__(self, scheme):
        self.scheme, self.seen = scheme, {}

    def fit(self, texts, actors, stances, groups=None, contexts=None, dates=None):
        self.seen["fit"], self.seen["dates"] = contexts, dates
        return self

    def predict_proba(self, texts, contexts=None):
        self.seen["predict"] = contexts
        n_a, n_s = len(self.scheme.actor_labels), len(self.scheme.stance_labels)
        return np.full((len(texts), n_a), 1 / n_a), np.full((len(texts), n_s), 1 / n_s)


def test_the_time_split_reads_each_sentence_with_its_context_as_predict_does(built, scheme):
    """A holder model is scored on new coverage as predict runs it: "He said" after its speaker."""
    dd, _ = built
    model = _Recorder(scheme)
    timesplit.evaluate(model, dd, scheme)
    assert model.seen["fit"] == list(dd["train"]["context"])
    assert model.seen["dates"] == list(dd["train"]["date"])  # finetune's `validation: newest` reads them
    assert model.seen["predict"] == list(dd["test"]["context"])
    assert sum(bool(c) for c in model.seen["predict"]) == len(dd["test"]) - len(set(dd["test"]["article"]))


def test_finetune_early_stopping_can_hold_out_the_newest_articles_whole():
    """validation: newest: the epoch kept is chosen on the newest training articles, as the time
    split tests; undated articles (the seeds) count as the oldest; random is the fallback."""
    from training.models.finetune_data import validation_split

    articles = [a for a in DATES for _ in range(3)]  # three sentences each, rows grouped
    dates = [DATES[a] or "" for a in articles]
    stances = np.zeros(len(articles), int)
    train, val = validation_split(len(articles), articles, stances, 0.25, 0, "newest", dates)
    assert {articles[i] for i in val} == {"f-2025-11-17", "e-2025-11-09"}  # round(0.25 * 8) = 2
    assert sorted([*train, *val]) == list(range(len(articles)))
    shuffled = list(reversed(range(len(articles))))  # the same rows in another order: the same articles
    _, val2 = validation_split(
        len(articles),
        [articles[i] for i in shuffled],
        stances,
        0.25,
        0,
        "newest",
        [dates[i] for i in shuffled],
    )
    assert {articles[shuffled[i]] for i in val2} == {"f-2025-11-17", "e-2025-11-09"}
    _, undated = validation_split(len(articles), articles, stances, 0.25, 0, "newest", [""] * len(articles))
    _, random = validation_split(len(articles), articles, stances, 0.25, 0, "random", dates)
    assert undated.tolist() == random.tolist()  # nothing dated: the seeded random split
    # the time split's own rule: whole dates, so the two articles of 2025-10-29 go together
    _, val3 = validation_split(len(articles), articles, stances, 0.375, 0, "newest", dates)
    assert {articles[i] for i in val3} == {"f-2025-11-17", "e-2025-11-09", "c-2025-10-29", "d-2025-10-29"}
    # one date for every article: nothing older to train on, so the seeded random split
    _, same_day = validation_split(
        len(articles), articles, stances, 0.25, 0, "newest", ["2025-11-01"] * len(articles)
    )
    assert same_day.tolist() == random.tolist()


def test_joint_early_stopping_prefers_the_epoch_whose_holders_carry_the_stances():
    """early_stopping: joint keeps the epoch with the best stance macro-F1 + actor accuracy end to
    end: an epoch a little better on stances but with the wrong holders loses to one that has them."""
    from types import SimpleNamespace

    from training.models.finetune_data import EARLY_STOPPING, val_metrics

    none = 4
    stances = np.array([0, 1, 2, 3, 0, 1, 2, 3, none, none])
    actors = np.array([0, 1, 0, 1, 2, 3, 0, 1, 5, 5])  # 5: no actor (the none column is not a logit)

    def epoch(s_pred, a_pred):
        s_logits, a_logits = np.eye(5)[s_pred], np.eye(5)[np.where(actors == 5, 0, a_pred)]
        return val_metrics(
            SimpleNamespace(predictions=(a_logits, s_logits), label_ids=(actors, stances)), none
        )

    wrong_holders = epoch(stances, (actors + 1) % 5)  # every stance right, every holder wrong
    right_holders = epoch(
        np.where(np.arange(10) == 0, none, stances), actors
    )  # one stance missed, holders right
    stance, joint = EARLY_STOPPING["stance"], EARLY_STOPPING["joint"]
    assert wrong_holders[stance] > right_holders[stance]  # the stance figure alone keeps the first
    # end to end: sentence 0's stance predicted none loses its holder too, whatever the actor head says
    assert wrong_holders["actor_e2e"] == 0.0 and right_holders["actor_e2e"] == 7 / 8
    assert right_holders[joint] > wrong_holders[joint]  # joint keeps the second


def _monthly(n: int) -> dict[str, str | None]:
    dates = {f"a{i:02d}": f"{2020 + i // 12}-{i % 12 + 1:02d}-01" for i in range(n)}
    return dates | {"u1": None, "u2": None}


def test_the_rolling_origins_older_blocks_never_train_on_their_future():
    dates = _monthly(20)
    cut = split(dates, dates, 0.2)
    blocks = timesplit.rolling_blocks(cut.train, cut.test, dates)
    assert len(blocks) == 3 and blocks[0] == (set(cut.train), set(cut.test))  # block 1: the time split as is
    tests = [test for _, test in blocks]
    assert all(len(t) >= len(cut.test) for t in tests)
    assert not (tests[0] & tests[1]) and not (tests[1] & tests[2]) and not (tests[0] & tests[2])
    for train, test in blocks[1:]:
        assert not {"u1", "u2"} & train  # an undated article may be newer than the block
        assert max(dates[a] for a in train) < min(dates[a] for a in test)
    assert min(dates[a] for a in tests[0]) > max(dates[a] for a in tests[1])


def test_a_small_dataset_gets_fewer_blocks_never_a_model_fitted_on_a_handful():
    dates = _monthly(8)  # time split: 2 articles; two older blocks of 2, a third would leave nothing older
    cut = split(dates, dates, 0.2)
    blocks = timesplit.rolling_blocks(cut.train, cut.test, dates, n=5)
    assert [len(test) for _, test in blocks] == [2, 2, 2]
    assert all(len(train) >= len(test) for train, test in blocks)
    assert timesplit.rolling_blocks(set(dates), set(), dates) == [(set(dates), set())]  # no time split


class _Fitted(_Recorder):
    """Remembers the articles each model was fitted on, and predicts pakistan/demand for all."""

    def fit(self, texts, actors, stances, groups=None, contexts=None, dates=None):
        self.seen["groups"] = set(groups)
        return self


def test_the_rolling_origin_scores_each_older_block_from_its_past_and_pools_the_time_split(built, scheme):
    dd, _ = built
    models = []

    def make():
        models.append(_Fitted(scheme))
        return models[-1]

    first_figures, first = timesplit.evaluate(make(), dd, scheme)
    from datasets import concatenate_datasets

    data = concatenate_datasets([dd["train"], dd["test"]])
    figures, rows = timesplit.evaluate_rolling(make, data, first, scheme)
    date_of = dict(zip(data["article"], data["date"], strict=False))
    assert figures["rolling_blocks"] == 3 and len(models) == 3
    for block, model in zip((2, 3), models[1:], strict=True):
        tested = {r["article"] for r in rows if r["block"] == block}
        assert max(date_of[a] for a in model.seen["groups"]) < min(date_of[a] for a in tested)
        assert all(date_of[a] for a in model.seen["groups"])  # no undated article
    assert [r for r in rows if r["block"] == 1] == [r | {"block": 1} for r in first]
    assert figures["rolling_articles"] == len({r["article"] for r in rows}) > first_figures["time_articles"]
