"""`stance score-batch` on Spark (local[2]) and in-process, against `stance predict` (slow, ~1-2 minutes)."""

from __future__ import annotations

import csv
import html
import io
import json
import shutil

import pandas as pd
import pytest

from tests.conftest import REPO, run_cli
from training.batch_inputs import META

pytestmark = pytest.mark.slow
ARTICLES = ("corpus-001", "corpus-002", "corpus-010")


def cli(*args: str) -> tuple[int, str]:
    out = run_cli(*args)
    return out.returncode, out.stdout.decode() + out.stderr.decode()


@pytest.fixture(scope="module")
def articles(tmp_path_factory):
    """A few corpus articles with their articles.tsv rows, one of them left undated."""
    folder = tmp_path_factory.mktemp("batch-in")
    (folder / "articles").mkdir()
    for name in ARTICLES:
        shutil.copy(REPO / "corpus" / "articles" / f"{name}.txt", folder / "articles")
    lines = (REPO / "corpus" / "articles.tsv").read_text(encoding="utf-8").splitlines()
    kept = [lines[0]] + [line for line in lines[1:] if line.split("\t")[0] in ARTICLES[:2]]
    # corpus-002's date as an inferred one ("~", as 92 of the coverage's 181 are written)
    kept = [line.replace("\t2025-10-18\t", "\t~2025-10-18\t") for line in kept]
    assert sum("~2025-10-18" in line for line in kept) == 1
    (folder / "articles.tsv").write_text("\n".join(kept) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def predicted(trained, articles, tmp_path_factory):
    """`stance predict` over the same articles: its CSV rows and profiles."""
    profiles = tmp_path_factory.mktemp("predict") / "profiles.json"
    files = [str(articles / "articles" / f"{a}.txt") for a in ARTICLES]
    out = run_cli("predict", *files, "--format", "csv", "--profile", str(profiles))
    assert out.returncode == 0, out.stderr.decode()
    return list(csv.DictReader(io.StringIO(out.stdout.decode()))), json.loads(profiles.read_text())


@pytest.fixture(scope="module")
def spark_out(trained, articles, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch-out") / "scored"
    code, text = cli("score-batch", str(articles), str(out), "--engine", "spark", "--master", "local[2]")
    assert code == 0, text
    return out, text


def contexts_on_both_engines(path) -> tuple[dict[str, str], dict[str, str]]:
    """Each sentence's context as the local engine and a Spark session read a sentence input."""
    from training import spark_job
    from training.batch_inputs import sentence_frame

    local = sentence_frame(path)
    spark = spark_job.session("local[1]")
    try:
        got = spark_job._sentences(spark, path).select("sentence_id", "context").toPandas()
    finally:
        spark.stop()
    return (
        dict(zip(local["sentence_id"], local["context"], strict=True)),
        dict(zip(got["sentence_id"], got["context"], strict=True)),
    )


def read_sentences(out) -> pd.DataFrame:
    frame = pd.read_parquet(out / "sentences")
    frame["date"] = frame["date"].astype(str)
    return frame.sort_values(["article", "start"]).reset_index(drop=True)


def parquet_nulls(out, column: str) -> int:
    import pyarrow.parquet as pq

    return sum(pq.read_table(f).column(column).null_count for f in (out / "sentences").rglob("*.parquet"))


def test_spark_rows_equal_predicts_row_for_row(spark_out, predicted, scheme):
    out, text = spark_out
    rows, _ = predicted
    frame = read_sentences(out)
    assert f"scored {len(rows)} sentences (spark) -> {out}/sentences (by date), {out}/profiles" in text
    # no warning a user can do nothing about: pyspark's pandas-3 notice, MLflow's conda advice
    assert "FutureWarning" not in text and "env_manager" not in text, text
    assert len(frame) == len(rows)
    cols = [f"actor:{a}" for a in scheme.actor_labels] + [f"stance:{s}" for s in scheme.stance_labels]
    for got, want in zip(frame.to_dict("records"), rows, strict=True):
        for key in ("article", "sentence_id", "text", "actor", "stance"):
            assert got[key] == want[key], key
        assert (got["start"], got["end"]) == (int(want["start"]), int(want["end"]))
        for c in cols:  # predict prints 4 decimals; score-batch keeps the model's value
            assert abs(round(got[c], 4) - float(want[c])) < 1e-5, (got["sentence_id"], c)
        # predict's p is the product of its 4-decimal scores: equal to the last digit or so
        assert abs(got["p"] - float(want["p"])) < 3e-4, got["sentence_id"]
        # how far to trust the call: the same cell of the model's trust table, null where predict's is
        if want["pair_right"] == "":
            assert pd.isna(got["pair_right"]), got["sentence_id"]
        else:
            assert got["pair_right"] == float(want["pair_right"]), got["sentence_id"]
    assert frame["pair_right"].notna().any()  # the trained model carries its trust table
    # missing is null in the Parquet itself (not NaN), so a reader's null checks find it
    assert parquet_nulls(out, "pair_right") == frame["pair_right"].isna().sum() > 0
    assert frame.loc[frame["stance"] == "none", "pair_right"].isna().all()
    # the article metadata, and the partitions by date
    first = frame[frame.article == "corpus-001"].iloc[0]
    assert (first["date"], first["outlet"]) == ("2025-10-19", "KUNA (via MENAFN)")
    assert set(frame[frame.article == "corpus-010"]["date"]) == {"undated"}
    # an inferred date partitions by its day, and the date as written is kept beside it
    given = {a: None if pd.isna(d) else d for a, d in zip(frame["article"], frame["date_given"], strict=True)}
    assert given == {"corpus-001": "2025-10-19", "corpus-002": "~2025-10-18", "corpus-010": None}
    assert sorted(p.name for p in (out / "sentences").iterdir() if p.is_dir()) == [
        "date=2025-10-18",
        "date=2025-10-19",
        "date=undated",
    ]


def test_spark_probabilities_are_the_models_within_1e_5(spark_out, scheme):
    from training.predict import Predictor

    frame = read_sentences(spark_out[0])
    model = Predictor().model.predict(pd.DataFrame({"text": frame["text"].tolist()}))
    for c in [f"actor:{a}" for a in scheme.actor_labels] + [f"stance:{s}" for s in scheme.stance_labels]:
        assert (frame[c] - model[c]).abs().max() < 1e-5, c


def test_profiles_beside_the_sentences_equal_predicts(spark_out, predicted):
    _, want = predicted
    got = pd.read_parquet(spark_out[0] / "profiles").sort_values("article")
    assert got["article"].tolist() == sorted(p["article"] for p in want)
    for (_, row), theirs in zip(got.iterrows(), sorted(want, key=lambda p: p["article"]), strict=True):
        mine = json.loads(row["profile"])
        for key in ("sentences", "no_stance", "counts", "trust_measured"):
            assert mine[key] == theirs[key], (row["article"], key)
        # each pair found says how far its calls were trusted, as predict's profile does
        assert [(e["actor"], e["stance"], e["trust"]) for e in mine["evidence"]] == [
            (e["actor"], e["stance"], e["trust"]) for e in theirs["evidence"]
        ]


def test_the_local_engine_gives_the_same_rows_and_an_existing_output_is_refused(
    spark_out, articles, tmp_path
):
    out = tmp_path / "scored"
    code, text = cli("score-batch", str(articles), str(out))
    assert code == 0, text
    local, spark = read_sentences(out), read_sentences(spark_out[0])
    pd.testing.assert_frame_equal(local[spark.columns.tolist()], spark, check_dtype=False, atol=1e-9)
    assert parquet_nulls(out, "pair_right") == parquet_nulls(spark_out[0], "pair_right")
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    code, text = cli("score-batch", str(articles), str(out))
    assert code == 2
    assert text.strip() == f"error: {out} already holds results: pass --overwrite to replace them"
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    code, text = cli("score-batch", str(articles), str(out), "--overwrite")
    assert code == 0, text
    assert [p.name for p in tmp_path.iterdir()] == ["scored"]  # no temporary folder left beside it


def test_an_earlier_runs_sentences_are_scored_again_alike_on_both_engines(spark_out, tmp_path):
    """A folder of Parquet files with a `text` column is an input: score-batch's own `sentences/`
    (partitioned by date, "undated" read back as no date), scored again with the same model, gives
    the same rows and profiles."""
    first, profiles = read_sentences(spark_out[0]), pd.read_parquet(spark_out[0] / "profiles")
    out = tmp_path / "again"  # the earlier OUTPUT itself names its sentences/ (not its profiles/)
    code, text = cli("score-batch", str(spark_out[0]), str(out))
    assert code == 0, text
    pd.testing.assert_frame_equal(
        read_sentences(out)[first.columns.tolist()], first, check_dtype=False, atol=1e-9
    )
    mine = pd.read_parquet(out / "profiles").sort_values("article")["profile"].map(json.loads).tolist()
    assert mine == profiles.sort_values("article")["profile"].map(json.loads).tolist()


def test_a_dataset_whose_files_hold_an_article_out_of_order_is_read_in_text_order(spark_out, tmp_path):
    """A flat Parquet dataset whose files hold each article's sentences out of order (as a Spark
    job's output may): each sentence's context is read in text order (`start`), on either engine,
    so "He said ..." follows its speaker; the `_SUCCESS` marker beside the files is passed over."""
    from training.context import contexts

    keep = ["article", "sentence_id", "start", "end", "text", *META]
    speaker, said = "Defence Minister Khawaja Asif spoke on Tuesday.", "He said the talks could only succeed."
    extra = [
        {"article": "said", "sentence_id": "said:1", "start": 0, "end": len(speaker), "text": speaker},
        {"article": "said", "sentence_id": "said:2", "start": len(speaker) + 1, "end": 99, "text": said},
    ]
    rows = pd.concat([read_sentences(spark_out[0])[keep], pd.DataFrame(extra)], ignore_index=True)
    rows["date"] = rows["date"].where(rows["date"] != "undated", None)
    ordered = rows.sort_values(["article", "start"])
    found = contexts(ordered["article"].tolist(), ordered["text"].tolist())
    want = dict(zip(ordered["sentence_id"], found, strict=True))
    assert want["said:2"] == speaker
    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    mixed, third = rows[keep].sample(frac=1, random_state=0), len(rows) // 3 + 1
    assert mixed["sentence_id"].tolist().index("said:2") < mixed["sentence_id"].tolist().index("said:1")
    for k in range(3):
        mixed.iloc[k * third : (k + 1) * third].to_parquet(shuffled / f"part-{k}.parquet", index=False)
    (shuffled / "_SUCCESS").write_text("", encoding="utf-8")
    assert contexts_on_both_engines(shuffled) == (want, want)
    # and the command scores such a folder end to end on Spark
    code, text = cli("score-batch", str(shuffled), str(tmp_path / "out"), "--engine", "spark")
    assert code == 0, text
    assert sorted(read_sentences(tmp_path / "out")["sentence_id"]) == sorted(want)


def test_the_report_of_a_scored_batch_is_the_report_of_its_articles(spark_out, articles, tmp_path):
    """`stance report OUTPUT` reads a score-batch output (its rows, their metadata and model.json,
    the model that scored them with its trust table) without scoring again, and gives the report
    `stance report` gives over the same articles with their articles.tsv (the inferred date too)."""
    import csv as csv_module

    batch, folder = tmp_path / "batch", tmp_path / "folder"
    code, text = cli("report", str(spark_out[0]), "--out", str(batch))
    assert code == 0, text
    assert "report of 3 articles" in text
    code, text = cli("report", str(articles / "articles"), "--out", str(folder))
    assert code == 0, text
    mine, theirs = (json.loads((f / "summary.json").read_text()) for f in (batch, folder))
    for key in ("model", "run_id", "data_version", "articles", "sentences", "undated", "trust"):
        assert mine[key] == theirs[key], key
    assert mine["meta"] == "the batch's rows"
    assert mine["matrix"] == theirs["matrix"]  # the expected counts too: predict's 4 decimals
    for name in ("timeline.csv", "outlets.csv", "evidence.json", "checks.json"):
        assert (batch / name).read_text() == (folder / name).read_text(), name
    periods = {r["period"] for r in csv_module.DictReader((batch / "timeline.csv").open())}
    assert "2025-10" in periods  # ~2025-10-18 counted in its month
    # a batch scored under another label scheme is refused in one line, before anything is written
    other = tmp_path / "other"
    shutil.copytree(spark_out[0], other)
    record = json.loads((other / "model.json").read_text())
    (other / "model.json").write_text(json.dumps(record | {"scheme_hash": "0123456789abcdef"}))
    code, text = cli("report", str(other), "--out", str(tmp_path / "refused"))
    assert code == 2, text
    assert text.strip().startswith(f"error: {other}: scored with a different label scheme")
    assert not (tmp_path / "refused" / "report.html").exists()


def test_spark_scores_a_model_folder_from_another_store_as_the_local_engine_does(trained, articles, tmp_path):
    """A model's folder handed over from another store (its MLflow 3 ``model_id`` unknown to this
    one): the local engine scored it; Spark stopped with "Logged model with ID 'm-…' not found",
    MLflow's get_model_info asking the store for the folder's model."""
    import re

    from training import loading

    folder = tmp_path / "model"
    shutil.copytree(loading.local_copy(trained["model_uri"])[0], folder)
    mlmodel = folder / "MLmodel"
    mlmodel.write_text(re.sub(r"(?m)^model_id: .*$", "model_id: m-" + "0" * 32, mlmodel.read_text()))
    runs = {}
    for engine in ("spark", "local"):
        out = tmp_path / engine
        code, text = cli("score-batch", str(articles), str(out), "--engine", engine, "--model", str(folder))
        assert code == 0, text
        runs[engine] = read_sentences(out)
    spark, local = runs["spark"], runs["local"]
    assert len(spark) > 0
    pd.testing.assert_frame_equal(local[spark.columns.tolist()], spark, check_dtype=False, atol=1e-9)


def test_spark_without_java_is_one_line_and_writes_nothing(trained, articles, tmp_path, monkeypatch):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java"))
    code, text = cli("score-batch", str(articles), str(tmp_path / "out"), "--engine", "spark")
    assert code == 2
    assert text.strip() == (
        "error: Spark needs Java 17 or later and none was found: run `make java` (Debian's default-jre-headless)"
    )
    assert list(tmp_path.iterdir()) == []


def not_articles(folder) -> dict[str, str]:
    """Files a folder of coverage can hold that are not articles, and the reason each is refused."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "scan.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "page.html").write_text("<html><body><script>track()</script></body></html>")
    (folder / "menu.txt").write_text("Home\nWorld\nSport\n")  # text, but no sentence in it
    return {
        str(folder / "menu.txt"): f"{folder / 'menu.txt'}: no sentence to score: its text (3 words) is "
        "page furniture only (such as menus, link lines, bylines, dates, and lines under 4 words that do not end "
        "like a sentence)",
        str(folder / "empty.txt"): f"{folder / 'empty.txt'}: is empty",
        str(folder / "scan.txt"): f"{folder / 'scan.txt'}: looks like a binary file, not article text",
        str(folder / "page.html"): f"{folder / 'page.html'}: has no text outside its markup",
    }


def test_files_that_are_not_articles_are_listed_and_the_rest_scored(trained, articles, tmp_path):
    """One bad file in a day's folder does not sink the batch, on Spark or locally: it is passed
    over, listed with its reason, and the articles beside it are scored as if it were not there."""
    folder = tmp_path / "in"
    shutil.copytree(articles, folder)
    reasons = not_articles(folder / "articles")
    saved = folder / "articles" / "live-blog.md"  # an article saved under a suffix that is not read: named
    saved.write_text("Pakistan demanded that Kabul act against the TTP, a source said.\n")
    reasons[str(saved)] = f"{saved}: not an article file (only .txt, .html, .htm and .pdf files are read)"
    spark_out, local_out = tmp_path / "spark", tmp_path / "local"
    code, text = cli("score-batch", str(folder), str(spark_out), "--engine", "spark", "--master", "local[2]")
    assert code == 0, text
    assert f"skipped 5 files that are not articles, each with its reason: {spark_out}/skipped.jsonl" in text
    code, text = cli("score-batch", str(folder), str(local_out))
    assert code == 0, text
    for out in (spark_out, local_out):
        listed = [json.loads(line) for line in (out / "skipped.jsonl").read_text().splitlines()]
        assert {r["file"]: r["error"] for r in listed} == reasons
        assert sorted(read_sentences(out)["article"].unique()) == sorted(ARTICLES)
    pd.testing.assert_frame_equal(
        read_sentences(local_out), read_sentences(spark_out), check_dtype=False, atol=1e-9
    )


def test_an_article_saved_twice_in_the_folder_is_scored_once_on_both_engines(trained, articles, tmp_path):
    """A day's folder held corpus-001.txt and the same story saved from the browser as
    saved-page.html, and corpus-002-wire.txt, corpus-002's text again: score-batch scored each copy
    as one more undated article, its sentences and its profile counted twice. A copy is passed
    over and listed with the article it repeats, as the report does, even where it sorts before the
    article articles.tsv lists; a copy that articles.tsv lists under its own name (a wire story two
    outlets ran) is a second publication and scored."""
    folder = tmp_path / "in"
    shutil.copytree(articles, folder)
    where = folder / "articles"
    text = (where / "corpus-001.txt").read_text(encoding="utf-8")
    page = "".join(f"<p>{html.escape(line)}</p>\n" for line in text.splitlines() if line.strip())
    (where / "saved-page.html").write_text(f"<html><body>\n{page}</body></html>\n", encoding="utf-8")
    shutil.copy(where / "corpus-002.txt", where / "corpus-002-wire.txt")
    shutil.copy(where / "corpus-001.txt", where / "wire-001.txt")
    with (folder / "articles.tsv").open("a", encoding="utf-8") as fh:
        fh.write("wire-001\t\tThe News\t2025-10-19\tCeasefire announced\n")
    want = {
        str(where / "saved-page.html"): "corpus-001",
        str(where / "corpus-002-wire.txt"): "corpus-002",
    }
    scored = {}
    for engine in ("spark", "local"):
        out = tmp_path / engine
        master = ["--master", "local[2]"] if engine == "spark" else []
        code, text = cli("score-batch", str(folder), str(out), "--engine", engine, *master)
        assert code == 0, text
        assert (
            "passed over 2 files with the same text as another article, not counted twice: "
            f"corpus-002-wire.txt (corpus-002), saved-page.html (corpus-001); listed in {out}/skipped.jsonl"
        ) in text
        assert "not an article" not in text
        listed = [json.loads(line) for line in (out / "skipped.jsonl").read_text().splitlines()]
        assert {r["file"]: r["same_as"] for r in listed} == want
        assert all(
            r["error"] == f"the same text as {r['same_as']}: passed over, so it is not counted twice"
            for r in listed
        )
        frame = read_sentences(out)
        assert sorted(frame["article"].unique()) == sorted([*ARTICLES, "wire-001"])
        one, wire = frame[frame["article"] == "corpus-001"], frame[frame["article"] == "wire-001"]
        assert wire["text"].tolist() == one["text"].tolist()
        assert set(wire["outlet"]) == {"The News"}
        profiles = pd.read_parquet(out / "profiles")
        assert sorted(profiles["article"]) == sorted([*ARTICLES, "wire-001"])
        scored[engine] = frame
    pd.testing.assert_frame_equal(scored["local"], scored["spark"], check_dtype=False, atol=1e-9)


def test_a_folder_with_no_article_is_one_line_and_writes_nothing(trained, tmp_path):
    folder = tmp_path / "in"
    reasons = not_articles(folder)
    first = reasons[str(folder / "empty.txt")]
    for engine in ("local", "spark"):
        code, text = cli("score-batch", str(folder), str(tmp_path / "out"), "--engine", engine)
        assert code == 2, text
        want = (
            f"error: {folder}: none of its 4 article files can be read (the first: {first}); nothing written"
        )
        assert text.strip().splitlines()[-1] == want
        if engine == "local":
            assert text.strip() == want
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_a_parquet_of_sentences_that_cannot_be_scored_is_one_line_on_both_engines(trained, tmp_path):
    """A sentence file with null or blank texts is refused as `predict --sentences` refuses such a
    line (before, the local engine died in a traceback on the first null); so is a column of numbers,
    in the same words on both engines."""
    blank, numbers = tmp_path / "blank.parquet", tmp_path / "numbers.parquet"
    pd.DataFrame({"text": ["Pakistan urged Kabul to act against the TTP.", None, "", "  "]}).to_parquet(blank)
    pd.DataFrame({"text": [1, 2]}).to_parquet(numbers)
    for engine in ("local", "spark"):
        code, text = cli("score-batch", str(blank), str(tmp_path / "out"), "--engine", engine)
        assert code == 2, text
        want = f"error: {blank}: 3 of its rows have no text (null or blank): drop or fill them"
        assert text.strip().splitlines()[-1] == want
    for engine in ("local", "spark"):  # both name the type as the file's schema does (Spark said bigint)
        code, text = cli("score-batch", str(numbers), str(tmp_path / "out"), "--engine", engine)
        assert code == 2, text
        assert text.strip().splitlines()[-1] == f"error: {numbers}: its 'text' column holds int64, not text"
    # a file that is not Parquet at all (a CSV renamed, a download cut short): one line, not a JVM trace
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(blank.read_bytes()[:5])
    for engine in ("local", "spark"):
        code, text = cli("score-batch", str(cut), str(tmp_path / "out"), "--engine", engine)
        assert code == 2, text
        assert text.strip().splitlines()[-1] == (
            f"error: {cut}: not a readable Parquet file (Parquet file size is 5 bytes, smaller than the "
            "minimum file footer (8 bytes))"
        )
    # a folder of Parquet files: every file's footer is read first, and the file at fault is named
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    shutil.copy(blank, dataset / "part-0.parquet")
    for bad, why in (
        (numbers, "its 'text' column holds int64, not text"),
        (cut, "not a readable Parquet file"),
    ):
        shutil.copy(bad, dataset / "part-1.parquet")
        for engine in ("local", "spark") if bad == numbers else ("local",):  # one driver-side check
            code, text = cli("score-batch", str(dataset), str(tmp_path / "out"), "--engine", engine)
            assert code == 2, text
            assert text.strip().splitlines()[-1].startswith(f"error: {dataset / 'part-1.parquet'}: {why}")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "blank.parquet",
        "cut.parquet",
        "dataset",
        "numbers.parquet",
    ]


def test_a_metadata_table_given_as_input_is_refused_not_scored_line_by_line(tmp_path):
    """articles.tsv (or a CSV) passed for the folder is one line; it was scored as one sentence a line."""
    tsv = REPO / "corpus" / "articles.tsv"
    code, text = cli("score-batch", str(tsv), str(tmp_path / "out"))
    assert (code, text.strip()) == (
        2,
        f"error: {tsv}: score-batch reads a folder of articles, or a file of sentences "
        "(.json, .jsonl, .ndjson, .parquet, .txt), not a .tsv file",
    )
    assert list(tmp_path.iterdir()) == []


FRENCH = (
    "Le gouvernement pakistanais a demandé mardi aux talibans afghans de prendre des mesures contre "
    "les militants du TTP, selon le ministère des Affaires étrangères.\n"
)
ROMAN_URDU = (
    "Hukumat ne Afghan Taliban se mutalba kiya hai ke woh TTP ke khilaf karrawai karein.\n\n"
    "Taliban ke tarjuman Zabihullah Mujahid ne in ilzamat ko mustarad kar diya aur kaha ke Afghanistan "
    "ki sarzameen kisi aur mulk ke khilaf istemal nahi hogi.\n"
)


def test_sentences_in_another_language_are_named_on_both_engines(trained, tmp_path):
    """A French and a Roman Urdu article among English ones were scored as confidently as the
    English ones with no word said, where predict and the report name them: score-batch says so in
    predict's one line and writes them into model.json as the report's summary.json has them."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(REPO / "corpus" / "articles" / "corpus-001.txt", folder)
    (folder / "french.txt").write_text(FRENCH, encoding="utf-8")
    (folder / "roman-urdu.txt").write_text(ROMAN_URDU, encoding="utf-8")
    for engine in ("local", "spark"):
        out = tmp_path / engine
        done = run_cli("score-batch", str(folder), str(out), "--engine", engine)
        assert done.returncode == 0, done.stderr.decode()
        assert done.stdout.decode().strip().splitlines()[-1] == (
            f"note: 3 of these {len(read_sentences(out))} sentences (french, roman-urdu) are written mostly "
            "in another language than English (Latin letters, with more little words of another language "
            "(such as 'le', 'und', 'hai') than of English): the model learned from English coverage alone, "
            "so its calls on them are no measure of what they say; score an English translation instead"
        ), engine
        record = json.loads((out / "model.json").read_text(encoding="utf-8"))
        assert record["other_language"] == {
            "sentences": 3,
            "articles": ["french", "roman-urdu"],
            "scripts": ["Latin"],
        }, engine


def test_english_alone_says_nothing_of_another_language(spark_out, articles, tmp_path):
    out = tmp_path / "local"
    code, text = cli("score-batch", str(articles), str(out))
    assert code == 0, text
    for folder, said in ((out, text), spark_out):
        assert "another language" not in said
        assert json.loads((folder / "model.json").read_text(encoding="utf-8"))["other_language"] is None


def test_two_files_of_one_article_name_are_one_line_on_score_batch_and_report(tmp_path):
    """x.txt and x.html in one folder were two articles of id 'x' (their rows mixed under one id)."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "talks.txt").write_text("Pakistan urged Kabul to act against the TTP before the talks.\n")
    (folder / "talks.html").write_text(
        "<p>Kabul rejected the demand and said the TTP was not its matter.</p>"
    )
    line = (
        f"error: {folder}: talks.html and talks.txt are both article 'talks' (an article is named by its "
        "file name without the suffix): keep one, or rename the other; nothing written"
    )
    code, text = cli("score-batch", str(folder), str(tmp_path / "out"))
    assert (code, text.strip()) == (2, line)
    code, text = cli("report", str(folder), "--out", str(tmp_path / "report"))
    assert (code, text.strip()) == (2, line)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_an_article_saved_as_text_is_refused_not_scored_a_paragraph_a_row(trained, tmp_path):
    """A .txt is read as one sentence a line; an article's paragraphs would each be one row, and its
    profile would count paragraphs. Its own sentences, one a line, are scored."""
    from labeling.articles import read_article
    from labeling.segment import segment

    article = REPO / "seeds" / "001_64535fbd2cbe07ec.txt"
    copy = tmp_path / "one-article.txt"
    copy.write_bytes(article.read_bytes())
    code, text = cli("score-batch", str(copy), str(tmp_path / "out"))
    assert code == 2, text
    line = text.strip().splitlines()[-1]
    assert line.startswith(
        f"error: {copy}: reads as an article, not one sentence a line (more than one sentence on "
    )
    assert line.endswith("put it in a folder of articles, or score it with `stance predict`")
    assert not (tmp_path / "out").exists()
    sentences = [s.text for s in segment(read_article(article))]
    lines = tmp_path / "sentences.txt"
    lines.write_text("\n".join(sentences) + "\n")
    code, text = cli("score-batch", str(lines), str(tmp_path / "out"))
    assert code == 0, text
    assert f"scored {len(sentences)} sentences" in text


def test_each_sentence_reads_the_same_context_as_in_predict(articles, tmp_path):
    """The holder's context (preceding sentences of the article) is built alike on every path."""
    from labeling.articles import read_article
    from labeling.segment import segment
    from training.batch_inputs import segment_rows
    from training.context import contexts

    sentences = [s for a in ARTICLES for s in segment(read_article(articles / "articles" / f"{a}.txt"))]
    want = dict(zip([s.sentence_id for s in sentences], contexts([s.article for s in sentences], [s.text for s in sentences]), strict=True))  # fmt: skip
    assert sum(bool(c) for c in want.values()) == len(want) - len(ARTICLES)  # all but each first sentence
    rows = segment_rows([str(articles / "articles" / f"{a}.txt") for a in ARTICLES], {})
    assert {r["sentence_id"]: r["context"] for r in rows} == want
    # a file of sentences, two articles interleaved, an odd run of spaces inside one sentence
    frame = pd.DataFrame(
        [{"article": s.article, "sentence_id": s.sentence_id, "text": s.text} for s in sentences]
    )
    frame = frame.iloc[sorted(range(len(frame)), key=lambda i: (i % 2, i))].reset_index(drop=True)
    frame.loc[3, "text"] = frame.loc[3, "text"].replace(" ", "  \t", 1)
    want = dict(zip(frame["sentence_id"], contexts(frame["article"].tolist(), frame["text"].tolist()), strict=True))  # fmt: skip
    path = tmp_path / "sentences.parquet"
    frame.to_parquet(path)
    assert contexts_on_both_engines(path) == (want, want)


def test_overwrite_never_deletes_a_folder_that_is_not_a_batch_output(articles, tmp_path):
    out = tmp_path / "notes"  # an analyst's folder named as OUTPUT by mistake (or `.`, the checkout)
    out.mkdir()
    (out / "draft.md").write_text("findings so far\n")
    for extra in ([], ["--overwrite"]):
        code, text = cli("score-batch", str(articles), str(out), *extra)
        assert code == 2
        assert text.strip() == (
            f"error: {out} holds files that are not score-batch results: choose a new or empty folder "
            "(--overwrite replaces only an earlier score-batch OUTPUT)"
        )
        assert (out / "draft.md").read_text() == "findings so far\n"
        assert [p.name for p in tmp_path.iterdir()] == ["notes"]


def test_a_master_url_spark_cannot_take_is_one_line(articles, tmp_path):
    for master in ("bogus", "local[x]", "localhost"):
        code, text = cli(
            "score-batch", str(articles), str(tmp_path / "out"), "--engine", "spark", "--master", master
        )
        assert code == 2
        assert text.strip() == (
            f"error: --master {master}: not a Spark master URL (local[N], local[*], spark://HOST:PORT, yarn "
            "or k8s://...)"
        )  # Spark's own answer was a Java and a Python traceback, 74 lines
    assert not any(tmp_path.iterdir())


def test_a_master_without_the_spark_engine_is_refused_not_ignored(articles, tmp_path):
    """`--master spark://...` with the engine left at its default: the batch was scored in this
    process, on this machine, with the cluster's URL passed over in silence."""
    code, text = cli(
        "score-batch", str(articles), str(tmp_path / "out"), "--master", "spark://127.0.0.1:7077"
    )
    assert code == 2
    assert text.strip() == (
        "error: --master spark://127.0.0.1:7077 is for Spark: add --engine spark (without it, score-batch "
        "scores here)"
    )
    assert not any(tmp_path.iterdir())


def test_ctrl_c_while_spark_scores_is_one_line_and_leaves_nothing(trained, articles, tmp_path):
    """Ctrl-C in a terminal (SIGINT to the command's process group, the JVM's too) once Spark has
    started: pyspark's own handler had replaced the command's, so about 55 lines of py4j tracebacks
    came out and no `interrupted` line."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    out, log = tmp_path / "out", tmp_path / "log.txt"
    cmd = [str(Path(sys.executable).with_name("stance")), "score-batch", str(articles), str(out)]
    with open(log, "wb") as sink:
        proc = subprocess.Popen(
            [*cmd, "--engine", "spark", "--master", "local[1]"],
            stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 180
            while "[Stage" not in log.read_text(errors="replace"):  # Spark is scoring
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            os.killpg(proc.pid, signal.SIGINT)
            code = proc.wait(timeout=120)
        finally:
            proc.kill()
    text = log.read_text(errors="replace")
    assert code == 130, text
    assert "Traceback" not in text
    assert (
        text.replace("\r", "\n")
        .strip()
        .splitlines()[-1]
        .endswith("error: interrupted by SIGINT (nothing more was done)")
    )
    assert [p.name for p in tmp_path.iterdir()] == ["log.txt"]  # no output, nothing half-written beside it


def test_with_the_store_unreachable_the_local_engine_says_it_scores_the_cached_copy(
    trained, articles, tmp_path
):
    """The tracking server down (a stopped stack): the local engine scores with predict's cached copy
    of the champion, as predict does, and now says so and records it. An MLflow server down, it said
    nothing and its model.json named `models:/stance-classifier@champion`, data version `?`; a SQLite
    store moved away, it scored the batch and then failed with `error: no MLflow store at ...`."""
    from mlflow import MlflowClient

    from stance import paths

    code, text = cli("score-batch", str(articles), str(tmp_path / "first"))  # the champion cached
    assert code == 0, text
    db = paths.mlflow_db()
    version = trained["model_uri"].rsplit("/", 1)[1]
    data = MlflowClient().get_run(trained["run_id"]).data.tags["data_version"]
    db.rename(db.with_name("mlflow.db.away"))  # the store does not answer
    try:
        code, text = cli("score-batch", str(articles), str(tmp_path / "offline"))
    finally:
        db.with_name("mlflow.db.away").rename(db)
    assert code == 0, text
    said = (
        f"models:/stance-classifier/{version} (@champion): kind baseline, data_version {data}, run "
        f"{trained['run_id']}; the cached copy: tracking store sqlite:///{db} not reachable"
    )
    assert f"model: {said}" in text.splitlines()
    record = json.loads((tmp_path / "offline" / "model.json").read_text())
    assert (record["model"], record["data_version"]) == (said, data)
    first = pd.read_parquet(tmp_path / "first" / "sentences").sort_values("sentence_id")
    offline = pd.read_parquet(tmp_path / "offline" / "sentences").sort_values("sentence_id")
    assert first["stance"].tolist() == offline["stance"].tolist()  # the same model scored


def test_the_code_a_cluster_gets_is_one_zip_per_code_version_reused(tmp_path, monkeypatch):
    """For a cluster master the executors get the project's code as a zip: made once per code
    version under .stance/spark and reused, not one temporary folder left behind per run."""
    import zipfile

    from stance import paths
    from training.spark_job import _code_zip
    from training.tracking import code_version

    monkeypatch.setattr(paths, "state", lambda: tmp_path)
    first = _code_zip()
    assert first == tmp_path / "spark" / f"stance-code-{code_version()}.zip" and _code_zip() == first
    assert [p.name for p in (tmp_path / "spark").iterdir()] == [first.name]  # no half-written copy
    names = zipfile.ZipFile(first).namelist()
    assert {"stance/cli.py", "training/spark_job.py", "labeling/loop.py"} <= set(names)


@pytest.fixture(scope="module")
def spark_cluster(tmp_path_factory):
    """A real Spark standalone cluster on 127.0.0.1 (a master and one worker, started with the
    pyspark package's own `spark-class`), as a team's cluster is reached: `--master spark://...`."""
    import os
    import signal
    import socket
    import subprocess
    import time
    from pathlib import Path

    import pyspark

    home = Path(pyspark.__file__).parent
    folder = tmp_path_factory.mktemp("spark-cluster")

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    port = free_port()
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_WORKER_DIR": str(folder / "work")}
    env |= {"SPARK_LOCAL_IP": "127.0.0.1", "SPARK_NO_DAEMONIZE": "1"}
    cmds = {
        "master": ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port)]
        + ["--webui-port", str(free_port())],
        "worker": [
            "org.apache.spark.deploy.worker.Worker",
            f"spark://127.0.0.1:{port}",
            "--host",
            "127.0.0.1",
        ]
        + ["--cores", "2", "--memory", "3g", "--webui-port", str(free_port())],
    }
    ready = {"master": "I have been elected leader", "worker": "Successfully registered with master"}
    procs = []
    try:
        for name, args in cmds.items():
            log = folder / f"{name}.log"
            with log.open("wb") as out:
                procs.append(
                    subprocess.Popen(
                        [str(home / "bin" / "spark-class"), *args], env=env, stdout=out,
                        stderr=subprocess.STDOUT, start_new_session=True,
                    )
                )  # fmt: skip
            deadline = time.monotonic() + 90
            while ready[name] not in log.read_text(errors="replace"):
                assert procs[-1].poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
                time.sleep(0.5)
        yield f"spark://127.0.0.1:{port}"
    finally:
        for proc in reversed(procs):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


def test_a_standalone_cluster_scores_what_local_spark_scores(
    spark_cluster, spark_out, trained, articles, tmp_path
):
    """`--master spark://HOST:PORT`: the executors run in the cluster's own worker processes, with
    the project's code shipped to them as a zip, and give local Spark's rows."""
    out = tmp_path / "cluster"
    code, text = cli("score-batch", str(articles), str(out), "--engine", "spark", "--master", spark_cluster)
    assert code == 0, text
    cluster, local = read_sentences(out), read_sentences(spark_out[0])
    assert cluster[["sentence_id", "actor", "stance"]].equals(local[["sentence_id", "actor", "stance"]])
    assert (cluster["p"] - local["p"]).abs().max() < 1e-6
    from stance import paths
    from training.tracking import code_version

    assert (paths.state() / "spark" / f"stance-code-{code_version()}.zip").is_file()  # what the executors got
