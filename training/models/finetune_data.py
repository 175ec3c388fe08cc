"""The fine-tune's data plumbing for the transformers Trainer: tokenized sentences with both
labels, their padding collator, the validation articles held out for early stopping, and the
validation metrics (training/models/finetune.py uses them)."""

from __future__ import annotations

import numpy as np


class Encoded:
    """Tokenized sentences with both labels, as the Trainer's dataset."""

    def __init__(self, tokenizer, texts, actors, stances, max_length):
        self.enc = tokenizer(texts, truncation=True, max_length=max_length)
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

        labels = {k: torch.tensor([f.pop(k) for f in features]) for k in ("actor_labels", "stance_labels")}
        return dict(self.tokenizer.pad(features, return_tensors="pt")) | labels


VALIDATION_SHARE = (
    0.15  # training articles held out (finetune's early stopping, the attention head's temperature)
)


def validation_split(n: int, groups, stances, share: float, seed: int):
    """Hold out whole articles for early stopping (all rows train when groups are unknown)."""
    idx = np.arange(n)
    if groups is None or len(set(groups)) < 3:
        return idx, idx[:0]
    from sklearn.model_selection import GroupShuffleSplit

    split = GroupShuffleSplit(n_splits=1, test_size=share, random_state=seed)
    train, val = next(split.split(idx, stances, np.asarray(groups)))
    return train, val


def val_metrics(eval_pred) -> dict[str, float]:
    from sklearn.metrics import f1_score

    (a_logits, s_logits), (actors, stances) = eval_pred.predictions, eval_pred.label_ids
    keep = actors < a_logits.shape[1]
    return {
        "stance_macro_f1": f1_score(stances, s_logits.argmax(1), average="macro", zero_division=0),
        "actor_accuracy_stance_bearing": float((a_logits[keep].argmax(1) == actors[keep]).mean())
        if keep.any()
        else 0.0,
    }
