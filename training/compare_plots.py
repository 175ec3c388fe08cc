"""The compare report's plots: per-class F1, stance confusion matrices, the learning curve."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from stance.io import jsonl_lines
from stance.scheme import Scheme

if TYPE_CHECKING:
    from training.compare import Comparison, RunRow

OOF = "evaluation/oof_predictions.jsonl"  # written by training/evaluate.py: write_reports


def plot_per_class(comp: Comparison, scheme: Scheme, path: Path) -> Path:
    """Grouped bars: per-class F1 of each full-data run, stance and actor facets."""
    import matplotlib.pyplot as plt

    rows = [r for v in comp.data_versions for r in comp.ranked(v)]
    mixed = len(comp.data_versions) > 1
    fig, axes = plt.subplots(2, 1, figsize=(10, 7.5))
    for ax, facet, labels in (
        (axes[0], "stance", scheme.stance_labels),
        (axes[1], "actor", scheme.actor_labels),
    ):
        width = 0.8 / len(rows)
        for i, r in enumerate(rows):
            x = np.arange(len(labels)) + (i - (len(rows) - 1) / 2) * width
            name = f"{r.entry} @ {r.data_version}" if mixed else r.entry
            ax.bar(x, [r.m(f"{facet}_f1_{c}") for c in labels], width, label=name)
        ax.set_xticks(np.arange(len(labels)), labels)
        ax.set(ylim=(0, 1), ylabel="F1 (pooled out-of-fold)", title=f"{facet}: per-class F1 by model")
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(loc="upper left", fontsize=8, ncols=min(len(rows), 4))
    return save(fig, path)


def plot_confusions(
    comp: Comparison, scheme: Scheme, matrices: dict[str, np.ndarray | None], path: Path
) -> Path:
    """The stance confusion matrices of the full-data runs side by side (rows: true class).

    ``matrices`` maps a run id to its matrix (``confusion``); a run without one gets an empty panel.
    """
    import matplotlib.pyplot as plt

    rows = [r for v in comp.data_versions for r in comp.ranked(v)]
    labels = scheme.stance_labels
    fig, axes = plt.subplots(1, len(rows), figsize=(3.6 * len(rows) + 0.8, 4.8), squeeze=False)
    for ax, r in zip(axes[0], rows, strict=True):
        ax.set_title(f"{r.entry}\nmacro-F1 {r.m('stance_macro_f1'):.3f}", fontsize=9)
        m = matrices.get(r.run_id)
        if m is None:
            ax.text(0.5, 0.5, "no out-of-fold\npredictions logged", ha="center", va="center", fontsize=8)
            ax.set_axis_off()
            continue
        recall = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
        ax.imshow(recall, cmap="Blues", vmin=0, vmax=1)
        for (i, j), n in np.ndenumerate(m):
            ax.text(
                j,
                i,
                int(n),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if recall[i, j] > 0.5 else "black",
            )
        ax.set_xticks(range(len(labels)), labels, rotation=40, ha="right", fontsize=8)
        ax.set_yticks(range(len(labels)), labels if ax is axes[0][0] else [], fontsize=8)
        ax.set_xlabel("predicted", fontsize=8)
    axes[0][0].set_ylabel("true stance", fontsize=8)
    fig.suptitle("stance: out-of-fold confusion (counts; colour = share of the true class)", fontsize=10)
    return save(fig, path)


def confusion(row: RunRow, scheme: Scheme, facet: str) -> np.ndarray | None:
    """A run's pooled out-of-fold confusion matrix (rows: true class), from its logged predictions.

    Training logs every sentence's out-of-fold prediction (``evaluation/oof_predictions.jsonl``);
    scikit-learn counts them. None for a run logged before that file existed.
    """
    from sklearn.metrics import confusion_matrix

    rows = oof_predictions(row.run_id)
    if rows is None:
        return None
    k = 0 if facet == "actor" else 1
    labels = scheme.stance_labels if facet == "stance" else scheme.actor_labels
    true, predicted = [r["true"][k] for r in rows], [r["predicted"][k] for r in rows]
    return confusion_matrix(true, predicted, labels=labels)


def oof_predictions(run_id: str) -> list[dict] | None:
    """The run's logged out-of-fold predictions, one record per sentence (None if it has none)."""
    import mlflow
    from mlflow import MlflowClient

    if OOF not in {a.path for a in MlflowClient().list_artifacts(run_id, OOF.rsplit("/", 1)[0])}:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=OOF, dst_path=tmp)
        text = Path(local).read_text(encoding="utf-8")
        return [json.loads(line) for line in jsonl_lines(text) if line.strip()]


def plot_learning_curve(comp: Comparison, path: Path) -> Path:
    """Stance macro-F1 (fold mean ± std) against the training sentences per fold."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5))
    mixed = len(comp.data_versions) > 1
    for (entry, version), pts in _by_line(comp.curve).items():
        pts = sorted(pts, key=lambda r: r.train_share)
        x = [r.m("train_sentences") for r in pts]
        ax.errorbar(
            x, [r.m("stance_macro_f1") for r in pts], yerr=[r.m("stance_macro_f1_std") for r in pts],
            marker="o", capsize=3, label=f"{entry} @ {version}" if mixed else entry,
        )  # fmt: skip
    ax.set(
        xlabel="labeled training sentences (mean per fold; whole articles sampled)",
        ylabel="stance macro-F1 (grouped CV, mean ± std over folds)",
        title="Learning curve: stance macro-F1 against labeled data",
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return save(fig, path)


def _by_line(points: list[RunRow]) -> dict[tuple[str, str], list[RunRow]]:
    lines: dict[tuple[str, str], list[RunRow]] = {}
    for r in points:
        lines.setdefault((r.entry, r.data_version), []).append(r)
    return lines


def save(fig, path: Path) -> Path:
    """Lay ``fig`` out, write it to ``path`` (PNG, 100 dpi) and close it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
