"""Small file helpers: atomic writes and JSONL reading with line-numbered errors."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from stance.errors import StanceError


def _default_mode(path: Path) -> int:
    """An existing file keeps its permissions; a new one gets what ``open()`` would give it."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomic(path: Path, data: str | bytes, mode: int | None = None) -> None:
    """Write a file so a reader sees the old content or the new, never a half.

    The temporary file gets its final permissions (``mode``, else the existing file's,
    else the umask's) before any byte is written: a report is not left owner-only, and
    a secret passed ``mode=0o600`` is never readable by others, not even for a moment.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    perms = _default_mode(path) if mode is None else mode
    how = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, perms)
        with os.fdopen(fd, how, **({} if how == "wb" else {"encoding": "utf-8"})) as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def dumps_jsonl(records: Iterable[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in records)


def read_text(path: Path, what: str = "a JSONL file") -> str:
    """A UTF-8 text file's content; a directory, a missing file or other bytes are one clear error."""
    path = Path(path)
    if path.is_dir():
        raise StanceError(f"{path}: is a directory, not {what}")
    if not path.is_file():
        raise StanceError(f"{path}: no such file")
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise StanceError(f"{path}: looks like a binary file, not {what}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StanceError(
            f"{path}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None


def read_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, record) for each non-blank line; a bad line names itself."""
    for n, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise StanceError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise StanceError(f"{path}:{n}: expected a JSON object")
        yield n, record
