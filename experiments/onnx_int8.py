"""The ONNX encoder, fp32 against dynamic int8, on the time split: quality and speed.

One model of the recipe (configs/hybrid-mpnet.yaml: the champion's) is fitted once on the
time split's training articles, saved with its fp32 ONNX export, copied, and the copy's
encoder quantized (``onnxruntime.quantization.quantize_dynamic``, what ``onnx_int8: true``
does at save). Both are loaded from their folders, as predict loads them, and score the
time split's test articles (the newest). The int8 change in stance macro-F1 is given with
its 90 % paired bootstrap interval by article (training/intervals.py); the in-memory torch
model scores the same sentences, to show the fp32 export's agreement with it on real data.

    .venv/bin/python experiments/onnx_int8.py [--recipe configs/hybrid-mpnet.yaml]

Writes experiments/onnx_int8/result.json and result.md (the README cites them).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from stance.scheme import Scheme  # noqa: E402
from training import dataset, intervals  # noqa: E402
from training.evaluate import contexts_of, metrics, predicted_ids  # noqa: E402
from training.models import onnx_encoder  # noqa: E402
from training.recipes import load_classifier, load_recipe, make_classifier  # noqa: E402

OUT = ROOT / "experiments" / "onnx_int8"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--recipe", default="configs/hybrid-mpnet.yaml")
    args = ap.parse_args()
    from labeling.snapshot import latest_snapshot

    scheme = Scheme.load()
    version, _, _ = dataset.save(latest_snapshot(), scheme)
    dd, meta = dataset.load(version, scheme)
    train, test = dd["train"], dd["test"]
    recipe = load_recipe(ROOT / args.recipe)
    t0 = time.perf_counter()
    model = make_classifier(recipe, scheme).fit(
        list(train["text"]), np.array(train["actor"]), np.array(train["stance"]),
        groups=list(train["article"]), contexts=contexts_of(train),
    )  # fmt: skip
    print(f"fitted on {len(train)} sentences in {time.perf_counter() - t0:.0f} s", flush=True)
    texts, ctx = list(test["text"]), contexts_of(test)
    actors, stances = np.array(test["actor"]), np.array(test["stance"])
    scored = {"torch": timed(model, texts, ctx)}
    with tempfile.TemporaryDirectory() as tmp:
        fp32, int8 = Path(tmp) / "fp32", Path(tmp) / "int8"
        model.save(fp32)
        shutil.copytree(fp32, int8)
        onnx_encoder.quantize(int8)
        for name, folder in (("onnx fp32", fp32), ("onnx int8", int8)):
            scored[name] = timed(load_classifier(folder), texts, ctx)
        sizes = {n: (f / "onnx" / json.loads((f / "onnx" / "onnx.json").read_text())["file"]).stat().st_size
                 for n, f in (("onnx fp32", fp32), ("onnx int8", int8))}  # fmt: skip
    result = {
        "recipe": args.recipe,
        "data_version": meta["data_version"],
        "train_sentences": len(train),
        "test_sentences": len(test),
        "test_articles": len(set(test["article"])),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "onnx_file_mib": {n: round(s / 2**20) for n, s in sizes.items()},
        "fp32_vs_torch_max_abs_diff": {
            "stance": float(np.abs(scored["onnx fp32"][1] - scored["torch"][1]).max()),
            "actor": float(np.abs(scored["onnx fp32"][0] - scored["torch"][0]).max()),
        },
    }
    preds = {}
    for name, (actor_p, stance_p, seconds) in scored.items():
        m = metrics(actors, stances, actor_p, stance_p, scheme)
        preds[name] = predicted_ids(actor_p, stance_p, scheme)
        result[name] = {
            "stance_macro_f1": round(float(m["stance_macro_f1"]), 4),
            "actor_accuracy_all_sentences": round(float(m.get("actor_accuracy", np.nan)), 4),
            "seconds": round(seconds, 1),
            "sentences_per_s": round(len(texts) / seconds, 1),
        }
    point, lo, hi = intervals.paired_difference(
        test["article"], stances, preds["onnx fp32"][1], preds["onnx int8"][1], len(scheme.stance_labels)
    )
    result["int8_minus_fp32_stance_macro_f1"] = {
        "point": round(point, 4),
        "lo": round(lo, 4),
        "hi": round(hi, 4),
    }
    result["same_stance_label_share"] = round(
        float((preds["onnx fp32"][1] == preds["onnx int8"][1]).mean()), 4
    )
    OUT.mkdir(exist_ok=True)
    (OUT / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    (OUT / "result.md").write_text(markdown(result))
    print(markdown(result))


def timed(model, texts, ctx):
    t0 = time.perf_counter()
    actor_p, stance_p = model.predict_proba(texts, contexts=ctx)
    return actor_p, stance_p, time.perf_counter() - t0


def markdown(r: dict) -> str:
    d = r["int8_minus_fp32_stance_macro_f1"]
    rows = "\n".join(
        f"| {n} | {r[n]['stance_macro_f1']:.3f} | {r[n]['actor_accuracy_all_sentences']:.3f} | {r[n]['sentences_per_s']} |"
        for n in ("torch", "onnx fp32", "onnx int8")
    )
    return (
        f"# ONNX int8 on the time split ({r['recipe']}, data {r['data_version']})\n\n"
        f"{r['train_sentences']} training sentences; {r['test_sentences']} test sentences in "
        f"{r['test_articles']} articles; load average {r['load_average'][0]} (shared 2 cores).\n\n"
        "| encoder | stance macro-F1 | actor accuracy (all sentences) | sentences/s (predict_proba) |\n"
        f"|---|---|---|---|\n{rows}\n\n"
        f"int8 − fp32 stance macro-F1: {d['point']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}] "
        f"(90 % paired bootstrap by article); same stance label on {r['same_stance_label_share']:.1%} "
        f"of sentences. fp32 ONNX vs torch, largest probability difference: "
        f"{r['fp32_vs_torch_max_abs_diff']['stance']:.1e} (stance), {r['fp32_vs_torch_max_abs_diff']['actor']:.1e} "
        f"(actor). ONNX file: {r['onnx_file_mib']['onnx fp32']} MiB fp32, {r['onnx_file_mib']['onnx int8']} MiB int8.\n"
    )


if __name__ == "__main__":
    main()
