"""Reading articles: validated, decoded, and HTML turned into text.

Every problem with an input file is a StanceError with one clear line, raised
before any work is done on it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from stance.errors import StanceError
from stance.io import decode_text, read_bytes, read_text

# Real news articles are a few to a few hundred KB; a multi-MB "article" is a dump
# or a wrong file, and segmenting it would take minutes. Split such input instead.
MAX_ARTICLE_BYTES = 1_000_000
# A page saved from a browser is mostly scripts, styles and inline data (1-3 MB around a few KB
# of article is common): the limit above is on its text, the page may be this large (a page of
# nothing but 5 MB of tags parses in about 13 s here)
MAX_PAGE_BYTES = 5_000_000
# the files read as articles: text, a saved web page, a PDF (labeling/pdf_text.py)
ARTICLE_SUFFIXES = (".txt", ".html", ".htm", ".pdf")

_HTML_START = re.compile(r"^\s*(<!doctype html|<html|<head|<body|<article|<div|<p[\s>])", re.I)
_BLOCK_TAGS = (
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th",
    "table", "section", "article", "blockquote", "header", "footer", "pre", "figcaption", "dd",
    "dt", "hr", "title",
)  # fmt: skip
_DROP_TAGS = ("script", "style", "noscript", "template", "nav", "aside", "form", "iframe", "svg",
              "button", "select", "head")  # fmt: skip
# Page chrome that plain block tags carry: a cookie banner, a byline, a share bar, a newsletter box.
# Matched on whole words of an element's class or id ("cookie-notice", "post_byline"), never on
# substrings ("header", "lead", "commentary" do not match), and on ARIA landmark roles.
_CHROME_WORDS = frozenset({
    "cookie", "cookies", "consent", "gdpr", "byline", "author", "authors", "share", "sharing",
    "newsletter", "subscribe", "subscription", "related", "promo", "advert", "advertisement",
    "ad", "ads", "breadcrumb", "breadcrumbs", "comments", "paywall", "popup", "modal", "sidebar",
    "timestamp", "tags",
})  # fmt: skip
# never article prose, however long (a comments thread, a consent dialog's legal text)
_CHROME_ALWAYS = frozenset({"cookie", "cookies", "consent", "gdpr", "comments", "paywall", "newsletter"})
_CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "dialog",
                           "alertdialog", "search"})  # fmt: skip
# other chrome is short; a long element that matches ("share-wrapper article-body") holds the article
_CHROME_MAX_WORDS = 80
_WORDS_OF = re.compile(r"[a-z]+", re.I)
_SOURCE_BREAK = re.compile(r"\s*[\r\n]\s*")  # a line break of the page's source, with its indent
# <meta charset="windows-1252"> or <meta http-equiv="Content-Type" content="text/html; charset=...">
_DECLARED_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)


@dataclass(frozen=True)
class Article:
    """An article's id and its plain text; sentence offsets index into ``text``."""

    id: str
    text: str


def read_article(path: Path, article_id: str | None = None) -> Article:
    """Read one article file (.txt, .html or .pdf), refusing what is not an article."""
    path = Path(path)
    data = read_bytes(path, "an article file")
    is_html = True if path.suffix.lower() in {".html", ".htm"} else None  # HTML saved as .txt is HTML
    return article_from_bytes(data, article_id or path.stem, source=str(path), is_html=is_html)


ARTICLE_TABLE = "articles.tsv"  # article, url, outlet, date, headline: one row per article file


def article_meta(path: Path, article_id: str | None = None) -> dict[str, str]:
    """An article's row of the ``articles.tsv`` in its file's folder or the folder above (so
    ``coverage/articles/x.txt`` is described by ``coverage/articles.tsv``); {} where none names it."""
    path, article_id = Path(path), article_id or Path(path).stem
    for table in (path.parent / ARTICLE_TABLE, path.parent.parent / ARTICLE_TABLE):
        if table.is_file() and (row := _article_rows(table).get(article_id)) is not None:
            return row
    return {}


def _article_rows(table: Path) -> dict[str, dict[str, str]]:
    reader = csv.DictReader(io.StringIO(read_text(table, "an article table")), delimiter="\t")
    if "article" not in (reader.fieldnames or []):
        raise StanceError(
            f"{table}: an article table needs the column 'article' (article, url, outlet, date, headline)"
        )
    return {
        row["article"]: {k: (v or "").strip() for k, v in row.items() if k and k != "article"}
        for row in reader
    }


def origin_line(article_id: str, meta: dict[str, str]) -> str:
    """Where a sentence comes from, as a labeling task's header shows it: the headline, then the
    outlet and date ("~2021-08" is an inferred date: "about 2021-08"), then the article id."""
    raw = meta.get("date", "")
    when = f"about {raw[1:]}" if raw.startswith("~") else raw
    where = ", ".join(x for x in (meta.get("outlet", ""), when) if x)
    return " · ".join(x for x in (meta.get("headline", ""), where, article_id) if x)


def read_or_note(path: Path, skipped: list[dict] | None) -> Article | None:
    """``read_article``, or, given a ``skipped`` list, a file that is not an article noted there as
    ``{"file", "error"}`` and None returned: a folder of coverage is read past its bad files."""
    try:
        return check_sentences(read_article(path), str(path))
    except StanceError as exc:
        if skipped is None:
            raise
        skipped.append({"file": str(path), "error": str(exc)})
        return None


def check_sentences(article: Article, source: str) -> Article:
    """Refuse an article in which the segmenter finds no sentence to score ("Hi", a row of dashes,
    a menu): it would score as an empty profile, silently."""
    from labeling.segment import MIN_WORDS, segment

    if not segment(article):
        words = len(article.text.split())
        raise StanceError(
            f"{source}: no sentence to score: its text ({words} word{'s' * (words != 1)}) is page "
            f"furniture only (such as menus, link lines, bylines, dates, and lines under {MIN_WORDS} words that do not "
            "end like a sentence)"
        )
    return article


def check_any_read(folder: Path, skipped: list[dict], files: int) -> None:
    """Refuse a folder none of whose article files can be read: nothing to score, nothing written."""
    if skipped and len(skipped) == files:
        first = min(skipped, key=lambda s: s["file"])  # by name: executors report in no set order
        if files == 1:  # "none of its 1 article files" read as a slip
            raise StanceError(
                f"{folder}: its one article file cannot be read ({first['error']}); nothing written"
            )
        raise StanceError(
            f"{folder}: none of its {files} article files can be read (the first: "
            f"{first['error']}); nothing written"
        )


def article_from_bytes(
    data: bytes, article_id: str | None, source: str, is_html: bool | None = None
) -> Article:
    """Decode and check raw bytes; ``is_html=None`` sniffs the content. The size limit is on the
    article's text: a saved page's markup around it counts up to ``MAX_PAGE_BYTES``. A PDF is
    read as its pages' text (labeling/pdf_text.py), whatever its file is called."""
    from labeling.pdf_text import is_pdf, pdf_text

    if is_pdf(data):
        return _article(article_id, pdf_text(data, source, MAX_ARTICLE_BYTES))
    if is_html is None:
        is_html = looks_like_html(data[:4096].decode("utf-8", "ignore").lstrip("\ufeff"))
    if is_html:
        _check_size(len(data), MAX_PAGE_BYTES, source, " of markup and text")
    else:
        _check_size(len(data), MAX_ARTICLE_BYTES, source, "")
    text = _page_text(data, source) if is_html else decode_text(data, source, "article text")
    if is_html:
        text = html_to_text(text)
        _check_size(len(text.encode()), MAX_ARTICLE_BYTES, source, " of text outside its markup")
    if not text.strip():
        what = "has no text outside its markup" if is_html else "is empty"
        raise StanceError(f"{source}: {what}")
    return _article(article_id, text)


def _article(article_id: str | None, text: str) -> Article:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return Article(id=article_id or content_id(text), text=text)


def _page_text(data: bytes, source: str) -> str:
    """A saved page's text: UTF-8 when its bytes are UTF-8; else the charset its ``<meta>``
    declares (pages saved from older sites are often windows-1252; ISO-8859-1 is read as
    windows-1252, as browsers do). An unknown charset, or bytes it does not fit, is one error line."""
    import codecs

    declared = _DECLARED_CHARSET.search(data[:8192])
    try:
        data.decode("utf-8")
        declared = None  # valid UTF-8 whatever the page says: a stale declaration must not garble it
    except UnicodeDecodeError:
        pass
    if declared is None or b"\x00" in data[:8192]:
        return decode_text(data, source, "article text")  # UTF-8, or its one clear error
    name = declared.group(1).decode("ascii", "replace")
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        raise StanceError(f"{source}: declares charset '{name}', which is not one Python knows") from None
    if codec in {"utf-8", "utf-8-sig"}:
        return decode_text(data, source, "article text")
    codec = "cp1252" if codec in {"latin-1", "iso8859-1", "ascii"} else codec
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise StanceError(
            f"{source}: not valid {name}, the charset its <meta> declares (byte 0x{data[exc.start]:02x} at "
            f"offset {exc.start}); convert it to UTF-8 first"
        ) from None


def _check_size(size: int, limit: int, source: str, what: str) -> None:
    if size > limit:
        raise StanceError(
            f"{source}: too large for one article ({size / 1e6:.1f} MB{what}; the limit is "
            f"{limit / 1e6:.0f} MB) - split it into articles"
        )


def looks_like_html(text: str) -> bool:
    """Text that starts like an HTML page or fragment, whatever its file is called."""
    return bool(_HTML_START.match(text))


def content_id(text: str) -> str:
    """An id for text that came without a name (standard input): stable for the same text."""
    return "text-" + hashlib.sha1(text.encode()).hexdigest()[:10]


def html_to_text(html: str) -> str:
    """The readable text of an HTML page, one block element per line.

    Scripts, styles, navigation, forms and asides are dropped, and so are short elements whose
    class, id or role names page chrome (a cookie banner, a byline, a share bar); the
    segmenter's furniture rules deal with what is left.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(_is_chrome):
        if not tag.decomposed:  # inside a chrome element dropped before it
            tag.decompose()
    _unwrap_source_lines(soup)
    for tag in soup(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    lines = (" ".join(line.split()) for line in soup.get_text().splitlines())
    return "\n".join(line for line in lines if line)


def _unwrap_source_lines(soup) -> None:
    """Line breaks in the page's source are spaces, as a browser shows them (outside ``<pre>``):
    a paragraph wrapped over several source lines is one line of text, not a line per source
    line that the segmenter would cut sentences at. Only block tags and ``<br>`` end a line."""
    from bs4 import NavigableString

    for node in soup.find_all(string=_SOURCE_BREAK):
        if type(node) is NavigableString and node.find_parent(("pre", "textarea")) is None:
            node.replace_with(NavigableString(_SOURCE_BREAK.sub(" ", node)))


def _is_chrome(tag) -> bool:
    if tag.name in ("html", "body", "main", "article", "h1"):
        return False
    attrs = tag.attrs or {}
    if str(attrs.get("role", "")).lower() in _CHROME_ROLES:
        return tag.find("h1") is None
    classes = attrs.get("class") or []
    names = " ".join([*(classes if isinstance(classes, list) else [classes]), str(attrs.get("id", ""))])
    words = {w.lower() for w in _WORDS_OF.findall(names)}
    if not words & _CHROME_WORDS:
        return False
    if words & _CHROME_ALWAYS:
        return True
    return tag.find("h1") is None and len(tag.get_text(" ").split()) <= _CHROME_MAX_WORDS


def read_stdin_article(hint: str) -> Article:
    """The article piped to standard input (``-`` on the command line); ``hint`` says what to do
    when nothing is piped."""
    return article_from_bytes(read_stdin_bytes(hint), None, source="standard input")


def read_stdin_bytes(hint: str) -> bytes:
    """What is piped to standard input; ``hint`` is the error when nothing is (a terminal)."""
    import sys

    if sys.stdin is None or sys.stdin.isatty():
        raise StanceError(hint)
    return sys.stdin.buffer.read()


# -- the language an article is written in --------------------------------------------
def other_language(sentences: Iterable[tuple[str, str]]) -> dict | None:
    """Of (article, text) pairs, those written mostly in another language than English (an Urdu,
    Pashto or Dari article in the folder, or a French or Roman Urdu one in Latin letters), which
    the model, trained on English coverage alone, scores all the same at any p: {sentences,
    articles, scripts}, or None where there are none. A quote of a few such words inside an
    English sentence is English. Each pair is read once, so a stream does (score-batch reads its
    written rows a batch at a time)."""
    found = [(article, script) for article, text in sentences if (script := foreign_language(text))]
    if not found:
        return None
    scripts = sorted({script for _, script in found})
    return {
        "sentences": len(found),
        "articles": sorted({article for article, _ in found}),
        "scripts": scripts,
    }


def other_language_note(found: dict) -> str:
    """What predict and the report say of the sentences :func:`other_language` found."""
    letters = "; ".join(_LATIN_NOT_ENGLISH if s == "Latin" else f"{s} letters" for s in found["scripts"])
    return (
        f"are written mostly in another language than English ({letters}): the model learned from "
        "English coverage alone, so its calls on them are no measure of what they say"
    )


def foreign_language(text: str) -> str | None:
    """The script of a text written mostly in another language than English: the one most of its
    letters are in ("Arabic") where that is not the Latin alphabet, else "Latin" where its words
    read as another language (:func:`_reads_as_english`)."""
    import unicodedata
    from collections import Counter

    scripts = Counter(unicodedata.name(c, "?").split()[0] for c in text if c.isalpha())
    if not scripts:
        return None
    script, n = scripts.most_common(1)[0]
    if scripts["LATIN"] >= n or script == "?":
        return None if _reads_as_english(text) else "Latin"
    return script.title() if len(script) > 3 else script


# Every language is held together by its little words, and each has its own: a sentence in Latin
# letters reads as another language when more of its lower-case words are little words of French,
# German, Spanish, Italian, Turkish, Indonesian or Roman Urdu ("Hukumat ne Afghan Taliban se mutalba
# kiya hai ke...") than of English, two at least. Capitalised words are left out (names, which any
# language shares: "Khawaja Asif, Ishaq Dar and Zabihullah Mujahid met in Doha."), and so are web
# and mail addresses. A terse English headline with none of either ("ceasefire holds, prisoners
# exchanged, trade resumes") stays English, and a few Urdu words quoted inside an English sentence
# are outnumbered by its own. The lists leave out what English also writes ("die", "was", "no",
# "per se", "de facto", "al-Qaeda", a den) and the particles of names ("von der Leyen", "da Silva").
# Measured on the 2466 labeled sentences: none reads as another language.
_ENGLISH_WORDS = frozenset(
    """
    a about above according across after against all along also amid among an and any are as at
    be because been before being between both but by can could despite did do does during each
    following for from had has have he her his how if in including into is it its itself more
    most no nor not of on once only or other our out over per said say says she should since so
    some such than that the their them then there these they this those through to toward towards
    under until up upon very via was we were what when where which while who whom why will with
    within without would you your
""".split()  # noqa: SIM905 (a list of words reads better as words)
)
_FOREIGN_WORDS = frozenset(
    """
    le la les des du et est une pour dans qui sur aux avec pas ont sont cette il elle ils leur été
    contre selon entre mais aussi
    und ist nicht mit dem ein eine einen zu auf sich auch wird werden dass nach bei wie
    für über gegen keine sein
    el los las y por con para una su es lo che non sono anche contro gli ai ha
    ve bir bu için ile olarak daha çok gibi ancak değil ise
    dan yang dengan untuk ini itu dari tidak akan pada oleh
    ne se ka ki ke ko hai hain aur mein nahi nahin kiya kar bhi tha thi yeh woh hum liye kaha
""".split()  # noqa: SIM905 (a list of words reads better as words)
)
_ELIDED = re.compile(r"^(?:d|l|qu|j|n|s|c|dell|nell|all)['’]")  # French and Italian: "d'agir", "l'armée"
_FOREIGN_AT_LEAST = 2
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")  # letters, with an apostrophe inside: "d'agir"
_ADDRESS = re.compile(r"\S*(?:://|www\.|@)\S*")  # https://www.dawn.com/news/..., @handles, mail
# what English borrows whole, and words inside a hyphenated name or compound ("Sharm el-Sheikh",
# "Tehreek-e-Taliban", "non-existent"), are English's
_LOANS = re.compile(
    r"\b(?:charg[ée]e?s?\s+d['’]affaires|coup\s+d['’][ée]tat|raison\s+d['’][êe]tre|per\s+se|en\s+route)\b",
    re.I,
)
_LATIN_NOT_ENGLISH = (
    "Latin letters, with more little words of another language (such as 'le', 'und', 'hai') than of English"
)


def _reads_as_english(text: str) -> bool:
    """Whether a sentence in Latin letters reads as English: fewer than two of its lower-case words
    are another language's little words, or no more of them than English's."""
    kept = " ".join(t for t in _LOANS.sub(" ", _ADDRESS.sub(" ", text)).split() if "-" not in t)
    words = [w for w in _WORD.findall(kept) if w[0].islower()]
    foreign = sum(w in _FOREIGN_WORDS or bool(_ELIDED.match(w)) for w in words)
    return foreign < _FOREIGN_AT_LEAST or foreign <= sum(w in _ENGLISH_WORDS for w in words)
