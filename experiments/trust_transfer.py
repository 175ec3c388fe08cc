"""Does "how far to trust each pair" hold on coverage newer than the labels? (issue 11)

A model keeps, per (actor, stance) pair, the share of its calls that were right on articles it
never saw (``training/reliability.py``; predict's ``pair_right``, the report's trust table),
pooled over the rolling origin's three blocks. An analyst applies it to coverage newer than any
label. This study asks whether that is fair, on the rows the model's training run logged: each
block's calls and the share right, oldest to newest, and the newest block's right calls against
what the older blocks' rate for each pair expects of them (a gap per call, negative when the
older rates overstate the newest articles, with a 90 % interval by article). No model is fitted:
it reads the run's ``evaluation/rolling_origin_predictions.jsonl`` and the annotation snapshot
of its data version (every labeled pair of a sentence counts as right, as in the trust table).

    .venv/bin/python experiments/trust_transfer.py [--model models:/stance-classifier@champion]

Writes experiments/trust-transfer/result.md and result.json, or under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from stance.errors import script_main  # noqa: E402
from stance.io import write_atomic  # noqa: E402
from stance.scheme import Scheme  # noqa: E402
from training import reliability  # noqa: E402

OUT = ROOT / "experiments" / "trust-transfer"


def study(model: str) -> dict:
    scheme = Scheme.load()
    header, rows, labeled = reliability.model_rows(model, scheme)
    return {"model": header["model"], "run_id": header["run_id"], "data_version": header["data_version"]} | (
        reliability.transfer(rows, scheme.pairs, labeled)
    )


def markdown(r: dict) -> str:
    n = r["newest"]
    lo, hi = n["gap_interval"]
    lines = [
        "# Does each pair's trust hold on newer coverage?\n",
        f"Model {r['model']} (run `{r['run_id'][:8]}`, data version {r['data_version']}); its training "
        "run's rolling-origin rows, each block predicted by a refit on older articles only. A call "
        "is right when the sentence is labeled with its pair (any of its labeled pairs).\n",
        "| block | articles, dated | calls of a stance | right | share right |",
        "|---|---|---|---|---|",
    ]
    for b in r["blocks"]:
        lines.append(
            f"| {b['block']} | {b['articles']}, {b['first']} to {b['last']} | {b['calls']} | {b['right']} | {b['share']:.3f} |"
        )
    lines += [
        "",
        f"The newest block's {n['calls']} calls: {n['right']} right, where the older blocks' rate "
        f"for each pair expects {n['expected']}: **{n['gap']:+.3f} a call** [{lo:+.3f}, {hi:+.3f}] "
        "(90 % interval, articles of both sides resampled).\n",
        "| pair | older blocks: right of called | newest block: right of called |",
        "|---|---|---|",
    ]
    for pair, c in r["pairs"].items():
        if c["older_called"] or c["newest_called"]:
            lines.append(
                f"| {pair} | {c['older_right']} of {c['older_called']} | {c['newest_right']} of {c['newest_called']} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="models:/stance-classifier@champion", help="a model URI of this store")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    result = study(args.model)
    write_atomic(args.out / "result.json", json.dumps(result, indent=1) + "\n")
    text = markdown(result)
    write_atomic(args.out / "result.md", text)
    print(text)


if __name__ == "__main__":
    script_main(main)
