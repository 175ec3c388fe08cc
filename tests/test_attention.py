"""The hybrid's attention head (training/models/attention.py): it learns where to look."""

import numpy as np

from training.models import attention


def _sentences(n: int, seed: int):
    """Random token states with one marker token (its first 16 dimensions high) whose last dimension carries the class:
    the mean over a sentence's tokens dilutes it, a head that finds the marker reads it plainly."""
    rng = np.random.default_rng(seed)
    tokens, y = [], np.zeros(n, dtype=int)
    for i in range(n):
        h = rng.normal(size=(int(rng.integers(8, 16)), 32)).astype(np.float16)
        at = int(rng.integers(len(h)))
        y[i] = int(rng.integers(2))
        h[at, :16], h[at, 31] = 3.0, 2.0 if y[i] else -2.0
        tokens.append(h)
    return tokens, np.zeros((n, 0), np.float32), y


def test_the_attention_head_finds_the_token_that_decides_the_class_which_the_mean_dilutes():
    tokens, extra, y = _sentences(400, seed=1)
    test_tokens, test_extra, test_y = _sentences(200, seed=2)
    looking = attention.fit(tokens, extra, y, 2, queries=1, epochs=30, seed=13)
    mean_only = attention.fit(tokens, extra, y, 2, queries=0, epochs=30, seed=13)
    accuracy = {
        name: (head.predict_proba(test_tokens, test_extra).argmax(1) == test_y).mean()
        for name, head in (("looking", looking), ("mean", mean_only))
    }
    assert accuracy["looking"] >= 0.95 > 0.85 >= accuracy["mean"], accuracy
    # where it looks: the marker token gets most of the attention weight
    h = attention._layer_norm(test_tokens[0].astype(np.float32))
    weights = attention._softmax(h @ looking.query.T, axis=0)[:, 0]
    assert int(weights.argmax()) == int(np.argmax(test_tokens[0][:, 0])) and weights.max() > 0.5


def test_the_extra_columns_reach_the_head_and_probabilities_sum_to_one():
    tokens, _, _ = _sentences(400, seed=3)
    rng = np.random.default_rng(4)
    extra = rng.normal(size=(400, 3)).astype(np.float32)
    y = (extra[:, 2] > 0).astype(int)  # the class lives in an extra column only (as a holder cue would)
    head = attention.fit(tokens, extra, y, 3, queries=1, epochs=40, seed=13)
    p = head.predict_proba(tokens, extra)
    assert np.allclose(p.sum(1), 1.0, atol=1e-5)
    assert (p.argmax(1) == y).mean() >= 0.9


def test_which_mode_keeps_whether_there_is_a_stance_and_lets_the_head_say_which():
    """attention_mode "which": p(none) stays the logistic regression's (a sentence it calls stance-bearing
    keeps a holder), the real stances follow the average; "mean" averages everything."""
    p = np.array([[0.50, 0.30, 0.10, 0.05, 0.05], [0.10, 0.05, 0.05, 0.05, 0.75]])  # none is the last
    head = np.array([[0.05, 0.05, 0.80, 0.05, 0.05], [0.05, 0.05, 0.05, 0.05, 0.80]])
    which = attention.join(p, head, 0.5, "which", none_id=4)
    assert np.allclose(which.sum(1), 1.0) and np.allclose(which[:, 4], p[:, 4])
    assert which[0].argmax() == 2  # the head moved the stance: accusation over demand
    assert which[1].argmax() == 4  # and never whether there is one
    mean = attention.join(p, head, 0.5, "mean", none_id=4)
    assert np.allclose(mean, (p + head) / 2)
    assert np.allclose(attention.join(p, head, 0.0, "which", none_id=4), p)  # weight 0: the regression alone


def test_the_fitted_temperature_makes_an_overconfident_head_honest_without_changing_its_decisions():
    """attention_temperature: with noisy labels and few sentences the head, trained long, is
    over-confident; the temperature fitted on held-out articles softens it (fresh sentences'
    log-likelihood improves) and no decision changes."""
    tokens, extra, y = _sentences(150, seed=5)
    rng = np.random.default_rng(6)
    noisy = np.where(rng.random(len(y)) < 0.3, 1 - y, y)  # 30 % of the labels flipped
    groups = [f"article-{i // 10}" for i in range(len(y))]  # ten sentences an article
    t = attention.fit_temperature(tokens, extra, noisy, groups, 2, queries=1, epochs=150, seed=13)
    assert t > 1.5, t
    head = attention.fit(tokens, extra, noisy, 2, queries=1, epochs=150, seed=13)
    test_tokens, test_extra, test_y = _sentences(600, seed=7)
    test_noisy = np.where(rng.random(len(test_y)) < 0.3, 1 - test_y, test_y)
    raw = head.predict_proba(test_tokens, test_extra)
    head.temperature = t
    tempered = head.predict_proba(test_tokens, test_extra)
    nll = {
        name: -np.log(p[np.arange(len(test_noisy)), test_noisy]).mean()
        for name, p in (("raw", raw), ("t", tempered))
    }
    assert nll["t"] < nll["raw"], nll
    assert (tempered.argmax(1) == raw.argmax(1)).all()


def test_too_few_articles_to_hold_out_leave_the_temperature_at_one():
    tokens, extra, y = _sentences(40, seed=8)
    assert attention.fit_temperature(tokens, extra, y, None, 2, queries=1, epochs=2, seed=13) == 1.0
    assert (
        attention.fit_temperature(tokens, extra, y, ["a", "b"] * 20, 2, queries=1, epochs=2, seed=13) == 1.0
    )


def test_what_a_hybrids_fit_chose_is_logged_under_names_no_recipe_param_has(built, scheme):
    """A run logs its recipe as params and its fit's choices as metrics: the recipe's
    ``attention_temperature`` (whether to fit one, False/True) and the fitted temperature were one
    name, one column in MLflow's compare view with two meanings."""
    from tests.conftest import fit_hybrid

    model = fit_hybrid(
        built, scheme, 80, attention_weight=1.0, attention_queries=1, attention_epochs=2,
        attention_temperature=True, none_prior="fit", actor_stance_prior="fit",
    )  # fmt: skip
    fitted = model.fit_metrics()
    assert set(fitted) == {"fitted_attention_temperature", "none_scale", "actor_stance_exponent"}
    assert fitted["fitted_attention_temperature"] > 0
    assert not set(fitted) & set(model.recipe.model_dump())
