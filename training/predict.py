"""Score new coverage: per-sentence actor and stance with probabilities, and a per-article profile.

Python::

    from training.predict import Predictor
    predictor = Predictor()                      # models:/stance-classifier@champion
    results = predictor.predict_files(["article.txt"])
    results[0].profile["counts"]

Command line: ``stance predict ARTICLES...`` or ``python -m training.predict`` (the command is
``training/predict_cli.py``).
Any model whose label scheme differs from configs/scheme.yaml is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from labeling.articles import Article, article_meta, read_article
from labeling.segment import Sentence, segment
from stance.scheme import Labels, Scheme
from training import reliability
from training.batch_inputs import META
from training.confidence import pair_confidence
from training.context import contexts
from training.inputs import read_sentences_file
from training.outputs import HOLDER_COLUMNS
from training.predict_formats import Format, to_csv, to_jsonl, to_table
from training.tracking import CHAMPION_URI

__all__ = ["Format", "Predictor", "read_sentences_file", "to_csv", "to_jsonl", "to_table"]

DEFAULT_MODEL = CHAMPION_URI
PROGRESS_CHUNK = 256  # sentences a progress line on a long input (predict prints one per chunk)


@dataclass
class SentencePrediction:
    article: str
    sentence_id: str
    start: int | None
    end: int | None
    text: str
    actor: str
    actor_scores: dict[str, float]
    stance: str
    stance_scores: dict[str, float]
    # who the parse reads as the holder, {"phrase", "actor", "from"} (models that parse for it;
    # training/models/holder.py explain): the evidence under `actor`, not a second decision
    holder: dict | None = None
    # of the model's calls of this (actor, stance) pair on articles it never saw, the share that
    # were right (training/reliability.py); None for no stance, a pair called too few times there,
    # or a model logged without the measure
    pair_right: float | None = None

    @property
    def confidence(self) -> float:
        """How sure the model is of its pair (predict's `p`, Label Studio's prediction score):
        :func:`training.confidence.pair_confidence`, the definition the confidence bands read."""
        return pair_confidence(
            self.actor_scores, self.stance_scores, self.actor, self.stance, self.actor_labels_none
        )

    @property
    def actor_labels_none(self) -> str:
        """The no-stance label (:class:`stance.scheme.Labels` knows where it sits)."""
        return Labels.of(self.actor_scores, self.stance_scores).none


@dataclass
class ArticleResult:
    article: str
    sentences: list[SentencePrediction] = field(default_factory=list)
    profile: dict = field(default_factory=dict)
    # its date (as given: "~2025-11" is inferred), outlet, url and headline from the articles.tsv
    # beside its file or in the folder above (None where that row leaves one blank); {} where none
    # names it (standard input, a sentences file, a file without one)
    meta: dict = field(default_factory=dict)


class Predictor:
    """A loaded model, checked against the project's label scheme. Load once, call often.

    ``model.predict(frame)`` returns what the logged pyfunc model returns for the same frame.
    """

    def __init__(self, model_uri: str = DEFAULT_MODEL, scheme: Scheme | None = None):
        self.scheme = scheme or Scheme.load()
        self.model_uri = model_uri
        from training.loading import load_checked

        # a local copy cached by version, loaded without mlflow.pyfunc (training/loading.py)
        self.model = load_checked(model_uri, self.scheme)
        self.model_version, self.inputs = self.model.version, self.model.inputs
        # how far to trust each pair it calls, as its training run measured it (or None)
        self.trust = self.model.trust

    def predict_sentences(
        self,
        sentences: list[Sentence],
        progress=None,
        documents: list | None = None,
        known: list[str | None] | None = None,
    ) -> list[SentencePrediction]:
        """One batch across all sentences given, returned in input order.

        Give an article's sentences in article order: each one's context (where the
        holder of "He said ..." is found) is the sentences of its article before it, or of
        its entry in ``documents`` where given (one key per sentence: two files that share
        an article id are still two articles). ``progress(done, total)``, where given, is
        called after each chunk of ``PROGRESS_CHUNK`` sentences (the contexts are read
        across chunks alike). ``known``, where given, holds the context of each sentence whose
        article the caller has whole (None for the others): a sentence scored without its
        neighbours then reads what it reads in its article.
        """
        import pandas as pd

        if not sentences:
            return []
        texts = [s.text for s in sentences]
        # each sentence's preceding sentences among those given (same article, in the order given)
        frame = pd.DataFrame({"text": texts})
        if "context" in self.inputs:
            given = contexts(documents or [s.article for s in sentences], texts)
            frame["context"] = [
                g if k is None else k for g, k in zip(given, known or [None] * len(given), strict=True)
            ]
        step = PROGRESS_CHUNK if progress else len(frame)
        parts = []
        for at in range(0, len(frame), step):
            parts.append(self.model.predict(frame.iloc[at : at + step].reset_index(drop=True)))
            if progress:
                progress(min(at + step, len(frame)), len(frame))
        out = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
        a_cols = [f"actor:{label}" for label in self.scheme.actor_labels]
        s_cols = [f"stance:{label}" for label in self.scheme.stance_labels]
        a_scores = out[a_cols].to_numpy()
        s_scores = out[s_cols].to_numpy()
        holders = _holders(out)
        right = list(out["pair_right"]) if "pair_right" in out.columns else [None] * len(out)
        return [
            SentencePrediction(
                s.article,
                s.sentence_id,
                s.start,
                s.end,
                s.text,
                out["actor"].iat[i],
                _scores(self.scheme.actor_labels, a_scores[i]),
                out["stance"].iat[i],
                _scores(self.scheme.stance_labels, s_scores[i]),
                holders[i],
                right[i],
            )  # fmt: skip
            for i, s in enumerate(sentences)
        ]

    def predict_articles(
        self, articles: list[Article | list[Sentence]], progress=None, metas: list[dict] | None = None
    ) -> list[ArticleResult]:
        """Each article's sentences and profile, all articles scored as one batch.

        An item may also be an article's sentences already split (a sentences file's rows).
        ``metas``, where given, holds each article's :attr:`ArticleResult.meta` (:func:`meta_of`).
        """
        sentences = [segment(a) if isinstance(a, Article) else a for a in articles]
        # each article's context is its own file's: `dawn/index.html` and `tolo/index.html` are both
        # article "index", and the second's "He said" must not find its holder in the first
        documents = [i for i, group in enumerate(sentences) for _ in group]
        flat = self.predict_sentences([s for group in sentences for s in group], progress, documents)
        # the labels the model was fitted to travel with each profile: a report read from these
        # predictions can then say which sentences were its training data (in-sample)
        fitted_to = {"data_version": self.model.data_version} if self.model.data_version else {}
        # and the model itself, by a URI that names this version: its trust table, for the report
        fitted_to |= {"model": self.model.uri} if self.model.uri else {}
        results, i = [], 0
        metas = metas or [{}] * len(articles)
        for article, group, meta in zip(articles, sentences, metas, strict=True):
            preds = flat[i : i + len(group)]
            i += len(group)
            name = article.id if isinstance(article, Article) else group[0].article if group else ""
            results.append(
                ArticleResult(name, preds, profile(preds, self.scheme, self.trust) | fitted_to, meta)
            )
        return results

    def predict_files(self, files: list[Path | str]) -> list[ArticleResult]:
        """Each file's sentences and profile, named by its headline, outlet and date where an
        articles.tsv beside it (or in the folder above) has its row."""
        return self.predict_articles(
            [read_article(Path(f)) for f in files], metas=[meta_of(f) for f in files]
        )


def meta_of(path: Path | str) -> dict:
    """An article file's date, outlet, url and headline as score-batch keeps them (None where its
    articles.tsv row leaves one blank; the date as given), or {} where no articles.tsv names it."""
    row = article_meta(Path(path))
    return {k: row.get(k) or None for k in META} if row else {}


def _holders(out) -> list[dict | None]:
    """The parse's holder of each row, from the model's ``holder*`` columns (None where it found
    none, or for a model that does not parse for it)."""
    if HOLDER_COLUMNS[0] not in out.columns:
        return [None] * len(out)
    return [
        {"phrase": phrase, "actor": actor or None, "from": source} if phrase else None
        for phrase, actor, source in zip(*(out[c] for c in HOLDER_COLUMNS), strict=True)
    ]


def _scores(labels: list[str], row) -> dict[str, float]:
    return {label: round(float(p), 4) for label, p in zip(labels, row, strict=True)}


def profile(preds: list[SentencePrediction], scheme: Scheme, trust: dict | None = None) -> dict:
    """Counts per actor x stance, and the most confident sentence for each pair found; with the
    model's ``trust`` (``training.reliability.summary``), each pair found also says how often the
    model's calls of it were right on articles it never saw, and where that was measured."""
    counts = {a: {s: 0 for s in scheme.stance_labels if s != scheme.none} for a in scheme.actors}
    best: dict[tuple[str, str], SentencePrediction] = {}
    no_stance = 0
    for p in preds:
        if p.stance == scheme.none:
            no_stance += 1
            continue
        counts[p.actor][p.stance] += 1
        key = (p.actor, p.stance)
        if key not in best or p.confidence > best[key].confidence:
            best[key] = p
    evidence = [
        {
            "actor": a,
            "stance": s,
            "count": counts[a][s],
            "sentence_id": p.sentence_id,
            "text": p.text,
            "p": round(p.confidence, 4),  # its sentence line's `p`, by the same name
        }  # fmt: skip
        | ({"trust": reliability.pair_calls(trust, a, s)} if trust else {})
        for (a, s), p in sorted(best.items(), key=lambda kv: -counts[kv[0][0]][kv[0][1]])
    ]
    out = {"sentences": len(preds), "no_stance": no_stance, "counts": counts, "evidence": evidence}
    if trust:
        keys = ("where", "articles", "sentences", "labels", "newest")
        out["trust_measured"] = {k: trust[k] for k in keys if k in trust}
    return out


def language_note(seen: dict, sentences: int) -> str:
    """The one line predict and score-batch say of the ``sentences`` they scored when some are in
    another language (``seen``, :func:`labeling.articles.other_language`'s finding)."""
    from labeling.articles import other_language_note
    from stance.console import first_few

    named = first_few(seen["articles"])
    return (
        f"note: {seen['sentences']} of these {sentences} sentences ({named}) {other_language_note(seen)}; "
        "score an English translation instead"
    )


if __name__ == "__main__":
    from stance.runner import run
    from training.predict_cli import cli

    run(cli)
