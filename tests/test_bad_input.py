"""Every command against a fixed set of bad inputs: one clear error line, or a correct result.

Never a traceback, never a half-written output. Commands run in this process through
the console script's own entry point (fast); the unreachable-store cases run the real
console script, since they change MLflow's process-wide tracking URI.
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
    "binary": ("data.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))),
    "invalid-utf8": ("latin1.txt", "Kabul a refusé la demande du Pakistan.".encode("latin-1")),
    "5MB": ("huge.txt", b"Kabul refused the demand. " * 200_000),
    "20k-sentence": ("long.txt", LONG_SENTENCE.encode()),
    "html-scripts": ("page.html", HTML.encode()),
    "non-english": ("urdu.txt", f"{URDU}\n{PASHTO}\n".encode()),
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
        "empty": "empty.txt: 'kind' must be one of baseline, embedding, finetune, fewshot, hybrid (got None)",
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
        "5MB": "huge.txt: too large for one article (5.2 MB; the limit is 1 MB) - split it into articles",
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
        (str(tmp_path / "nothing-here"), f"cannot find model '{tmp_path / 'nothing-here'}' in sqlite:///"),
    ]:
        code, _, err = invoke(["predict", str(article), "--model", uri, "-o", str(tmp_path / "o.jsonl")])
        assert code == 2, err
        (line,) = err.strip().splitlines()
        assert line.startswith(f"error: {message}")
        assert not (tmp_path / "o.jsonl").exists()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when this returns: nothing listens there


@pytest.mark.parametrize("command", ["train", "predict"])
def test_an_unreachable_mlflow_store_is_one_error_line(command, monkeypatch, tmp_path, trained):
    uri = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    argv = {
        "train": ["train", "configs/test-baseline.yaml"],
        "predict": [
            "predict",
            str(paths.root() / "seeds" / "001_64535fbd2cbe07ec.txt"),
            "-o",
            str(tmp_path / "o"),
        ],
    }[command]
    out = run_cli(*argv)
    assert out.returncode == 2, out.stderr.decode()
    (line,) = out.stderr.decode().strip().splitlines()
    assert line == f"error: MLflow tracking store {uri} is not reachable (is the tracking server running?)"
    assert not (tmp_path / "o").exists()
