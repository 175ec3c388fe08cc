"""Bootstrap intervals by article for the two figures a reader of the predictions relies on.

* **stance macro-F1** over the sentences;
* **actor accuracy end to end** on stance-bearing sentences: a sentence whose labeled
  stance is not ``none`` counts as right only when the *predicted* actor is its labeled
  primary actor (a sentence predicted ``none`` is wrong however its actor head leans);
* its companion, **actor precision end to end**: of the sentences the model *calls*
  stance-bearing, the share whose labeled stance is not ``none`` and whose labeled primary
  actor is the predicted one. The first counts what the labels hold and rewards calling
  stances (a stance called on every sentence loses nothing on it); this one counts what
  the model reports and pays for every stance called where the labels hold none, so a
  recipe that wins holders by calling ``none`` less shows the price here.

Sentences of one article share a writer, a topic and a date, so they are not
independent: the bootstrap resamples whole **articles** with replacement (fixed seed),
recomputes each figure on the resampled sentences, and reports the central
``LEVEL`` interval of the resampled values (percentiles). Each article's confusion
counts are computed once, so 1,000 resamples take milliseconds.

Two runs on the same sentences are compared twice: the **paired interval** of the
difference (both scored on the same resampled articles), and a **sign-flip permutation
test by article** (each article's two prediction sets swapped or not, at random). The
interval says how far the difference moves as articles come and go; the test says how
often a difference as large comes from not knowing which model made which article's
predictions. When the two differ on a few sentences in three or four articles, the
interval can sit just above zero while one draw in eight or sixteen matches the gain.
"""

from __future__ import annotations

import numpy as np

LEVEL = 0.90
RESAMPLES = 1000
SEED = 13
FIGURES = ("stance_macro_f1", "actor_accuracy_e2e", "actor_precision_e2e")


def _article_counts(articles, true_ids, pred_ids, n: int) -> tuple[list[str], np.ndarray]:
    """(article names, one n×n confusion matrix per article: rows true, columns predicted)."""
    articles = np.asarray(articles)
    names = sorted(set(articles.tolist()))
    index = {a: i for i, a in enumerate(names)}
    counts = np.zeros((len(names), n, n))
    np.add.at(counts, ([index[a] for a in articles], np.asarray(true_ids), np.asarray(pred_ids)), 1)
    return names, counts


def macro_f1(confusion: np.ndarray) -> np.ndarray:
    """Macro-F1 of confusion matrices (``[..., true, pred]``) over the classes present, like scikit-learn's."""
    tp = np.diagonal(confusion, axis1=-2, axis2=-1)
    true_n, pred_n = confusion.sum(-1), confusion.sum(-2)
    present = (true_n + pred_n) > 0
    f1 = np.where(present, 2 * tp / np.maximum(true_n + pred_n, 1e-12), 0.0)
    return f1.sum(-1) / np.maximum(present.sum(-1), 1)


def per_article(articles, actors, stances, a_pred, s_pred, n_stances: int, none_stance: int):
    """Per article: the stance confusion, and (right, stance-bearing; called stance-bearing with the
    labeled holder, called stance-bearing) for the end-to-end actor accuracy and precision."""
    names, confusion = _article_counts(articles, stances, s_pred, n_stances)
    holders = _holder_counts(names, articles, actors, stances, a_pred, none_stance)
    called = np.asarray(s_pred) != none_stance
    right = called & _holders_right(actors, stances, a_pred, none_stance)
    return confusion, np.column_stack([holders, _sums(names, articles, right, called)])


def _holders_right(actors, stances, a_pred, none_stance: int) -> np.ndarray:
    """Per sentence: labeled stance-bearing, and the predicted actor the labeled one."""
    return (np.asarray(stances) != none_stance) & (np.asarray(a_pred) == np.asarray(actors))


def _sums(names, articles, *flags) -> np.ndarray:
    """Per article of ``names``, how many sentences each of ``flags`` (one bool per sentence) marks."""
    index = {a: i for i, a in enumerate(names)}
    rows = [index[a] for a in np.asarray(articles).tolist()]
    out = np.zeros((len(names), len(flags)))
    for col, flag in enumerate(flags):
        np.add.at(out, (rows, col), np.asarray(flag, dtype=float))
    return out


def _holder_counts(names, articles, actors, stances, a_pred, none_stance: int) -> np.ndarray:
    """Per article of ``names``: (stance-bearing sentences whose predicted actor is right, stance-bearing)."""
    right = _holders_right(actors, stances, a_pred, none_stance)
    return _sums(names, articles, right, np.asarray(stances) != none_stance)


def figures_of(confusion: np.ndarray, holders: np.ndarray) -> dict[str, np.ndarray]:
    """The three figures of summed counts: ``confusion`` (``[..., true, pred]``) and ``holders``
    (``[..., 4]``, ``per_article``'s columns summed); leading axes (resamples) carry through."""
    with np.errstate(invalid="ignore", divide="ignore"):
        # nan when a resample holds no stance-bearing sentence, or none called stance-bearing: such a
        # figure is left out, never reported as 0
        e2e = holders[..., 0] / holders[..., 1]
        called = holders[..., 2] / holders[..., 3]
    return {"stance_macro_f1": macro_f1(confusion), "actor_accuracy_e2e": e2e, "actor_precision_e2e": called}


def draws(n_articles: int, resamples: int = RESAMPLES, seed: int = SEED) -> np.ndarray:
    """(resamples × articles) multiplicities: how often each article is drawn in each resample."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n_articles, size=(resamples, n_articles))
    weights = np.zeros((resamples, n_articles))
    np.add.at(weights, (np.arange(resamples)[:, None], picks), 1)
    return weights


def interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    if np.isnan(values).all():  # the figure is undefined on every resample: no interval
        return float("nan"), float("nan")
    tail = (1 - level) / 2 * 100
    lo, hi = np.nanpercentile(values, [tail, 100 - tail])
    return float(lo), float(hi)


def exact(successes: float, trials: int, level: float = LEVEL) -> tuple[float, float]:
    """The Clopper–Pearson interval of a share from ``successes`` of ``trials`` (binomial, exact).

    For where the bootstrap cannot move: a pair whose calls were all wrong (or all right) gives the
    same share on every resample, [0.00, 0.00], as though 16 wrong calls proved the pair is never
    right. Taking the *articles* that hold the calls as the trials (``successes`` their share times
    their number, a fraction allowed: the beta quantiles take one) keeps the article the unit, as the
    bootstrap does: 16 wrong calls in 8 articles give [0.00, 0.31], in 2 articles [0.00, 0.78]."""
    from scipy.stats import beta

    tail = (1 - level) / 2
    lo = float(beta.ppf(tail, successes, trials - successes + 1)) if successes > 0 else 0.0
    hi = float(beta.ppf(1 - tail, successes + 1, trials - successes)) if successes < trials else 1.0
    return lo, hi


def figures(
    prefix: str, articles, actors, stances, a_pred, s_pred, n_stances: int, none_stance: int,
    resamples: int = RESAMPLES, seed: int = SEED, level: float = LEVEL,
) -> dict[str, float]:  # fmt: skip
    """``{prefix}_stance_macro_f1``, ``{prefix}_actor_accuracy_e2e`` and ``{prefix}_actor_precision_e2e``,
    each with ``_lo`` and ``_hi``.

    Also ``{prefix}_articles`` and ``{prefix}_sentences``: how much evidence is behind them.
    """
    confusion, holders = per_article(articles, actors, stances, a_pred, s_pred, n_stances, none_stance)
    point = figures_of(confusion.sum(0), holders.sum(0))
    w = draws(len(confusion), resamples, seed)
    boot = figures_of(np.einsum("ra,aij->rij", w, confusion), w @ holders)
    out = {
        f"{prefix}_articles": float(len(confusion)),
        f"{prefix}_sentences": float(len(np.asarray(stances))),
    }
    for name in FIGURES:
        out[f"{prefix}_{name}"] = float(point[name])
        out[f"{prefix}_{name}_lo"], out[f"{prefix}_{name}_hi"] = interval(boot[name], level)
    return {k: v for k, v in out.items() if not np.isnan(v)}


def paired_difference(
    articles, stances, pred_a, pred_b, n_stances: int,
    resamples: int = RESAMPLES, seed: int = SEED, level: float = LEVEL,
) -> tuple[float, float, float]:  # fmt: skip
    """Stance macro-F1 of ``pred_b`` minus that of ``pred_a`` on the same sentences: (point, lo, hi).

    Both are scored on the *same* resampled articles, so what the two models share
    (an easy or a hard article) cancels out: a much narrower interval than comparing
    two separate ones.
    """
    _, conf_a = _article_counts(articles, stances, pred_a, n_stances)
    _, conf_b = _article_counts(articles, stances, pred_b, n_stances)
    point = float(macro_f1(conf_b.sum(0)) - macro_f1(conf_a.sum(0)))
    w = draws(len(conf_a), resamples, seed)
    diff = macro_f1(np.einsum("ra,aij->rij", w, conf_b)) - macro_f1(np.einsum("ra,aij->rij", w, conf_a))
    return (point, *interval(diff, level))


def paired_e2e_difference(
    articles, actors, stances, a_pred_a, a_pred_b, none_stance: int,
    resamples: int = RESAMPLES, seed: int = SEED, level: float = LEVEL,
) -> tuple[float, float, float]:  # fmt: skip
    """Actor accuracy end to end of ``a_pred_b`` minus that of ``a_pred_a`` (same sentences, same
    resampled articles, as :func:`paired_difference`): (point, lo, hi). Counted on the labeled
    stance-bearing sentences, a sentence right when its predicted actor is its labeled one."""
    names = sorted(set(np.asarray(articles).tolist()))
    held_a = _holder_counts(names, articles, actors, stances, a_pred_a, none_stance)
    held_b = _holder_counts(names, articles, actors, stances, a_pred_b, none_stance)
    if held_a[:, 1].sum() == 0:
        return (0.0, 0.0, 0.0)
    point = float((held_b[:, 0].sum() - held_a[:, 0].sum()) / held_a[:, 1].sum())
    w = draws(len(names), resamples, seed)
    wa, wb = w @ held_a, w @ held_b
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = (wb[:, 0] - wa[:, 0]) / wa[:, 1]  # nan when a resample holds no stance-bearing sentence
    return (point, *interval(diff, level))


def paired_precision_difference(
    articles, actors, stances, s_pred_a, a_pred_a, s_pred_b, a_pred_b, n_stances: int, none_stance: int,
    resamples: int = RESAMPLES, seed: int = SEED, level: float = LEVEL,
) -> tuple[float, float, float]:  # fmt: skip
    """Actor precision end to end of run b minus that of run a (same sentences, same resampled
    articles, as :func:`paired_difference`): (point, lo, hi); nan where either calls no stance."""
    held = [
        per_article(articles, actors, stances, a_pred, s_pred, n_stances, none_stance)[1][:, 2:]
        for s_pred, a_pred in ((s_pred_a, a_pred_a), (s_pred_b, a_pred_b))
    ]  # per article: (called with the labeled holder, called)
    w = draws(len(held[0]), resamples, seed)
    with np.errstate(invalid="ignore", divide="ignore"):
        point = float(np.subtract(*(h[:, 0].sum() / h[:, 1].sum() for h in held[::-1])))
        wa, wb = w @ held[0], w @ held[1]
        diff = wb[:, 0] / wb[:, 1] - wa[:, 0] / wa[:, 1]
    return (point, *interval(diff, level))


def swaps(n_articles: int, resamples: int = RESAMPLES, seed: int = SEED) -> np.ndarray:
    """(resamples × articles) 0/1: whether each article's two prediction sets are swapped in each draw."""
    return np.random.default_rng(seed).integers(0, 2, size=(resamples, n_articles)).astype(float)


def _p_value(observed: float, permuted: np.ndarray) -> float:
    # a draw can reach the observed difference through another confusion matrix, equal in exact
    # arithmetic but not in the last bit: the tolerance counts it as at least as large, as it is
    return float((1 + np.sum(permuted >= observed - 1e-12)) / (1 + len(permuted)))


def paired_permutation(
    articles, stances, pred_a, pred_b, n_stances: int, resamples: int = RESAMPLES, seed: int = SEED
) -> float:
    """One-sided p-value that ``pred_b``'s stance macro-F1 beats ``pred_a``'s only by chance.

    A sign-flip permutation test by article: under the null hypothesis the two models are
    exchangeable within each article, so each draw swaps each article's two prediction sets
    with probability 1/2 and recomputes the difference (b minus a). The p-value is
    (1 + draws at least the observed difference) / (1 + draws).
    """
    _, conf_a = _article_counts(articles, stances, pred_a, n_stances)
    _, conf_b = _article_counts(articles, stances, pred_b, n_stances)
    total_a, total_b = conf_a.sum(0), conf_b.sum(0)
    # what each draw's swapped articles hand from a's counts to b's (and b's to a's)
    moved = np.einsum("ra,aij->rij", swaps(len(conf_a), resamples, seed), conf_a - conf_b)
    permuted = macro_f1(total_b + moved) - macro_f1(total_a - moved)
    return _p_value(float(macro_f1(total_b) - macro_f1(total_a)), permuted)


def paired_e2e_permutation(
    articles, actors, stances, a_pred_a, a_pred_b, none_stance: int,
    resamples: int = RESAMPLES, seed: int = SEED,
) -> float:  # fmt: skip
    """One-sided p-value that ``a_pred_b``'s actor accuracy end to end beats ``a_pred_a``'s only by
    chance: the test of :func:`paired_permutation`, counted as :func:`paired_e2e_difference` counts."""
    names = sorted(set(np.asarray(articles).tolist()))
    held_a = _holder_counts(names, articles, actors, stances, a_pred_a, none_stance)
    held_b = _holder_counts(names, articles, actors, stances, a_pred_b, none_stance)
    bearing = held_a[:, 1].sum()
    if bearing == 0:
        return 1.0
    gain = held_b[:, 0] - held_a[:, 0]  # per article; a swap turns it round
    permuted = (1 - 2 * swaps(len(names), resamples, seed)) @ gain / bearing
    return _p_value(float(gain.sum() / bearing), permuted)


def differing(
    articles, stances, s_pred_a, s_pred_b, a_pred_a, a_pred_b, none_stance: int
) -> tuple[int, int, int, int]:
    """(sentences, of all sentences, articles, of all articles) on which two runs decide differently:
    the predicted stance, or on a labeled stance-bearing sentence the predicted actor."""
    articles = np.asarray(articles)
    bearing = np.asarray(stances) != none_stance
    differ = (np.asarray(s_pred_a) != np.asarray(s_pred_b)) | (
        bearing & (np.asarray(a_pred_a) != np.asarray(a_pred_b))
    )
    return int(differ.sum()), len(articles), len(set(articles[differ].tolist())), len(set(articles.tolist()))
