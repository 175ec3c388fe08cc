"""Every path the project reads or writes, in one place.

Paths resolve from the project root, never from the caller's directory, so a
command run from ``tests/`` or ``/tmp`` writes to the same stores. ``STANCE_ROOT``
overrides the root (tests use it to work in a scratch copy).
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def root() -> Path:
    return Path(os.environ.get("STANCE_ROOT") or _PACKAGE_ROOT)


def code() -> Path:
    """Where the project's code lives (the checkout), whatever the data root."""
    return _PACKAGE_ROOT


def configs() -> Path:
    return root() / "configs"


def scheme_file() -> Path:
    return configs() / "scheme.yaml"


def labeling_guide() -> Path:
    """The team's labeling guide, beside the project (``../shared/``): the project's instructions."""
    return root().parent / "shared" / "labeling-guide.md"


def seeds() -> Path:
    return root() / "seeds"


def corpus() -> Path:
    return root() / "corpus"


def coverage() -> Path:
    """Dated coverage articles brought into the project to label (``articles/`` and ``articles.tsv``)."""
    return root() / "coverage"


def article_folders() -> list[Path]:
    """Where an article id is looked up, in this order: seeds, corpus, coverage."""
    return [seeds(), corpus() / "articles", coverage() / "articles"]


def raw_annotations() -> Path:
    """Per-annotator annotation files of our own labeling passes (the seeds)."""
    return root() / "labeling" / "raw"


def snapshots() -> Path:
    """Committed, content-hashed annotation snapshots."""
    return root() / "labeling" / "snapshots"


def state() -> Path:
    """Git-ignored derived state: built datasets, caches, server data."""
    return root() / ".stance"


def model_cache() -> Path:
    """Base models assembled from their packages (git-ignored).

    Under the checkout, not ``root()``: like the virtual environment, the weights belong
    to the installation, so a scratch data root (``STANCE_ROOT``) reuses them.
    """
    return code() / ".stance" / "models"


def article_tables() -> list[Path]:
    """Per-source article metadata (article, url, outlet, date, headline), where it exists."""
    return [seeds() / "articles.tsv", corpus() / "articles.tsv", coverage() / "articles.tsv"]


def datasets() -> Path:
    return state() / "datasets"


def mlflow_db() -> Path:
    return root() / "mlflow.db"


def mlruns() -> Path:
    return root() / "mlruns"


def experiments() -> Path:
    """Experiment specs (``*.yaml``) and, per experiment, its compare report folder."""
    return root() / "experiments"
