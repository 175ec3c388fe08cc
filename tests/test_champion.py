"""The one champion rule (training/champion.py), both ways, on crafted time-split predictions."""

from training import intervals
from training.champion import Predictions, rule

LABELS = ["demand", "denial", "accusation", "mediation", "none"]


def preds(truth: list[str], predicted: list[str], per_article: int = 4, holders=None) -> Predictions:
    """Time-split rows; every stance-bearing sentence's holder is pakistan, predicted as ``holders``
    says (default: right whenever the stance is not predicted none)."""
    holders = holders or ["pakistan"] * len(truth)
    return Predictions(
        {
            f"s{i}": (
                f"art{i // per_article}",
                "none" if t == "none" else "pakistan",
                t,
                "none" if p == "none" else h,
                p,
            )
            for i, (t, p, h) in enumerate(zip(truth, predicted, holders, strict=True))
        }
    )


TRUTH = ["demand", "denial", "accusation", "none"] * 20  # 80 sentences, 20 articles


def test_a_clear_gain_on_the_time_split_takes_champion():
    champion = preds(TRUTH, ["none"] * 40 + TRUTH[40:])  # misses every stance in half the articles
    challenger = preds(TRUTH, TRUTH)
    verdict = rule(challenger, champion, LABELS)
    assert verdict.promote
    assert verdict.why.startswith("time-split stance macro-F1 1.000 against the champion's ")
    assert verdict.why.endswith(
        "decisions differ on 30 of 80 sentences in 10 of 20 articles: stance above zero, holders not clearly worse"
    )


def test_a_gain_within_the_noise_does_not():
    """One article better, one worse, one more better: a point gain, but the interval spans zero."""
    champion_said = list(TRUTH)
    challenger_said = list(TRUTH)
    champion_said[0:2] = ["none", "none"]
    champion_said[8:10] = ["none", "none"]
    challenger_said[4:6] = ["none", "none"]
    verdict = rule(preds(TRUTH, challenger_said), preds(TRUTH, champion_said), LABELS)
    assert not verdict.promote
    assert verdict.why.endswith("neither above zero, no clear gain")
    assert rule(preds(TRUTH, champion_said), preds(TRUTH, challenger_said), LABELS).promote is False


def fix_in(articles: list[int]) -> tuple[Predictions, Predictions]:
    """(challenger, champion): the same but for one sentence in each of ``articles``, a demand
    the champion calls a denial (same holder) and the challenger gets right."""
    champion_said = list(TRUTH)
    for a in articles:
        champion_said[4 * a] = "denial"
    return preds(TRUTH, TRUTH), preds(TRUTH, champion_said)


def test_a_gain_on_three_sentences_in_three_articles_is_refused_though_its_interval_is_above_zero():
    """The refit case: the paired interval sits above zero (the rule without the permutation
    test promoted it), but one random swap in eight matches a gain confined to three articles."""
    challenger, champion = fix_in([0, 7, 14])
    truth = [LABELS.index(t) for t in TRUTH]
    ours = [LABELS.index(challenger.rows[f"s{i}"][4]) for i in range(80)]
    theirs = [LABELS.index(champion.rows[f"s{i}"][4]) for i in range(80)]
    articles = [f"art{i // 4}" for i in range(80)]
    _, lo, hi = intervals.paired_difference(articles, truth, theirs, ours, len(LABELS))
    assert lo > 0
    p = intervals.paired_permutation(articles, truth, theirs, ours, len(LABELS))
    assert 0.1 < p < 0.15  # about 1/8
    verdict = rule(challenger, champion, LABELS)
    assert not verdict.promote
    assert f"90% paired interval by article [{lo:+.3f}, {hi:+.3f}]" in verdict.why
    assert verdict.why.endswith(
        f"over 20 articles; permutation p by article: stance {p:.3f}, holders 1.000; "
        "decisions differ on 3 of 80 sentences in 3 of 20 articles: "
        "stance above zero by the interval but not by the permutation test (p not below 0.05), no clear gain"
    )


def test_holders_found_in_three_more_articles_are_refused_the_same_way():
    wrong = ["pakistan"] * 80
    for a in (3, 9, 16):
        wrong[4 * a] = "afghan_taliban"  # the champion gives one demand per article to the wrong side
    verdict = rule(preds(TRUTH, TRUTH), preds(TRUTH, TRUTH, holders=wrong), LABELS)
    assert not verdict.promote
    assert "actor accuracy end to end 1.000 against 0.950: +0.050 [+0." in verdict.why
    assert verdict.why.endswith(
        "decisions differ on 3 of 80 sentences in 3 of 20 articles: "
        "holders above zero by the interval but not by the permutation test (p not below 0.05), no clear gain"
    )


def test_the_same_kind_of_gain_spread_over_eight_articles_takes_champion():
    challenger, champion = fix_in([0, 2, 5, 7, 10, 12, 15, 17])
    verdict = rule(challenger, champion, LABELS)
    assert verdict.promote
    assert "permutation p by article: stance 0.005, holders 1.000" in verdict.why
    assert verdict.why.endswith(
        "decisions differ on 8 of 80 sentences in 8 of 20 articles: stance above zero, holders not clearly worse"
    )


def test_a_run_without_time_split_predictions_never_takes_champion():
    for champion in (None, preds(TRUTH, ["none"] * 80)):
        verdict = rule(None, champion, LABELS)
        assert not verdict.promote
        assert verdict.why == "it has no time-split predictions, and a run without them never takes champion"


def test_the_first_run_with_figures_takes_an_empty_or_figureless_place():
    assert rule(preds(TRUTH, TRUTH), None, LABELS).why == "there is no champion yet"
    verdict = rule(preds(TRUTH, ["none"] * 80), Predictions({}), LABELS)
    assert (
        verdict.promote
        and verdict.why == "the champion has no time-split predictions to defend its place with"
    )


def test_runs_on_different_test_sentences_are_not_compared():
    verdict = rule(preds(TRUTH, TRUTH), preds(TRUTH[:40], TRUTH[:40]), LABELS)
    assert not verdict.promote
    assert verdict.why == (
        "its time-split test sentences (80) are not the champion's (40); runs on different test sets are not compared"
    )


def test_finding_the_holders_clearly_better_takes_champion_when_the_stances_are_no_worse():
    # same stances; the champion gives half the articles' stance-bearing sentences to the wrong actor
    champion = preds(TRUTH, TRUTH, holders=["afghan_taliban"] * 40 + ["pakistan"] * 40)
    challenger = preds(TRUTH, TRUTH)
    verdict = rule(challenger, champion, LABELS)
    assert verdict.promote
    assert "actor accuracy end to end 1.000 against 0.500: +0.500" in verdict.why
    assert verdict.why.endswith("holders above zero, stance not clearly worse")
    assert not rule(champion, challenger, LABELS).promote  # and not the other way round


def test_a_gain_on_one_figure_does_not_buy_a_clear_loss_on_the_other():
    # better holders everywhere, but the stances of half the articles missed as none
    champion = preds(TRUTH, TRUTH, holders=["afghan_taliban"] * 80)
    challenger = preds(TRUTH, ["none"] * 40 + TRUTH[40:], holders=["pakistan"] * 80)
    verdict = rule(challenger, champion, LABELS)
    assert not verdict.promote
    assert verdict.why.endswith("a gain on one figure, but clearly worse on the other")


def test_the_rule_reads_the_rolling_origin_when_both_runs_have_it_else_the_time_split(trained):
    import mlflow

    from training import champion, timesplit, tracking

    run = mlflow.get_run(trained["run_id"])
    rolling = champion.predictions(run, timesplit.ROLLING)
    time_split = champion.predictions(run)
    assert len({r[0] for r in rolling.rows.values()}) > len({r[0] for r in time_split.rows.values()})
    verdict = champion.judge(run, run, LABELS)
    assert verdict.why.startswith("rolling-origin stance macro-F1")
    assert f"over {len({r[0] for r in rolling.rows.values()})} articles" in verdict.why
    # a champion logged before the rolling origin existed defends its place on the time split
    with mlflow.start_run(experiment_id=tracking.setup("rule-without-rolling")) as old:
        mlflow.set_tag("data_version", run.data.tags["data_version"])
        mlflow.log_text(champion.predictions_jsonl(run.info.run_id), timesplit.PREDICTIONS)
    verdict = champion.judge(run, mlflow.get_run(old.info.run_id), LABELS)
    assert verdict.why.startswith("time-split stance macro-F1")
    assert f"over {len({r[0] for r in time_split.rows.values()})} articles" in verdict.why
