"""The pieces of the stance-head study (experiments/quality.py): features once, heads, decisions.

Everything a variant needs that does not depend on which sentences it trains on is
computed once for all 2466 sentences: each encoder's frozen embeddings (cached on disk
under .stance/cache/, keyed by data version and encoder, since mpnet embeds 6-20
sentences/s here), the actor-name cues and the holder features. Per split (a grouped-CV
fold of the training articles, or the time split) only the TF-IDF vocabulary is fitted,
on that split's training sentences, as `stance train` does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stance import paths
from training import intervals


@dataclass
class Blocks:
    """Fit-free features of every sentence (rows: train then test, in dataset order)."""

    texts: list[str]
    embeddings: dict[str, np.ndarray]  # base_model -> (n, dim), L2-normalised
    named: np.ndarray  # actor-name cues (actor head; a stance-head lever too)
    held: np.ndarray  # holder features, already scaled by the recipe's holder_weight


# Poolings of the frozen encoder's token states beside the shipped one (the last layer's mean),
# for the pooling study (experiments/quality.py --levers pooling): "<base model>@<pooling>".
# last4 is a recipe option (training/models/encoder.py::POOLINGS); layer8 and max are the study's.
STUDIED = ("last4", "layer8", "max")


@dataclass
class Study:
    """What every study reads: the dataset's sentences (train then test rows), labels and splits."""

    scheme: object
    recipe: object
    version: str
    texts: list[str]
    contexts: list[str]
    ids: list[str]  # sentence ids
    y_a: np.ndarray  # actor ids
    y_s: np.ndarray  # stance ids
    arts: np.ndarray  # article ids
    ntr: int  # the first ntr rows are the training articles'
    folds: list  # grouped CV over the training articles: (train rows, test rows)

    @property
    def none_s(self) -> int:
        return self.scheme.labels.none_stance_id

    @property
    def n_s(self) -> int:
        return len(self.scheme.stance_labels)

    @property
    def real(self) -> list[str]:
        return self.scheme.labels.real_actors

    def splits(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """The time split first (the figure the champion rule reads), then the CV folds."""
        n = len(self.texts)
        time_split = ("time", np.arange(self.ntr), np.arange(self.ntr, n))
        return [time_split] + [
            (str(k), np.asarray(tr), np.asarray(te)) for k, (tr, te) in enumerate(self.folds)
        ]


def study(recipe_path: Path) -> Study:
    """The current dataset version (its time split) and the recipe, as every study reads them."""
    from stance.scheme import Scheme
    from training import dataset
    from training.recipes import load_recipe

    scheme = Scheme.load()
    assert scheme.labels.none_actor_id == len(scheme.labels.real_actors), (
        "the studies expect the none actor last"
    )
    dd, meta = dataset.load(None, scheme)
    train, test = dd["train"], dd["test"]
    recipe = load_recipe(recipe_path)

    def both(column: str) -> list:
        return list(train[column]) + list(test[column])

    return Study(
        scheme, recipe, meta["data_version"], both("text"), both("context"), both("sentence_id"),
        np.array(both("actor")),
        np.array(both("stance")), np.array(both("article")), len(train),
        dataset.grouped_folds(train, recipe.cv_folds, recipe.seed),
    )  # fmt: skip


def _cache(base_model: str, version: str, max_length: int) -> Path:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", base_model).strip("-").lower()
    return paths.root() / ".stance" / "cache" / "quality" / f"{version}-{slug}-{max_length}.npy"


def _save(cache: Path, x: np.ndarray) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npy")
    np.save(tmp, x)
    tmp.replace(cache)  # atomic: a cut run leaves no half-written cache


def embeddings(base_model: str, texts: list[str], version: str, recipe) -> np.ndarray:
    """The frozen encoder's embedding of each text, computed once per data version and encoder.

    ``base_model`` may end in ``@<pooling>`` (``STUDIED``): every pooling of that encoder is
    then computed in one pass over the sentences and cached beside the others.
    """
    from training.models import encoder

    cache = _cache(base_model, version, recipe.max_length)
    if cache.is_file():
        x = np.load(cache)
        if x.shape[0] == len(texts):
            return x
    encoder.set_threads()
    if "@" not in base_model:
        x = encoder.embed_frozen(texts, base_model, recipe.batch_size, recipe.max_length)
        _save(cache, x)
        return x
    base = base_model.split("@")[0]
    for name, x in pooled(texts, base, recipe.batch_size, recipe.max_length).items():
        _save(_cache(f"{base}@{name}", version, recipe.max_length), x)
    return np.load(cache)


def pooled(texts: list[str], base_model: str, batch_size: int, max_length: int) -> dict[str, np.ndarray]:
    """Each of ``STUDIED`` (and ``mean``, the shipped one) of every text, L2-normalised, in one pass.

    ``mean`` and ``last4`` as the recipe option pools them (``encoder.from_layer_means``);
    ``layer8``: layer 8's mean-pooled states; ``max``: the last layer's element-wise maximum over
    the real tokens.
    """
    import torch

    from training.models import encoder

    tokenizer, model = encoder.load_frozen(base_model)
    model.eval()
    dim = model.config.hidden_size
    # layer 8 only where there is one (all-MiniLM-L6-v2 has six layers)
    names = [n for n in ("mean", *STUDIED) if n != "layer8" or model.config.num_hidden_layers >= 8]
    out = {name: np.zeros((len(texts), dim), dtype=np.float32) for name in names}
    with torch.inference_mode():
        for idx, enc in encoder.batches_by_length(texts, tokenizer, batch_size, max_length):
            states = model(**enc, output_hidden_states=True).hidden_states  # embeddings, layer 1, ...
            mask = enc["attention_mask"]
            means = [encoder.mean_pool(h, mask) for h in states]
            masked = states[-1].masked_fill(mask.unsqueeze(-1) == 0, float("-inf"))
            for name in names:
                v = (
                    encoder.from_layer_means(means, name) if name in encoder.POOLINGS
                    else means[8] if name == "layer8"
                    else masked.max(dim=1).values
                )  # fmt: skip
                out[name][idx] = torch.nn.functional.normalize(v, dim=-1).numpy()
    return out


def blocks(
    recipe, scheme, texts: list[str], contexts: list[str], version: str, encoders: list[str]
) -> Blocks:
    from training.models import cues, holder

    clf = hybrid(recipe, scheme)
    named = cues.features(texts, clf._cue_pairs(), scheme.labels.real_actors)
    held = recipe.holder_weight * holder.features(texts, contexts, clf._resolver(), recipe.holder_features)
    embs = {m: embeddings(m, texts, version, recipe) for m in encoders}
    return Blocks(texts, embs, named, held)


def hybrid(recipe, scheme):
    """An unfitted classifier of the recipe with its gazetteer read: its cue pairs and holder resolver."""
    from training.models import gazetteer as gaz
    from training.recipes import make_classifier

    clf = make_classifier(recipe, scheme)
    clf.gazetteer_ = gaz.load(scheme.labels.real_actors)
    return clf


def previous_vectors(x: np.ndarray, texts: list[str], contexts: list[str]) -> np.ndarray:
    """Each row's previous sentence's vector (its context's last line, when that sentence is one of
    ``texts``; zero otherwise, e.g. an article's first sentence)."""
    row = {t: i for i, t in enumerate(texts)}
    out = np.zeros_like(x)
    for i, c in enumerate(contexts):
        last = (c or "").rstrip("\n").split("\n")[-1]
        if last in row:
            out[i] = x[row[last]]
    return out


@dataclass(frozen=True)
class StanceHead:
    """One stance-head variant: which dense blocks sit beside the TF-IDF rows, and C."""

    encoders: tuple[tuple[str, float], ...]  # (base_model, weight)
    C: float = 4.0
    holder_cues: float = 0.0  # weight of the actor-name cues + holder features in the stance head (0: off)
    binary: bool = False  # a second head: is there a stance at all?


def split_features(recipe, b: Blocks, train_idx: np.ndarray, test_idx: np.ndarray):
    """(TF-IDF of train, of test), the vocabulary fitted on the split's training sentences only."""
    from training.models.baseline import tfidf_features

    tfidf = tfidf_features(recipe).fit([b.texts[i] for i in train_idx])
    return tfidf.transform([b.texts[i] for i in train_idx]), tfidf.transform([b.texts[i] for i in test_idx])


def stance_x(tfidf, b: Blocks, idx: np.ndarray, head: StanceHead):
    from scipy.sparse import csr_matrix, hstack

    parts = [tfidf] + [csr_matrix(w * b.embeddings[m][idx]) for m, w in head.encoders]
    if head.holder_cues:
        parts += [csr_matrix(head.holder_cues * b.named[idx]), csr_matrix(head.holder_cues * b.held[idx])]
    return hstack(parts).tocsr()


def actor_x(tfidf, b: Blocks, idx: np.ndarray):
    from scipy.sparse import csr_matrix, hstack

    return hstack([tfidf, csr_matrix(b.named[idx]), csr_matrix(b.held[idx])]).tocsr()


def fit_actor(
    recipe, x_train, y_train: np.ndarray, x_test, n_real: int, C: float | None = None
) -> np.ndarray:
    """p(actor | a stance) of the test rows: the actor head fitted on the stance-bearing training rows
    (actor id below ``n_real``: the none actor is the scheme's last), as the hybrid kind fits it."""
    from training.models.base import full_proba

    bearing = y_train != n_real
    clf = logistic(recipe, recipe.C if C is None else C).fit(x_train[bearing], y_train[bearing])
    return full_proba(clf, x_test, n_real)


def logistic(recipe, C: float):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(
        C=C, class_weight=recipe.class_weight, max_iter=recipe.max_iter, random_state=recipe.seed
    )


def fit_stance(recipe, head: StanceHead, x_train, y_train, x_test, n_stances: int, none_id: int, known=None):
    """Stance probabilities of the test rows; with ``binary``, also p(some stance) from a second head.

    ``known``: the five-class probabilities already fitted on the same features (the binary
    variant's five-class head is the champion's), so they are not fitted twice.
    """
    from training.models.base import full_proba

    p = (
        known
        if known is not None
        else full_proba(logistic(recipe, head.C).fit(x_train, y_train), x_test, n_stances)
    )
    if not head.binary:
        return p, None
    bearing = logistic(recipe, head.C).fit(x_train, (y_train != none_id).astype(int))
    return p, bearing.predict_proba(x_test)[:, 1]


# -- decisions: from probabilities to a stance ----------------------------------------------

GRID = np.round(np.arange(-2.0, 2.01, 0.1), 2)  # offsets tried per class, in log-probability units
ROUNDS = 4  # coordinate-ascent sweeps over the classes (it settles in two or three)


def apply_offsets(p: np.ndarray, offsets: np.ndarray | None) -> np.ndarray:
    """``p`` shifted by per-class log-offsets and renormalised (``p`` unchanged when there are none)."""
    if offsets is None:
        return p
    q = np.clip(p, 1e-12, None) * np.exp(np.asarray(offsets))[None, :]
    return q / q.sum(axis=1, keepdims=True)


def macro_f1(y: np.ndarray, pred: np.ndarray, n: int) -> float:
    """Macro-F1 over the classes present in ``y`` or ``pred`` (as scikit-learn counts it)."""
    conf = np.zeros((n, n))
    np.add.at(conf, (np.asarray(y), np.asarray(pred)), 1)
    return float(intervals.macro_f1(conf))


def fit_offsets(
    p: np.ndarray, y: np.ndarray, none_id: int, grid: np.ndarray = GRID, rounds: int = ROUNDS
) -> np.ndarray:
    """Offsets (``none`` at 0) maximising the macro-F1 of ``argmax(log p + offsets)``, by coordinate ascent.

    A change is kept only when it raises macro-F1, so offsets stay at 0 unless they help.
    """
    n = p.shape[1]
    logp = np.log(np.clip(p, 1e-12, None))
    best_b, best = np.zeros(n), macro_f1(y, logp.argmax(axis=1), n)
    for _ in range(rounds):
        moved = False
        for c in (c for c in range(n) if c != none_id):
            for v in grid:
                trial = best_b.copy()
                trial[c] = v
                score = macro_f1(y, (logp + trial).argmax(axis=1), n)
                if score > best + 1e-9:
                    best_b, best, moved = trial, score, True
        if not moved:
            break
    return best_b


def decide(p: np.ndarray, p_bearing, none_id: int, shift=None, bearing_shift: float = 0.0) -> np.ndarray:
    """Argmax of log p + per-class offsets; with a binary head, the argmax of the two heads joined
    (experiments/quality_bearing.py)."""
    if p_bearing is None:
        return apply_offsets(p, shift).argmax(axis=1)
    from experiments import quality_bearing

    return quality_bearing.combine(p, p_bearing, none_id, bearing_shift).argmax(axis=1)


def _f1(y: np.ndarray, pred: np.ndarray, n: int) -> float:
    return macro_f1(y, pred, n)


def paired_e2e(articles, actors, stances, a_ref, a_new, none_id: int) -> tuple[float, float, float]:
    """Actor accuracy end to end of ``a_new`` minus ``a_ref`` (same sentences): (point, lo, hi), paired by article."""
    return intervals.paired_e2e_difference(articles, actors, stances, a_ref, a_new, none_id)
