"""Atomic writes: what a user gets on disk (content and who may read it)."""

from __future__ import annotations

import os
import stat

import pytest

from stance.env import ensure_secrets, load_env, read_env
from stance.io import write_atomic


def _perms(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_file_gets_the_umask_permissions_not_owner_only(tmp_path, umask_022):
    # A prediction CSV or a compare report is shared with colleagues: it must not come out 0600.
    out = tmp_path / "predictions.csv"
    write_atomic(out, "sentence_id,actor\n")
    assert out.read_text() == "sentence_id,actor\n"
    assert _perms(out) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["predictions.csv"]  # no temp file left


def test_rewriting_a_file_keeps_its_permissions(tmp_path, umask_022):
    out = tmp_path / "report.md"
    out.write_text("old")
    out.chmod(0o640)
    write_atomic(out, b"new")
    assert out.read_bytes() == b"new"
    assert _perms(out) == 0o640


def test_an_env_copied_from_the_example_becomes_owner_only(tmp_path, umask_022, monkeypatch):
    """`.env.example` says to copy it to `.env` and fill in the token and password. The copy is readable
    by every user of the machine (644, as the example), and stayed so: the commands read the secrets
    from it, and `make label-studio` rewrote `.env` owner-only only when a secret was missing there."""
    from pathlib import Path

    env = tmp_path / ".env"
    example = (Path(__file__).resolve().parents[1] / ".env.example").read_text()
    env.write_text(example.replace("replace-with-a-long-random-token", "t0ken-of-the-team"))
    env.chmod(0o644)  # `cp .env.example .env`
    for key in read_env(env):
        monkeypatch.setenv(key, "")  # recorded, so what load_env sets is undone after the test
        monkeypatch.delenv(key)
    load_env(env)  # what every command does first
    assert os.environ["LABEL_STUDIO_API_KEY"] == "t0ken-of-the-team"
    assert _perms(env) == 0o600


def test_secrets_are_owner_only_from_the_first_byte(tmp_path, umask_022, monkeypatch):
    for key in ("LABEL_STUDIO_PASSWORD", "LABEL_STUDIO_API_KEY", "LABEL_STUDIO_USERNAME", "OTHER"):
        monkeypatch.setenv(key, "")  # recorded, so what ensure_secrets sets is undone after the test
        monkeypatch.delenv(key)
    env = tmp_path / ".env"
    env.write_text("OTHER=kept\n")
    env.chmod(0o644)
    assert ensure_secrets(env) is True
    assert _perms(env) == 0o600
    lines = env.read_text().splitlines()
    assert lines[0] == "OTHER=kept"
    assert {line.split("=")[0] for line in lines[1:]} == {
        "LABEL_STUDIO_USERNAME",
        "LABEL_STUDIO_PASSWORD",
        "LABEL_STUDIO_API_KEY",
    }


def test_a_jsonl_line_whose_text_holds_a_unicode_line_separator_reads_back_as_one_record(tmp_path):
    """U+2028, U+2029 and NEL (U+0085) are legal inside a JSON string and ``dumps_jsonl`` writes
    them as they are (``ensure_ascii=False``): a sentence of a pasted web page holding one was split
    there on reading, so ``predict --sentences`` and ``report`` refused predict's own JSONL
    (``not valid JSON (Unterminated string…)``), and a `next` batch could not be submitted."""
    from stance.io import dumps_jsonl, read_jsonl

    records = [
        {"text": "Mediated by Qatar\u2028and Turkey."},
        {"text": "Pakistan has\x85not disclosed\u2029its delegation."},
    ]
    path = tmp_path / "predictions.jsonl"
    write_atomic(path, dumps_jsonl(records))
    assert list(read_jsonl(path)) == [(1, records[0]), (2, records[1])]
    # Windows line endings and a bare CR still end a line
    write_atomic(path, dumps_jsonl(records).replace("\n", "\r\n"))
    assert list(read_jsonl(path)) == [(1, records[0]), (2, records[1])]
    write_atomic(path, dumps_jsonl(records).replace("\n", "\r"))
    assert list(read_jsonl(path)) == [(1, records[0]), (2, records[1])]
