"""The Spark side of ``stance score-batch --engine spark``.

Executors read and segment the articles (the one segmenter, :func:`labeling.segment.segment`),
``mlflow.pyfunc.spark_udf`` scores the sentences with the model, and the per-article profiles are
computed per article group from the written sentences. On a cluster the project's code is shipped
to the executors as a zip; the input and output paths must be visible to every executor (a shared
file system, or an object store URL Spark can write).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
import threading
import zipfile
from pathlib import Path

from labeling.articles import check_any_read
from stance import paths
from stance.console import quiet_logger
from stance.errors import StanceError
from stance.scheme import Scheme
from training.batch_inputs import (
    DATE_GIVEN,
    META,
    article_files,
    articles_folder,
    check_parquet,
    check_texts,
    is_parquet_dataset,
    note_repeats,
    other_files,
    segment_rows,
    sentence_frame,
)
from training.score_batch import (
    DAY,
    UNDATED,
    pair_p,
    pair_right_column,
    profiles_frame,
    row_columns,
    score_columns,
)

SENTENCE_SCHEMA = (
    "article string, sentence_id string, start int, end int, text string, "
    + ", ".join(f"{k} string" for k in META)
    + ", context string"
)


def plain(frame):
    """String columns as Python objects: PySpark 4.x cannot take pandas 3's Arrow-backed strings back."""
    import pandas as pd

    text = [c for c in frame.columns if pd.api.types.is_string_dtype(frame[c]) and frame[c].dtype != object]
    return frame.astype({c: object for c in text}) if text else frame


# pyspark warns on every pandas UDF that it does not fully support pandas >= 3 (the rows are
# checked against predict's in tests/test_score_batch.py): kept off the user's screen, in the
# driver and, through the environment the workers inherit, in every Python worker
PANDAS_NOTICE = "PySpark does not yet fully support pandas"


def session(master: str):
    import warnings

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    warnings.filterwarnings("ignore", message=PANDAS_NOTICE, category=FutureWarning)
    quiet = f"ignore:{PANDAS_NOTICE}:FutureWarning"
    if quiet not in os.environ.get("PYTHONWARNINGS", ""):
        os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), quiet]))
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(master)
        .appName("stance score-batch")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.python.worker.reuse", "true")
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")  # dates stay strings
    )
    if master.startswith("local"):
        builder = builder.config("spark.driver.host", "127.0.0.1").config(
            "spark.driver.bindAddress", "127.0.0.1"
        )
    # pyspark answers Ctrl-C with its own handler: py4j's tracebacks (about 55 lines) and no
    # `interrupted` line; the command's handler (stance.runner) is put back
    handler = signal.getsignal(signal.SIGINT)
    spark = builder.getOrCreate()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, handler)
    spark.sparkContext.setLogLevel("ERROR")
    if not master.startswith("local"):
        spark.sparkContext.addPyFile(str(_code_zip()))
    return spark


def _code_zip() -> Path:
    """The project's packages as one zip for the executors of a cluster: one file per code
    version under the git-ignored state folder, made once and reused (a temporary folder per
    run was left behind by each one)."""
    from training.tracking import SOURCE_PACKAGES, code_version

    target = paths.state() / "spark" / f"stance-code-{code_version()}.zip"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".stance-code.", suffix=".zip")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w") as zf:
            for package in SOURCE_PACKAGES:
                for path in sorted((paths.code() / package).rglob("*.py")):
                    zf.write(path, path.relative_to(paths.code()))
        os.replace(tmp, target)  # whole or not at all
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


def _context_column():
    """training.context.contexts as a window: each row's preceding rows of its article, in text
    order where the rows have their ``start`` (a dataset's files may be read in any order), in
    file order where they do not."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from training.context import CONTEXT_SENTENCES

    order = (
        Window.partitionBy("article")
        .orderBy(F.col("start").asc_nulls_last(), "_row")
        .rowsBetween(-CONTEXT_SENTENCES, -1)
    )
    words = F.trim(F.regexp_replace(F.col("text"), r"(?U)\s+", " "))  # " ".join(text.split())
    return F.concat_ws("\n", F.collect_list(words).over(order))


def _check_model(model_uri: str, scheme: Scheme) -> tuple[list[str], dict | None]:
    """Refuse a model of another scheme; the columns it reads (training.pyfunc.input_columns) and
    its trust table (None for a model logged without one), its one file fetched, not the model."""
    from training import tracking

    uri = tracking.setup_uri()
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        if (Path(model_uri) / "MLmodel").is_file():  # a model's folder, read as it is: MLflow 3's
            info = mlflow.models.Model.load(model_uri)  # get_model_info asks the store for its model_id
        else:
            info = mlflow.models.get_model_info(model_uri)
    except (MlflowException, OSError) as exc:
        raise tracking.store_error(exc, uri) or StanceError(
            f"cannot find model '{model_uri}' in {uri}: {tracking._first_line(exc)}"
        ) from None
    if (info.metadata or {}).get("scheme_hash") != scheme.hash:
        raise StanceError(f"model '{model_uri}' was not trained with configs/scheme.yaml ({scheme.hash})")
    from training.loading import trust_of
    from training.pyfunc import input_columns

    return input_columns(info.signature.inputs if info.signature else None), trust_of(model_uri, info.flavors)


def _sentences(spark, input_path: Path, skipped: list[dict] | None = None):
    """The input's sentences as a Spark frame; a folder's files that are not articles are passed
    over on the executors and added to ``skipped`` (training.batch_inputs.segment_rows)."""
    import pandas as pd
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType

    if input_path.is_dir() and not is_parquet_dataset(input_path):
        files, meta = article_files(input_path)
        cols = SENTENCE_SCHEMA.replace(",", "").split()[::2]
        parts = max(1, min(len(files), spark.sparkContext.defaultParallelism * 4))
        docs = spark.createDataFrame([(str(f.resolve()),) for f in files], "path string").repartition(parts)

        def segment_batches(batches):
            for batch in batches:
                bad: list[dict] = []
                words: dict[str, str] = {}
                rows = pd.DataFrame(segment_rows(batch["path"].tolist(), meta, bad, words), columns=cols)
                yield plain(rows.assign(error=None, words=None))
                # a file passed over travels as one row: its path in `text`, the reason in `error`;
                # each article read, as one row of its words' key (`words`), to find the copies
                notes = {c: [None] * (len(bad) + len(words)) for c in cols}
                notes |= {
                    "article": [None] * len(bad) + list(words),
                    "text": [b["file"] for b in bad] + [None] * len(words),
                    "error": [b["error"] for b in bad] + [None] * len(words),
                    "words": [None] * len(bad) + list(words.values()),
                }
                yield pd.DataFrame(notes, columns=[*cols, "error", "words"], dtype=object)

        segmented = docs.mapInPandas(
            segment_batches, SENTENCE_SCHEMA + ", error string, words string"
        ).persist()
        notes = segmented.where(F.col("error").isNotNull() | F.col("words").isNotNull())
        notes = notes.select("article", "text", "error", "words").collect()
        found = [r for r in notes if r["error"] is not None]
        if skipped is not None:
            skipped.extend({"file": r["text"], "error": r["error"]} for r in found)
        elif found:
            raise StanceError(found[0]["error"])
        check_any_read(input_path, skipped or [], len(files))
        words = {r["article"]: r["words"] for r in notes if r["words"] is not None}
        read = [f.resolve() for f in files]  # as the executors name them
        copies = note_repeats(read, words, set(meta), skipped if skipped is not None else [])
        if skipped is not None:
            skipped += other_files(articles_folder(input_path))
        kept = F.col("error").isNull() & F.col("words").isNull()
        if copies:
            kept &= ~F.col("article").isin(sorted(copies))
        return segmented.where(kept).drop("error", "words")
    if input_path.suffix.lower() == ".parquet" or input_path.is_dir():  # a file or a dataset folder
        check_parquet(input_path)  # on the driver: a file that is not Parquet is one line, not a JVM trace
        frame = spark.read.parquet(str(input_path)).withColumn("_row", F.monotonically_increasing_id())
        blank = frame.where(F.trim(F.coalesce(F.col("text").cast(StringType()), F.lit(""))) == "").count()
        check_texts(input_path, None, blank)  # the column's type: check_parquet, from the footer
        for key, default in (("article", F.lit(input_path.stem)), ("start", F.lit(None).cast("int"))):
            if key not in frame.columns:
                frame = frame.withColumn(key, default)
        if "end" not in frame.columns:
            frame = frame.withColumn("end", F.lit(None).cast("int"))
        if "sentence_id" not in frame.columns:
            frame = frame.withColumn(
                "sentence_id", F.concat_ws(":", "article", F.monotonically_increasing_id())
            )
        if DATE_GIVEN in frame.columns:  # score-batch's own rows: the date as given, not its day
            frame = frame.withColumn("date", F.col(DATE_GIVEN))
        for key in META:  # a dataset's date partition is read back as a date, "undated" as none
            value = F.col(key).cast("string") if key in frame.columns else F.lit(None).cast("string")
            frame = frame.withColumn(key, F.when(value != UNDATED, value) if key == "date" else value)
        return frame.withColumn("context", _context_column()).select(
            "article", "sentence_id", "start", "end", "text", *META, "context"
        )
    local = sentence_frame(input_path).astype(object).where(lambda f: f.notna(), None)
    return spark.createDataFrame(local, SENTENCE_SCHEMA)


def run(
    input_path: Path, out: Path, model_uri: str, master: str, skipped: list[dict] | None = None
) -> tuple[int, dict | None]:
    """Score on Spark: (sentences scored, the model's trust table, as the rows' pair_right read it)."""
    import mlflow.pyfunc
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType

    scheme = Scheme.load()
    inputs, trust = _check_model(model_uri, scheme)
    cols = score_columns(scheme)
    spark = session(master)
    try:
        # probabilities only through spark_udf: its string fields break on pandas 3's Arrow strings;
        # the labels are decoded from them by the very function the model uses (training.outputs.decode)
        result = StructType([StructField(c, DoubleType()) for c in cols])
        # env_manager="local" is the point (the executors share this environment): MLflow's advice
        # to recreate it with conda is kept off the screen
        with quiet_logger("mlflow.pyfunc"):
            udf = mlflow.pyfunc.spark_udf(spark, model_uri, result_type=result, env_manager="local")
        sentences = _sentences(spark, input_path, skipped)
        scored = sentences.withColumn("p", udf(F.struct(*[F.col(c).alias(c) for c in inputs])))
        day = F.regexp_replace(F.col("date"), "^~", "")  # as score_batch._partition_value
        dated = F.when(day.rlike(f"^{DAY}$"), day).otherwise(F.lit(UNDATED))
        given = F.when(F.col("date") != "", F.col("date"))
        flat = scored.select(
            "article", "sentence_id", "start", "end", "text", *[F.col(f"p.`{c}`").alias(c) for c in cols],
            "outlet", "url", "headline", given.alias(DATE_GIVEN), dated.alias("date"),
        )  # fmt: skip
        order = row_columns(scheme)
        a_cols, s_cols = cols[: len(scheme.actor_labels)], cols[len(scheme.actor_labels) :]

        def with_labels(batches):
            from training.outputs import decode

            for b in batches:
                actors, stances = decode(
                    b[a_cols].to_numpy(),
                    b[s_cols].to_numpy(),
                    scheme.actor_labels,
                    scheme.stance_labels,
                    scheme.none,
                )
                b = b.assign(actor=actors, stance=stances)
                b = b.assign(p=pair_p(b, scheme))
                b = b.assign(pair_right=pair_right_column(b, trust))
                yield plain(b[order])

        fields = {
            f.name: f for f in flat.schema.fields
        }  # a new schema: the frame's own is cached, not copied
        fields |= {k: StructField(k, StringType()) for k in ("actor", "stance")}
        fields |= {k: StructField(k, DoubleType()) for k in ("p", "pair_right")}
        schema = StructType([fields[c] for c in order])
        rows = flat.mapInPandas(with_labels, schema)
        rows.write.partitionBy("date").parquet(str(out / "sentences"))
        # profiles on the driver from the written Parquet: applyInPandas's output conversion fails on
        # PySpark 4.3 with pandas 3 (a ChunkedArray error); fine for a day's batch, see README
        import pandas as pd

        written = pd.read_parquet(out / "sentences")
        written["date"] = written["date"].astype(str)
        (out / "profiles").mkdir()
        profiles_frame(written, scheme, trust).to_parquet(out / "profiles" / "part-0.parquet", index=False)
        return len(written), trust
    finally:
        with contextlib.suppress(Exception):  # after Ctrl-C the JVM, in the same process group, is gone
            spark.stop()
