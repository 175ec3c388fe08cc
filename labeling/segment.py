"""Articles -> sentences with stable ids and character offsets.

The one segmenter: labeling and predict both call :func:`segment`, so a sentence
labeled is a sentence scored. The article's lines come from :mod:`labeling.page_lines`
(a PDF's wrapped lines joined into paragraphs, a printed page's running headers and
footers dropped before that). Page furniture (menus, bylines, timestamps, "ALSO READ"
link lines, contact blocks) is dropped by general rules, line by line and then
sentence by sentence; offsets always index the article text, so
``article.text[s.start:s.end] == s.text`` for every sentence.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Annotated

import typer

from labeling.articles import Article, read_article, read_stdin_article
from labeling.page_lines import TERMINAL, is_running_line, paragraphs

# -- furniture rules ---------------------------------------------------------------
# Whole lines (or sentences) that are page chrome rather than article prose.
_FURNITURE = re.compile(
    r"""^(?:
        leave\ a\ (?:reply|comment) | comments?(?:\ are\ closed.*)? | no\ comments.* |
        (?:also\ )?read\ (?:more|also)\b.* | also\ read\b.* | see\ also\b.* | related\ ?:.* |
        (?:similar|related|latest|more|trending|top|popular)\ (?:news|stories|posts|articles|tweets?|videos?)\b.* |
        (?:about|contact)(?:\ us)?\b.{0,40} | news\ ?letter\b.* | subscribe\b.{0,60} | sign\ up\b.{0,60} |
        follow\ us\b.* | share\ (?:this|on)\b.* | (?:share|tweet|print|email|whatsapp|facebook|twitter|linkedin)\ *$ |
        advertisement | sponsored(?:\ content)? | click\ here\b.* | tags?:.* | categor(?:y|ies):.* |
        (?:web|news|staff|online|sports|monitoring)\ desk | (?:by\ )?(?:staff|our)\ (?:reporter|correspondent) |
        (?:posted|published|updated?|last\ updated)\b.{0,60} | copyright\b.* | ©.* | all\ rights\ reserved.* |
        \d+\ (?:sec|second|min|minute|hour|hr|day|week|month|year)s?\ ago
    )\W*$""",
    re.I | re.X,
)
_BYLINE = re.compile(r"^by\s+[A-Z][\w.'-]+(?:\s+[A-Z][\w.'-]+){0,3}\s*$")
_PHONE = re.compile(r"\+?\(?\d[\d\s().-]{6,}\d")
# an address starts at a word's start or after an '@', so no start is scanned twice: linear time
_EMAIL_OR_URL = re.compile(r"(?<![^\s@])[^\s@]+@[^\s@]+\.\w+|https?://\S+|www\.\S+")
_ADDRESS = re.compile(
    r"^(?:address\b|p\.?o\.? box\b|\d+\w?\s+(?:\w+\s+){0,3}(?:st|street|rd|road|ave|avenue|blvd|lane)\b)",
    re.I,
)
_CONTACT_SEPARATORS = re.compile(r"[|,;•·]")  # between a contact line's labelled items
_LETTERS = re.compile(r"[^\W\d_]")

MIN_WORDS = 4  # a line shorter than this is furniture unless it ends like a sentence
MENU_ITEMS = 3  # a line of at least this many short items between '|' is a menu ("Home | World | Sport")


def is_furniture(text: str) -> bool:
    """True for page chrome: a rule about its form, never a list of known lines."""
    t = text.strip()
    if _FURNITURE.match(t) or _BYLINE.match(t) or _ADDRESS.match(t) or is_running_line(t):
        return True
    letters = len(_LETTERS.findall(t))
    if letters < 0.5 * len(t.replace(" ", "")) or letters < 3:  # dashes, dates, numbers
        return True
    # contact lines: what is left after removing phones, emails and URLs is a label or nothing
    rest = _EMAIL_OR_URL.sub("", _PHONE.sub("", t))
    if rest != t and len(rest.split()) <= 3:
        return True
    # "Contact us: +92 … | Email: news@… | WhatsApp: +92 …": each item a short label (a phone has
    # 9 digits or more, so a year's span "2024-2025" is not one)
    numbers = [m for m in _PHONE.findall(t) if sum(c.isdigit() for c in m) >= 9]
    if (numbers or _EMAIL_OR_URL.search(t)) and all(
        len(item.split()) <= 3 for item in _CONTACT_SEPARATORS.split(rest)
    ):
        return True
    if _is_menu(t):
        return True
    return len(t.split()) < MIN_WORDS and not TERMINAL.search(t)


def _is_menu(t: str) -> bool:
    """Menu items between '|', each under MIN_WORDS words; a headline's "Talks resume in Doha | Dawn"
    has a long item and stays."""
    items = [item for item in t.split("|") if item.strip()]
    return len(items) >= MENU_ITEMS and all(len(item.split()) < MIN_WORDS for item in items)


# -- sentences ---------------------------------------------------------------------
@dataclass(frozen=True)
class Sentence:
    article: str
    sentence_id: str
    start: int
    end: int
    text: str

    def to_dict(self) -> dict:
        return asdict(self)


@cache
def _splitter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def segment(article: Article) -> list[Sentence]:
    """Split an article into sentences, dropping page furniture."""
    shown, lines = paragraphs(article.text)
    spans = [
        span
        for start, end in lines
        if not is_furniture(shown[start:end])
        for span in _sentences_in(shown, start, end)
    ]
    return _with_ids(article, spans)


# The sentence splitter's time grows faster than a line's length (abbreviations, long runs of
# prose), so a very long line is first cut at hard boundaries into chunks of about CHUNK
# characters; a chunk with no hard boundary in it is one sentence. Lines up to LONG_LINE
# characters, which is every line of real articles, are split exactly as before.
LONG_LINE = 5_000
CHUNK = 1_000
_HARD_BOUNDARY = re.compile(r"[.!?…][\"'”’)\]]*\s+")


def _split(line: str) -> list[str]:
    """The splitter's sentences of one line, in linear time whatever the line."""
    if len(line) <= LONG_LINE:
        return _splitter().segment(line)
    cuts = [m.end() for m in _HARD_BOUNDARY.finditer(line)]
    pieces, start = [], 0
    while start < len(line):
        before = bisect.bisect_right(cuts, start + CHUNK) - 1
        if before >= 0 and cuts[before] > start:
            end = cuts[before]
        else:  # no hard boundary within a chunk: the piece up to the next one is one sentence
            after = bisect.bisect_right(cuts, start)
            pieces.append(line[start : cuts[after] if after < len(cuts) else len(line)])
            start += len(pieces[-1])
            continue
        pieces += _splitter().segment(line[start:end])
        start = end
    return pieces


def _sentences_in(shown: str, start: int, end: int):
    """Sentence spans inside one paragraph line of the text as shown, located by search so offsets
    are exact."""
    line = shown[start:end]
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in _split(line):
        piece = piece.strip()
        if not piece:
            continue
        at = line.find(piece, cursor)
        if at < 0:  # the splitter altered the text: fall back to the rest of the line
            at, piece = cursor, line[cursor:].strip()
        cursor = at + len(piece)
        if spans and _NEVER_ENDS.search(line[slice(*spans[-1])]):
            spans[-1] = (spans[-1][0], cursor)
        else:
            spans.append((at, cursor))
    for at, to in spans:
        if not is_furniture(line[at:to]):
            yield start + at, start + to


# The splitter ends a sentence after a few abbreviations that never end one ("Approx. 200
# militants", "12 people, incl. the minister"): such a piece runs on into the next. None occurs in
# the labeled articles, so no labeled sentence's id moved. "5:30 p.m. Kabul time" is still cut
# after "p.m.": one labeled sentence pair (coverage-132) was labeled as cut, and a sentence
# labeled must stay the sentence scored.
_NEVER_ENDS = re.compile(r"\b(?:approx|appx|incl|excl|esp|vs|viz|cf)\.$", re.I)


def _with_ids(article: Article, spans: list[tuple[int, int]]) -> list[Sentence]:
    """Ids from the article id and the sentence text: stable when other lines change."""
    seen: Counter[str] = Counter()
    out = []
    for s, e in spans:
        text = article.text[s:e]
        digest = hashlib.sha1(text.encode()).hexdigest()[:8]
        seen[digest] += 1
        suffix = f"-{seen[digest]}" if seen[digest] > 1 else ""
        out.append(Sentence(article.id, f"{article.id}:{digest}{suffix}", s, e, text))
    return out


# -- command -----------------------------------------------------------------------
def cli(
    articles: Annotated[
        list[Path], typer.Argument(help="Article files (.txt, .html or .pdf); '-' reads standard input.")
    ],
) -> None:
    """Segment articles into sentences and print them as JSONL (one sentence a line)."""
    read = [_read(path) for path in articles]  # every input checked before any line is printed
    for article in read:
        for sentence in segment(article):
            sys.stdout.write(json.dumps(sentence.to_dict(), ensure_ascii=False) + "\n")


def _read(path: Path) -> Article:
    if str(path) != "-":
        return read_article(path)
    return read_stdin_article("no input on standard input: pipe an article into `stance segment -`")


if __name__ == "__main__":
    from stance.runner import run

    run(cli)
