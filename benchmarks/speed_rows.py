"""The contenders of benchmarks/predict_speed.py, and its fresh-process measures (cold start, memory).

Each throughput row is a function of the sentences to score, loaded once.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BATCH = 64  # the transformer recipes' prediction batch size, for the pipeline and the bare torch rows
MAX_LENGTH = 128

# its timing children import onnxruntime themselves: no telemetry from them either (onnx_encoder.py)
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


def model_uri(kind: str) -> str:
    return f"models:/bench-{kind}@champion"


# -- throughput rows ---------------------------------------------------------------------------
def predict_row(kind: str, onnx: bool = True):
    """``Predictor.predict_sentences``: the ONNX path (default), or torch (``STANCE_ONNX=0`` at load)."""
    predictor = load_predictor(kind, onnx)
    return predicting(predictor), predictor.model.folder


def load_predictor(kind: str, onnx: bool = True):
    from training.predict import Predictor

    os.environ["STANCE_ONNX"] = "1" if onnx else "0"
    try:
        return Predictor(model_uri(kind))
    finally:
        os.environ.pop("STANCE_ONNX")


def predicting(predictor):
    """One predict of the texts as an article's sentences, every memo cleared first."""
    from labeling.segment import Sentence
    from training.models import encoder, holder_parse

    def run(texts):
        encoder._MEMO.clear()  # memos of embeddings (torch path) and parses: every round does it all
        holder_parse._CACHE.clear()
        predictor.predict_sentences(
            [Sentence("bench", f"bench:{i}", None, None, t) for i, t in enumerate(texts)]
        )

    return run


def torch_encoder(base_model: str):
    """(tokenizer, AutoModel, a sequence-classification model on the same weights)."""
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from training.models import encoder

    hf_logging.set_verbosity_error()  # the new classification head's "newly initialized" notice
    path = encoder.resolve(base_model)
    tok = AutoTokenizer.from_pretrained(path)
    seqcls = AutoModelForSequenceClassification.from_pretrained(path, num_labels=5).eval()
    return tok, AutoModel.from_pretrained(path).eval(), seqcls


def pipeline_row(tok, seqcls, batch_size: int):
    from transformers import pipeline

    clf = pipeline("text-classification", model=seqcls, tokenizer=tok, device=-1)
    kwargs = {"top_k": None, "truncation": True, "max_length": MAX_LENGTH, "batch_size": batch_size}
    return lambda texts: clf(texts, **kwargs)


def bare_row(tok, model, by_length: bool):
    """Tokenize + encoder forward, batches of 64, no pooling or heads (torch)."""
    import torch

    def run(texts: list[str]):
        ordered = sorted(texts, key=len) if by_length else texts
        with torch.inference_mode():
            for at in range(0, len(ordered), BATCH):
                enc = tok(ordered[at : at + BATCH], padding=True, truncation=True, max_length=MAX_LENGTH,
                          return_tensors="pt")  # fmt: skip
                model(**enc)

    return run


def ort_rows(classifier_folder: Path, scratch: Path, label: str) -> dict:
    """Tokenize + the exported encoder's forward pass (onnxruntime), fp32 and dynamic int8."""
    from training.models import onnx_encoder

    int8 = scratch / f"int8-{label}"
    shutil.rmtree(int8, ignore_errors=True)
    (int8 / onnx_encoder.FOLDER).mkdir(parents=True)
    for f in (classifier_folder / onnx_encoder.FOLDER).iterdir():
        shutil.copy2(f, int8 / onnx_encoder.FOLDER / f.name)
    onnx_encoder.quantize(int8)
    fp32_enc, int8_enc = onnx_encoder.OnnxEncoder(classifier_folder), onnx_encoder.OnnxEncoder(int8)
    return {
        f"bare ONNX Runtime forward fp32 ({label})": fp32_enc.run,
        f"bare ONNX Runtime forward int8 ({label})": int8_enc.run,
    }


def throughput(rows: dict, texts: list[str], repeats: int) -> dict[str, dict]:
    """Sentences per second per row: the median of ``repeats`` timed rounds, rows interleaved."""
    seconds: dict[str, list[float]] = {name: [] for name in rows}
    n = len(texts)
    for fn in rows.values():
        fn(texts[:32])  # untimed: lazy loads, allocator and kernel caches, for every row alike
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


# -- fresh processes ---------------------------------------------------------------------------
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

# where a cold start's time goes on the light path: each stage timed in a fresh process, in order
STAGES_CHILD = """
import json, sys, time
t = [time.perf_counter()]
import typer, training.predict  # the CLI and predict module (input checks happen here)
t.append(time.perf_counter())
import pandas
t.append(time.perf_counter())
import sklearn.linear_model, sklearn.feature_extraction.text, scipy.sparse
t.append(time.perf_counter())
from training.models import holder_parse
holder_parse._nlp()
t.append(time.perf_counter())
import onnxruntime, tokenizers
t.append(time.perf_counter())
from labeling.segment import Sentence
predictor = training.predict.Predictor(sys.argv[1])
t.append(time.perf_counter())
predictor.predict_sentences([Sentence("s", "s:1", None, None, "Pakistan urged Kabul to act.")])
t.append(time.perf_counter())
names = ["import the CLI and predict", "import pandas", "import scikit-learn's heads and TF-IDF, scipy",
         "import spaCy and load its English pipeline (the holder's parse)", "import onnxruntime and tokenizers",
         "resolve the alias, load the cached copy (unpickle heads, ONNX session)", "first prediction"]
print(json.dumps({n: round(b - a, 2) for n, a, b in zip(names, t, t[1:])}))
"""


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
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(repeats):
        for name, (cmd, stdin) in cmds.items():
            times[name].append(time_command(cmd, stdin))
    return {name: round(statistics.median(t), 2) for name, t in times.items()}


def _child(code: str, *args: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"benchmark child failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cold_start_stages(kind: str, repeats: int) -> dict[str, float]:
    """Median seconds of each stage of a cold predict, each round in a fresh process."""
    rounds = [_child(STAGES_CHILD, model_uri(kind)) for _ in range(repeats)]
    return {name: round(statistics.median(r[name] for r in rounds), 2) for name in rounds[0]}


def peak_memory(kinds, texts: list[str], scratch: Path) -> dict[str, int]:
    data = scratch / "sentences.json"
    data.write_text(json.dumps(texts))
    return {kind: _child(PEAK_CHILD, model_uri(kind), str(data))["peak_rss_mib"] for kind in kinds}
