"""The encoder as ONNX: exported when a model is saved, run with onnxruntime + tokenizers at load.

A kind with an encoder writes, inside its saved folder, ``onnx/``: the encoder's forward
pass (``input_ids``, ``attention_mask`` -> the kind's outputs: the L2-normalised mean-pooled
embedding, or a fine-tuned model's two heads' logits), the fast tokenizer's
``tokenizer.json`` and ``onnx.json`` (max_length, pad id, output names, int8 or not). The
folder travels inside the logged MLflow model. At load, when it is there, sentences are
tokenized with ``tokenizers`` and run through one reused onnxruntime session: neither
torch nor transformers is imported on that path. ``STANCE_ONNX=0`` falls back to torch
(the benchmark and the equality tests use it).

Throughput: every sentence is tokenized once, sorted by token length, and cut into
batches by tokens (``TOKENS_PER_BATCH`` including padding), so a batch of short sentences
holds many and a batch of long ones few; the session uses every core.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

# onnxruntime (1.32) records each process that imports it (a device id, the Python executable's
# path, the OS, CPU and container) in ~/.cache/Microsoft/DeveloperTools/.onnxruntime/ and sends it to
# Microsoft (mobile.events.data.microsoft.com) unless this is set before it is imported. This module
# is the project's one way to onnxruntime: predict, serving, batch scoring, the ML backend.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

FOLDER = "onnx"
META = "onnx.json"
TOKENIZER = "tokenizer.json"
TOKENS_PER_BATCH = 8192  # padded tokens per forward pass (64 sentences of 128 tokens: torch's batch)
MAX_ROWS = 256


def threads() -> int:
    """``STANCE_THREADS`` when set, else every core."""
    from training.models.encoder import wanted_threads

    return wanted_threads(cap=None)


def available(folder: Path) -> bool:
    """Is there an exported encoder in a saved model's folder (and is the ONNX path on)?"""
    return os.environ.get("STANCE_ONNX", "1") != "0" and (Path(folder) / FOLDER / META).is_file()


# -- export (torch side, at save) ----------------------------------------------------------
def export_pooled(
    model,
    tokenizer,
    folder: Path,
    max_length: int,
    normalize: bool = True,
    int8: bool = False,
    pooling: str = "mean",
    tokens: bool = False,
):
    """Export a frozen (or SetFit) encoder: tokens -> pooled (L2-normalised) embedding.

    ``pooling``: as the recipe's (training/models/encoder.py::pool); the graph holds it.
    ``tokens``: a second output, the token states the attention head reads (the mean of the last
    four layers per token, training/models/encoder.py::layer_tokens); ``OnnxEncoder`` trims it per row.
    """
    import torch

    from training.models.encoder import layer_tokens, pool, pool_states

    class Pooled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = model

        def forward(self, input_ids, attention_mask):
            enc = {"input_ids": input_ids, "attention_mask": attention_mask}
            if not tokens:
                return pool(self.encoder, enc, pooling, normalize)
            states = self.encoder(**enc, output_hidden_states=True).hidden_states
            return pool_states(states, attention_mask, pooling, normalize), layer_tokens(states)

    outputs = ["embedding", "tokens"] if tokens else ["embedding"]
    _export(Pooled(), tokenizer, Path(folder) / FOLDER, max_length, outputs, int8)


def export_module(module, tokenizer, folder: Path, max_length: int, outputs: list[str], int8: bool = False):
    """Export any module whose forward(input_ids, attention_mask) returns a dict with ``outputs``."""
    import torch

    class Outputs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = module

        def forward(self, input_ids, attention_mask):
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask)
            return tuple(out[k] for k in outputs)

    _export(Outputs(), tokenizer, Path(folder) / FOLDER, max_length, outputs, int8)


def _export(module, tokenizer, out: Path, max_length: int, outputs: list[str], int8: bool) -> None:
    import warnings

    import torch

    out.mkdir(parents=True, exist_ok=True)
    enc = tokenizer(["A warm-up sentence for the trace.", "Short."], padding=True, return_tensors="pt")
    module.eval()
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
    axes |= {name: {0: "batch"} | ({1: "tokens"} if name == "tokens" else {}) for name in outputs}
    fp32 = out / "encoder.onnx"
    with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(
            module, (enc["input_ids"], enc["attention_mask"]), str(fp32), dynamo=False,
            input_names=["input_ids", "attention_mask"], output_names=outputs, dynamic_axes=axes,
            opset_version=17, do_constant_folding=True,
        )  # fmt: skip
    tokenizer.backend_tokenizer.save(str(out / TOKENIZER))
    meta = {
        "file": fp32.name,
        "outputs": outputs,
        "max_length": max_length,
        "pad_id": int(tokenizer.pad_token_id or 0),
        "int8": False,
    }
    (out / META).write_text(json.dumps(meta, indent=2) + "\n")
    if int8:
        quantize(out.parent)


def quantize(folder: Path) -> None:
    """Dynamic int8 (int8 weights, activations quantized per batch) in place of a saved fp32 export."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from stance.console import quiet_logger

    out = Path(folder) / FOLDER
    meta = json.loads((out / META).read_text())
    fp32 = out / meta["file"]
    with quiet_logger():  # quantize_dynamic's "consider pre-processing" note, on the root logger
        quantize_dynamic(str(fp32), str(out / "encoder.int8.onnx"), weight_type=QuantType.QInt8)
    fp32.unlink()  # the fp32 weights are the torch ones beside; one ONNX file travels
    (out / META).write_text(json.dumps(meta | {"file": "encoder.int8.onnx", "int8": True}, indent=2) + "\n")


# -- scoring (onnxruntime side, at load) -------------------------------------------------
class OnnxEncoder:
    """One onnxruntime session and its tokenizer, loaded once and reused for every batch."""

    def __init__(self, folder: Path):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        where = Path(folder) / FOLDER
        self.meta = json.loads((where / META).read_text())
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(where / self.meta["file"]), options, providers=["CPUExecutionProvider"]
        )
        self.tokenizer = Tokenizer.from_file(str(where / TOKENIZER))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.meta["max_length"])

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch(list(texts))]

    def run(self, texts: list[str]) -> list:
        """The model's outputs for every text, rows in input order (float32; a per-token output as
        one float16 array per text)."""
        return self.run_ids(self.tokenize(texts))

    def run_ids(self, ids: list[list[int]]) -> list:
        outs: list[np.ndarray] | None = None
        for idx in token_batches([len(i) for i in ids]):
            width = len(ids[idx[0]])
            input_ids = np.full((len(idx), width), self.meta["pad_id"], dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                input_ids[row, : len(ids[i])] = ids[i]
                mask[row, : len(ids[i])] = 1
            got = self.session.run(self.meta["outputs"], {"input_ids": input_ids, "attention_mask": mask})
            if outs is None:  # per-token outputs (3-D) become one (length, d) float16 array per row
                outs = [
                    [None] * len(ids) if g.ndim == 3 else np.zeros((len(ids), *g.shape[1:]), np.float32)
                    for g in got
                ]
            for o, g in zip(outs, got, strict=True):
                if isinstance(o, list):
                    for row, i in enumerate(idx):
                        o[i] = g[row, : len(ids[i])].astype(np.float16)
                else:
                    o[idx] = g
        if outs is None:  # no texts: the output widths come from the graph
            shapes = [o.shape for o in self.session.get_outputs()]
            return [
                [] if len(s) == 3 else np.zeros((0, s[1] if isinstance(s[1], int) else 0), np.float32)
                for s in shapes
            ]
        return outs


def token_batches(lengths: list[int], budget: int = TOKENS_PER_BATCH, max_rows: int = MAX_ROWS):
    """Indices, longest first, cut so each batch's rows x its longest row stays within ``budget``."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    at = 0
    while at < len(order):
        width = max(lengths[order[at]], 1)
        rows = max(1, min(max_rows, budget // width))
        yield order[at : at + rows]
        at += rows


def int8_field():
    """The recipe option every kind with an encoder has (one description, one default)."""
    from pydantic import Field

    return Field(
        False,
        description="Quantize the exported ONNX encoder to dynamic int8: faster, but it cost hybrid-mpnet "
        "0.18 stance macro-F1 on the time split (README, Predict at speed), so off by default.",
    )
