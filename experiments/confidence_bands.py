"""How far to trust p, from runs' logged predictions: the README's confidence-band tables.

Reads a run's grouped-CV out-of-fold predictions (``evaluation/oof_predictions.jsonl``), its
time-split predictions (``evaluation/time_split_predictions.jsonl``; runs logged before session 18
lack their actor probabilities and are skipped with a note) and its rolling-origin predictions
(``evaluation/rolling_origin_predictions.jsonl``, runs since session 22), whichever it logged, and writes the bands
(training/confidence.py) to experiments/confidence-bands/result.md. Nothing is refitted.

    .venv/bin/python experiments/confidence_bands.py RUN_ID [RUN_ID ...]   # e.g. make demo's champion run
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stance.io import write_atomic  # noqa: E402
from stance.scheme import Scheme  # noqa: E402
from training import confidence, timesplit, tracking  # noqa: E402

OUT = ROOT / "experiments" / "confidence-bands"
SETS = (
    ("evaluation/oof_predictions.jsonl", "grouped-CV out-of-fold predictions"),
    (timesplit.PREDICTIONS, "time split: the newest articles"),
    (
        "evaluation/rolling_origin_predictions.jsonl",
        "rolling origin: three blocks, each scored from its past",
    ),
)


def logged_rows(run_id: str, artifact: str) -> list[dict] | None:
    import mlflow
    from mlflow.exceptions import MlflowException

    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=artifact, dst_path=tmp)
        except (MlflowException, OSError):
            return None
        return [json.loads(line) for line in Path(local).read_text(encoding="utf-8").splitlines()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", help="MLflow run ids")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    import mlflow

    tracking.setup_uri()
    none = Scheme.load().labels.none
    parts = ["# How far to trust p: pair accuracy by confidence band, from logged predictions", ""]
    for run_id in args.runs:
        run = mlflow.get_run(run_id)
        parts += [f"# run {run_id[:8]} ({run.info.run_name})", ""]
        for artifact, title in SETS:
            rows = logged_rows(run_id, artifact)
            if rows is None:
                continue
            if any("actor_p" not in r for r in rows):
                parts += [f"{title}: logged without actor probabilities (before session 18); skipped", ""]
                continue
            parts.append(confidence.markdown(rows, none, title))
    text = "\n".join(parts)
    args.out.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out / "result.md", text.encode("utf-8"))
    print(text)


if __name__ == "__main__":
    main()
