"""Small file helpers: atomic writes and JSONL reading with line-numbered errors."""

from __future__ import annotations

import codecs
import json
import os
import re
import stat
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


def _target(path: Path) -> Path:
    """Where writing ``path`` lands: a symlink is followed (the link stays a link)."""
    return Path(os.path.realpath(path))


def _is_special(path: Path) -> bool:
    """A FIFO, a device or a socket: something to write into, never to replace by a file."""
    try:
        return not stat.S_ISREG(path.stat().st_mode) and not path.is_dir()
    except OSError:
        return False


def check_writable(path: Path, what: str = "output") -> None:
    """Refuse, before any work, an output that cannot be written: a folder, a read-only place,
    a path under a file. A FIFO or a device is fine (it is streamed to, not replaced)."""
    path = Path(path)
    target = _target(path)
    if target.is_dir():
        raise StanceError(f"{path}: is a directory, not a file to write the {what} to")
    if _is_special(target):
        if not os.access(target, os.W_OK):
            raise StanceError(f"{path}: cannot write the {what} (permission denied)")
        return
    folder = target.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise StanceError(f"{path}: cannot write the {what} ({folder} is a file, not a folder)")
    if target.exists() and not os.access(target, os.W_OK):
        raise StanceError(f"{path}: cannot write the {what} (the file is read-only)")
    try:  # the real test, true for root too: can a file be created where the output goes?
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".stance-probe.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise StanceError(f"{path}: cannot write the {what} ({exc.strerror or exc})") from None


def write_atomic(path: Path, data: str | bytes, mode: int | None = None) -> None:
    """Write a file so a reader sees the old content or the new, never a half.

    The temporary file gets its final permissions (``mode``, else the existing file's,
    else the umask's) before any byte is written: a report is not left owner-only, and
    a secret passed ``mode=0o600`` is never readable by others, not even for a moment.
    A symlink is followed (what it points at is replaced, the link stays); a FIFO or a
    device (``/dev/stdout``) is written into, never replaced by a regular file. A path
    that cannot be written is a StanceError naming it.
    """
    path = Path(path)
    target = _target(path)
    raw = data if isinstance(data, bytes) else data.encode("utf-8")
    try:
        if _is_special(target):
            with open(target, "wb") as fh:
                fh.write(raw)
            return
        _replace(target, raw, mode)
    except OSError as exc:
        raise StanceError(f"{path}: cannot write ({exc.strerror or exc})") from None


def _replace(target: Path, raw: bytes, mode: int | None) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    perms = _default_mode(target) if mode is None else mode
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, perms)
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def dumps_jsonl(records: Iterable[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in records)


def read_bytes(path: Path, what: str) -> bytes:
    """A file's bytes; a directory, a missing or unreadable file (a symlink loop too) is one clear error."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise StanceError(f"{path}: no such file") from None
    except OSError as exc:  # a symlink loop, a path through a file, no permission
        raise StanceError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise StanceError(f"{path}: is a directory, not {what}")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise StanceError(f"{path}: cannot read ({exc.strerror or exc})") from None


def decode_text(data: bytes, source: str, what: str) -> str:
    """UTF-8 text (a byte-order mark is dropped); UTF-16, binary or other bytes are one clear error."""
    head = data[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(head):
        raise StanceError(
            f"{source}: is UTF-16 text, not UTF-8; convert it to UTF-8 first (`iconv -f utf-16 -t utf-8` "
            "converts it; in Notepad, Save As with Encoding UTF-8)"
        )
    if known := _known_format(head, what):
        raise StanceError(f"{source}: is {known}")
    if b"\x00" in head:
        raise StanceError(f"{source}: looks like a binary file, not {what}")
    bom = 3 if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        at = exc.start + bom
        raise StanceError(
            f"{source}: not valid UTF-8 (byte 0x{data[at]:02x} at offset {at}); convert it to UTF-8 first"
            + _legacy_hint(data[bom:], at - bom)
        ) from None


SAVE_AS_TEXT = "save its text as a .txt file (or the web page as .html)"  # also labeling/pdf_text.py
_FORMATS = (  # what a file's first bytes say it is, and what to do
    (b"%PDF-", "a PDF", f"copy its text out (`pdftotext FILE OUT.txt`) or {SAVE_AS_TEXT}"),
    (b"PK\x03\x04", "a zip archive (a Word .docx, an .odt or an .epub is one)", SAVE_AS_TEXT),
    (b"\xd0\xcf\x11\xe0", "an old Word (.doc) or Office file", SAVE_AS_TEXT),
    (b"{\\rtf", "RTF, a word processor's format", SAVE_AS_TEXT),
    (b"\x89PNG", "a PNG image", ""),
    (b"\xff\xd8\xff", "a JPEG image", ""),
    (b"GIF8", "a GIF image", ""),
    (b"\x1f\x8b", "gzip-compressed", "`gunzip` it first"),
)


def _known_format(head: bytes, what: str) -> str | None:
    """ "a PDF, not article text: what to do", for a format told by its first bytes: a PDF saved as
    .txt was told to convert from windows-1252 (its first 8 KB may hold no zero byte), a .docx only
    that it "looks like a binary file"."""
    for magic, kind, advice in _FORMATS:
        if head.startswith(magic):
            return f"{kind}, not {what}" + (f": {advice}" if advice else "")
    return None


def _legacy_hint(data: bytes, at: int) -> str:
    """How to convert text saved in windows-1252 (Notepad's and Word's "ANSI"; ISO-8859-1 is its
    subset): the byte read in that charset and the command that converts the file. Nothing for
    bytes windows-1252 does not fit, whose charset cannot be told."""
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return ""
    return f" (it reads as windows-1252, where that byte is {data[at : at + 1].decode('cp1252')!r}; iconv -f windows-1252 -t utf-8 converts it)"


def _looks_utf16(head: bytes) -> bool:
    """UTF-16 without a byte-order mark: text with a zero byte at every other place."""
    if len(head) < 4 or b"\x00" not in head:
        return False
    even, odd = head[0::2], head[1::2]
    return any(
        half.count(0) >= 0.9 * len(half) and other.count(0) == 0 for half, other in ((even, odd), (odd, even))
    )


def read_text(path: Path, what: str = "a JSONL file") -> str:
    """A UTF-8 text file's content; a directory, a missing file or other bytes are one clear error."""
    return decode_text(read_bytes(path, what), str(path), what)


def read_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, record) for each non-blank line; a bad line names itself."""
    return jsonl_records(read_text(path), str(path))


def jsonl_lines(text: str) -> list[str]:
    """JSONL text's lines, ended by LF, CRLF or CR only. ``str.splitlines`` also ends one at
    U+2028, U+2029 and NEL, which JSON allows inside a string and ``dumps_jsonl`` writes as they
    are: a sentence holding one was cut in two, and the project refused its own JSONL."""
    return _LINE_END.split(text)


_LINE_END = re.compile(r"\r\n|\r|\n")


def jsonl_records(text: str, source: str) -> Iterator[tuple[int, dict]]:
    """(line number, record) for each non-blank line of JSONL text read from ``source``."""
    for n, line in enumerate(jsonl_lines(text), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise StanceError(f"{source}:{n}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise StanceError(f"{source}:{n}: expected a JSON object")
        yield n, record
