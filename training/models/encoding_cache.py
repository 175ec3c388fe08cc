"""The frozen encoder's outputs kept on disk between runs (``stance train``, the study scripts).

The in-process memo (training/models/encoder.py) spares grouped CV a second pass over the same
sentences; each new process still paid one pass: about 100 s of a ``stance train`` of the demo
recipe on 2 cores, and every rolling-origin study's first block. A sentence's vector and token
states are a pure function of (encoder weights, max_length, pooling, text) since the batch width
no longer depends on the batch (``batches_by_width``), so they can be kept:
``.stance/cache/encodings/<key>/`` holds shards of (texts, vectors, token states) exactly as they
were computed, and a later run reads them back bit for bit.

The key is the encoder's identity (its folder, a packaged model's once assembled, and the weight
files' sizes and modification times), ``max_length``, the pooling, the torch version and its thread
count (matrix products may sum in another order on another count), and :data:`VERSION`, bumped
whenever the code that computes the outputs changes. A hub id has no identity to check, so it is
not cached.

Only training and the study scripts turn it on (:func:`enabled`, around the work); predict and a
served model never write here. A shard that cannot be read is skipped (its sentences are encoded
again); a cache that cannot be written says so once and the run goes on without it. Clear it with
``rm -rf .stance/cache/encodings``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

from stance import paths

VERSION = 1  # bump when the encoder's outputs change for the same weights and settings
_ON = False
_WARNED = False


@contextmanager
def enabled():
    """Read and write the disk cache inside the block (training and studies only)."""
    global _ON
    before, _ON = _ON, os.environ.get("STANCE_ENCODING_CACHE", "on") != "off"
    try:
        yield
    finally:
        _ON = before


def folder(base_model: str, max_length: int, pooling: str) -> Path | None:
    """Where this encoder's outputs for these settings are kept, or None (off, or no identity)."""
    if not _ON:
        return None
    ident = identity(base_model)
    if ident is None:
        return None
    import torch

    key = json.dumps([VERSION, ident, max_length, pooling, torch.__version__, torch.get_num_threads()])
    return paths.state() / "cache" / "encodings" / hashlib.sha256(key.encode()).hexdigest()[:20]


def identity(base_model: str) -> list | None:
    """What the weights are: the resolved folder and its weight files (name, size, modification
    time; a re-assembled packaged model is a new identity); None for a hub id."""
    from training.models import encoder

    where = Path(encoder.resolve(base_model))
    if not where.is_dir():
        return None
    files = sorted(p for p in where.rglob("*") if p.suffix in (".safetensors", ".bin") and p.is_file())
    if not files:
        return None
    return [str(where.resolve())] + [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in files]


def read(where: Path) -> tuple[dict, dict]:
    """(text -> vector, text -> token states) of every readable shard under ``where``."""
    import numpy as np

    vectors, tokens = {}, {}
    for shard in sorted(where.glob("*.npz")) if where.is_dir() else []:
        try:
            with np.load(shard, allow_pickle=False) as z:
                texts, v, t, n = z["texts"].tolist(), z["vectors"], z["tokens"], z["lengths"]
                ends = np.cumsum(n)
                if len(texts) != len(v) or len(texts) != len(n) or (len(n) and ends[-1] != len(t)):
                    raise ValueError("inconsistent arrays")
                for i, text in enumerate(texts):
                    vectors[text], tokens[text] = v[i], t[ends[i] - n[i] : ends[i]]
        except Exception as exc:  # a torn or foreign file: its sentences are encoded again
            _warn(f"skipped an unreadable encoding cache file {shard.name} ({type(exc).__name__})")
    return vectors, tokens


def write(where: Path, texts: list[str], vectors, tokens: list) -> None:
    """One shard of newly encoded sentences, written atomically; a failure is reported once."""
    import io

    import numpy as np

    from stance.errors import StanceError
    from stance.io import write_atomic

    if not texts:
        return
    shard = io.BytesIO()
    np.savez(
        shard,
        texts=np.array(texts, dtype=str),
        vectors=np.asarray(vectors),
        tokens=np.concatenate(tokens) if tokens else np.zeros((0, 1), np.float16),
        lengths=np.array([len(t) for t in tokens], dtype=np.int64),
    )
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:20]
    try:
        write_atomic(where / f"{digest}.npz", shard.getvalue())
    except StanceError as exc:
        _warn(f"the encoding cache could not be written ({exc}); going on without it")


def _warn(message: str) -> None:
    global _WARNED
    if not _WARNED:
        print(f"warning: {message}", file=sys.stderr)
        _WARNED = True
