"""A small trained attention head over the frozen encoder's token states (the hybrid stance head's second voice).

A sentence vector is the mean of the encoder's token states, and a stance hangs on a few of
those tokens (the verb and who says it): the mean dilutes them. This head keeps the encoder
frozen and learns only where to look: each sentence's token states (the mean of the last
four layers, per token) are layer-normed; ``queries`` learned vectors each pool the tokens by
softmax attention (they start at zero, so training starts from mean pooling); the pooled
vectors, the token mean and the hybrid's actor-name cues and holder features feed one linear
layer. Trained with AdamW and class-balanced cross-entropy for a fixed number of epochs.

It is trained with torch (at fit) and run with numpy (at predict, on the torch and the ONNX
paths alike), so one implementation scores every sentence. Measured on the coverage labels
(experiments/quality-attention/result.md): averaged with the hybrid's logistic-regression
stance probabilities it raised time-split stance macro-F1 beyond the interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = 1e-5  # torch.nn.LayerNorm's
BATCH = 32
LR = 1e-3
WEIGHT_DECAY = 1e-2
DROPOUT = 0.2


@dataclass
class AttentionHead:
    """The learned weights (numpy): ``query`` (queries, d), ``weight`` (classes, inputs), ``bias``;
    ``temperature`` divides the logits (1: as trained; heads saved before it have the default)."""

    query: np.ndarray
    weight: np.ndarray
    bias: np.ndarray
    temperature: float = 1.0

    def features(self, tokens: list[np.ndarray], extra: np.ndarray) -> np.ndarray:
        """The linear layer's input per sentence: attention-pooled tokens, their mean, ``extra``."""
        rows = []
        for h in tokens:
            h = _layer_norm(np.asarray(h, dtype=np.float32))
            parts = []
            if len(self.query):
                a = _softmax(h @ self.query.T, axis=0)  # (tokens, queries)
                parts.append((a.T @ h).ravel())
            parts.append(h.mean(axis=0))
            rows.append(np.concatenate(parts))
        pooled = np.stack(rows) if rows else np.zeros((0, self.weight.shape[1] - extra.shape[1]), np.float32)
        return np.hstack([pooled, np.asarray(extra, dtype=np.float32)])

    def logits(self, tokens: list[np.ndarray], extra: np.ndarray) -> np.ndarray:
        return self.features(tokens, extra) @ self.weight.T + self.bias

    def predict_proba(self, tokens: list[np.ndarray], extra: np.ndarray) -> np.ndarray:
        return _softmax(self.logits(tokens, extra) / self.temperature, axis=1)


MODES = ("which", "mean")


def fit_temperature(tokens, extra, y, groups, n_classes: int, queries: int, epochs: int, seed: int) -> float:
    """The temperature of a head trained as :func:`fit` trains it: a head fitted on the training rows
    but a held-out share of the articles (``groups``), its logits on those articles, the temperature
    that minimises their negative log-likelihood (training/calibration.py). The head is trained
    class-balanced and overfits the older articles: without it, the fast recipe's head alone was
    over-confident on new coverage (time-split ECE 0.15). 1 when articles are too few to hold out."""
    from training.calibration import fit_temperature as nll_temperature
    from training.models.finetune_data import VALIDATION_SHARE, validation_split

    y = np.asarray(y)
    train, val = validation_split(len(y), groups, y, VALIDATION_SHARE, seed)
    if not len(val):
        return 1.0
    head = fit([tokens[i] for i in train], extra[train], y[train], n_classes, queries, epochs, seed)
    return nll_temperature(head.logits([tokens[i] for i in val], extra[val]), y[val])


def join(p: np.ndarray, head: np.ndarray, weight: float, mode: str, none_id: int) -> np.ndarray:
    """The stance probabilities: the logistic regression's ``p`` and the attention ``head``'s, averaged
    at ``weight`` (``mode`` "mean"); or (``mode`` "which") p(none) kept from ``p`` and the real stances
    sharing the rest as the average has them: the head says *which* stance, ``p`` *whether* there is one.

    "which" because the head, averaged in fully, turned more of the newest articles' stance-bearing
    sentences to ``none`` and cost holders (experiments/quality-attention/result.md)."""
    mixed = (1 - weight) * p + weight * head
    if mode == "mean":
        return mixed
    real = np.arange(p.shape[1]) != none_id
    out = np.zeros_like(mixed)
    out[:, none_id] = p[:, none_id]
    share = mixed[:, real] / np.clip(mixed[:, real].sum(axis=1, keepdims=True), 1e-12, None)
    out[:, real] = (1 - p[:, [none_id]]) * share
    return out


def _layer_norm(h: np.ndarray) -> np.ndarray:
    mu = h.mean(axis=-1, keepdims=True)
    var = h.var(axis=-1, keepdims=True)
    return (h - mu) / np.sqrt(var + EPS)


def _softmax(z: np.ndarray, axis: int) -> np.ndarray:
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def fit(
    tokens: list[np.ndarray],
    extra: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    queries: int,
    epochs: int,
    seed: int,
    sample_weight: np.ndarray | None = None,
) -> AttentionHead:
    """Train the head on ``tokens`` (one (length, d) array per sentence), ``extra`` and labels ``y``
    (``sample_weight``: one weight per sentence, beside the class weights)."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    d = tokens[0].shape[1]
    n_extra = extra.shape[1]
    # class_weight="balanced", as the hybrid's logistic regressions (which, like scikit-learn's,
    # count a class by its sentences' weights when the sentences are weighted)
    counts = np.bincount(y, weights=sample_weight, minlength=n_classes).astype(float)
    weight = torch.tensor(
        np.where(counts > 0, len(y) / (n_classes * np.maximum(counts, 1)), 0.0), dtype=torch.float32
    )
    lengths = np.array([len(t) for t in tokens])
    # the layer norm has no parameters: each token's normalised state is fixed, so it is computed
    # once here, not once an epoch (torch normalises each token alone: the same numbers as in a batch)
    norm = nn.LayerNorm(d, eps=EPS, elementwise_affine=False)
    with torch.no_grad():
        normed = [norm(torch.from_numpy(np.asarray(t, dtype=np.float32))).numpy() for t in tokens]

    class Module(nn.Module):
        def __init__(self):
            super().__init__()
            self.query = nn.Parameter(torch.zeros(queries, d))
            self.drop = nn.Dropout(DROPOUT)
            self.out = nn.Linear(queries * d + d + n_extra, n_classes)

        def forward(self, h, mask, e):  # h: the normalised token states
            m = mask.unsqueeze(-1).to(h.dtype)
            parts = [(h * m).sum(1) / m.sum(1).clamp(min=1.0)]
            if queries:
                scores = torch.einsum("btd,qd->bqt", h, self.query).masked_fill(
                    ~mask.unsqueeze(1), float("-inf")
                )
                parts.insert(0, torch.einsum("bqt,btd->bqd", scores.softmax(-1), h).flatten(1))
            return self.out(self.drop(torch.cat([*parts, e], 1)))

    def batch(idx):
        width = int(lengths[idx].max())
        h = np.zeros((len(idx), width, d), dtype=np.float32)
        for row, i in enumerate(idx):
            h[row, : lengths[i]] = normed[i]
        mask = torch.arange(width)[None, :] < torch.from_numpy(lengths[idx])[:, None]
        return torch.from_numpy(h), mask, torch.from_numpy(np.asarray(extra[idx], dtype=np.float32))

    model = Module()
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    loss_fn = nn.CrossEntropyLoss(weight=weight)
    per_sentence = nn.CrossEntropyLoss(reduction="none")
    y_t = torch.from_numpy(y)
    sw = None if sample_weight is None else torch.as_tensor(sample_weight, dtype=torch.float32)

    def loss(logits, idx):
        if sw is None:
            return loss_fn(logits, y_t[idx])
        # the class-weighted mean, each sentence's term also scaled by its own weight
        w = weight[y_t[idx]] * sw[idx]
        return (per_sentence(logits, y_t[idx]) * w).sum() / w.sum()

    model.train()
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for at in range(0, len(order), BATCH):
            idx = order[at : at + BATCH]
            opt.zero_grad()
            loss(model(*batch(idx)), idx).backward()
            opt.step()
    with torch.no_grad():
        return AttentionHead(
            query=model.query.detach().numpy().copy(),
            weight=model.out.weight.detach().numpy().copy(),
            bias=model.out.bias.detach().numpy().copy(),
        )
