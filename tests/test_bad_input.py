"""Every command against a fixed set of bad inputs: one clear error line, or a correct result.

Never a traceback, never a half-written output. Commands run in this process through
the console script's own entry point (fast).

After the fixed inputs, the hostile classes, most serious first: outputs at special
paths, Ctrl-C and SIGTERM, usage errors, wrong annotation fields, recipes, hostile long
lines, sentence files and secrets in URLs. Broken MLflow stores are in tests/test_tracking.py.
"""

from __future__ import annotations

import io
import json
import socket
import sys
from pathlib import Path

import pytest

from stance import paths
from tests.conftest import run_cli
from tests.test_segment import PRINTED_PAGE, PRINTED_SENTENCES

LONG_SENTENCE = "Pakistan " + "urged the Afghan Taliban again and again " * 499 + "to act."
URDU = "پاکستان نے افغان طالبان سے ٹی ٹی پی کے خلاف کارروائی کا مطالبہ کیا۔"
PASHTO = "طالبانو وویل چې د خبرو اترو دوره به په دوحه کې بیا پیل شي."
HTML = (
    "<html><head><script>var talks = 'secret';</script></head><body>"
    "<script>alert('x')</script><p>Pakistan urged the Taliban to act against the TTP.</p>"
    "<p>Kabul rejected the demand.</p></body></html>"
)

# name -> (file name, content); a directory where the content is None
BAD_INPUTS = {
    "empty": ("empty.txt", b""),
    "whitespace": ("blank.txt", b"  \n\t\n   \n"),
    "binary": ("data.txt", b"\x07\x03\x00\x00\x00\x01\xfe\x10" + bytes(range(256))),
    "invalid-utf8": ("latin1.txt", "Kabul a refusé la demande du Pakistan.".encode("latin-1")),
    "5MB": ("huge.txt", b"Kabul refused the demand. " * 200_000),
    "20k-sentence": ("long.txt", LONG_SENTENCE.encode()),
    "html-scripts": ("page.html", HTML.encode()),
    "non-english": ("urdu.txt", f"{URDU}\n{PASHTO}\n".encode()),
    "printed-pdf": ("printed.txt", PRINTED_PAGE.encode()),  # a page printed to PDF, its text copied
    "directory": ("folder", None),
}

# what each command does with each input: an error message it must contain, or a check of its result
EXPECTED = {
    "segment": {
        "empty": "empty.txt: is empty",
        "whitespace": "blank.txt: is empty",
        "binary": "data.txt: looks like a binary file, not article text",
        "invalid-utf8": "latin1.txt: not valid UTF-8 (byte 0xe9 at offset 13); convert it to UTF-8 first",
        "5MB": "huge.txt: too large for one article (5.2 MB; the limit is 1 MB) - split it into articles",
        "directory": "folder: is a directory, not an article file",
    },
    "import-annotations": {
        "empty": "empty.txt: holds no annotations",
        "whitespace": "blank.txt: holds no annotations",
        "binary": "data.txt: looks like a binary file, not a JSONL file",
        "invalid-utf8": "latin1.txt: not valid UTF-8 (byte 0xe9 at offset 13)",
        "5MB": "huge.txt:1: not valid JSON",
        "20k-sentence": "long.txt:1: not valid JSON",
        "html-scripts": "page.html:1: not valid JSON",
        "non-english": "urdu.txt:1: not valid JSON",
        "directory": "folder: is a directory, not a JSONL file",
    },
    "build-dataset": {
        "empty": "empty.txt: the snapshot holds no sentences",
        "whitespace": "blank.txt: the snapshot holds no sentences",
        "binary": "data.txt: looks like a binary file, not a JSONL file",
        "invalid-utf8": "latin1.txt: not valid UTF-8 (byte 0xe9 at offset 13)",
        "5MB": "huge.txt:1: not valid JSON",
        "20k-sentence": "long.txt:1: not valid JSON",
        "html-scripts": "page.html:1: not valid JSON",
        "non-english": "urdu.txt:1: not valid JSON",
        "directory": "folder: is a directory, not a JSONL file",
    },
    "train": {
        "empty": "empty.txt: 'kind' must be one of baseline, embedding, finetune, fewshot, hybrid, blend (got None)",
        "whitespace": "blank.txt: not valid YAML (found character '\\t' that cannot start any token at line 2",
        "binary": "data.txt: looks like a binary file, not a YAML config file",
        "invalid-utf8": "latin1.txt: not valid UTF-8 (byte 0xe9 at offset 13)",
        "5MB": "huge.txt: expected a mapping of keys to values at the top level",
        "20k-sentence": "long.txt: expected a mapping of keys to values at the top level",
        "html-scripts": "page.html: expected a mapping of keys to values at the top level",
        "non-english": "urdu.txt: expected a mapping of keys to values at the top level",
        "directory": "folder: is a directory, not a YAML config file",
    },
    "predict": {
        "empty": "empty.txt: is empty",
        "whitespace": "blank.txt: is empty",
        "binary": "data.txt: looks like a binary file, not article text",
        "invalid-utf8": "latin1.txt: not valid UTF-8 (byte 0xe9 at offset 13); convert it to UTF-8 first",
        "5MB": "huge.txt: too large for one article (5.2 MB; the limit is 1 MB) - split it into articles",
        "directory": "folder: is a directory, not an article file",
    },
    "predict --sentences": {
        "empty": "empty.txt: is empty",
        "whitespace": "blank.txt: is empty",
        "binary": "data.txt: looks like a binary file, not article text",
        "invalid-utf8": "latin1.txt: not valid UTF-8 (byte 0xe9 at offset 13); convert it to UTF-8 first",
        "5MB": "huge.txt:1: too long for one sentence (5.2 MB; the limit is 1 MB, as for a whole article)",
        "directory": "folder: is a directory, not an article file",
    },
    "predict stdin": {
        "empty": "standard input: is empty",
        "whitespace": "standard input: is empty",
        "binary": "standard input: looks like a binary file, not article text",
        "invalid-utf8": "standard input: not valid UTF-8 (byte 0xe9 at offset 13); convert it to UTF-8 first",
        "5MB": "standard input: too large for one article (5.2 MB; the limit is 1 MB) - split it into articles",
    },
}


def _argv(command: str, target: Path, out: Path) -> tuple[list[str], bytes | None]:
    """The command line (and standard input) that feeds ``target`` to ``command``."""
    return {
        "segment": (["segment", str(target)], None),
        "import-annotations": (["import-annotations", str(target)], None),
        "build-dataset": (["build-dataset", "--snapshot", str(target)], None),
        "train": (["train", str(target)], None),
        "predict": (["predict", str(target), "-o", str(out), "--profile", str(out) + ".profile"], None),
        "predict --sentences": (["predict", "--sentences", str(target), "-o", str(out)], None),
        "predict stdin": (
            ["predict", "-", "-o", str(out)],
            target.read_bytes() if target.is_file() else None,
        ),
    }[command]


@pytest.fixture
def invoke(monkeypatch, capsys):
    """Run the ``stance`` console script in this process: (exit status, stdout, stderr)."""
    from stance.cli import main

    def run(argv: list[str], stdin: bytes | None = None) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["stance", *argv])
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def _tree(root: Path) -> dict[str, int]:
    """Every file the commands may write (snapshots, datasets, outputs), with its size."""
    skip = ("mlflow.db", "mlruns")
    return {
        str(p.relative_to(root)): p.stat().st_size
        for p in root.rglob("*")
        if p.is_file() and not str(p.relative_to(root)).startswith(skip)
    }


def _make(tmp_path: Path, name: str) -> Path:
    filename, content = BAD_INPUTS[name]
    path = tmp_path / filename
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    return path


CASES = [(cmd, name) for cmd, table in EXPECTED.items() for name in table]


@pytest.mark.parametrize(("command", "name"), CASES, ids=[f"{c}-{n}" for c, n in CASES])
def test_bad_input_is_one_error_line_and_writes_nothing(command, name, invoke, tmp_path, trained):
    target = _make(tmp_path, name)
    argv, stdin = _argv(command, target, tmp_path / "out.jsonl")
    before = _tree(paths.root()) | _tree(tmp_path)
    code, _, err = invoke(argv, stdin)
    assert code == 2, err
    (line,) = err.strip().splitlines()
    assert line.startswith("error: ") and EXPECTED[command][name] in line
    assert _tree(paths.root()) | _tree(tmp_path) == before  # nothing written, nothing half-written


# -- inputs that are fine, however odd: a correct result ----------------------------------
def test_segment_keeps_a_20000_character_sentence_whole(invoke, tmp_path):
    code, out, err = invoke(["segment", str(_make(tmp_path, "20k-sentence"))])
    assert code == 0, err
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert (row["start"], row["end"], row["text"]) == (0, len(LONG_SENTENCE), LONG_SENTENCE)


def test_segment_drops_scripts_from_html(invoke, tmp_path):
    code, out, err = invoke(["segment", str(_make(tmp_path, "html-scripts"))])
    assert code == 0, err
    assert [json.loads(line)["text"] for line in out.splitlines()] == [
        "Pakistan urged the Taliban to act against the TTP.",
        "Kabul rejected the demand.",
    ]


def test_segment_keeps_non_english_text_with_exact_offsets(invoke, tmp_path):
    path = _make(tmp_path, "non-english")
    code, out, err = invoke(["segment", str(path)])
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    text = path.read_text()
    assert [r["text"] for r in rows] == [URDU, PASHTO]
    assert all(text[r["start"] : r["end"]] == r["text"] for r in rows)


def test_segment_reads_a_page_printed_to_pdf_without_its_running_lines(invoke, tmp_path):
    """The browser's print time, title, address and page counters are no sentences and are in none."""
    path = _make(tmp_path, "printed-pdf")
    code, out, err = invoke(["segment", str(path)])
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["text"].replace("\n", " ") for r in rows] == PRINTED_SENTENCES
    assert all(PRINTED_PAGE[r["start"] : r["end"]] == r["text"] for r in rows)


@pytest.mark.parametrize("how", ["article", "stdin"])
def test_predict_scores_a_page_printed_to_pdf_sentence_by_sentence(how, invoke, tmp_path, trained):
    """An analyst pastes a printed page's text: what is scored is its sentences, whole, and not the
    browser's running lines (they were scored inside the next sentence, and "Page 2 of 3" alone)."""
    target, out = _make(tmp_path, "printed-pdf"), tmp_path / "out.jsonl"
    argv, stdin = _argv({"article": "predict", "stdin": "predict stdin"}[how], target, out)
    code, _, err = invoke(argv, stdin)
    assert code == 0, err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["text"].replace("\n", " ") for r in rows if r["kind"] == "sentence"] == PRINTED_SENTENCES


HEADER = "12/1/25, 3:45 PM Pakistan, Afghan Taliban talks collapse - DAWN.COM\n"
PAGE_BREAK = HEADER + "https://www.dawn.com/news/1950000 2/3\n"  # the running lines at page 2's head
CUT_BY_A_PAGE = f"""{HEADER}https://www.dawn.com/news/1950000 1/3
Taliban spokesman Zabihullah Mujahid rejected the charge on Tuesday, saying that Afghanistan
does not allow anyone to use its soil against another country and that the talks in Istanbul
{PAGE_BREAK}would go on next week under the mediation of Turkey and Qatar.
He said the Afghan side would attend.
"""


def test_a_sentence_a_page_break_cut_is_scored_without_the_running_lines_between_its_halves(
    invoke, tmp_path, trained
):
    """The sentence's text is its span of the article, running header and footer included, and the
    model read those words as the sentence's ("Pakistan, Afghan Taliban talks collapse"): the
    spokesman's denial scored otherwise than the same sentence with no page break in it. It is read
    as a reader reads it, and the sentence after it reads it so in its context."""
    from training.context import join

    clean = CUT_BY_A_PAGE.replace(PAGE_BREAK, "")
    scored = {}
    for name, text in (("printed", CUT_BY_A_PAGE), ("clean", clean)):
        (tmp_path / f"{name}.txt").write_text(text)
        out = tmp_path / f"{name}.jsonl"
        code, _, err = invoke(["predict", str(tmp_path / f"{name}.txt"), "-o", str(out)])
        assert code == 0, err
        scored[name] = [json.loads(line) for line in out.read_text().splitlines()]
        scored[name] = [r for r in scored[name] if r["kind"] == "sentence"]
    printed, plain = scored["printed"], scored["clean"]
    assert len(printed) == len(plain) == 2
    assert PAGE_BREAK in printed[0]["text"]  # the span, as the article holds it
    for cut, whole in zip(printed, plain, strict=True):
        assert (cut["actor"], cut["stance"]) == (whole["actor"], whole["stance"])
        assert cut["stance_scores"] == pytest.approx(whole["stance_scores"], abs=1e-6)
        assert cut["actor_scores"] == pytest.approx(whole["actor_scores"], abs=1e-6)
    assert join([printed[0]["text"]]) == join([plain[0]["text"]])


def test_predict_scores_a_pdf_a_browser_printed_as_it_scores_the_web_page(invoke, tmp_path, trained):
    """An analyst saves a report as a PDF: each sentence gets the call, and the scores, that the
    web page's sentence gets (page breaks fall inside two sentences of this print)."""
    from tests.test_pdf import ARTICLE, LARGE_TYPE, print_to_pdf, web_page

    page, pdf = tmp_path / "talks.html", tmp_path / "talks.pdf"
    page.write_text(web_page(ARTICLE.read_text(encoding="utf-8"), LARGE_TYPE), encoding="utf-8")
    print_to_pdf(page, pdf)
    scored = {}
    for source in (page, pdf):
        out = tmp_path / f"{source.suffix[1:]}.jsonl"
        code, _, err = invoke(["predict", str(source), "-o", str(out)])
        assert code == 0, err
        scored[source.suffix] = [
            r for r in map(json.loads, out.read_text().splitlines()) if r["kind"] == "sentence"
        ]
    assert len(scored[".pdf"]) == len(scored[".html"]) > 10
    for from_pdf, from_page in zip(scored[".pdf"], scored[".html"], strict=True):
        assert (from_pdf["actor"], from_pdf["stance"]) == (from_page["actor"], from_page["stance"])
        assert from_pdf["stance_scores"] == pytest.approx(from_page["stance_scores"], abs=1e-6)
        assert from_pdf["actor_scores"] == pytest.approx(from_page["actor_scores"], abs=1e-6)


@pytest.mark.parametrize("name", ["20k-sentence", "html-scripts", "non-english"])
@pytest.mark.parametrize("how", ["article", "stdin", "sentences"])
def test_predict_scores_odd_but_valid_input(name, how, invoke, tmp_path, trained, scheme):
    target, out = _make(tmp_path, name), tmp_path / "out.jsonl"
    argv, stdin = _argv(
        {"article": "predict", "stdin": "predict stdin", "sentences": "predict --sentences"}[how], target, out
    )
    code, _, err = invoke(argv, stdin)
    assert code == 0, err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    sentences = [r for r in rows if r["kind"] == "sentence"]
    expected = {
        "20k-sentence": [LONG_SENTENCE],
        "html-scripts": ["Pakistan urged the Taliban to act against the TTP.", "Kabul rejected the demand."],
        "non-english": [URDU, PASHTO],
    }[name]
    assert [r["text"] for r in sentences] == expected
    for r in sentences:
        assert list(r["stance_scores"]) == scheme.stance_labels
        assert sum(r["stance_scores"].values()) == pytest.approx(1, abs=1e-3)
        assert r["stance"] in scheme.stance_labels and r["actor"] in scheme.actor_labels
    assert [r["kind"] for r in rows].count("profile") == 1


# -- models and stores that are not there ---------------------------------------------------
def test_predict_with_a_model_uri_that_does_not_exist(invoke, tmp_path, trained):
    article = paths.root() / "seeds" / "001_64535fbd2cbe07ec.txt"
    for uri, message in [
        (
            "models:/no-such-model@champion",
            "cannot find model 'models:/no-such-model@champion' in sqlite:///",
        ),
        ("runs:/0123456789abcdef/model", "cannot find model 'runs:/0123456789abcdef/model' in sqlite:///"),
        (str(tmp_path / "nothing-here"), f"cannot find model '{tmp_path / 'nothing-here'}': no such folder"),
        # a registered name without models:/ is told the forms a model takes
        ("stance-classifier", "cannot find model 'stance-classifier': give a model as models:/NAME@ALIAS"),
        (str(tmp_path), f"'{tmp_path}' is a folder but not an MLflow model"),
    ]:
        code, _, err = invoke(["predict", str(article), "--model", uri, "-o", str(tmp_path / "o.jsonl")])
        assert code == 2, err
        (line,) = err.strip().splitlines()
        assert line.startswith(f"error: {message}")
        assert not (tmp_path / "o.jsonl").exists()


def test_predict_with_a_folder_that_holds_no_model_is_told_the_forms(invoke, tmp_path):
    # the README promises the forms to a folder that holds no model, as to a name without models:/
    folder = tmp_path / "not-a-model"
    folder.mkdir()
    article = paths.root() / "seeds" / "001_64535fbd2cbe07ec.txt"
    code, out, err = invoke(["predict", str(article), "--model", str(folder)])
    assert (code, out) == (2, "")
    assert err == (
        f"error: '{folder}' is a folder but not an MLflow model (no MLmodel file in it; a model is "
        "models:/NAME@ALIAS, models:/NAME/VERSION, runs:/RUN_ID/model or a model's folder)\n"
    )


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when this returns: nothing listens there


# == 1. outputs: special files, symlinks, unwritable places ==================================
ARTICLE = "seeds/001_64535fbd2cbe07ec.txt"


def _predict_to(invoke, out: str, *extra: str) -> tuple[int, str, str]:
    return invoke(["predict", str(paths.root() / ARTICLE), "-o", out, *extra])


def test_an_output_symlink_is_followed_not_replaced(invoke, tmp_path, trained):
    target, link = tmp_path / "real.jsonl", tmp_path / "link.jsonl"
    target.write_text("old\n")
    link.symlink_to(target)
    code, _, err = _predict_to(invoke, str(link))
    assert code == 0, err
    assert link.is_symlink() and link.resolve() == target
    assert json.loads(target.read_text().splitlines()[0])["kind"] == "sentence"


def test_an_output_fifo_is_written_into_not_replaced(invoke, tmp_path, trained):
    import os
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    code, _, err = _predict_to(invoke, str(fifo))
    reader.join(timeout=30)
    assert code == 0, err
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # still a FIFO, not a regular file
    assert b'"kind": "sentence"' in got[0]


def test_a_full_device_is_one_error_line_and_stays_a_device(invoke, tmp_path, trained):
    import os
    import stat

    full = tmp_path / "full"  # our own /dev/full (char device 1, 7): never the machine's, even on old code
    try:
        os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    except OSError as exc:
        pytest.skip(f"cannot make a device node here ({exc.strerror})")
    code, _, err = _predict_to(invoke, str(full))
    assert code == 2, err
    assert err.strip().splitlines()[-1] == f"error: {full}: cannot write (No space left on device)"
    assert stat.S_ISCHR(full.lstat().st_mode)


@pytest.mark.parametrize(
    ("where", "message"),
    [
        (
            "under-a-file/out.jsonl",
            "cannot write the predictions ({tmp}/under-a-file is a file, not a folder)",
        ),
        ("a-folder", "is a directory, not a file to write the predictions to"),
        ("/proc/version", "cannot write the predictions"),
    ],
)
def test_an_unwritable_output_is_refused_before_any_scoring(where, message, invoke, tmp_path, trained):
    (tmp_path / "under-a-file").write_text("a file\n")
    (tmp_path / "a-folder").mkdir()
    out = where if where.startswith("/") else str(tmp_path / where)
    profile = tmp_path / "profile.json"
    # a model that does not exist: the output is refused before the model is even looked up
    code, _, err = _predict_to(invoke, out, "--profile", str(profile), "--model", "models:/nothing@here")
    assert code == 2, err
    (line,) = err.strip().splitlines()
    assert line.startswith(f"error: {out}: ") and message.format(tmp=tmp_path) in line
    assert not profile.exists()


# == 2. Ctrl-C and SIGTERM: never reported as success; a run ends KILLED, nothing registered ========
def _store_rows(db: Path, query: str) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(db) as con:
        return con.execute(query).fetchall()


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_an_interrupted_train_exits_non_zero_and_its_run_is_killed(sig, scratch_root, trained):
    import os
    import signal
    import subprocess
    import time

    db = scratch_root / "mlflow.db"
    versions = _store_rows(db, "select count(*) from model_versions")
    runs = {r[0] for r in _store_rows(db, "select run_uuid from runs")}
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("stance")), "train", "configs/test-baseline.yaml", "--force"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy(),
    )  # fmt: skip
    deadline = time.monotonic() + 300  # a loaded machine (CI) can take minutes to start a run
    while time.monotonic() < deadline and proc.poll() is None:
        new = [r for r in _store_rows(db, "select run_uuid, status from runs") if r[0] not in runs]
        if new and new[0][1] == "RUNNING":
            break
        time.sleep(0.5)  # polling the SQLite store often can lock out the run's own writes
    proc.send_signal(getattr(signal, sig))
    _, err = proc.communicate(timeout=300)
    number = getattr(signal, sig).value
    assert proc.returncode == 128 + number, err.decode()
    assert err.decode().strip().splitlines()[-1] == f"error: interrupted by {sig} (nothing more was done)"
    (run,) = [r for r in _store_rows(db, "select run_uuid, status from runs") if r[0] not in runs]
    assert run[1] == "KILLED"
    assert _store_rows(db, "select count(*) from model_versions") == versions  # nothing registered
    pending = _store_rows(
        db, f"select model_id from logged_models where source_run_id = '{run[0]}' and status = 1"
    )
    assert pending == []  # no logged model left PENDING


def test_a_signal_that_lands_inside_a_finalizer_still_interrupts_the_command(tmp_path):
    """A SIGTERM that arrives while an object's __del__ runs (GitPython's Repo.__del__ during an
    MLflow run's start) had its exception swallowed by Python, and `stance train` went on to
    register its model; now it is raised once the finalizer returns."""
    import subprocess

    script = tmp_path / "cmd.py"
    script.write_text(
        "import os, signal, time, typer\n"
        "from stance.runner import guard\n"
        "class Repo:\n"
        "    def __del__(self):\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "        time.sleep(0.2)  # the signal is handled here, inside the finalizer\n"
        "app = typer.Typer()\n"
        "@app.command()\n"
        "def main():\n"
        "    Repo()  # collected at once: its __del__ runs\n"
        "    for _ in range(50):\n"
        "        time.sleep(0.1)\n"
        "    print('carried on to the end')\n"
        "guard(app)\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert "carried on to the end" not in done.stdout
    assert done.returncode == 128 + 15, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "error: interrupted by SIGTERM (nothing more was done)"


def test_an_interrupted_predict_exits_130(tmp_path):
    import os
    import signal
    import subprocess
    import time

    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("stance")), "predict", "-"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy(),
    )  # fmt: skip
    time.sleep(3)  # reading standard input, which never ends
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.decode().strip().splitlines() == ["error: interrupted by SIGINT (nothing more was done)"]


# == 3. usage errors, through the real console script (typer's own click) ====================
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["predict", "--format", "xml", "a.txt"],
            "error: Invalid value for '--format' / '-f': 'xml' is not one of 'jsonl', 'csv', 'table'. "
            "(see `stance predict --help`)",
        ),
        (["predict", "--bogus"], "error: No such option: --bogus (see `stance predict --help`)"),
        (["bogus"], "error: No such command 'bogus'. (see `stance --help`)"),
        (["train", "--force=3"], "error: Option '--force' does not take a value."),
    ],
)
def test_a_usage_error_is_one_line_with_status_2(argv, expected):
    out = run_cli(*argv)
    assert out.returncode == 2
    assert out.stderr.decode().strip().splitlines() == [expected]


def test_an_unreadable_input_is_one_line(tmp_path):
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop)
    out = run_cli("segment", str(loop))
    assert out.returncode == 2
    assert out.stderr.decode().strip().splitlines() == [
        f"error: {loop}: cannot read (Too many levels of symbolic links)"
    ]


# == 4. annotation import: every field typed and in range ======================================
GOOD_ROW = {
    "article": "corpus-001",
    "start": 0,
    "end": 73,
    "text": "Qatari Foreign Ministry Announces Ceasefire Between Pakistan, Afghanistan",
    "annotator": "annotator-9",
    "pairs": [],
    "ground_truth": False,
}
BAD_ROWS = {
    "bool as string": (
        {"ground_truth": "false"},
        "bad value for 'ground_truth': Input should be a valid boolean (got 'false')",
    ),
    "negative offset": (
        {"start": -5},
        "bad value for 'start': Input should be greater than or equal to 0 (got -5)",
    ),
    "offset as string": ({"end": "73"}, "bad value for 'end': Input should be a valid integer (got '73')"),
    "start after end": (
        {"start": 73, "end": 0},
        "bad value for '(top level)': start (73) must be before end (0)",
    ),
    "empty text": ({"text": "  "}, "bad value for 'text': must not be empty (got '  ')"),
    "empty annotator": ({"annotator": ""}, "bad value for 'annotator': must not be empty (got '')"),
    "article escapes its folder": (
        {"article": "../../etc/passwd"},
        "bad value for 'article': an article id is a file name without its .txt: letters, digits, "
        "'-', '_', '.', no path (got '../../etc/passwd')",
    ),
    "unknown article": ({"article": "corpus-999"}, "article 'corpus-999' not found in "),
    "pairs not a list": (
        {"pairs": "none"},
        "bad value for 'pairs': Input should be a valid list (got 'none')",
    ),
    "actor not a string": (
        {"pairs": [{"actor": ["ttp"], "stance": "demand"}]},
        "bad value for 'pairs.0.actor': Input should be a valid string (got ['ttp'])",
    ),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_a_wrong_annotation_field_names_file_and_line_and_writes_nothing(case, invoke, tmp_path):
    change, message = BAD_ROWS[case]
    raw = tmp_path / "raw.jsonl"
    raw.write_text(json.dumps(GOOD_ROW) + "\n" + json.dumps(GOOD_ROW | {"annotator": "x"} | change) + "\n")
    before = _tree(paths.root())
    code, _, err = invoke(["import-annotations", str(raw)])
    assert code == 2, err
    (line,) = err.strip().splitlines()
    assert line.startswith(f"error: {raw}:2: {message}")
    assert _tree(paths.root()) == before  # no snapshot, LATEST unmoved


# == 5. recipes: checked whole before a run starts ================================================
BAD_RECIPES = {
    "min_df above the data": ("kind: baseline\nmin_df: 100000\n", "min_df 100000 is more than the sentences"),
    "max_features 0": (
        "kind: baseline\nmax_features: 0\n",
        "bad value for 'max_features': Input should be greater than or equal to 1 (got 0)",
    ),
    "reversed n-grams": (
        "kind: baseline\nword_ngrams: [3, 1]\n",
        "bad value for 'word_ngrams': an n-gram range is [low, high] with 1 <= low <= high, got [3, 1]",
    ),
    "negative seed": (
        "kind: baseline\nseed: -1\n",
        "bad value for 'seed': Input should be greater than or equal to 0",
    ),
    "quoted number": (
        "kind: baseline\ncv_folds: '3'\n",
        "bad value for 'cv_folds': Input should be a valid integer",
    ),
    "true for a number": (
        "kind: baseline\nmin_df: true\n",
        "bad value for 'min_df': Input should be a valid integer",
    ),
    "duplicate key": (
        "kind: baseline\nC: 1.0\nC: 8.0\n",
        "not valid YAML (duplicate key 'C' (first at line 2) at line 3, column 1)",
    ),
    "more folds than articles": (
        "kind: baseline\ncv_folds: 999\n",
        "cv_folds 999 is more than the 216 articles",
    ),
    "infinite number": (
        "kind: baseline\nC: .inf\n",
        "bad value for 'C': Input should be a finite number (got inf)",
    ),
    "cue not a regex": (
        "kind: hybrid\nactor_cues: {ttp: ['(']}\n",
        "bad value for 'actor_cues': ttp: '(' is not a regular expression (missing ), unterminated subpattern",
    ),
    "encoder folder missing": (
        "kind: embedding\nbase_model: /no/such/encoder\n",
        "base_model /no/such/encoder: no such folder (give a model folder, or a hub id)",
    ),
    "encoder not packaged, a folder or cached": (
        "kind: hybrid\nbase_model: nonexistent-model-xyz\n",
        "base_model 'nonexistent-model-xyz' is not a packaged model (packaged: packaged:all-MiniLM-L6-v2, "
        "packaged:all-mpnet-base-v2), a folder, or in the local model cache (hub downloads are off: "
        "HF_HUB_OFFLINE=1)",
    ),
    "packaged encoder unknown": (
        "kind: embedding\nbase_model: packaged:all-MiniLM-L12-v2\n",
        "base_model 'packaged:all-MiniLM-L12-v2' is not a packaged model (packaged: packaged:all-MiniLM-L6-v2, "
        "packaged:all-mpnet-base-v2)",
    ),
    "blend member's encoder unknown": (
        "kind: blend\nmembers: [configs/baseline.yaml, {recipe: configs/hybrid.yaml, base_model: no-such-model}]\n",
        "base_model 'no-such-model' is not a packaged model",
    ),
}


@pytest.mark.parametrize("case", list(BAD_RECIPES))
def test_a_bad_recipe_is_refused_before_any_run(case, invoke, tmp_path, trained):
    from mlflow import MlflowClient

    text, message = BAD_RECIPES[case]
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(text)
    runs_before = len(MlflowClient().search_runs([trained_experiment()], max_results=1000))
    code, _, err = invoke(["train", str(recipe), "--force"])
    assert code == 2, err
    (line,) = err.strip().splitlines()
    assert line.startswith(f"error: {recipe}: ") and message in line
    assert len(MlflowClient().search_runs([trained_experiment()], max_results=1000)) == runs_before


def test_an_invalid_registered_model_name_is_refused_before_any_run(invoke, trained):
    code, _, err = invoke(["train", "configs/test-baseline.yaml", "--force", "--registered-model", "a/b:c"])
    assert code == 2, err
    assert err.strip().splitlines() == [
        "error: registered model name 'a/b:c' is not valid: use 1-100 letters, digits, '-', '_' or '.', "
        "starting with a letter or digit (it becomes part of models:/NAME@champion)"
    ]


def test_a_blank_experiment_name_is_refused_before_any_work(invoke, trained):
    code, _, err = invoke(["train", "configs/test-baseline.yaml", "--force", "--experiment", " "])
    assert code == 2, err
    assert err.strip().splitlines() == [
        "error: --experiment is blank: give the MLflow experiment's name (default 'stance')"
    ]


def trained_experiment() -> str:
    import mlflow

    return mlflow.get_experiment_by_name("stance").experiment_id


# == 6. hostile long lines: segmentation in linear time ============================================
HOSTILE_LINES = {
    "abbreviations": "Mr. " * 25_000,
    "e-mail-like": "a@" * 4_000,  # one 8 KB word: the old e-mail rule took minutes on it
    "dotted words": "a.b.c.d.e " * 10_000,
    "prose": "Pakistan urged the Taliban to act. " * 3_000,
}


@pytest.mark.parametrize("case", list(HOSTILE_LINES))
def test_a_hostile_long_line_segments_in_seconds_with_exact_offsets(case):
    import time

    from labeling.articles import Article
    from labeling.segment import segment

    text = HOSTILE_LINES[case]
    started = time.perf_counter()
    sentences = segment(Article("hostile", text))
    seconds = time.perf_counter() - started
    assert seconds < 20, f"{case}: {seconds:.1f} s"  # minutes before; about 1-2 s here, on a busy machine
    assert all(text[s.start : s.end] == s.text for s in sentences)


# == 7. sentence files ==============================================================================
def test_a_sentences_file_of_many_articles_gives_a_profile_per_article(invoke, tmp_path, trained):
    rows = [
        {"article": "a1", "text": "Pakistan urged the Taliban to act against the TTP."},
        {"article": "a2", "text": "Kabul rejected the demand."},
        {"article": "a1", "text": "Qatar mediated the talks."},
        {"article": None, "text": "The talks resumed in Istanbul."},
    ]
    path = tmp_path / "many.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "".join(json.dumps(r) + "\n" for r in rows).encode())  # with a BOM
    code, out, err = invoke(["predict", "--sentences", str(path)])
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    profiles = {r["article"]: r["sentences"] for r in records if r["kind"] == "profile"}
    assert profiles == {"a1": 2, "a2": 1, "many": 1}  # article null: the file's name, never "None"


def test_a_sentences_file_over_1mb_is_read(tmp_path):
    from training.predict import read_sentences_file

    path = tmp_path / "big.txt"
    path.write_text("Pakistan urged the Taliban to act against the TTP.\n" * 22_000)  # 1.1 MB
    assert len(read_sentences_file(path)) == 22_000


@pytest.mark.parametrize("command", ["segment", "predict --sentences"])
def test_utf16_is_named_not_called_binary(command, invoke, tmp_path):
    path = tmp_path / "wide.txt"
    path.write_bytes("Kabul rejected the demand.\n".encode("utf-16"))
    code, _, err = invoke([*command.split(), str(path)])
    assert code == 2, err
    assert err.strip().splitlines() == [
        f"error: {path}: is UTF-16 text, not UTF-8; convert it to UTF-8 first (`iconv -f utf-16 -t utf-8` "
        "converts it; in Notepad, Save As with Encoding UTF-8)"
    ]  # the command, as a windows-1252 file is told it: "convert it" alone left the analyst to find one


def test_html_saved_as_txt_is_read_as_html(invoke, tmp_path):
    path = tmp_path / "page.txt"
    path.write_bytes(BAD_INPUTS["html-scripts"][1])
    code, out, err = invoke(["segment", str(path)])
    assert code == 0, err
    assert [json.loads(line)["text"] for line in out.splitlines()] == [
        "Pakistan urged the Taliban to act against the TTP.",
        "Kabul rejected the demand.",
    ]


# == 8. secrets (broken MLflow stores: tests/test_tracking.py) ===========================================================================
def test_a_password_in_label_studio_url_is_never_echoed(monkeypatch):
    url = f"http://admin:hunter2secret@127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("LABEL_STUDIO_URL", url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "token-not-shown")
    out = run_cli("labeling", "status")
    err = out.stderr.decode()
    assert out.returncode == 2, err
    assert "hunter2secret" not in err + out.stdout.decode()
    assert "http://admin:***@127.0.0.1" in err
