"""An article's lines as its page shows them, for the segmenter.

A text broken at every line end (a PDF's, from pdftotext or copied out of a viewer) is joined into
its paragraphs, and a printed page's running headers, footers and page counters are dropped before
that, so a sentence that a page break cut is whole again. An article of paragraph lines (every
labeled one) is read line by line, as it always was. Spans index the article text; the text as
shown is the article text with its line breaks as spaces and its running lines blanked, the same
length, so offsets into one are offsets into the other.
"""

from __future__ import annotations

import re
from collections import Counter
from statistics import median_low

from stance.console import one_line

Span = tuple[int, int]

_BULLET = re.compile(r"^[\s\-–—•*·|>]+")
TERMINAL = re.compile(r"[.!?…][\"'”’)\]]*$")  # ends like a sentence

# -- running lines -----------------------------------------------------------------
# A browser prints the time and the page's title at the head of each sheet and its address and a
# page counter at the foot (Chrome: "12/1/25, 3:45 PM Talks collapse - DAWN.COM" and
# "https://www.dawn.com/news/1950000 1/3"; Firefox: "1 of 3 … 12/1/25, 3:45 PM"; Safari:
# "Page 1 of 3"), and a PDF's text has them among the article's lines, at every page break. They
# are known by form, never by a list of lines:
# - a print time (a numeric date and a clock time) at a line's start before a title (one that
#   does not end in a full stop or "!", "12/1/25, 3:45 PM: Talks failed." stays; a title may ask,
#   "… Why Are Pak-Afghan Talks Stalled?", or end in the "…" where the browser cut a long one),
#   or alone, or at its
#   end after a page counter ("… resumed on 12/1/2025, 3:45 PM" stays);
# - a page counter ("1/3", "2 of 3", "Page 2 of 3", "Page 2", a bare "2"), alone or after a web
#   address, or a web address alone;
# - in a text broken at every line end only, a line that recurs, its digits aside, does not end
#   like a sentence, and stands at a page's edge (the text's first or last line, or beside a running
#   line, blank lines aside): a running title or footer printed on every sheet. (An article of
#   paragraph lines may well repeat a subheading or a sentence, and a web page repeats a paragraph,
#   a pull quote or a caption, whose wrapped lines recur mid-page; it keeps them.)
_PRINT_TIME = re.compile(
    r"""\b(?:\d{1,2}([/.])\d{1,2}\1\d{2,4}|\d{4}-\d{2}-\d{2}),?\s+  # 12/1/25, 1.12.25, 2025-12-01
        \d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\b\.?)?  # 3:45 PM, 15:45:07, 3:45 p.m.""",
    re.I | re.X,
)
_WEB_ADDRESS = r"(?:(?:https?|file)://|www\.)\S+"
_COUNTER_LINE = re.compile(  # a bare number of four digits is a year ("October 29,\n2025"), not a page
    rf"(?:{_WEB_ADDRESS}\s+)?(?:(?:page\s+)?\d{{1,4}}\s*(?:/|of)\s*\d{{1,4}}|page\s+\d{{1,4}}|\d{{1,3}})|{_WEB_ADDRESS}",
    re.I,
)
_DIGITS = re.compile(r"\d+")
_STATED = re.compile(r"[.!][\"'”’)\]]*$")  # ends as a statement does: a title asks or is cut ("…")


def is_running_line(line: str) -> bool:
    """A printed page's running header or footer, or a page counter, by its form."""
    t = line.strip()
    stamp = _PRINT_TIME.search(t)
    if stamp and stamp.start() == 0:
        return not _STATED.search(t[stamp.end() :])
    if stamp and stamp.end() == len(t):
        t = t[: stamp.start()].rstrip()
        return not t or bool(_COUNTER_LINE.fullmatch(t))
    return bool(_COUNTER_LINE.fullmatch(t))


def as_read(text: str) -> str:
    """A sentence's text as a reader reads it: the running lines between its lines left out.

    A sentence that a page break cut is whole, but its text is a span of the article and so holds
    the running header and footer printed between its halves ("… saying\n12/1/25, 3:45 PM Pakistan,
    Afghan Taliban talks collapse - DAWN.COM\nhttps://www.dawn.com/news/1950000 1/3\nthe talks …"),
    whose words the model would read as the sentence's. Only whole lines inside the text are
    judged (its first and last lines may be a line's part), by form as above. A text of one line,
    every labeled sentence's, is returned as it is.
    """
    if "\n" not in text:
        return text
    lines = text.split("\n")
    inner = [line for line in lines[1:-1] if not (line.strip() and is_running_line(line))]
    return text if len(inner) == len(lines) - 2 else "\n".join([lines[0], *inner, lines[-1]])


def one_line_read(text: str) -> str:
    """A sentence as a terminal shows it: read as a reader reads it (:func:`as_read`) and on one line
    (``stance.console.one_line``)."""
    return one_line(as_read(text))


def _repeated(text: str, lines: list[Span], running: set[int]) -> set[int]:
    """Indexes of the lines that recur, digits aside ("… 1/3" and "… 2/3" are one footer), do not
    end like a sentence, and stand at a page's edge: the text's first or last line, or beside a
    running line (blank lines aside; a recurring line found so counts for its neighbours too)."""
    keys = [_DIGITS.sub("0", text[s:e]) if e > s and not TERMINAL.search(text[s:e]) else "" for s, e in lines]
    counts = Counter(keys)
    recurring = {i for i, key in enumerate(keys) if key and counts[key] > 1}
    shown = [i for i, (s, e) in enumerate(lines) if e > s]
    at = {i: k for k, i in enumerate(shown)}
    found: set[int] = set()
    edges = {shown[0], shown[-1]} if shown else set()
    while grown := {
        i
        for i in recurring - found
        if i in edges or {shown[k] for k in (at[i] - 1, at[i] + 1) if 0 <= k < len(shown)} & (running | found)
    }:
        found |= grown
    return found


def _without(lines: list[Span], running: set[int]) -> list[Span]:
    """The lines less the running ones and the blank lines around each (a page's margin), so the
    lines either side of a page break meet."""
    blank = [e == s for s, e in lines]
    before, after = [False] * len(lines), [False] * len(lines)  # a blank run borders a running line
    for i in range(1, len(lines)):
        before[i] = blank[i] and ((i - 1) in running or (blank[i - 1] and before[i - 1]))
    for i in range(len(lines) - 2, -1, -1):
        after[i] = blank[i] and ((i + 1) in running or (blank[i + 1] and after[i + 1]))
    return [span for i, span in enumerate(lines) if i not in running and not before[i] and not after[i]]


# -- wrapped lines -----------------------------------------------------------------
# A PDF's text breaks each line at the page's width: a line ends mid-sentence (on a word, a comma
# or a hyphen) and the next, with no blank line between, goes on in lower case. Where an article
# does that WRAPPED_BREAKS times or more, it is read as wrapped, and a line ending mid-sentence
# runs on into the next one when
# - it ends in a hyphenated word, or the next line goes on in lower case (no paragraph starts so);
# - or it is not clearly shorter than the text's width, the median length of its lines that run on
#   in lower case (most are full lines, and one overlong line does not move it). A line is broken
#   only where the next word does not fit, so a line that, with the next line's first word, fills
#   under FILLS of the width ended there: a headline or a subheading before a capital
#   ("ISLAMABAD: …", "The …"), a paragraph's last line without a full stop. A proportional font's
#   full lines differ by far less.
# A PDF read with its page's spacing (labeling/pdf_text.py), like much text copied from one, has a
# blank line wherever the page has a gap, between paragraphs and around a headline: where blank
# lines part a wrapped text into more than BLOCKS blocks, each line is measured against its own
# block's widest line instead, since a headline in a large font wraps at far fewer characters than
# the text ("Pakistan-Afghanistan Talks Stumble As Mistrust\nDeepens" is one headline), and
# the text's lines are read so whatever a line ends in, since its block is one paragraph.
# A line ends mid-sentence on a word, a comma or a hyphen, a closing quote after it or not
# ('… "failing to present clear arguments,”\nlocal media reported.').
# An article of paragraph lines (every labeled article) never has two lower-case breaks, so a
# subheading or a caption without a full stop stays a line of its own and no labeled sentence moves.
WRAPPED_BREAKS = 2
FILLS = 0.7
BLOCKS = 2
_ENDS_MID_SENTENCE = re.compile(r"(?:[^\W_][\-\u2010\u00ad]?|[,;:(\u2013\u2014])[\"'”’»)\]]*$")
_ITEM_MARK = re.compile(r"[-•*·|>]+")  # a dash ("— including …") may go on a sentence; these lead items
_HYPHENATED = re.compile(r"[^\W\d_][\-\u2010\u00ad]$")


def paragraphs(text: str) -> tuple[str, list[Span]]:
    """The text as shown (line breaks as spaces, running lines blanked) and the (start, end) of
    each of its non-blank paragraph lines, less the running ones."""
    lines = list(_trimmed_lines(text))
    running = {i for i, (s, e) in enumerate(lines) if e > s and is_running_line(text[s:e])}
    kept = _without(lines, running)
    if len(_wrapped(text, kept)) >= WRAPPED_BREAKS:
        running |= _repeated(text, lines, running)
        kept = _joined(text, _without(lines, running))
    shown = list(text.replace("\n", " "))
    for s, e in (lines[i] for i in running):
        shown[s:e] = " " * (e - s)
    return "".join(shown), [(s, e) for s, e in kept if e > s]


def _trimmed_lines(text: str):
    """(start, end) of each line, trimmed of whitespace and bullet marks; (x, x) when blank."""
    pos = 0
    for raw in text.split("\n"):
        start, end = pos, pos + len(raw)
        pos = end + 1
        lead = _BULLET.match(raw)
        if lead:
            start += lead.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        yield start, end


def _ends_mid_sentence(text: str, line: Span, nxt: Span) -> bool:
    """The line ends on a word, a comma or a hyphen, and a non-blank line follows it."""
    return line[1] > line[0] and nxt[1] > nxt[0] and bool(_ENDS_MID_SENTENCE.search(text[slice(*line)]))


def _wrapped(text: str, lines: list[Span]) -> list[Span]:
    """The lines that end mid-sentence and whose next line goes on in lower case."""
    return [
        line
        for line, nxt in zip(lines, lines[1:], strict=False)
        if _ends_mid_sentence(text, line, nxt) and text[nxt[0]].islower()
    ]


def _joined(text: str, lines: list[Span]) -> list[Span]:
    """Lines that run on joined into their paragraphs."""
    widths, blocked = _widths(text, lines)
    joined: list[Span] = []
    for i, (start, end) in enumerate(lines):
        if end == start:
            continue
        # across a page break (running lines or a margin between) a block's gap is lost: a line that
        # ends like a sentence there may end its paragraph
        if i and _runs_on(
            text,
            lines[i - 1],
            (start, end),
            widths[i - 1],
            blocked and text.count("\n", lines[i - 1][1], start) == 1,
        ):
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    return joined


def _widths(text: str, lines: list[Span]) -> tuple[list[int], bool]:
    """The width each line is measured against, and whether the text is in blocks: its block's
    widest line where blank lines part the text into more than BLOCKS blocks, else the text's width
    (the rules above)."""
    blocks: list[list[int]] = [[]]
    for i, (start, end) in enumerate(lines):
        if end > start:
            blocks[-1].append(i)
        elif blocks[-1]:
            blocks.append([])
    blocks = [block for block in blocks if block]
    if len(blocks) <= BLOCKS:
        return [median_low([e - s for s, e in _wrapped(text, lines)] or [0])] * len(lines), False
    widths = [0] * len(lines)
    for block in blocks:
        widest = max(lines[i][1] - lines[i][0] for i in block)
        for i in block:
            widths[i] = widest
    return widths, True


def _runs_on(text: str, line: Span, nxt: Span, width: int, in_block: bool = False) -> bool:
    """Whether a wrapped text's line goes on into the next one (the rules above); never into a line
    led by a bullet mark ("- Web Desk", "• 5 Hours ago": an item of its own; a line led by a dash,
    "— including the TTP …", may go on a sentence). Within a block (``in_block``) a
    full line runs on however it ends: its block is one paragraph, and a paragraph's sentences are
    the splitter's to find (a quotation of several sentences, cut after one, was read otherwise)."""
    if _ITEM_MARK.fullmatch(text[text.rfind("\n", 0, nxt[0]) + 1 : nxt[0]].strip()):
        return False
    if not (_ends_mid_sentence(text, line, nxt) or (in_block and line[1] > line[0] and nxt[1] > nxt[0])):
        return False
    if _HYPHENATED.search(text[slice(*line)]) or text[nxt[0]].islower():
        return True
    next_word = len(text[slice(*nxt)].split()[0])
    return line[1] - line[0] + 1 + next_word >= FILLS * width
