"""An article as a PDF a browser printed: read as its web page reads (labeling/pdf_text.py).

The PDFs are printed here by Debian's chromium (`make chromium`), with its own running header and
footer on every sheet, from a page made of a labeled article's text.
"""

from __future__ import annotations

import html
import subprocess
from pathlib import Path

import pytest

from labeling.articles import read_article
from labeling.page_lines import one_line_read
from labeling.segment import segment
from tests.browser import CHROMIUM_FLAGS, chromium_path
from tests.conftest import REPO

ARTICLE = REPO / "corpus" / "articles" / "corpus-010.txt"  # an Al Jazeera report on the Istanbul talks
LARGE_TYPE = "html { font-size: 36px; }"  # three sheets: page breaks fall inside sentences


def web_page(text: str, style: str = "") -> str:
    """An article's text as a web page: its first line the title and headline, each other a paragraph."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    title = html.escape(lines[0])
    body = "\n".join(f"<p>{html.escape(line)}</p>" for line in lines[1:])
    return (
        f"<!doctype html><html><head><title>{title}</title><style>{style}</style></head>"
        f"<body><h1>{title}</h1>\n{body}</body></html>"
    )


def print_to_pdf(page: Path, pdf: Path) -> None:
    """The page printed as a browser's "Save as PDF" prints it (running header and footer included)."""
    subprocess.run(
        [chromium_path(), "--headless", *CHROMIUM_FLAGS, f"--print-to-pdf={pdf}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("printed")
    page, pdf = folder / "talks.html", folder / "talks.pdf"
    page.write_text(web_page(ARTICLE.read_text(encoding="utf-8"), LARGE_TYPE), encoding="utf-8")
    print_to_pdf(page, pdf)
    return page, pdf


def test_a_pdf_a_browser_printed_reads_as_the_same_sentences_as_its_web_page(printed):
    """A PDF was refused ("is a PDF, not article text: copy its text out"): an analyst had to copy
    the text of each printed page by hand. It is read as the page reads: its wrapped lines joined,
    the headline whole (it wraps at a large font's width), the browser's print time, title, address
    and page counter at each page break left out of the sentences a break cut."""
    page, pdf = printed
    from_page = segment(read_article(page))
    from_pdf = segment(read_article(pdf))
    assert [one_line_read(s.text) for s in from_pdf] == [one_line_read(s.text) for s in from_page]
    assert one_line_read(from_pdf[0].text) == "Pakistan-Afghanistan Talks Stumble As Mistrust Deepens"
    cut = [s for s in from_pdf if "talks.html" in s.text]  # the footer's address inside a sentence's span
    assert len(cut) >= 2, "the page breaks fall between sentences: the test no longer reads a cut one"
    article = read_article(pdf)
    assert all(article.text[s.start : s.end] == s.text for s in from_pdf)  # offsets index the PDF's text


def test_an_article_pdf_in_a_folder_is_read_with_the_others(printed, tmp_path):
    """score-batch, report and plan read a folder's articles: a .pdf among them was passed over as
    "not an article file (only .txt, .html and .htm files are read)"."""
    from training.batch_inputs import article_files, segment_rows

    _, pdf = printed
    (tmp_path / "talks.pdf").write_bytes(pdf.read_bytes())
    (tmp_path / "other.txt").write_text("Pakistan urged the Taliban to act against the TTP.\n")
    files, _ = article_files(tmp_path)
    assert [f.name for f in files] == ["other.txt", "talks.pdf"]
    rows = segment_rows([str(f) for f in files], {})
    assert {r["article"] for r in rows} == {"other", "talks"}
    assert len([r for r in rows if r["article"] == "talks"]) == len(segment(read_article(pdf)))


def test_an_article_pushed_as_a_pdf_is_found_where_pull_reads_it(printed, tmp_path, monkeypatch):
    """`pull` and `build-dataset` read a labeled sentence's article by its id from the article
    folders, and looked for `<id>.txt` alone: a PDF pushed from coverage/articles/ was pushed with
    the note that its labels could not be pulled."""
    from labeling.annotations import find_article
    from labeling.loop import unpullable

    _, pdf = printed
    folder = tmp_path / "coverage" / "articles"
    folder.mkdir(parents=True)
    (folder / "talks.pdf").write_bytes(pdf.read_bytes())
    monkeypatch.setenv("STANCE_ROOT", str(tmp_path))
    assert find_article("talks") == folder / "talks.pdf"
    assert unpullable(folder / "talks.pdf", read_article(folder / "talks.pdf")) is None


def test_a_glyph_with_no_character_behind_it_leaves_no_control_character(tmp_path):
    """A flag emoji in an embedded post came out of the PDF as two NUL characters, inside the
    article's text, its sentences and predict's JSON."""
    page, pdf = tmp_path / "post.html", tmp_path / "post.pdf"
    page.write_text(
        web_page(
            "Pakistan army chief visits Kabul\nPakistan Armed Forces 🇵🇰 (@PakistanFauj) said the talks went on."
        ),
        encoding="utf-8",
    )
    print_to_pdf(page, pdf)
    text = read_article(pdf).text
    assert "Pakistan Armed Forces (@PakistanFauj) said the talks went on." in " ".join(text.split())
    assert not [c for c in text if ord(c) < 32 and c != "\n"]
