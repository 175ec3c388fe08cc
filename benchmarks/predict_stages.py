"""Where predict's time goes, stage by stage, for the models benchmarks/predict_speed.py logged.

The speed benchmark shows predict against the bare encoder pass; this splits one predict
call of a ``hybrid`` model (through ONNX Runtime, as ``stance predict`` runs it) into its
stages, each timed alone on the same sentences with every cache cleared: the encoder,
the TF-IDF rows, the actor-name cues, the holder's spaCy parse and features, and the two
logistic-regression heads; "rest" is predict minus the stages (building the sentence
frames, context, decoding).

    .venv/bin/python benchmarks/predict_stages.py [--sentences 500] [--repeats 2]

Its models are predict_speed.py's scratch models (``--kinds``; fitted and logged into
.stance/bench the first time, reused after), ``hybrid-mpnet-attn`` (the champion's form, with
the attention head) among them. Writes benchmarks/results/predict_stages.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{ROOT / '.stance' / 'bench' / 'mlflow.db'}"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import speed_rows as rows_  # noqa: E402
from predict_speed import MODELS, bench_sentences, ensure_models  # noqa: E402
from train_recipes import hardware  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "predict_stages.json"


def stages(kind: str, texts: list[str], repeats: int) -> dict[str, float]:
    """Seconds per stage (median over ``repeats``) for one predict of ``texts``."""
    from scipy.sparse import csr_matrix

    from training.models import cues, encoder, holder, holder_parse
    from training.models.base import labels_of

    predictor = rows_.load_predictor(kind, onnx=True)  # loaded once: the call and its stages
    run, clf = rows_.predicting(predictor), predictor.model.classifier
    contexts = [""] + texts[:-1]  # each sentence's predecessor, as an article gives it
    real = labels_of(clf).real_actors

    def clear():
        encoder._MEMO.clear()
        holder_parse._CACHE.clear()

    def timed(fn) -> float:
        out = []
        for _ in range(repeats):
            clear()
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
        return statistics.median(out)

    actor_x, stance_x = clf._features(texts, contexts)
    result = {
        "predict (whole call)": timed(lambda: run(texts)),
        "encoder (ONNX Runtime)": timed(lambda: clf._embed(texts)),
        "TF-IDF rows": timed(lambda: clf.tfidf_.transform(texts)),
        "actor-name cues (regular expressions)": timed(lambda: cues.features(texts, clf._cue_pairs(), real)),
        "holder: spaCy parse": timed(lambda: holder.analyze(texts + [c for c in contexts if c])),
        "heads (two logistic regressions)": timed(
            lambda: (clf.actor_.predict_proba(actor_x), clf.stance_.predict_proba(csr_matrix(stance_x)))
        ),
    }
    if getattr(clf, "attention_", None):  # the champion's attention head (numpy, on the token states)
        _, _, tokens, extra = clf._inputs(texts, contexts)
        result["attention head (numpy, on the token states)"] = timed(
            lambda: [h.predict_proba(tokens, extra) for h in clf.attention_]
        )
    result["holder: features after the parse"] = max(
        0.0,
        timed(lambda: holder.features(texts, contexts, clf._resolver(), clf.recipe.holder_features))
        - result["holder: spaCy parse"],
    )
    if getattr(clf.recipe, "parse_holder_weight", 0):  # the demo recipe: the parse's holder decides the actor
        result["holder: the resolved holder after the parse (explain)"] = max(
            0.0, timed(lambda: clf.holders(texts, contexts)) - result["holder: spaCy parse"]
        )
    parts = sum(v for k, v in result.items() if k != "predict (whole call)")
    result["rest (frames, context, decoding)"] = max(0.0, result["predict (whole call)"] - parts)
    return {k: round(v, 3) for k, v in result.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sentences", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--kinds", default=",".join(MODELS))
    args = ap.parse_args()
    ensure_models(args.kinds.split(","), retrain=False)  # the scratch models, fitted once
    texts = bench_sentences(args.sentences)
    out = {"hardware": hardware(), "sentences": len(texts), "repeats": args.repeats, "kinds": {}}
    out["load_average_start"] = os.getloadavg()[0]
    print(f"hardware: {out['hardware']}; load average {out['load_average_start']:.2f}", flush=True)
    for kind in args.kinds.split(","):
        out["kinds"][kind] = s = stages(kind, texts, args.repeats)
        whole = s["predict (whole call)"]
        print(f"{kind}: predict of {len(texts)} sentences {whole:.2f} s", flush=True)
        for k, v in s.items():
            if k != "predict (whole call)":
                print(f"  {k:42s} {v:7.2f} s  {v / whole:6.1%}", flush=True)
    out["load_average_end"] = os.getloadavg()[0]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=2) + "\n")
    tmp.replace(OUT)
    print(f"-> {OUT}")


if __name__ == "__main__":
    main()
