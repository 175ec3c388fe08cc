"""The one champion rule (training/champion.py), both ways, on crafted time-split predictions."""

from training.champion import Predictions, rule

LABELS = ["demand", "denial", "accusation", "mediation", "none"]


def preds(truth: list[str], predicted: list[str], per_article: int = 4) -> Predictions:
    return Predictions(
        {
            f"s{i}": (f"art{i // per_article}", t, p)
            for i, (t, p) in enumerate(zip(truth, predicted, strict=True))
        }
    )


TRUTH = ["demand", "denial", "accusation", "none"] * 20  # 80 sentences, 20 articles


def test_a_clear_gain_on_the_time_split_takes_champion():
    champion = preds(TRUTH, ["none"] * 40 + TRUTH[40:])  # misses every stance in half the articles
    challenger = preds(TRUTH, TRUTH)
    verdict = rule(challenger, champion, LABELS)
    assert verdict.promote
    assert verdict.why.startswith("time-split stance macro-F1 1.000 against the champion's ")
    assert verdict.why.endswith("over 20 articles, above zero")


def test_a_gain_within_the_noise_does_not():
    """One article better, one worse, one more better: a point gain, but the interval spans zero."""
    champion_said = list(TRUTH)
    challenger_said = list(TRUTH)
    champion_said[0:2] = ["none", "none"]
    champion_said[8:10] = ["none", "none"]
    challenger_said[4:6] = ["none", "none"]
    verdict = rule(preds(TRUTH, challenger_said), preds(TRUTH, champion_said), LABELS)
    assert not verdict.promote
    assert "not above zero: no clear gain" in verdict.why
    assert rule(preds(TRUTH, champion_said), preds(TRUTH, challenger_said), LABELS).promote is False


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
