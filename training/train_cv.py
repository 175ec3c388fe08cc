"""The grouped cross-validation of ``stance train`` (training/train.py): the folds fitted with a
progress bar, each fold's and the pooled out-of-fold figures (with intervals by article) logged to
the active MLflow run, and the out-of-fold reports as its ``evaluation/`` artifacts."""

from __future__ import annotations

import tempfile
from pathlib import Path

from stance.scheme import Scheme
from training import confidence, evaluate, intervals
from training.recipes import make_classifier


def cv_sizes(cv) -> dict[str, float]:
    import numpy as np

    return {"cv_seconds": cv.seconds, "train_sentences": float(np.mean(cv.train_sizes))}


def cv_intervals(cv, data, scheme: Scheme) -> dict[str, float]:
    """``cv_*``: the pooled out-of-fold figures with bootstrap intervals by article."""
    import numpy as np

    a_pred, s_pred = evaluate.predicted_ids(cv.actor_p, cv.stance_p, scheme)
    none = scheme.labels.none_stance_id
    return intervals.figures(
        "cv", data["article"], np.array(data["actor"]), np.array(data["stance"]), a_pred, s_pred,
        len(scheme.stance_labels), none,
    )  # fmt: skip


def cross_validate(recipe, data, scheme: Scheme, quiet: bool, progress=None, train_share: float = 1.0):
    from contextlib import nullcontext

    from stance.console import progress as progress_bar

    # one live display at a time: an experiment passes its own progress for the folds
    with nullcontext(progress) if progress is not None else progress_bar(quiet=quiet, transient=True) as bar:
        task = bar.add_task(f"grouped {recipe.cv_folds}-fold CV ({recipe.kind})", total=recipe.cv_folds)
        try:
            return evaluate.cross_validate(
                lambda fold: with_epoch_logging(make_classifier(recipe, scheme), f"fold{fold}"),
                data, scheme, recipe.cv_folds, recipe.seed, progress=lambda _fold: bar.advance(task),
                train_share=train_share,
            )  # fmt: skip
        finally:
            bar.remove_task(task)


def with_epoch_logging(model, prefix: str):
    """Kinds that train in epochs report each epoch's validation metrics to the active run."""
    if hasattr(model, "epoch_callback"):
        from training.tracking import epoch_logger

        model.epoch_callback = epoch_logger(prefix)
    return model


def log_folds(cv) -> None:
    import mlflow

    for fold, m in enumerate(cv.fold_metrics):
        mlflow.log_metrics({f"fold_{k}": v for k, v in m.items()}, step=fold)  # a chart per metric
        # the run page shows a metric's last step only: the headline figures also by fold name
        named = {f"{k}_fold{fold + 1}": m[k] for k in ("stance_macro_f1", "actor_accuracy") if k in m}
        mlflow.log_metrics(named)


def log_reports(cv, data, scheme: Scheme) -> None:
    import mlflow

    rows = evaluate.oof_rows(cv, data, scheme)
    with tempfile.TemporaryDirectory() as tmp:
        evaluate.write_reports(cv, data, scheme, Path(tmp), rows)
        mlflow.log_artifacts(tmp, artifact_path="evaluation")
    mlflow.log_metrics(confidence.metrics(rows, scheme.labels.none, "cv"))
