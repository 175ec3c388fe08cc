"""Grouped cross-validation and the metrics, tables and plots of an evaluation."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stance.scheme import Scheme
from training import confidence
from training.calibration import expected_calibration_error, reliability_plot
from training.dataset import grouped_folds
from training.models.base import take
from training.outputs import decode

FACETS = ("actor", "stance")


@dataclass
class CVResult:
    """Out-of-fold probabilities for every sentence, and the per-fold metrics."""

    actor_p: np.ndarray
    stance_p: np.ndarray
    fold_metrics: list[dict[str, float]] = field(default_factory=list)
    fold_of: np.ndarray | None = None
    seconds: float = 0.0
    train_sizes: list[int] = field(default_factory=list)  # training sentences per fold


def cross_validate(
    make: Callable,
    data,
    scheme: Scheme,
    k: int,
    seed: int,
    progress: Callable | None = None,
    train_share: float = 1.0,
) -> CVResult:
    """Fit a fresh classifier per fold (grouped by article); predict the held-out articles.

    ``make(fold)`` returns an unfitted classifier for that fold. ``train_share`` < 1
    trains each fold on that share of its training *articles* (a learning-curve point);
    the held-out articles are the same whatever the share.
    """
    t0 = time.perf_counter()
    n = len(data)
    result = CVResult(
        np.zeros((n, len(scheme.actor_labels))), np.zeros((n, len(scheme.stance_labels))),
        fold_of=np.full(n, -1),
    )  # fmt: skip
    # plain lists: a dataset's column indexed sentence by sentence reads the Arrow table each time
    texts, actors, stances = list(data["text"]), np.array(data["actor"]), np.array(data["stance"])
    articles = np.array(data["article"])
    dates = dates_of(data)
    ctx = contexts_of(data)
    for fold, (all_train_idx, test_idx) in enumerate(grouped_folds(data, k, seed)):
        train_idx = subsample_articles(all_train_idx, articles, train_share, seed + fold)
        result.train_sizes.append(len(train_idx))
        model = make(fold).fit(
            [texts[i] for i in train_idx], actors[train_idx], stances[train_idx], groups=articles[train_idx],
            contexts=take(ctx, train_idx), dates=take(dates, train_idx),
        )  # fmt: skip
        a_p, s_p = model.predict_proba([texts[i] for i in test_idx], contexts=take(ctx, test_idx))
        result.actor_p[test_idx], result.stance_p[test_idx] = a_p, s_p
        result.fold_of[test_idx] = fold
        result.fold_metrics.append(metrics(actors[test_idx], stances[test_idx], a_p, s_p, scheme))
        if progress:
            progress(fold)
    result.seconds = time.perf_counter() - t0
    return result


def _columns(data, *names: str) -> dict[str, list]:
    """Columns of a dataset as plain lists, read once (indexing a column per sentence is slow)."""
    return {n: list(data[n]) for n in names}


def dates_of(data) -> list[str] | None:
    """Each sentence's article date (ISO, "" when undated), if the dataset has them."""
    return list(data["date"]) if "date" in data.column_names else None


def contexts_of(data) -> list[str] | None:
    """The dataset's ``context`` column (each sentence's preceding sentences), if it has one."""
    return list(data["context"]) if "context" in data.column_names else None


def subsample_articles(idx: np.ndarray, articles: np.ndarray, share: float, seed: int) -> np.ndarray:
    """The sentences of a random ``share`` of the articles in ``idx`` (at least two articles).

    One fixed shuffle per fold: a smaller share keeps a subset of a larger one's
    articles, so the points of a learning curve differ only in how much data they see.
    """
    if share >= 1.0:
        return idx
    keep = article_share(set(articles[idx]), share, seed)
    return idx[np.isin(articles[idx], list(keep))]


def article_share(names, share: float, seed) -> set:
    """A ``share`` of the article ``names`` (at least two): a prefix of one fixed shuffle of them,
    seeded by ``seed`` (an int or a sequence of ints), so a smaller share keeps a subset of a
    larger one's articles."""
    names = sorted(names)
    order = np.random.default_rng(seed).permutation(len(names))
    return {names[i] for i in order[: max(2, round(share * len(names)))]}


def metrics(actors, stances, actor_p, stance_p, scheme: Scheme) -> dict[str, float]:
    """Headline metrics of one evaluation set (ids in, probabilities in)."""
    from sklearn.metrics import accuracy_score, f1_score

    a_pred, s_pred = predicted_ids(actor_p, stance_p, scheme)
    bearing = stances != scheme.labels.none_stance_id
    out = {
        "stance_macro_f1": f1_score(stances, s_pred, average="macro", zero_division=0),
        "stance_accuracy": accuracy_score(stances, s_pred),
        "actor_macro_f1": f1_score(actors, a_pred, average="macro", zero_division=0),
        "actor_accuracy": accuracy_score(actors, a_pred),
        "stance_ece": expected_calibration_error(stance_p, stances),
    }
    if bearing.any():
        # who holds the stance, where there is one: the best real actor, whatever the stance head says
        best_real = actor_p[:, scheme.labels.real_actor_ids].argmax(axis=1)
        out["actor_accuracy_stance_bearing"] = accuracy_score(actors[bearing], best_real[bearing])
    return {k: float(v) for k, v in out.items()}


def profile_pairs(articles, actors, stances, pred_actors, pred_stances, none_stance: int) -> dict[str, float]:
    """How well article profiles name who takes which stance: (actor, stance) pairs per article.

    An analyst reads predict's profile, not single sentences: for each article, the set
    of pairs it reports against the set the labels hold (each pair counted once per
    article, however many sentences carry it). Pooled over articles.
    """
    found = reported = labeled = 0
    articles = np.asarray(articles)
    for article in np.unique(articles):
        m = articles == article
        gold = {(a, s) for a, s in zip(actors[m], stances[m], strict=True) if s != none_stance}
        pred = {(a, s) for a, s in zip(pred_actors[m], pred_stances[m], strict=True) if s != none_stance}
        found, reported, labeled = found + len(gold & pred), reported + len(pred), labeled + len(gold)
    precision = found / reported if reported else 0.0
    recall = found / labeled if labeled else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"profile_pair_precision": precision, "profile_pair_recall": recall, "profile_pair_f1": f1}


def predicted_ids(actor_p, stance_p, scheme: Scheme) -> tuple[np.ndarray, np.ndarray]:
    actors, stances = decode(actor_p, stance_p, scheme.actor_labels, scheme.stance_labels, scheme.none)
    return (
        np.array([scheme.actor_labels.index(a) for a in actors], dtype=int),
        np.array([scheme.stance_labels.index(s) for s in stances], dtype=int),
    )


def summarize(cv: CVResult, data, scheme: Scheme) -> dict[str, float]:
    """Fold mean and spread of each headline metric, plus pooled per-class figures."""
    from sklearn.metrics import precision_recall_fscore_support

    out: dict[str, float] = {}
    for name in cv.fold_metrics[0]:
        values = [m[name] for m in cv.fold_metrics if name in m]
        out[name] = float(np.mean(values))
        out[f"{name}_std"] = float(np.std(values))
    a_pred, s_pred = predicted_ids(cv.actor_p, cv.stance_p, scheme)
    none_stance = scheme.labels.none_stance_id
    actors, stances = np.asarray(data["actor"]), np.asarray(data["stance"])
    out |= profile_pairs(data["article"], actors, stances, a_pred, s_pred, none_stance)
    # stance_ece is the mean over folds; this one is over all out-of-fold predictions at once (the plot's)
    out["stance_ece_pooled"] = expected_calibration_error(cv.stance_p, stances)
    for facet, y, pred, labels in (
        ("actor", data["actor"], a_pred, scheme.actor_labels),
        ("stance", data["stance"], s_pred, scheme.stance_labels),
    ):
        p, r, f, support = precision_recall_fscore_support(
            y, pred, labels=range(len(labels)), zero_division=0
        )
        for i, label in enumerate(labels):
            out[f"{facet}_precision_{label}"] = float(p[i])
            out[f"{facet}_recall_{label}"] = float(r[i])
            out[f"{facet}_f1_{label}"] = float(f[i])
            out[f"{facet}_support_{label}"] = float(support[i])
    return out


def write_reports(cv: CVResult, data, scheme: Scheme, folder: Path, rows: list[dict]) -> list[Path]:
    """Confusion-matrix PNGs, the per-class table, the misclassified sentences, all OOF probabilities
    (``rows``: :func:`oof_rows`) and their confidence bands."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay, classification_report

    folder.mkdir(parents=True, exist_ok=True)
    a_pred, s_pred = predicted_ids(cv.actor_p, cv.stance_p, scheme)
    written = []
    table_lines = []
    for facet, y, pred, labels in (
        ("actor", np.array(data["actor"]), a_pred, scheme.actor_labels),
        ("stance", np.array(data["stance"]), s_pred, scheme.stance_labels),
    ):
        fig, ax = plt.subplots(figsize=(6.5, 5.5))
        ConfusionMatrixDisplay.from_predictions(
            y, pred, labels=range(len(labels)), display_labels=labels, ax=ax, colorbar=False,
            xticks_rotation=35,
        )  # fmt: skip
        ax.set_title(f"{facet}: grouped-CV out-of-fold predictions (n={len(y)})")
        fig.tight_layout()
        path = folder / f"confusion_{facet}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
        report = classification_report(
            y, pred, labels=range(len(labels)), target_names=labels, zero_division=0, digits=3
        )
        table_lines += [f"## {facet}", "", "```", report.rstrip(), "```", ""]
    written.append(reliability_plot(cv.stance_p, np.array(data["stance"]), folder / "reliability_stance.png"))
    per_class = folder / "per_class.md"
    per_class.write_text("# Per-class metrics (pooled out-of-fold, grouped CV)\n\n" + "\n".join(table_lines))
    written.append(per_class)
    wrong = folder / "misclassified.jsonl"
    col = _columns(data, "sentence_id", "article", "text", "actor", "stance")
    with wrong.open("w", encoding="utf-8") as fh:
        for i in range(len(data)):
            if a_pred[i] != col["actor"][i] or s_pred[i] != col["stance"][i]:
                fh.write(json.dumps({
                    "sentence_id": col["sentence_id"][i],
                    "article": col["article"][i],
                    "fold": int(cv.fold_of[i]),
                    "text": col["text"][i],
                    "true": [scheme.actor_labels[col["actor"][i]], scheme.stance_labels[col["stance"][i]]],
                    "predicted": [scheme.actor_labels[a_pred[i]], scheme.stance_labels[s_pred[i]]],
                    "stance_confidence": round(float(cv.stance_p[i].max()), 4),
                }, ensure_ascii=False) + "\n")  # fmt: skip
    written.append(wrong)
    oof = folder / "oof_predictions.jsonl"
    oof.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    written.append(oof)
    # how often a row with a given p is right, on sentences the model never saw
    bands = folder / "confidence.md"
    bands.write_text(
        "# How far to trust p (predict's confidence in a row's pair)\n\n"
        + confidence.markdown(rows, scheme.labels.none, "grouped-CV out-of-fold predictions"),
        encoding="utf-8",
    )
    written.append(bands)
    return written


def oof_rows(cv: CVResult, data, scheme: Scheme) -> list[dict]:
    """Every sentence's out-of-fold prediction with both facets' probabilities: the figures can be
    recomputed, and recipes compared or ensembled, from the logged runs without retraining."""
    a_pred, s_pred = predicted_ids(cv.actor_p, cv.stance_p, scheme)
    col = _columns(data, "sentence_id", "article", "actor", "stance")
    return [
        {
            "sentence_id": col["sentence_id"][i],
            "article": col["article"][i],
            "fold": int(cv.fold_of[i]),
            "true": [scheme.actor_labels[col["actor"][i]], scheme.stance_labels[col["stance"][i]]],
            "predicted": [scheme.actor_labels[a_pred[i]], scheme.stance_labels[s_pred[i]]],
            "actor_p": {
                k: round(float(v), 6) for k, v in zip(scheme.actor_labels, cv.actor_p[i], strict=True)
            },
            "stance_p": {
                k: round(float(v), 6) for k, v in zip(scheme.stance_labels, cv.stance_p[i], strict=True)
            },
        }  # fmt: skip
        for i in range(len(data))
    ]
