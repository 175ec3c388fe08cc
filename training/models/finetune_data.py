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


# training articles held out (finetune's early stopping, the attention head's temperature)
VALIDATION_SHARE = 0.15
VALIDATION_ORDERS = ("random", "newest")


def validation_split(n: int, groups, stances, share: float, seed: int, order: str = "random", dates=None):
    """Hold out whole articles for early stopping (all rows train when groups are unknown).

    ``order`` "random": a seeded random share of the articles. "newest": the newest articles
    by ``dates`` (ISO strings; undated articles count as the oldest), so that the epoch early
    stopping keeps is the one that did best on coverage newer than what it trained on, as the
    time split asks (with "random", older held-out articles chose 7 epochs of 10 where the time
    split preferred 6: experiments/time-split-partial). Without any date it falls back to random.
    Measured once (experiments/time-split-newest): it kept epoch 5 and did no better on the time
    split (0.686 against 0.688), having trained without the articles most like the test.
    """
    idx = np.arange(n)
    if groups is None or len(set(groups)) < 3:
        return idx, idx[:0]
    if order == "newest" and dates is not None and any(dates):
        groups = np.asarray(groups)
        dated = dict(zip(groups, dates, strict=True))
        # newest first; ties broken by article id, so the split does not depend on row order
        ranked = sorted(dated, key=lambda a: (dated[a] or "", a), reverse=True)
        held = set(ranked[: max(1, round(share * len(ranked)))])
        val = np.isin(groups, list(held))
        return idx[~val], idx[val]
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
