"""A PDF's text, as an article: the pages a browser printed, or a PDF a colleague sent.

An analyst often has an article as a PDF (the page printed from a browser, "Save as PDF", or an
outlet's e-paper). Its text is read with pypdf, page after page, in its layout mode: each line of
the page a line, and a blank line wherever the page has a gap (between paragraphs, around a
headline), which the plain mode loses; :mod:`labeling.page_lines` then joins the wrapped lines
into paragraphs and drops the running header and footer a browser prints on every sheet
("12/8/26, 12:22 AM Talks collapse - DAWN.COM", "https://www.dawn.com/news/1950000 1/3").
Offsets index this text, as they index an HTML page's text. A page of several columns (an
e-paper's) is read across its columns, line by line, and so is not read right. A PDF with no text
in it (a scan), locked with a password, damaged, or too large for one article is one error line.
"""

from __future__ import annotations

import io
import logging
import re

from stance.errors import StanceError
from stance.io import SAVE_AS_TEXT

PDF_MAGIC = b"%PDF-"
# A news article's PDF is a few pages and well under a megabyte of text; its file may hold images,
# so the file's limit is higher than the text's (labeling.articles.MAX_ARTICLE_BYTES).
MAX_PDF_BYTES = 20_000_000
# The Latin ligatures a PDF's fonts draw as one glyph ("ﬁle://", "ﬂights"): read as their letters,
# as a reader does; no other character is changed.
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def is_pdf(data: bytes) -> bool:
    """Bytes that start as a PDF does (whatever the file is called)."""
    return data[:1024].lstrip().startswith(PDF_MAGIC)


def pdf_text(data: bytes, source: str, limit: int) -> str:
    """The text of a PDF's pages, one page after another, each line of a page a line; ``limit``
    is the most bytes of text one article may have."""
    if len(data) > MAX_PDF_BYTES:
        raise StanceError(
            f"{source}: too large for one article ({len(data) / 1e6:.1f} MB of PDF; the limit is "
            f"{MAX_PDF_BYTES / 1e6:.0f} MB) - split it into articles"
        )
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings on odd but readable files
    pages, size = [], 0
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise StanceError(
                f"{source}: is a PDF locked with a password: print it to a new PDF from a viewer that opens "
                f"it, or {SAVE_AS_TEXT}"
            )
        for page in reader.pages:
            pages.append((page.extract_text(extraction_mode="layout") or "").translate(_LIGATURES))
            size += len(pages[-1].encode())
            if size > limit:  # a book, not an article: stop reading it
                raise StanceError(
                    f"{source}: too large for one article (over {limit / 1e6:.0f} MB of text in its first "
                    f"{len(pages)} of {len(reader.pages)} pages) - split it into articles"
                )
    except StanceError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged file fails in many ways inside the reader
        reason = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise StanceError(f"{source}: is a PDF that cannot be read ({reason}): {SAVE_AS_TEXT}") from None
    # a glyph with no character behind it (an emoji, a flag) comes out as a control character ("\x00")
    pages = [_CONTROL.sub("", page) for page in pages]
    # the layout's indents and the spaces that place words across a line are spaces of no meaning
    # (the sentence splitter reads "concerned.   Absolutely" otherwise than "concerned. Absolutely")
    text = "\n".join(" ".join(line.split()) for page in pages for line in page.strip("\n").split("\n"))
    if not text.strip():
        raise StanceError(
            f"{source}: is a PDF with no text in it (a scanned page is an image of text): run it "
            f"through OCR first, or {SAVE_AS_TEXT}"
        )
    return text
