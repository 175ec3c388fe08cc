"""Score a whole collection at once: ``stance score-batch INPUT OUTPUT [--engine local|spark]``.

INPUT is a folder of articles (``*.txt``/``*.html``, directly or in ``articles/``, with an optional
``articles.tsv`` giving each article's date, outlet, url and headline), a file of sentences
(JSONL as ``stance predict --sentences`` reads it, or Parquet with a ``text`` column), or a folder
of Parquet files with a ``text`` column (a dataset, partitioned or not: a Spark job's output, or
this command's own ``sentences/``, to score again with another model). OUTPUT is a
folder: ``sentences/``, Parquet partitioned by article ``date`` (``undated`` when unknown), with
predict's per-sentence columns (unrounded probabilities; ``pair_right``, how far to trust each call,
from the model's trust table) plus the article metadata, and ``profiles/``, one row per article with
predict's profile as JSON (each pair's trust included), and ``model.json``, what scored them (the
model's registered version, data version and run, its trust table; ``other_language``, the
sentences written mostly in another language than English, as the report's summary.json has it),
so that ``stance report OUTPUT`` can report on the batch without scoring it again; the command
names those sentences in one line, as predict does. A file of the folder that is not an
article (empty, binary, too large) is passed over and listed, with the reason, in
``skipped.jsonl``, and so is a copy of another article's text (``same_as``: a page saved again,
as the coverage report passes it over); a folder with no readable article is refused.

``--engine spark`` (``--master local[*]`` by default, a cluster's URL otherwise) reads and segments
the articles on the executors with the one segmenter and scores with ``mlflow.pyfunc.spark_udf``
of the model; ``--engine local`` does the same in this process. Results are written to a
temporary folder beside OUTPUT and moved into place when complete: a failed run leaves nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from labeling.articles import check_any_read
from stance.console import counted
from stance.errors import StanceError
from stance.io import dumps_jsonl
from stance.scheme import Scheme
from training.batch_inputs import (
    DATE_GIVEN,
    META,
    UNDATED,
    article_files,
    articles_folder,
    check_one_a_line,
    is_parquet_dataset,
    note_repeats,
    other_files,
    parquet_parts,
    segment_rows,
    sentence_frame,
)
from training.tracking import CHAMPION_URI

DAY = r"\d{4}-\d{2}-\d{2}"
# a sentences file: JSONL or one sentence a line (as predict --sentences), or Parquet; a folder's
# articles.tsv or a CSV passed by mistake would otherwise be scored line by line
SENTENCE_SUFFIXES = {".jsonl", ".ndjson", ".json", ".txt", ".parquet", ""}
# the master URLs Spark takes (local, local[N], local[*], local[N,F], spark://, yarn, k8s://)
SPARK_MASTER = re.compile(r"local(\[(\d+|\*)(,\d+)?\])?|yarn|spark://.+|k8s://.+")


class Engine(StrEnum):
    local = "local"
    spark = "spark"


# -- outputs -----------------------------------------------------------------------------
def score_columns(scheme) -> list[str]:
    return [f"actor:{a}" for a in scheme.actor_labels] + [f"stance:{s}" for s in scheme.stance_labels]


def row_columns(scheme) -> list[str]:
    """The written sentence rows' columns, in order, for both engines (``date`` partitions them:
    the article's day; ``date_given`` keeps its metadata's date as written, "~2025-03" included)."""
    lead = ["article", "sentence_id", "start", "end", "text", "actor", "stance", "p", "pair_right"]
    return [*lead, *score_columns(scheme), *META, DATE_GIVEN]


def pair_p(frame, scheme):
    """Predict's ``p`` for each scored row of a pandas frame (its labels and probability columns)."""
    from training.confidence import pair_confidences

    cols = score_columns(scheme)
    a_cols, s_cols = cols[: len(scheme.actor_labels)], cols[len(scheme.actor_labels) :]
    return pair_confidences(
        frame[a_cols].to_numpy(), frame[s_cols].to_numpy(), frame["actor"].tolist(), frame["stance"].tolist(),
        scheme.actor_labels, scheme.stance_labels, scheme.none,
    )  # fmt: skip


def pair_right_column(frame, trust: dict | None):
    """Predict's ``pair_right`` for each scored row (missing throughout for a model without a trust
    table): training.outputs.pair_right as floats, NaN where missing, which Arrow writes as null."""
    import numpy as np

    from training.outputs import pair_right

    if trust is None:
        return np.full(len(frame), np.nan)
    return pair_right(trust, frame["actor"], frame["stance"]).astype("float64").to_numpy()


def profiles_frame(sentences, scheme, trust: dict | None = None):
    """Per-article profiles (predict's, with the model's ``trust``) of a frame of scored sentences."""
    import pandas as pd

    from training.predict import SentencePrediction, profile

    rows = []
    for article, group in sentences.groupby("article", sort=True):
        group = group.sort_values(["start", "sentence_id"], na_position="last")
        preds = [
            SentencePrediction(
                r["article"],
                r["sentence_id"],
                None,
                None,
                r["text"],
                r["actor"],
                {a: float(r[f"actor:{a}"]) for a in scheme.actor_labels},
                r["stance"],
                {s: float(r[f"stance:{s}"]) for s in scheme.stance_labels},
            )  # fmt: skip
            for _, r in group.iterrows()
        ]
        first = group.iloc[0]
        info = {k: first[k] for k in (*META, DATE_GIVEN)}
        found = profile(preds, scheme, trust)
        rows.append({"article": article, **info, "profile": json.dumps(found, ensure_ascii=False)})
    return pd.DataFrame(rows, columns=["article", *META, DATE_GIVEN, "profile"])


SKIPPED = "skipped.jsonl"
MODEL_RECORD = "model.json"  # what scored the batch, for `stance report OUTPUT`


def is_batch_output(path: Path) -> bool:
    """A score-batch OUTPUT folder: its ``sentences/`` and ``model.json``."""
    return (path / "sentences").is_dir() and (path / MODEL_RECORD).is_file()


def model_record(
    model_uri: str, scheme, trust: dict | None, engine: str, sentences: int, cached=None
) -> dict:
    """What scored a batch, as the coverage report names a model (training.report_render's
    header: registered version, data version, run) with the ``trust`` table the engine scored
    with, the engine and the count. With the store unreachable, the ``cached`` copy that scored
    (training.loading.Loaded) says what it is."""
    from training.report_render import model_header

    if cached is None:
        header = model_header(model_uri, scheme)
    else:  # the store is not asked again
        header = {
            "model": cached.version,
            "data_version": cached.data_version or "?",
            "scheme_hash": scheme.hash,
        }
    return header | {"trust": trust, "engine": engine, "sentences": sentences}


def other_language_of(sentences: Path) -> dict | None:
    """The written rows in another language than English (labeling.articles.other_language: the
    report's summary.json ``other_language``), read back a batch of ``article`` and ``text`` at a
    time: both engines are read alike from what they wrote, and a large batch's texts are not held
    twice."""
    from labeling.articles import other_language

    return other_language(_article_texts(sentences))


def _article_texts(sentences: Path):
    """Each written row's (article, text), a Parquet batch at a time."""
    import pyarrow.parquet as pq

    for part in parquet_parts(sentences):
        for batch in pq.ParquetFile(part).iter_batches(columns=["article", "text"]):
            yield from zip(batch["article"].to_pylist(), batch["text"].to_pylist(), strict=True)


def _partition_value(date) -> str:
    """The day a date partitions by: YYYY-MM-DD, inferred ("~2025-10-18") or not; otherwise
    (none, a month or a year alone) ``undated``."""
    day = date.removeprefix("~") if isinstance(date, str) else ""
    return day if re.fullmatch(DAY, day) else UNDATED


def _prepare_output(output: Path, overwrite: bool) -> Path:
    if output.exists() and (output.is_file() or any(output.iterdir())):
        if not is_batch_output(output):  # --overwrite replaces an earlier OUTPUT, never other files
            raise StanceError(
                f"{output} holds files that are not score-batch results: choose a new or empty folder "
                "(--overwrite replaces only an earlier score-batch OUTPUT)"
            )
        if not overwrite:
            raise StanceError(f"{output} already holds results: pass --overwrite to replace them")
    output.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))


def _move_into_place(tmp: Path, output: Path) -> None:
    if output.exists():
        shutil.rmtree(output) if output.is_dir() else output.unlink()
    tmp.rename(output)


# -- engines -----------------------------------------------------------------------------
def run_local(
    input_path: Path, out: Path, model_uri: str, skipped: list[dict]
) -> tuple[int, dict | None, object]:
    """Score in this process: (sentences scored, the model's trust table, the loaded model where it
    is the cached copy, the store not answering; else None)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from training.predict import Predictor

    frame = _local_input(input_path, skipped)
    predictor = Predictor(model_uri)
    if predictor.model.cached:  # as predict says it
        print(f"model: {predictor.model_version}", file=sys.stderr)
    scored = predictor.model.predict(pd.DataFrame({c: frame[c].tolist() for c in predictor.inputs}))
    cols = score_columns(predictor.scheme)
    frame = frame.reset_index(drop=True)
    frame["actor"], frame["stance"] = scored["actor"].to_numpy(), scored["stance"].to_numpy()
    for c in cols:
        frame[c] = scored[c].to_numpy(dtype="float64")
    frame["p"] = pair_p(frame, predictor.scheme)
    frame["pair_right"] = pair_right_column(frame, predictor.trust)
    frame[DATE_GIVEN] = [d if isinstance(d, str) and d else None for d in frame["date"]]
    frame["date"] = [_partition_value(d) for d in frame["date"]]
    order = row_columns(predictor.scheme)
    pq.write_to_dataset(
        pa.Table.from_pandas(frame[order], preserve_index=False), out / "sentences", partition_cols=["date"]
    )
    (out / "profiles").mkdir()
    profiles_frame(frame, predictor.scheme, predictor.trust).to_parquet(
        out / "profiles" / "part-0.parquet", index=False
    )
    return len(frame), predictor.trust, predictor.model if predictor.model.cached else None


def _local_input(input_path: Path, skipped: list[dict]):
    import pandas as pd

    if input_path.is_dir() and not is_parquet_dataset(input_path):
        files, meta = article_files(input_path)
        files, words = [f.resolve() for f in files], {}  # named as Spark's executors name them
        rows = segment_rows([str(f) for f in files], meta, skipped, words)
        check_any_read(input_path, skipped, len(files))
        copies = note_repeats(files, words, set(meta), skipped)
        skipped += other_files(articles_folder(input_path))
        return pd.DataFrame([r for r in rows if r["article"] not in copies])
    return sentence_frame(input_path)


def check_java() -> None:
    """Spark 4 needs Java 17 or later: one line saying so rather than a JVM stack trace."""
    java = (
        Path(os.environ["JAVA_HOME"]) / "bin" / "java"
        if os.environ.get("JAVA_HOME")
        else shutil.which("java")
    )
    if not java or not Path(java).is_file():
        raise StanceError(
            "Spark needs Java 17 or later and none was found: run `make java` (Debian's default-jre-headless)"
        )
    out = subprocess.run([str(java), "-version"], capture_output=True, text=True)
    found = re.search(r'version "(\d+)', out.stderr + out.stdout)
    if not found or int(found.group(1)) < 17:
        raise StanceError(
            f"Spark needs Java 17 or later, {java} is {found.group(1) if found else 'unknown'}: run `make java`"
        )


def run_spark(
    input_path: Path, out: Path, model_uri: str, master: str, skipped: list[dict]
) -> tuple[int, dict | None]:
    from training import spark_job

    check_java()
    return spark_job.run(input_path, out, model_uri, master, skipped)


# -- command -----------------------------------------------------------------------------
def cli(
    input: Annotated[
        Path,
        typer.Argument(
            help="A folder of articles (optional articles.tsv), a JSONL/Parquet file of sentences, "
            "or a folder of Parquet files (a dataset, e.g. an earlier run's sentences/)."
        ),
    ],
    output: Annotated[Path, typer.Argument(help="A folder: sentences/ (Parquet by date) and profiles/.")],
    engine: Annotated[Engine, typer.Option(help="Where to run: this process, or Spark.")] = Engine.local,
    master: Annotated[
        str | None, typer.Option(help="Spark master URL (a cluster's, or local[N]; local[*] if not given).")
    ] = None,
    model: Annotated[str, typer.Option(help="Any MLflow model URI.")] = CHAMPION_URI,
    overwrite: Annotated[bool, typer.Option(help="Replace results already in OUTPUT.")] = False,
) -> None:
    """Score a collection (articles or sentences) in bulk into Parquet, on Spark or locally."""
    if not input.exists():
        raise StanceError(f"{input}: no such file or folder")
    if master is not None and engine != Engine.spark:  # it would score in this process all the same
        raise StanceError(
            f"--master {master} is for Spark: add --engine spark (without it, score-batch scores here)"
        )
    master = master or "local[*]"
    if engine == Engine.spark and not SPARK_MASTER.fullmatch(master):  # Spark's own answer is a traceback
        raise StanceError(
            f"--master {master}: not a Spark master URL (local[N], local[*], spark://HOST:PORT, yarn or k8s://...)"
        )
    if is_batch_output(input):
        input = input / "sentences"  # an earlier run's OUTPUT: its sentences, not its profiles
    if input.is_file() and input.suffix.lower() not in SENTENCE_SUFFIXES:
        raise StanceError(
            f"{input}: score-batch reads a folder of articles, or a file of sentences "
            f"({', '.join(sorted(s for s in SENTENCE_SUFFIXES if s))}), not a {input.suffix} file"
        )
    if input.is_file() and input.suffix.lower() in {".txt", ""}:
        check_one_a_line(input)
    tmp, skipped = _prepare_output(output, overwrite), []
    try:
        if engine == Engine.spark:
            (n, trust), cached = run_spark(input, tmp, model, master, skipped), None
        else:
            n, trust, cached = run_local(input, tmp, model, skipped)
        seen = other_language_of(tmp / "sentences")
        record = model_record(model, Scheme.load(), trust, engine.value, n, cached) | {"other_language": seen}
        (tmp / MODEL_RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        if skipped:
            (tmp / SKIPPED).write_text(
                dumps_jsonl(sorted(skipped, key=lambda s: s["file"])), encoding="utf-8"
            )
        _move_into_place(tmp, output)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"scored {counted(n, 'sentence')} ({engine.value}) -> {output}/sentences (by date), {output}/profiles"
    )
    copies = sorted((s for s in skipped if "same_as" in s), key=lambda s: s["file"])
    if others := len(skipped) - len(copies):
        print(
            f"skipped {counted(others, 'file that is not an article', 'files that are not articles')}, "
            f"each with its reason: {output}/{SKIPPED}"
        )
    if copies:
        print(f"passed over {repeats_in_words(copies)}; listed in {output}/{SKIPPED}")
    if seen:
        from training.predict import language_note

        print(language_note(seen, n))


def repeats_in_words(copies: list[dict], shown: int = 5) -> str:
    """The copies a batch passed over, each named with the article it repeats (the first ``shown``)."""
    named = ", ".join(f"{Path(c['file']).name} ({c['same_as']})" for c in copies[:shown])
    more = f" and {len(copies) - shown} more" if len(copies) > shown else ""
    return (
        f"{counted(len(copies), 'file')} with the same text as another article, not counted "
        f"twice: {named}{more}"
    )


if __name__ == "__main__":
    from stance.runner import run

    run(cli)
