"""The held-out figures of ``stance train`` (training/train.py) over time: the time split (train on
the older articles, score the newest), the rolling origin's older blocks pooled with it, its
articles from outlets their model never trained on, and how far to trust each pair the model calls;
each logged to the active MLflow run with its predictions."""

from __future__ import annotations

import json
import time

from stance.scheme import Scheme
from training import confidence, novelty, reliability, timesplit
from training.recipes import make_classifier


def evaluate(recipe, dd, data, scheme: Scheme, data_version: str) -> tuple[dict[str, float], dict | None]:
    """Train on the older articles, score the newest (``time_*`` metrics, predictions logged); then
    the older blocks of the rolling origin, pooled with it (``rolling_*``, their predictions logged).
    Also how far to trust each pair the model calls, read on those rows (``training.reliability``;
    logged as ``evaluation/trust.md`` and kept in the model for predict), or None without them."""
    import mlflow

    t0 = time.perf_counter()
    figures, rows = timesplit.evaluate(make_classifier(recipe, scheme), dd, scheme)
    trust = None
    if figures:
        figures |= confidence.metrics(rows, scheme.labels.none, "time")
        figures["time_seconds"] = time.perf_counter() - t0  # its fit and scoring
        mlflow.log_metrics(figures)
        mlflow.log_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), timesplit.PREDICTIONS
        )
        # the same question at older origins, pooled with the time split: what the champion rule reads
        t0 = time.perf_counter()
        pooled, rolling = timesplit.evaluate_rolling(
            lambda: make_classifier(recipe, scheme), data, rows, scheme
        )
        if rolling:
            pooled["rolling_seconds"] = time.perf_counter() - t0  # the older blocks' fits and scoring
            mlflow.log_metrics(pooled)
            mlflow.log_text(
                "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rolling), timesplit.ROLLING
            )
            figures |= pooled
            # the same rows on the articles from an outlet their block's model never trained on
            unseen = novelty.rolling_figures(data, rolling, scheme)
            mlflow.log_metrics(unseen)
            figures |= unseen
        trust = reliability.summary(
            rolling or rows,
            reliability.ROLLING if rolling else reliability.TIME_SPLIT,
            scheme.pairs,
            reliability.snapshot_pairs(data_version),
        )
        mlflow.log_text(reliability.markdown(trust), reliability.MARKDOWN)
        mlflow.log_text(
            "# How far to trust p on the newest articles\n\n"
            + confidence.markdown(rows, scheme.labels.none, "time split: the newest articles"),
            timesplit.CONFIDENCE,
        )
    return figures, trust
