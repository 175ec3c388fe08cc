"""Score new coverage: per-sentence actor and stance with probabilities, and a per-article profile.

Python::

    from training.predict import Predictor
    predictor = Predictor()                      # models:/stance-classifier@champion
    results = predictor.predict_files(["article.txt"])
    results[0].profile["counts"]

Command line: ``stance predict ARTICLES...`` or ``python -m training.predict``.
Any model whose label scheme differs from configs/scheme.yaml is refused.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from labeling.articles import (
    Article,
    article_meta,
    check_sentences,
    other_language,
    other_language_note,
    read_article,
    read_stdin_article,
)
from labeling.segment import Sentence, segment
from stance.console import first_few
from stance.errors import StanceError
from stance.io import check_writable, write_atomic
from stance.scheme import Labels, Scheme
from training import reliability
from training.batch_inputs import META
from training.confidence import pair_confidence
from training.context import contexts
from training.inputs import by_article, read_sentences_file
from training.outputs import HOLDER_COLUMNS
from training.predict_formats import Format, article_record, to_csv, to_jsonl, to_table
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


# -- inputs --------------------------------------------------------------------------
def _read_stdin() -> Article:
    return read_stdin_article("no input: give article files, '-' for standard input, or --sentences FILE")


def cli(
    articles: Annotated[
        list[Path] | None, typer.Argument(help="Article files (.txt, .html); '-' reads standard input.")
    ] = None,
    sentences: Annotated[
        list[Path] | None,
        typer.Option(
            help=(
                "A file of sentences: one per line, or JSONL with a 'text' field (give it again for more; "
                "'-' reads standard input)."
            ),
        ),
    ] = None,
    model: Annotated[str, typer.Option(help="Any MLflow model URI.")] = DEFAULT_MODEL,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.jsonl,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (atomically), not stdout.")
    ] = None,
    profile_out: Annotated[
        Path | None, typer.Option("--profile", help="Also write the per-article profiles as JSON here.")
    ] = None,
) -> None:
    """Predict actor and stance for every sentence, and each article's stance profile."""
    inputs, metas = _gather(articles or [], sentences or [])  # every input checked before the model loads
    for path, what in ((output, "predictions"), (profile_out, "profiles")):
        if path:
            check_writable(path, what)  # before the work, not after it
    _refuse_overwrites(output, profile_out, [*(articles or []), *(sentences or [])])
    predictor = Predictor(model)
    print(f"model: {predictor.model_version}", file=sys.stderr)
    results = predictor.predict_articles(inputs, _progress, metas)  # one batch across all inputs
    text = {
        Format.jsonl: lambda: to_jsonl(results),
        Format.csv: lambda: to_csv(results, predictor.scheme),
        Format.table: lambda: to_table(results, predictor.scheme),
    }[format]()
    if output:
        write_atomic(output, text)
    else:
        sys.stdout.write(text)
    if profile_out:
        write_atomic(profile_out, json.dumps([article_record(r) for r in results], indent=2))
    for note in (_in_sample_note(results, predictor.model.data_version), _language_note(results)):
        if note:
            print(note, file=sys.stderr)


def _in_sample_note(results: list[ArticleResult], data_version: str | None) -> str | None:
    """A note when some of the sentences were the model's labeled training data (an article of
    the project's own, such as `make demo`'s): its calls on them say little of new coverage."""
    from training import lineage

    preds = [p for r in results for p in r.sentences]
    flags = lineage.in_sample(data_version, [p.text for p in preds])
    hit = [p for p, seen in zip(preds, flags, strict=True) if seen]
    if not hit:
        return None
    articles = sorted({p.article for p in hit})
    named = first_few(articles)
    return (
        f"note: {len(hit)} of these {len(preds)} sentences ({named}) were the model's labeled training "
        "data: its calls on them are in-sample, no measure of how it does on new coverage"
    )


def _language_note(results: list[ArticleResult]) -> str | None:
    """A note when some sentences are written mostly in another language than English (an Urdu,
    Pashto or Dari article in the folder, or a French or Roman Urdu one in Latin letters): the
    model learned from English coverage alone, and scores them all the same, at any p."""
    preds = [p for r in results for p in r.sentences]
    seen = other_language([(p.article, p.text) for p in preds])
    return language_note(seen, len(preds)) if seen else None


def language_note(seen: dict, sentences: int) -> str:
    """The one line predict and score-batch say of the ``sentences`` they scored when some are in
    another language (``seen``, :func:`labeling.articles.other_language`'s finding)."""
    named = first_few(seen["articles"])
    return (
        f"note: {seen['sentences']} of these {sentences} sentences ({named}) {other_language_note(seen)}; "
        "score an English translation instead"
    )


def _progress(done: int, total: int) -> None:
    """A line on standard error per chunk of a long input (a batch of one chunk says nothing)."""
    if total > PROGRESS_CHUNK:
        print(f"scored {done} of {total} sentences", file=sys.stderr, flush=True)


def _gather(articles: list[Path], sentence_files: list[Path]) -> tuple[list, list[dict]]:
    """The inputs to score, each checked, and each one's metadata (:func:`meta_of`; {} for standard
    input and a sentences file's articles)."""
    piped = [p for p in [*articles, *sentence_files] if str(p) == "-"]
    if len(piped) > 1:
        raise StanceError("standard input ('-') can be read once: give it as one article or one --sentences")
    inputs: list = []
    sources: list[str] = []
    metas: list[dict] = []
    for path in articles:
        if str(path) == "-":
            inputs.append(check_sentences(_read_stdin(), "standard input"))
        else:
            inputs.append(check_sentences(read_article(path), str(path)))
        metas.append({} if str(path) == "-" else meta_of(path))
        sources.append("standard input" if str(path) == "-" else str(path))
    for sentences in sentence_files:
        groups = by_article(read_sentences_file(sentences))  # one profile per article named in it
        inputs += groups
        name = "standard input" if str(sentences) == "-" else sentences
        sources += [f"the rows of {name} that name it"] * len(groups)
    if not inputs:
        inputs.append(check_sentences(_read_stdin(), "standard input"))
        sources.append("standard input")
    _refuse_shared_ids(inputs, sources)
    return inputs, metas + [{}] * (len(inputs) - len(metas))


def _refuse_overwrites(output: Path | None, profile_out: Path | None, inputs: list[Path]) -> None:
    """An output never replaces an input, nor the other output: one of the two would be lost."""
    read = {p.resolve(): p for p in inputs if str(p) != "-"}
    for path, option in ((output, "--output"), (profile_out, "--profile")):
        if path and path.resolve() in read:
            raise StanceError(f"{option} {path} is an input: writing there would replace it; write elsewhere")
    if output and profile_out and output.resolve() == profile_out.resolve():
        raise StanceError(
            f"--output and --profile are both {output}: the profiles would replace the predictions; "
            "give each its own file"
        )


def _refuse_shared_ids(inputs: list, sources: list[str]) -> None:
    """Two inputs that are one article id (dawn/index.html and tolo/index.html; a.txt given twice)
    would be one article to whatever reads the output (`stance report` merges them by id)."""
    seen: dict[str, str] = {}
    for item, source in zip(inputs, sources, strict=True):
        article = item.id if isinstance(item, Article) else item[0].article
        if article in seen and seen[article] == source:
            raise StanceError(f"{source}: given twice; give each article once")
        if article in seen:
            raise StanceError(
                f"{seen[article]} and {source} are both article '{article}' (an article file is named by "
                "its file name, without its folder and suffix): give each article once, under its own name"
            )
        seen[article] = source


if __name__ == "__main__":
    from stance.runner import run

    run(cli)
