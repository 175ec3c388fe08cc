"""Calibration of the stance facet: does a confidence of 0.8 come true 8 times in 10?

One binning for the metric and the plot: scikit-learn's ``calibration_curve`` on the top label
(the confidence is the largest stance probability; a hit is that stance being the true one),
``bins`` equal-width bins over [0, 1]. ``stance_ece`` and ``stance_ece_pooled`` are the
size-weighted mean gap between a bin's accuracy and its mean confidence.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def calibration_bins(proba: np.ndarray, y: np.ndarray, bins: int = 10) -> tuple[np.ndarray, ...]:
    """(mean confidence, accuracy, sentences) of each non-empty bin, least confident first."""
    from sklearn.calibration import calibration_curve

    if len(y) == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=int)
    conf = np.clip(proba.max(axis=1), 0.0, 1.0)  # float sums may overshoot 1 by a hair
    hit = proba.argmax(axis=1) == np.asarray(y)
    accuracy, confidence = calibration_curve(hit, conf, n_bins=bins, strategy="uniform", pos_label=True)
    # the sentences per bin, binned as calibration_curve bins them (it does not return them)
    counts = np.bincount(np.searchsorted(np.linspace(0.0, 1.0, bins + 1)[1:-1], conf), minlength=bins)
    return confidence, accuracy, counts[counts > 0]


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature T minimising the negative log-likelihood of softmax(logits / T) on held-out
    rows (a grid over [0.5, 5]: one parameter, few sentences); 1 when there are none."""
    if len(y) == 0:
        return 1.0
    y = np.asarray(y)
    grid = np.exp(np.linspace(np.log(0.5), np.log(5.0), 60))
    nll = [-np.log(softmax(logits / t)[np.arange(len(y)), y] + 1e-12).mean() for t in grid]
    return float(grid[int(np.argmin(nll))])


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of logits."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def expected_calibration_error(proba: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by size."""
    confidence, accuracy, counts = calibration_bins(proba, y, bins)
    if not len(counts):
        return 0.0
    return float(np.sum(counts / counts.sum() * np.abs(accuracy - confidence)))


def reliability_plot(proba: np.ndarray, y: np.ndarray, path: Path, bins: int = 10) -> Path:
    """Accuracy against confidence per bin: a calibrated model sits on the diagonal."""
    import matplotlib.pyplot as plt

    centers, accs, counts = calibration_bins(proba, y, bins)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    ax.plot(centers, accs, marker="o", label="model")
    for x, a, n in zip(centers, accs, counts, strict=True):
        ax.annotate(str(n), (x, a), textcoords="offset points", xytext=(4, -10), fontsize=7)
    ax.set(xlabel="confidence (max stance probability)", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1))
    ece = expected_calibration_error(proba, y, bins)
    ax.set_title(
        f"stance reliability: pooled out-of-fold ECE {ece:.3f}\n(metric stance_ece_pooled)", fontsize=10
    )
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
