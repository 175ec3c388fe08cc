"""The ``stance predict`` command: its inputs gathered and checked before the model loads, its
outputs written (never over an input), and the notes it prints on standard error.

Apart from ``training/predict.py``, the library (:class:`training.predict.Predictor` and what it
returns), which ``report``, ``score-batch``, the ML backend and pre-labeling use without this command.
``python -m training.predict`` runs this module's :func:`cli`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from labeling.articles import (
    Article,
    check_sentences,
    other_language,
    read_article,
    read_stdin_article,
)
from stance.console import first_few
from stance.errors import StanceError
from stance.io import check_writable, write_atomic
from training.inputs import by_article, read_sentences_file
from training.predict import DEFAULT_MODEL, PROGRESS_CHUNK, ArticleResult, Predictor, language_note, meta_of
from training.predict_formats import Format, article_record, to_csv, to_jsonl, to_table


def _read_stdin() -> Article:
    return read_stdin_article("no input: give article files, '-' for standard input, or --sentences FILE")


def cli(
    articles: Annotated[
        list[Path] | None,
        typer.Argument(help="Article files (.txt, .html or .pdf); '-' reads standard input."),
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
