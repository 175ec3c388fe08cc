"""Bad input to any command that reads articles: one clear error line, nothing half-written."""

import pytest

from labeling.articles import MAX_ARTICLE_BYTES, article_meta, origin_line, read_article
from stance.errors import StanceError
from tests.conftest import run_cli


def _pdf(password: str | None = None) -> bytes:
    """A one-page PDF with no text on its page, locked with ``password`` where one is given."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    if password:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def bad_files(tmp_path):
    files = {
        "empty": (tmp_path / "empty.txt", b""),
        "whitespace": (tmp_path / "blank.txt", b"  \n\t\n  "),
        "binary": (tmp_path / "data.txt", b"\x07\x03\x00\x00\x00\x01\xfe\x10" + bytes(range(256))),
        "image": (tmp_path / "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))),
        # a PDF is read whatever its name (labeling/pdf_text.py); this one is cut off after its start
        "pdf": (
            tmp_path / "article.txt",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        ),
        "pdf locked": (tmp_path / "locked.pdf", _pdf(password="secret")),
        "pdf scan": (tmp_path / "scan.pdf", _pdf()),  # a page and no text: a scan is an image
        "pdf huge": (tmp_path / "book.pdf", b"%PDF-1.7\n" + b"0" * 20_000_000),
        "docx": (tmp_path / "article.docx", b"PK\x03\x04\x14\x00\x06\x00\x08\x00[Content_Types].xml"),
        "latin1": (tmp_path / "latin1.txt", "Pakistan’s demand – café".encode("cp1252")),
        "undefined": (tmp_path / "odd.txt", b"\x81\x8d Pakistan demands talks."),
        "huge": (tmp_path / "huge.txt", b"The talks went on. " * (5_000_000 // 19)),
        "markup only": (tmp_path / "empty.html", b"<html><body><script>x()</script></body></html>"),
    }
    for path, data in files.values():
        path.write_bytes(data)
    files["missing"] = (tmp_path / "nope.txt", None)
    files["directory"] = (tmp_path, None)
    return {k: p for k, (p, _) in files.items()}


EXPECTED = {
    "empty": "is empty",
    "whitespace": "is empty",
    "binary": "looks like a binary file, not article text",
    "image": "is a PNG image, not article text",
    "pdf": "is a PDF that cannot be read (Stream has ended unexpectedly): save its text as a .txt file (or",
    "pdf locked": "is a PDF locked with a password: print it to a new PDF from a viewer that opens it, or save",
    "pdf scan": "is a PDF with no text in it (a scanned page is an image of text): run it through OCR first",
    "pdf huge": "too large for one article (20.0 MB of PDF; the limit is 20 MB) - split it into articles",
    "docx": "is a zip archive (a Word .docx, an .odt or an .epub is one), not article text: save its text as",
    # Notepad's "ANSI": the byte as windows-1252 reads it, and the command that converts the file
    "latin1": "not valid UTF-8 (byte 0x92 at offset 8); convert it to UTF-8 first (it reads as windows-1252, "
    "where that byte is '’'; iconv -f windows-1252 -t utf-8 converts it)",
    # bytes windows-1252 leaves undefined: no charset is guessed
    "undefined": "not valid UTF-8 (byte 0x81 at offset 0); convert it to UTF-8 first",
    "huge": f"too large for one article (5.0 MB; the limit is {MAX_ARTICLE_BYTES / 1e6:.0f} MB)",
    "markup only": "has no text outside its markup",
    "missing": "no such file",
    "directory": "is a directory, not an article file",
}


@pytest.mark.parametrize("kind", EXPECTED)
def test_read_article_refuses_bad_input_with_a_clear_message(bad_files, kind):
    with pytest.raises(StanceError) as err:
        read_article(bad_files[kind])
    assert EXPECTED[kind] in str(err.value)
    assert str(bad_files[kind]) in str(err.value)
    assert kind != "undefined" or "windows-1252" not in str(err.value)


@pytest.mark.parametrize(
    "kind", ["empty", "binary", "pdf", "pdf locked", "latin1", "huge", "missing", "directory"]
)
def test_segment_command_prints_one_error_line_and_exits_non_zero(bad_files, kind):
    out = run_cli("segment", str(bad_files[kind]))
    assert out.returncode == 2
    err = out.stderr.decode().strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and EXPECTED[kind] in err[0]
    assert out.stdout == b""


def test_a_saved_page_over_1_mb_is_read_by_its_text_and_its_text_is_what_is_limited(tmp_path):
    """A browser's saved page is mostly scripts, styles and inline data: 1.8 MB around two sentences
    was refused as 'too large for one article ... split it into articles'."""
    from labeling.segment import segment

    article = "<p>Pakistan urged the Taliban to act against the TTP.</p><p>Qatar hosted the talks.</p>"
    script = '<script type="application/json">{"related": "' + "x" * 1_800_000 + '"}</script>'
    page = tmp_path / "saved.html"
    page.write_text(f"<html><head>{script}</head><body><article>{article}</article></body></html>")
    assert [s.text for s in segment(read_article(page))] == [
        "Pakistan urged the Taliban to act against the TTP.",
        "Qatar hosted the talks.",
    ]
    # the same page saved as .txt is HTML by its content, read alike
    as_txt = tmp_path / "saved.txt"
    as_txt.write_bytes(page.read_bytes())
    assert read_article(as_txt).text == read_article(page).text
    # a page whose text itself is over 1 MB is still too large, and says it is its text
    wordy = tmp_path / "wordy.html"
    wordy.write_text("<html><body><p>" + "The talks went on. " * 60_000 + "</p></body></html>")
    with pytest.raises(StanceError) as err:
        read_article(wordy)
    assert str(err.value) == (
        f"{wordy}: too large for one article (1.1 MB of text outside its markup; the limit is 1 MB) "
        "- split it into articles"
    )


def test_a_page_saved_in_the_charset_it_declares_is_read_in_that_charset(tmp_path):
    """A windows-1252 page that says so in its <meta> was refused as 'not valid UTF-8'."""
    words = "Pakistan’s defence minister said Kabul “must act” against the TTP – again."
    head = {
        "cp1252": '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">',
        "latin1": '<meta charset="ISO-8859-1">',  # read as windows-1252, as browsers do
    }
    for name, meta in head.items():
        page = tmp_path / f"{name}.html"
        page.write_bytes(f"<html><head>{meta}</head><body><p>{words}</p></body></html>".encode("cp1252"))
        assert read_article(page).text == words
    # UTF-8 bytes under a stale declaration stay UTF-8, never garbled into "â€™"
    stale = tmp_path / "stale.html"
    stale.write_bytes(f"<html><head>{head['cp1252']}</head><body><p>{words}</p></body></html>".encode())
    assert read_article(stale).text == words
    # without a declaration, or with one Python does not know, it is one error line
    for meta, said in (
        ("", "not valid UTF-8 (byte 0x92"),
        ('<meta charset="klingon">', "declares charset 'klingon'"),
    ):
        page = tmp_path / "bad.html"
        page.write_bytes(f"<html><head>{meta}</head><body><p>{words}</p></body></html>".encode("cp1252"))
        out = run_cli("segment", str(page))
        assert out.returncode == 2 and out.stdout == b""
        assert out.stderr.decode().strip().startswith(f"error: {page}: {said}")


def test_text_of_page_furniture_only_is_refused_saying_what_furniture_is(tmp_path):
    # a link line and a byline: 14 words, where the message said only "lines under 4 words"
    from labeling.articles import check_sentences

    path = tmp_path / "links.txt"
    path.write_text(
        "Read more: Talks collapse in Istanbul after two days of negotiations\nBy Staff Reporter\n"
    )
    with pytest.raises(StanceError) as refused:
        check_sentences(read_article(path), str(path))
    assert str(refused.value) == (
        f"{path}: no sentence to score: its text (14 words) is page furniture only (such as menus, link "
        "lines, bylines, dates, and lines under 4 words that do not end like a sentence)"
    )


def test_a_tasks_header_names_the_headline_outlet_and_date_from_the_articles_table(tmp_path):
    """An annotator saw only "coverage-007" above the sentence: not the headline, the outlet or
    the date, each of which tells who "the minister" of the sentence is likely to be."""
    articles = tmp_path / "coverage" / "articles"
    articles.mkdir(parents=True)
    path, other = articles / "coverage-007.txt", articles / "coverage-008.txt"
    table = tmp_path / "coverage" / "articles.tsv"
    table.write_text(
        "article\turl\toutlet\tdate\theadline\n"
        "coverage-007\thttps://example.org/a\tDawn\t~2025-10\tTalks stall in Istanbul\n"
        "coverage-008\t\t\t2025-11-02\t\n"
    )
    assert (
        origin_line("coverage-007", article_meta(path))
        == "Talks stall in Istanbul · Dawn, about 2025-10 · coverage-007"
    )
    assert origin_line("coverage-008", article_meta(other)) == "2025-11-02 · coverage-008"
    assert origin_line("coverage-009", article_meta(articles / "coverage-009.txt")) == "coverage-009"
    table.write_text("id\toutlet\ncoverage-007\tDawn\n")
    with pytest.raises(StanceError, match=r"articles.tsv: an article table needs the column 'article'"):
        article_meta(path)


# Another language in Latin letters: what predict and the report call "another language"
FRENCH = (
    "Le gouvernement pakistanais a demandé mardi aux talibans afghans de prendre des mesures contre les "
    "militants du TTP, selon le ministère des Affaires étrangères."
)
ROMAN_URDU = (
    "Taliban ke tarjuman Zabihullah Mujahid ne in ilzamat ko mustarad kar diya aur kaha ke Afghanistan ki "
    "sarzameen kisi aur mulk ke khilaf istemal nahi hogi."
)
NAMES = "Khawaja Asif, Ishaq Dar and Zabihullah Mujahid met in Doha."


def test_french_or_roman_urdu_reads_as_another_language_and_english_dense_with_names_does_not():
    """A French, German, Turkish or Roman Urdu article was scored like English without a word: its
    sentences now read as another language in Latin letters. English crowded with names, a terse
    headline, or a quote of a few Urdu words inside an English sentence still reads as English."""
    from labeling.articles import foreign_language

    foreign = [
        FRENCH,
        ROMAN_URDU,
        "Hukumat ne Afghan Taliban se mutalba kiya hai ke woh TTP ke khilaf karrawai karein.",
        "Ein Sprecher der Taliban wies die Vorwürfe zurück und erklärte, Afghanistan werde niemandem "
        "erlauben, sein Gebiet gegen ein anderes Land zu nutzen.",
        "İstanbul'daki görüşmeler anlaşma olmadan sona erdi, ancak Türkiye ve Katar arabuluculuğu sürdürme "
        "sözü verdi.",
        "Le Pakistan a demandé aux talibans afghans d'agir contre le TTP.",
        "El gobierno de Pakistán pidió a los talibanes afganos que actúen contra los militantes.",
        "Il governo pakistano ha chiesto ai talebani afghani di agire contro i militanti del TTP.",
    ]
    assert [foreign_language(text) for text in foreign] == ["Latin"] * len(foreign)
    english = [
        NAMES,
        "Defence Minister Khawaja Asif, Foreign Minister Ishaq Dar, ISI chief Lt Gen Asim Malik and Taliban "
        "spokesman Zabihullah Mujahid met in Doha on Sunday.",
        "Iran urges Ramadan dialogue to defuse Pakistan-Afghanistan 'open war', offers full mediation support",
        'The minister said "hum amn chahte hain" to reporters on Tuesday, adding that Pakistan wanted peace.',
        "Read more: https://www.dawn.com/news/1952312/pakistan-afghan-taliban-talks-collapse-in-istanbul-again",
        "ceasefire holds, prisoners exchanged, trade resumes, border crossings reopen tomorrow morning",
        "Ursula von der Leyen welcomed the talks.",
        "Sharm el-Sheikh hosted the chargé d'affaires.",
    ]
    assert [foreign_language(text) for text in english] == [None] * len(english)


def test_no_labeled_sentence_in_latin_letters_reads_as_another_language():
    """The rule is measured on the labeled data, all English but for two sentences in Arabic letters
    (coverage-025): it names none of the sentences in Latin letters."""
    import json

    from labeling.articles import foreign_language
    from labeling.snapshot import latest_snapshot

    rows = [json.loads(line) for line in latest_snapshot().read_text().splitlines()]
    assert [r["text"] for r in rows if foreign_language(r["text"]) == "Latin"] == []
