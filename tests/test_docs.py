"""The documentation's links lead somewhere: every relative link in README.md and docs/*.md names
a file the repository has, and every ``#anchor`` a heading that file has (GitHub's rule for a
heading's anchor). A reader who follows "details" from the README lands on the details, and a
section moved between files cannot leave its links behind.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
INLINE = re.compile(r"(?<!\\)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")
EXTERNAL = ("http://", "https://", "mailto:")
REFERENCE = re.compile(r"\]\[([^\]]*)\]")  # [words][label]; [label][] names itself
LABEL = re.compile(r"^\s{0,3}\[([^\]]+)\]:\s")


def prose(text: str) -> list[str]:
    """The lines outside fenced code blocks (a link in a code sample is not a link)."""
    lines, inside = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            inside = not inside
            line = ""
        lines.append("" if inside else line)  # one entry per line, so line numbers hold
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup dropped, lower case, punctuation removed (hyphens
    and underscores kept), each space a hyphen."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's words
    text = re.sub(r"[`*]", "", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading's anchor in a Markdown file; a repeated heading gets -1, -2, ... as on GitHub."""
    seen: dict[str, int] = {}
    out = set()
    for line in prose(path.read_text(encoding="utf-8")):
        m = HEADING.match(line)
        if not m:
            continue
        base = slug(m.group(2))
        n = seen.get(base, 0)
        out.add(base if n == 0 else f"{base}-{n}")
        seen[base] = n + 1
    return out


def links(path: Path) -> list[tuple[int, str]]:
    """(line number, target) of every inline link and link definition outside code blocks."""
    found = []
    for number, line in enumerate(prose(path.read_text(encoding="utf-8")), start=1):
        found += [(number, t) for t in INLINE.findall(line)]
        m = DEFINITION.match(line)
        if m:
            found.append((number, m.group(1)))
    return found


def undefined(path: Path) -> list[str]:
    """Reference links (``[words][label]``) whose label the file never defines: Markdown shows
    them as bracketed text, not as a link."""
    lines = prose(path.read_text(encoding="utf-8"))
    labels = {m.group(1).lower() for line in lines if (m := LABEL.match(line))}
    out = []
    for number, line in enumerate(lines, start=1):
        for m in REFERENCE.finditer(line):
            label = m.group(1) or line[: m.start()].rsplit("[", 1)[-1]
            if label.lower() not in labels:
                out.append(f"{path.relative_to(ROOT)}:{number}: [{label}] is never defined")
    return out


def broken(path: Path) -> list[str]:
    """What is wrong with a file's relative links, one line each."""
    out = undefined(path)
    for number, target in links(path):
        if target.startswith(EXTERNAL):
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / unquote(file_part)).resolve() if file_part else path
        where = f"{path.relative_to(ROOT)}:{number}: {target}"
        if not dest.exists():
            out.append(f"{where}: no such file")
        elif anchor and dest.suffix == ".md" and unquote(anchor) not in anchors(dest):
            out.append(f"{where}: no heading with that anchor in {dest.relative_to(ROOT)}")
    return out


def test_the_anchor_rule_follows_githubs():
    assert slug("Results on the coverage labels (data version 93c2ad279699)") == (
        "results-on-the-coverage-labels-data-version-93c2ad279699"
    )
    assert slug("Batch scoring: `stance score-batch`") == "batch-scoring-stance-score-batch"
    assert slug("Set-up: two commands") == "set-up-two-commands"
    assert slug("How far to trust a row's p") == "how-far-to-trust-a-rows-p"


def test_a_broken_link_is_found(tmp_path, monkeypatch):
    """The check itself can fail: a missing file and a missing heading are both named."""
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    doc = tmp_path / "a.md"
    doc.write_text(
        "# Top\n\n## Two words\n\nSee [here](#two-words), [gone](#three-words), [file](b.md).\n"
        "```\n[in code](nowhere.md)\n```\n[def]: a.md#top\n"
        "Kept [as a reference][def], lost [as another][gone].\n",
        encoding="utf-8",
    )
    problems = broken(doc)
    assert problems == [
        "a.md:10: [gone] is never defined",
        "a.md:5: #three-words: no heading with that anchor in a.md",
        "a.md:5: b.md: no such file",
    ]


@pytest.mark.parametrize("path", DOCS, ids=[str(p.relative_to(ROOT)) for p in DOCS])
def test_every_relative_link_resolves(path):
    problems = broken(path)
    assert not problems, "\n".join(problems)


CONFLICT = re.compile(r"^(<{7}|>{7})( |$)|^={7}$")


@pytest.mark.parametrize("path", DOCS, ids=[str(p.relative_to(ROOT)) for p in DOCS])
def test_no_merge_conflict_is_left_in_the_text(path):
    # a merge left README's "Sentences" section with both sides between <<<<<<< and >>>>>>> lines
    lines = path.read_text(encoding="utf-8").splitlines()
    left = [f"{path.name}:{n}: {line}" for n, line in enumerate(lines, 1) if CONFLICT.match(line)]
    assert not left, "\n".join(left)


def test_every_mlflow_command_the_readme_gives_keeps_mlflow_from_reporting_home():
    """`make` exports MLFLOW_DISABLE_TELEMETRY=true, and `stance` sets it; MLflow's own command line
    does neither. The README's `mlflow models serve` for serving by hand, copied as it stood, sent
    MLflow's usage events (a model loaded, from which store) to mlflow-telemetry.io."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [line for line in readme.splitlines() if re.search(r"\.venv/bin/mlflow\s", line)]
    assert commands  # the serve section's command
    assert [c for c in commands if "MLFLOW_DISABLE_TELEMETRY=true" not in c] == []
