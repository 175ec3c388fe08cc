"""The fine-tune's data plumbing for the transformers Trainer: tokenized sentences with both
labels, their padding collator, the validation articles held out for early stopping, and the
validation metrics (training/models/finetune.py uses them)."""

from __future__ import annotations

import numpy as np

# the two label columns of a batch, as the model's forward and the Trainer's label_names call them
LABEL_NAMES = ("actor_labels", "stance_labels")


class Encoded:
    """Tokenized sentences with both labels, as the Trainer's dataset."""

    def __init__(self, tokenizer, texts, actors, stances, max_length, seconds=None):
        from training.models.encoder import tokenize

        # with seconds: the sentence and its context, and which tokens are the sentence's (pool_mask)
        self.enc = tokenize(tokenizer, texts, max_length, seconds)
        self.actors, self.stances = actors, stances

    def __len__(self):
        return len(self.actors)

    def __getitem__(self, i):
        item = {k: v[i] for k, v in self.enc.items()}
        return item | {"actor_labels": int(self.actors[i]), "stance_labels": int(self.stances[i])}


class Collator:
    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def __call__(self, features):
        import torch

        labels = {k: torch.tensor([f.pop(k) for f in features]) for k in LABEL_NAMES}
        pool = [f.pop("pool_mask") for f in features] if "pool_mask" in features[0] else None
        batch = dict(self.tokenizer.pad(features, return_tensors="pt")) | labels
        if pool is not None:  # padded like the tokens (right), padding never pooled
            width = batch["input_ids"].shape[1]
            batch["pool_mask"] = torch.tensor([m + [0] * (width - len(m)) for m in pool])
        return batch


class Cached:
    """The frozen layers' cached outputs per sentence with both labels (``cache_frozen``)."""

    def __init__(self, states, actors, stances, pool_masks=None):
        self.states, self.actors, self.stances, self.pool_masks = states, actors, stances, pool_masks

    def __len__(self):
        return len(self.actors)

    def __getitem__(self, i):
        item = {
            "hidden_states": self.states[i],
            "actor_labels": int(self.actors[i]),
            "stance_labels": int(self.stances[i]),
        }
        return item if self.pool_masks is None else item | {"pool_mask": self.pool_masks[i]}


class CachedCollator:
    """Pads cached hidden states with zeros and masks the padding, as the tokenizer's padding does."""

    def __call__(self, features):
        import torch

        longest = max(len(f["hidden_states"]) for f in features)
        width = features[0]["hidden_states"].shape[1]
        hidden = torch.zeros(len(features), longest, width)
        mask = torch.zeros(len(features), longest, dtype=torch.long)
        for row, f in enumerate(features):
            n = len(f["hidden_states"])
            hidden[row, :n], mask[row, :n] = f["hidden_states"], 1
        labels = {k: torch.tensor([f[k] for f in features]) for k in LABEL_NAMES}
        batch = {"hidden_states": hidden, "attention_mask": mask} | labels
        if "pool_mask" in features[0]:
            pool = torch.zeros(len(features), longest, dtype=torch.long)
            for row, f in enumerate(features):
                pool[row, : len(f["pool_mask"])] = f["pool_mask"]
            batch["pool_mask"] = pool
        return batch


def second_segments(contexts, n: int, count: int) -> list[str] | None:
    """The fine-tune's second segment per sentence: its ``n`` nearest preceding sentences, nearest
    first (so truncation drops the farthest), from the ``context`` column (nearest last, one a line;
    training/context.py). None when ``n`` is 0; empty segments when no context was given."""
    if not n:
        return None
    if contexts is None:
        return [""] * count
    return [" ".join(reversed((c or "").split("\n")[-n:])).strip() for c in contexts]


def inverse_frequency(y: np.ndarray, n: int) -> np.ndarray:
    """Class weights for the fine-tune's losses: inverse class frequency, absent classes 0, the
    present ones averaging 1."""
    counts = np.bincount(y, minlength=n).astype(float)
    w = np.where(counts > 0, len(y) / (n * np.maximum(counts, 1)), 0.0)
    return w / w[counts > 0].mean()


# training articles held out (finetune's early stopping, the attention head's temperature)
VALIDATION_SHARE = 0.15
VALIDATION_ORDERS = ("random", "newest")


def validation_split(n: int, groups, stances, share: float, seed: int, order: str = "random", dates=None):
    """Hold out whole articles for early stopping (all rows train when groups are unknown).

    ``order`` "random": a seeded random share of the articles. "newest": the time split's own
    rule (training/timesplit.py::split) inside the training articles: whole dates, newest first,
    until at least ``share`` of the articles are held out (undated articles stay in training),
    so that the epoch early stopping keeps is the one that did best on coverage newer than what
    it trained on, as the time split asks (with "random", older held-out articles chose 7 epochs
    of 10 where the time split preferred 6: experiments/time-split-partial). With no date, or one
    date for every article, it falls back to random. Measured on the top-two-layers fine-tune
    (experiments/time-split-newest, README): time-split stance 0.705 against 0.688 with random
    validation, inside the intervals; session 13's per-article version, one validation article
    fewer, kept epoch 5 instead of 10 and scored 0.686: early stopping on ~300 sentences is noisy.
    """
    from stance.errors import StanceError
    from training import timesplit

    idx = np.arange(n)
    if groups is None or len(set(groups)) < 3:
        return idx, idx[:0]
    if order == "newest" and dates is not None and any(dates):
        groups = np.asarray(groups)
        try:
            held = timesplit.split(
                groups.tolist(), dict(zip(groups.tolist(), dates, strict=True)), share
            ).test
        except StanceError:  # the newest date holds every article: nothing older to train on
            held = frozenset()
        if held:
            val = np.isin(groups, list(held))
            return idx[~val], idx[val]
    from sklearn.model_selection import GroupShuffleSplit

    split = GroupShuffleSplit(n_splits=1, test_size=share, random_state=seed)
    train, val = next(split.split(idx, stances, np.asarray(groups)))
    return train, val


# what early stopping keeps the best epoch by: stance macro-F1 alone, or with actor accuracy end to end
EARLY_STOPPING = {"stance": "stance_macro_f1", "joint": "stance_plus_actor_e2e"}


def val_metrics(eval_pred, none_stance: int) -> dict[str, float]:
    """The validation figures per epoch. ``actor_e2e`` counts the labeled stance-bearing sentences,
    each right when the stance predicted is not ``none_stance`` and the actor is right;
    ``stance_plus_actor_e2e`` is the project's two targets together (early stopping's "joint")."""
    from sklearn.metrics import f1_score

    (a_logits, s_logits), (actors, stances) = eval_pred.predictions, eval_pred.label_ids
    keep = actors < a_logits.shape[1]
    s_pred, a_pred = s_logits.argmax(1), a_logits.argmax(1)
    stance = f1_score(stances, s_pred, average="macro", zero_division=0)
    e2e = (
        float(((s_pred[keep] != none_stance) & (a_pred[keep] == actors[keep])).mean()) if keep.any() else 0.0
    )
    return {
        "stance_macro_f1": stance,
        "actor_accuracy_stance_bearing": float((a_pred[keep] == actors[keep]).mean()) if keep.any() else 0.0,
        "actor_e2e": e2e,
        "stance_plus_actor_e2e": stance + e2e,
    }
