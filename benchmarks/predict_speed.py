"""Benchmark: predict's speed and memory against what a user would write instead, for both encoders.

On the same sentences (every corpus and seed sentence, repeated to ``--sentences``), the
same thread count, in one process, one after another and repeated round-robin so a change
in the machine's load hits every row alike, for each encoder (MiniLM, all-mpnet-base-v2):

* ``stance`` predict (``Predictor.predict_sentences``: decoding, output objects) of a
  ``hybrid`` model (TF-IDF + frozen encoder + actor cues + holder parse: the champion's
  kind), through ONNX Runtime (the default) and through torch (``STANCE_ONNX=0``);
* transformers' ``pipeline("text-classification")`` over the same encoder, batch 64
  (and, for MiniLM, its default batch 1), all class scores returned;
* the bare torch forward pass (tokenize + encoder, batches of 64), in input order and
  sorted by length;
* the bare ONNX Runtime forward pass of the model's exported encoder (tokenize + session,
  sorted, batches by tokens), fp32 and dynamic int8.

Then, each in fresh processes: cold start (process start to the first result of ``stance
predict`` on one sentence, the model's local copy already cached) against ``python -c
"import transformers"``; where a cold start's time goes; and peak memory (VmHWM) of a
predict process scoring every sentence.

Models are fitted on 400 training sentences (no CV) and logged and registered as
``stance train`` does, in a scratch MLflow store under ``.stance/bench/`` (reused after);
the user's ``mlflow.db`` is never touched. The machine's cores may be shared:
the load average is recorded. Rely on the ratios (measured in the same run).

    .venv/bin/python benchmarks/predict_speed.py [--sentences 500] [--repeats 2] [--retrain]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SCRATCH = ROOT / ".stance" / "bench"
os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{SCRATCH / 'mlflow.db'}"  # never the user's store
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TQDM_DISABLE", "1")

import speed_rows as rows_  # noqa: E402  (this script's folder is on sys.path)
from train_recipes import hardware  # noqa: E402

FIT_SENTENCES = 400
# kind -> (recipe, encoder label, base model); the architecture sets the speed, not the training
MODELS = {
    "hybrid": ("kind: hybrid\n", "MiniLM", "packaged:all-MiniLM-L6-v2"),
    "hybrid-mpnet": (
        "kind: hybrid\nbase_model: packaged:all-mpnet-base-v2\n",
        "mpnet",
        "packaged:all-mpnet-base-v2",
    ),
    # the champion's form (configs/hybrid-mpnet-attn.yaml): last four layers, and the attention head
    # over the token states (the graph's second output); benchmarks/predict_stages.py times its stages
    "hybrid-mpnet-attn": (
        (ROOT / "configs" / "hybrid-mpnet-attn.yaml").read_text(),
        "mpnet",
        "packaged:all-mpnet-base-v2",
    ),
    # make demo's recipe (session 23): the attention head averaged in, the broker block, and the
    # parse's holder deciding the actor (predict explains each holder too: the "holder" columns)
    "hybrid-mpnet-broker-mean-parse": (
        (ROOT / "configs" / "hybrid-mpnet-broker-mean-parse.yaml").read_text(),
        "mpnet",
        "packaged:all-mpnet-base-v2",
    ),
}
# this benchmark's rows: one model per encoder, and the champions' forms (the attention models'
# encoder rows are hybrid-mpnet's: the same encoder, measured once)
SPEED_KINDS = ("hybrid", "hybrid-mpnet", "hybrid-mpnet-attn", "hybrid-mpnet-broker-mean-parse")
TARGETS = {
    "predict / bare torch forward, sorted": 1.0,
    "predict / bare ONNX Runtime forward fp32": 0.9,
    "predict / pipeline, batch 64": 2.0,
    "cold start / import transformers (at most)": 2.0,
    "peak memory MiB, mpnet (at most)": 1024,
}


def ensure_models(kinds, retrain: bool) -> None:
    """One registered model per kind in the scratch store, fitted once on a few hundred sentences
    (the architecture sets the speed, not the training) and reused after (--retrain)."""
    import mlflow
    import numpy as np

    from labeling.snapshot import latest_snapshot
    from stance.config import read_yaml
    from stance.scheme import Scheme
    from training import dataset, evaluate, tracking
    from training.logged_model import log_model
    from training.recipes import KINDS, make_classifier

    scheme = Scheme.load()
    version, _, _ = dataset.save(latest_snapshot(), scheme)
    dd, meta = dataset.load(version, scheme)
    data = dd["train"].select(range(min(FIT_SENTENCES, len(dd["train"]))))
    SCRATCH.mkdir(parents=True, exist_ok=True)
    experiment = tracking.setup("bench")
    for kind in kinds:
        if not retrain and registered(kind):
            print(f"  {rows_.model_uri(kind)}: reused", flush=True)
            continue
        recipe_file = SCRATCH / "recipes" / f"bench-{kind}.yaml"
        recipe_file.parent.mkdir(parents=True, exist_ok=True)
        recipe_file.write_text(MODELS[kind][0])
        raw = read_yaml(recipe_file)
        recipe = KINDS[raw["kind"]][0].from_dict(raw, source=str(recipe_file))
        t0 = time.perf_counter()
        model = make_classifier(recipe, scheme).fit(
            list(data["text"]), np.array(data["actor"]), np.array(data["stance"]),
            groups=list(data["article"]), contexts=evaluate.contexts_of(data),
        )  # fmt: skip
        with mlflow.start_run(experiment_id=experiment):
            info = log_model(model, scheme, recipe, meta, {"text": data["text"][:3]})
        number = mlflow.register_model(info.model_uri, f"bench-{kind}").version
        mlflow.MlflowClient().set_registered_model_alias(f"bench-{kind}", "champion", number)
        print(f"  {rows_.model_uri(kind)}: fitted and logged in {time.perf_counter() - t0:.0f} s", flush=True)


def registered(kind: str) -> bool:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        MlflowClient().get_model_version_by_alias(f"bench-{kind}", "champion")
    except MlflowException:
        return False
    return True


def bench_sentences(n: int) -> list[str]:
    """Every sentence of the corpus and seed articles, repeated (in order) to n."""
    from labeling.articles import read_article
    from labeling.segment import segment

    files = sorted((ROOT / "corpus" / "articles").glob("*.txt")) + sorted((ROOT / "seeds").glob("*.txt"))
    texts = [s.text for f in files for s in segment(read_article(f))]
    return (texts * (n // len(texts) + 1))[:n]


def encoder_rows(kind: str, measured: set[str]) -> dict:
    """Every row of one encoder: predict (ONNX, torch), pipeline, bare torch and bare ONNX Runtime;
    predict's rows alone when an earlier kind's rows already measured its encoder (``measured``)."""
    _, label, base = MODELS[kind]
    predict_onnx, folder = rows_.predict_row(kind, onnx=True)
    predict_torch, _ = rows_.predict_row(kind, onnx=False)
    rows = {
        f"stance predict, ONNX ({kind})": predict_onnx,
        f"stance predict, torch ({kind})": predict_torch,
    }
    if label in measured:
        return rows
    measured.add(label)
    tok, model, seqcls = rows_.torch_encoder(base)
    rows[f"pipeline, batch {rows_.BATCH} ({label})"] = rows_.pipeline_row(tok, seqcls, rows_.BATCH)
    if label == "MiniLM":  # with mpnet these would take most of the benchmark's time on 2 cores
        rows[f"pipeline, batch 1 ({label})"] = rows_.pipeline_row(tok, seqcls, 1)
        rows[f"bare torch forward, input order ({label})"] = rows_.bare_row(tok, model, by_length=False)
    rows[f"bare torch forward, sorted by length ({label})"] = rows_.bare_row(tok, model, by_length=True)
    return rows | rows_.ort_rows(folder / "artifacts" / "classifier", SCRATCH, label)


def ratios(speed: dict, cold: dict, peak: dict, kinds) -> dict[str, dict[str, float]]:
    out = {}
    for kind in kinds:
        label = MODELS[kind][1]
        p = speed[f"stance predict, ONNX ({kind})"]["sentences_per_s"]
        out[kind] = {
            "predict / bare torch forward, sorted": p
            / speed[f"bare torch forward, sorted by length ({label})"]["sentences_per_s"],
            "predict / bare ONNX Runtime forward fp32": p
            / speed[f"bare ONNX Runtime forward fp32 ({label})"]["sentences_per_s"],
            "predict / pipeline, batch 64": p
            / speed[f"pipeline, batch {rows_.BATCH} ({label})"]["sentences_per_s"],
            "predict ONNX / predict torch": p / speed[f"stance predict, torch ({kind})"]["sentences_per_s"],
            "cold start / import transformers": cold[f"stance predict ({kind})"]
            / cold["python -c 'import transformers'"],
        }
        out[kind] = {k: round(v, 2) for k, v in out[kind].items()} | {"peak_rss_mib": peak[kind]}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sentences", type=int, default=500, help="sentences per throughput round")
    ap.add_argument("--repeats", type=int, default=2, help="rounds per row (the median is reported)")
    ap.add_argument("--kinds", default=",".join(SPEED_KINDS), help="models to benchmark")
    ap.add_argument("--retrain", action="store_true", help="train the scratch models again")
    args = ap.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]

    import torch

    from training.models import encoder

    encoder.set_threads()
    load_before = os.getloadavg()
    print(f"hardware: {hardware()}; threads: {torch.get_num_threads()}; load average {load_before[0]:.2f}")
    ensure_models(kinds, args.retrain)
    texts = bench_sentences(args.sentences)
    speed, measured = {}, set()
    for kind in kinds:  # one encoder at a time: both in memory at once would crowd the machine
        print(f"throughput ({kind}) on {len(texts)} sentences, {args.repeats} rounds:", flush=True)
        speed |= rows_.throughput(encoder_rows(kind, measured), texts, args.repeats)
    print("cold starts, stages and peak memory (fresh processes):", flush=True)
    cold = rows_.cold_starts(kinds, args.repeats)
    stages = {kind: rows_.cold_start_stages(kind, args.repeats) for kind in kinds}
    peak = rows_.peak_memory(kinds, texts, SCRATCH)
    report = {
        "hardware": hardware(),
        "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "threads": torch.get_num_threads(),
        "load_average": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in os.getloadavg()],
        },
        "sentences": len(texts),
        "distinct_sentences": len(set(texts)),
        "throughput": speed,
        "ratios": ratios(speed, cold, peak, kinds),
        "targets": TARGETS,
        "cold_start_s": cold,
        "cold_start_stages_s": stages,
        "peak_rss_mib": peak,
    }
    out = ROOT / "benchmarks" / "results" / "predict_speed.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: report[k] for k in ("ratios", "cold_start_s", "cold_start_stages_s")}, indent=2))
    for name, s in speed.items():
        print(f"{name:<56}{s['sentences_per_s']:>10}")
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
