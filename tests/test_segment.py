import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labeling.articles import Article, html_to_text, read_article
from labeling.segment import is_furniture, segment
from stance import paths

FURNITURE_IN_SEEDS = [
    "Leave a Reply", "About Us", "Address 2933 41k St", "London, UK", "+1 (825) 973-2079",
    "info@theexile.tv", "Web Desk", "1 Hour ago", "5 Hours ago", "ALSO READ:", "Read more:",
    "Similar News", "Comments are closed", "Update: 2023-07-24", "News Letter", "Latest Tweet",
    "Contact", "ilaha",
]  # fmt: skip


@pytest.fixture(scope="module")
def seed_sentences():
    out = []
    for path in sorted(paths.seeds().glob("*.txt")):
        article = read_article(path)
        out.append((article, segment(article)))
    return out


def test_seed_offsets_slice_back_to_the_sentence_text(seed_sentences):
    for article, sentences in seed_sentences:
        assert sentences
        for s in sentences:
            assert article.text[s.start : s.end] == s.text
            assert s.text == s.text.strip()
        starts = [s.start for s in sentences]
        assert starts == sorted(starts)


def test_seeds_keep_no_page_furniture(seed_sentences):
    texts = [s.text for _, sentences in seed_sentences for s in sentences]
    for junk in FURNITURE_IN_SEEDS:
        assert not any(junk in t for t in texts), junk


def test_seeds_keep_headlines_and_prose(seed_sentences):
    texts = {s.text for _, sentences in seed_sentences for s in sentences}
    assert "Pakistan-Afghanistan Peace Talks Fail Over TTP Issue" in texts
    assert (
        "The civil and military leadership has made it clear that talks can only resume if the TTP surrenders."
        in texts
    )
    assert sum(len(s) for _, s in seed_sentences) == 83


@pytest.mark.parametrize(
    "line",
    [
        "Share on Facebook", "Posted by admin", "12 minutes ago", "Related Articles", "Tags: Pakistan, TTP",
        "Follow us on Twitter", "Copyright 2025 Dawn Media Group", "Tel: +92 51 1234567",
        "By Sana Jamal", "Staff Reporter", "Read also: Talks collapse in Doha", "Advertisement",
        "Subscribe to our newsletter", "— — —", "12/10/2025", "Sign up for free",
        "Home | World | Pakistan | Sport | Business", "Pakistan | Afghanistan | Middle East | Opinion",
        "Contact us: +92-51-9204000 | Email: news@example.pk | WhatsApp: +92 300 1234567",
        "Contact: Editor, Daily Times, 41-N, Industrial Area, Gulberg II, Lahore. Phone: 042-35878614",
        "Related: What the TTP wants — an explainer", "RELATED : Talks collapse in Doha",
        "12/1/25, 3:45 PM Pakistan, Afghan Taliban talks collapse - DAWN.COM", "Page 2 of 3",
        "https://www.dawn.com/news/1950000 1/3", "1 of 3 12/1/25, 3:45 PM", "Page 3",
    ],
)  # fmt: skip
def test_furniture_the_seeds_do_not_have_is_dropped_by_general_rules(line):
    assert is_furniture(line)


@pytest.mark.parametrize(
    "line",
    [
        "Islamabad-Kabul talks on: What's the agenda?",
        "Talks collapse.",
        "Pakistan rejects Afghan Taliban offer to relocate TTP",
        "The Taliban said they would not allow their soil to be used against Pakistan.",
        "Contact between the delegations resumed on Monday after a day of silence.",
        "Pakistan, Afghan Taliban resume talks in Doha | World | Dawn",
        "For tips and corrections, contact the newsroom at +92 51 1234567 or news@example.pk.",
        "Casualties: 2024-2025, 1,234 dead, 567 injured.",
        "Related talks in Doha ended without a deal on the TTP.",
        "12/1/25, 3:45 PM: Pakistan said the talks in Istanbul had ended without an agreement.",
        "Page 2 of the statement names the TTP.",
        "Talks will resume in Doha on 12/1/2025, 3:45 PM",
    ],
)
def test_prose_and_headlines_are_kept(line):
    assert not is_furniture(line)


def test_sentence_ids_are_stable_when_other_lines_change():
    body = "Pakistan urged the Taliban to act. The Taliban refused to act.\n"
    before = segment(Article("a1", body))
    after = segment(Article("a1", "Leave a Reply\nThe talks resumed in Doha on Monday.\n" + body))
    assert [s.sentence_id for s in before] == [s.sentence_id for s in after[1:]]
    assert len({s.sentence_id for s in after}) == len(after)


def test_a_repeated_sentence_gets_a_distinct_id():
    text = "The talks failed over the TTP issue.\nThe talks failed over the TTP issue.\n"
    ids = [s.sentence_id for s in segment(Article("x", text))]
    assert len(ids) == 2 and ids[0] != ids[1]


def test_html_becomes_text_without_scripts_or_navigation(tmp_path):
    page = tmp_path / "article.html"
    page.write_text(
        "<html><head><title>t</title><script>var talks = 'secret';</script></head><body>"
        "<nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
        "<h1>Pakistan presses Taliban on TTP</h1>"
        "<p>Pakistan <b>urged</b> the Taliban to act against the TTP. Kabul rejected the demand.</p>"
        "<footer>Copyright 2025</footer><style>p{color:red}</style></body></html>"
    )
    article = read_article(page)
    texts = [s.text for s in segment(article)]
    assert texts == [
        "Pakistan presses Taliban on TTP",
        "Pakistan urged the Taliban to act against the TTP.",
        "Kabul rejected the demand.",
    ]
    assert "secret" not in article.text and "color" not in article.text


def test_html_page_chrome_named_by_class_id_or_role_is_not_scored(tmp_path):
    """A cookie banner, a byline, a share bar and a newsletter box read like sentences; the page
    names them, and they must not reach the model as the article's sentences."""
    prose = (
        "Pakistan's defence minister said the Afghan Taliban must act against the TTP before any "
        "new round of talks in Doha. He added that Islamabad would not accept verbal assurances again. "
    )
    body = prose * 4  # a long article body inside a wrapper whose class happens to say "share"
    page = tmp_path / "page.html"
    page.write_text(
        "<html><body>"
        "<div class='cookie-notice'><p>We use cookies to improve your experience on our site.</p>"
        "<p>By continuing to browse you agree to our use of cookies and our privacy policy.</p></div>"
        "<div class='article-header'><h1>Pakistan sets terms for new talks</h1></div>"
        "<div class='post_byline'>Reporting by Ayaz Gul and Mushtaq Ali in Islamabad; edited by Sam Holmes.</div>"
        "<div id='share-bar'>Share this story with your friends on every platform you use.</div>"
        f"<div class='share-wrapper article-body'><p>{body}</p></div>"
        "<div role='dialog'>Turn on notifications to hear about breaking news first.</div>"
        "<section id='newsletter-signup'><p>Get the day's top stories from South Asia in your inbox.</p></section>"
        "<div class='commentary'><p>Kabul rejected the demand on Tuesday.</p></div>"
        "</body></html>"
    )
    texts = [s.text for s in segment(read_article(page))]
    assert texts[0] == "Pakistan sets terms for new talks"
    assert texts[-1] == "Kabul rejected the demand on Tuesday."  # "commentary" is not "comments"
    first, second = prose.split(". ", 1)
    assert texts[1:-1] == [first + ".", second.strip()] * 4


def test_html_is_recognised_by_content_too():
    assert html_to_text("<p>One.</p><p>Two <i>words</i>.</p>") == "One.\nTwo words."


def test_a_saved_pages_paragraph_wrapped_in_its_source_is_one_line_of_text():
    """A page's source often wraps a paragraph over several lines; a browser shows one paragraph,
    and so must the text: each source line was read as a line of its own, and a sentence cut at
    each one ("hand over" / "commanders of the banned TTP, …") was scored in pieces."""
    page = (
        "<html><body><article><h1>Talks stall</h1>\n<p>Pakistan on Tuesday demanded that the Afghan"
        " Taliban hand over\n    commanders of the banned TTP, a senior official said after the\r\n"
        "talks ended without agreement.</p>\n<p>Kabul rejected it.<br>\nIslamabad said so.</p>"
        "<!-- a\ncomment --><pre>one\ntwo</pre></article></body></html>"
    )
    assert html_to_text(page).split("\n") == [
        "Talks stall",
        "Pakistan on Tuesday demanded that the Afghan Taliban hand over commanders of the banned TTP,"
        " a senior official said after the talks ended without agreement.",
        "Kabul rejected it.",
        "Islamabad said so.",
        "one",
        "two",
    ]


PDF_TEXT = """Doha talks resume as Pakistan sets deadline for action
against TTP

Islamabad and Kabul resumed nego-
tiations in Doha on Thursday, with Qatari mediators pressing both
delegations to agree on a written mechanism. Pakistan's delegation, led by
the national security adviser, demanded that the Taliban act within thirty
days. Pakistani officials
accused the Taliban of sheltering militants responsible for attacks in Khyber
Pakhtunkhwa and Balochistan.

                              1
"""


def test_text_copied_from_a_pdf_with_a_break_at_each_line_end_is_split_into_whole_sentences():
    """A PDF's text (pdftotext, or copied from a viewer) breaks every line at the page's width
    and hyphenates across lines. Each line was read as a paragraph: sentences were scored in
    pieces, and a piece under four words ("against TTP", "Pakistani officials", the accusation's
    holder) was dropped as page furniture without a word."""
    texts = [s.text.replace("\n", " ") for s in segment(Article("brief", PDF_TEXT))]
    assert texts == [
        "Doha talks resume as Pakistan sets deadline for action against TTP",
        "Islamabad and Kabul resumed nego- tiations in Doha on Thursday, with Qatari mediators pressing"
        " both delegations to agree on a written mechanism.",
        "Pakistan's delegation, led by the national security adviser, demanded that the Taliban act"
        " within thirty days.",
        "Pakistani officials accused the Taliban of sheltering militants responsible for attacks in"
        " Khyber Pakhtunkhwa and Balochistan.",
    ]
    for s in segment(Article("brief", PDF_TEXT)):
        assert PDF_TEXT[s.start : s.end] == s.text


# A news page printed to PDF by a browser (Chrome's running header and footer), its text copied out
PRINTED_PAGE = """12/1/25, 3:45 PM Pakistan, Afghan Taliban talks collapse - DAWN.COM
https://www.dawn.com/news/1950000 1/3
Pakistan, Afghan Taliban talks collapse
ISLAMABAD: Pakistan on Monday accused the Afghan Taliban of failing to act against
the militants who attack its soldiers, saying the talks in Istanbul had ended without
an agreement after four days of negoti-
ations mediated by Turkey and Qatar.
12/1/25, 3:45 PM Pakistan, Afghan Taliban talks collapse - DAWN.COM
https://www.dawn.com/news/1950000 2/3
Taliban spokesman Zabihullah Mujahid rejected the charge, saying Afghanistan does not
allow anyone to use its soil against another country.
Page 2 of 3
"""
PRINTED_SENTENCES = [  # as the page shows them (line breaks as spaces)
    "Pakistan, Afghan Taliban talks collapse",
    "ISLAMABAD: Pakistan on Monday accused the Afghan Taliban of failing to act against the militants"
    " who attack its soldiers, saying the talks in Istanbul had ended without an agreement after four"
    " days of negoti- ations mediated by Turkey and Qatar.",
    "Taliban spokesman Zabihullah Mujahid rejected the charge, saying Afghanistan does not allow anyone"
    " to use its soil against another country.",
]


def test_a_page_printed_from_a_browser_reads_as_the_page_shows_it():
    """The browser's running header (print time and title) and footer (address and page counter)
    were joined into the sentences after them, the headline into the first sentence, and "Page 2
    of 3" was scored as a sentence."""
    sentences = segment(Article("dawn", PRINTED_PAGE))
    assert [s.text.replace("\n", " ") for s in sentences] == PRINTED_SENTENCES
    assert all(PRINTED_PAGE[s.start : s.end] == s.text for s in sentences)


def test_a_running_line_is_known_by_its_form_and_a_year_alone_is_none():
    """A browser cuts a long title in its header with "…", which read as a sentence's end, so the
    header stayed in the text; a line of a year alone ("October 29,\n2025", a tweet's date) was
    dropped as a page counter and its sentence ran on into the next paragraph."""
    from labeling.page_lines import is_running_line

    assert is_running_line(
        "12/8/26, 12:25 AM Deadlock in Istanbul; Disagreement Between the Taliban and Terrori…"
    )
    assert not is_running_line("12/1/25, 3:45 PM: Talks failed.")
    assert is_running_line("7") and is_running_line("Page 12") and is_running_line("2 of 3")
    assert not is_running_line("2025")
    text = (
        "Kugelman wrote that the Taliban would not act against the group, whatever the cost, and added\n"
        "that the talks were over, as he said in a post on X that was shared widely on October 29,\n2025\n\n"
        "The US analyst noted that the Taliban could use any Pakistani military action to rally their\n"
        "support at home, and Islamabad said the talks had failed because of the Taliban's stance.\n"
    )
    texts = [" ".join(s.text.split()) for s in segment(Article("tweet", text))]
    assert texts[0].endswith("on October 29, 2025") and texts[1].startswith("The US analyst")


def test_a_pdfs_text_in_blocks_is_read_a_block_a_paragraph():
    """A PDF read with its page's gaps has a blank line between paragraphs. A quotation of several
    sentences whose line ended after one was cut there ("“As far as the TTP is concerned.", then
    "Absolutely, …" apart), and a headline in a large font at its first line: each block is one
    paragraph, read as the same article with a paragraph a line is read."""
    from labeling.page_lines import one_line_read

    paragraphs = [
        "Zardari warns the Afghan Taliban over the TTP in an interview",
        "Pakistan's president said on Monday that the Afghan Taliban should act against the TTP, as the group had carried out attacks from Afghan soil.",
        "“As far as the TTP is concerned. Absolutely, they have been involved in heinous attacks in the past. Unfortunately, terrorist attacks are still ongoing.”",
        "But the Islamic Emirate said that the TTP is an internal issue of Pakistan and that there are no threats from Afghanistan to any country.",
    ]
    wrapped = (
        "Zardari warns the Afghan Taliban over the TTP in\nan interview\n\n"
        "Pakistan's president said on Monday that the Afghan Taliban should act against the TTP, as\n"
        "the group had carried out attacks from Afghan soil.\n\n"
        "“As far as the TTP is concerned. Absolutely, they have been involved in heinous attacks in the past.\n"
        "Unfortunately, terrorist attacks are still ongoing.”\n\n"
        "But the Islamic Emirate said that the TTP is an internal issue of Pakistan and that there are\n"
        "no threats from Afghanistan to any country.\n"
    )
    expected = [s.text for s in segment(Article("page", "\n".join(paragraphs)))]
    assert [one_line_read(s.text) for s in segment(Article("pdf", wrapped))] == expected
    assert len(expected) == 4  # the splitter keeps the quotation whole


def test_a_line_led_by_a_bullet_is_an_item_and_one_led_by_a_dash_goes_on():
    """In a PDF's text in blocks the headline's block ran on into its "- Web Desk" and "- 5 Hours
    ago" items (no longer furniture, one long sentence); a clause after a dash at a line's start
    ("— including the TTP …") is the sentence's own."""
    text = (
        "Deadlock in Istanbul: Pakistan pushes, Taliban back off from written deal\n- Web Desk\n- 5 Hours ago\n\n"
        "The joint statement issued after the fifth meeting emphasized the need to prevent any group or party\n"
        "— including the TTP and others — from using the territory of any country to carry out attacks, and\n"
        "the two sides agreed to meet again in the coming weeks to take stock of the progress made so far.\n\n"
        "China considers the movement a direct threat to its security and says its members are based in\n"
        "Afghanistan.\n"
    )
    texts = [" ".join(s.text.split()) for s in segment(Article("pdf", text))]
    assert texts[0] == "Deadlock in Istanbul: Pakistan pushes, Taliban back off from written deal"
    assert texts[1].startswith("The joint statement") and "party — including the TTP" in texts[1]
    assert len(texts) == 3


def test_a_paragraph_that_ends_at_a_pages_foot_is_not_run_into_the_next_pages():
    """Read a block a paragraph, a PDF's text ran a paragraph that ended at a page's foot into the
    one that opened the next page (the gap between them is the page break's, and is dropped with
    its running lines): "… so in that sense, yes.” Meanwhile, …" was one sentence."""
    text = (
        "Talks with the TTP\n\n"
        "Khan said the talks were taking place in Afghanistan and that the Afghan Taliban were helping\n"
        "the government, as the interview was broadcast on Friday evening in the capital Islamabad.\n\n"
        "Asked whether the Afghan Taliban were acting as mediators, Khan replied: “Since the talks were\n"
        "taking place in Afghanistan, so in that sense, yes, they were mediating between the two sides.”\n"
        "file:///tmp/talks.html 1/2\n12/8/26, 1:27 AM Talks with the TTP\n"
        "Meanwhile, Pakistan People’s Party leader Nayyar Bokhari demanded that a session of parliament\n"
        "be called to discuss the talks, which he said the government had kept from the parliament.\n"
    )
    texts = [" ".join(s.text.split()) for s in segment(Article("pdf", text))]
    assert texts[-2].endswith("mediating between the two sides.”")
    assert texts[-1].startswith("Meanwhile, Pakistan People’s Party leader")


def test_a_short_line_before_a_capital_ends_its_paragraph_in_a_pdfs_text():
    """A line is broken where the next word does not fit: a headline's last line and a subheading,
    far shorter than the text's lines, were joined into the sentence after them. A line going on in
    lower case (a headline over two lines) still runs on."""
    text = (
        "Pakistan, Afghan Taliban talks collapse\nafter four days in Istanbul\n"
        "ISLAMABAD: Pakistan on Monday accused the Afghan Taliban of failing to act against\n"
        "the militants who attack its soldiers, saying the talks in Istanbul had ended without\n"
        "an agreement.\nMediators stay in Istanbul\n"
        "The Turkish foreign ministry said the mediators would stay in contact with both sides\n"
        "and would invite the delegations again.\n"
    )
    assert [s.text.replace("\n", " ") for s in segment(Article("short", text))] == [
        "Pakistan, Afghan Taliban talks collapse after four days in Istanbul",
        "ISLAMABAD: Pakistan on Monday accused the Afghan Taliban of failing to act against the militants"
        " who attack its soldiers, saying the talks in Istanbul had ended without an agreement.",
        "Mediators stay in Istanbul",
        "The Turkish foreign ministry said the mediators would stay in contact with both sides and would"
        " invite the delegations again.",
    ]


# Firefox's running lines: the title and address at the head, the counter and time at the foot;
# the page break falls inside a sentence
RUNNING = [
    "Pakistan, Afghan Taliban talks collapse - DAWN.COM https://www.dawn.com/news/1950000",
    "1 of 2 12/1/25, 3:45 PM",
    "2 of 2 12/1/25, 3:45 PM",
]
BROKEN_SENTENCE = f"""{RUNNING[0]}
Pakistan, Afghan Taliban talks collapse
ISLAMABAD: Pakistan on Monday accused the Afghan Taliban of failing to act against
the militants who attack its soldiers, saying the talks in Istanbul had ended without
an agreement. Taliban spokesman Zabihullah Mujahid rejected the charge, saying that
{RUNNING[1]}

{RUNNING[0]}

Afghanistan does not allow anyone to use its soil against another country, and
called for the talks to go on.
{RUNNING[2]}
"""


def test_a_sentence_a_page_break_cuts_is_one_sentence_again():
    """A page's foot and the next page's head fell inside a sentence and cut it in two: "…saying
    that" and the running lines with "Afghanistan does not allow anyone…" were scored apart. The
    running lines are dropped before lines are joined; the sentence's span still holds them (a
    sentence is a span of the article), and they are no sentence of their own."""
    sentences = segment(Article("firefox", BROKEN_SENTENCE))
    shown = [" ".join(line for line in s.text.split("\n") if line and line not in RUNNING) for s in sentences]
    assert shown == [
        "Pakistan, Afghan Taliban talks collapse",
        "ISLAMABAD: Pakistan on Monday accused the Afghan Taliban of failing to act against the militants"
        " who attack its soldiers, saying the talks in Istanbul had ended without an agreement.",
        "Taliban spokesman Zabihullah Mujahid rejected the charge, saying that Afghanistan does not allow"
        " anyone to use its soil against another country, and called for the talks to go on.",
    ]
    assert all(BROKEN_SENTENCE[s.start : s.end] == s.text for s in sentences)


def test_a_line_that_ends_without_a_full_stop_stays_a_line_in_an_article_of_paragraph_lines():
    """Only text broken at line ends throughout is joined: an article with a paragraph a line
    (every labeled one) keeps a subheading or a caption without a full stop as a line of its own."""
    text = "Talks collapse in Doha\nPakistan said the talks had failed.\nA Taliban fighter in Kabul\nhe said."
    assert [s.text for s in segment(Article("x", text))] == [
        "Talks collapse in Doha",
        "Pakistan said the talks had failed.",
        "A Taliban fighter in Kabul",
        "he said.",
    ]


def test_corpus_sentence_boundaries_match_the_annotators_spans():
    """The corpus was annotated on another splitter's boundaries; ours must line up."""
    import json

    spans = {}
    for line in (paths.corpus() / "annotations.jsonl").read_text().splitlines():
        r = json.loads(line)
        spans.setdefault(r["article"], set()).add((r["start"], r["end"]))
    exact = total = 0
    for art, theirs in spans.items():
        for s in segment(read_article(paths.corpus() / "articles" / f"{art}.txt")):
            total += 1
            exact += (s.start, s.end) in theirs
    assert total >= 320 and exact / total > 0.98


def test_sentences_cli_prints_jsonl(tmp_path):
    from tests.conftest import run_cli

    path = Path(tmp_path / "a.txt")
    path.write_text("Headline about the talks today\n\nPakistan demanded action. Kabul refused.\n")
    out = run_cli("segment", str(path))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.decode().splitlines()
    assert len(lines) == 3 and '"text": "Kabul refused."' in lines[2]
    # '-' reads standard input, as predict's does: the same sentences under predict's stdin id
    piped = run_cli("segment", "-", stdin=path.read_bytes())
    assert piped.returncode == 0, piped.stderr
    rows = [json.loads(line) for line in piped.stdout.decode().splitlines()]
    assert [r["text"] for r in rows] == [json.loads(line)["text"] for line in lines]
    assert {r["article"] for r in rows} == {"text-" + hashlib.sha1(path.read_bytes()).hexdigest()[:10]}
    empty = run_cli("segment", "-", stdin=b"")
    assert (empty.returncode, empty.stderr.decode().strip()) == (2, "error: standard input: is empty")


# -- properties: any text at all --------------------------------------------------------
_PROSE = st.sampled_from(
    [
        "Pakistan urged Kabul to act.",
        "Mr. Khan said so",
        "U.S.",
        "TTP",
        "!?",
        "...",
        "“Quote.”",
        "(e.g. 5.5 km)",
    ]
    + ["No. 5", "Dr.", " ", "\t", "\u00a0", "- ", "• "]
)
_TEXT = st.lists(st.one_of(st.text(max_size=40), _PROSE, st.sampled_from(["\n", "\r\n", "\u2028", "\x0c"])))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=_TEXT)
def test_any_text_segments_into_sentences_whose_offsets_slice_back(parts):
    article = Article("p", "".join(parts))
    sentences = segment(article)
    for s in sentences:
        assert article.text[s.start : s.end] == s.text
        assert s.text and s.text == s.text.strip()
    starts = [s.start for s in sentences]
    assert starts == sorted(starts)
    assert len({s.sentence_id for s in sentences}) == len(sentences)


def test_abbreviations_that_never_end_a_sentence_do_not_cut_it():
    """The splitter cut "Approx." and "incl." off as sentences of their own."""
    text = (
        "Approx. 200 militants crossed the border, officials said.\n"
        "The delegation of 12 people, incl. the minister, arrived in Doha. Talks began at once.\n"
    )
    article = Article("a", text)
    assert [(s.text, text[s.start : s.end] == s.text) for s in segment(article)] == [
        ("Approx. 200 militants crossed the border, officials said.", True),
        ("The delegation of 12 people, incl. the minister, arrived in Doha.", True),
        ("Talks began at once.", True),
    ]


def test_every_labeled_sentence_is_a_sentence_the_segmenter_gives_its_article():
    """A sentence labeled is the sentence scored: a change to the splitter that moves a labeled
    sentence's boundaries (and so its id) would leave its labels behind."""
    import json

    from labeling.snapshot import latest_snapshot

    labeled: dict[str, set[str]] = {}
    for line in latest_snapshot().read_text().splitlines():
        row = json.loads(line)
        labeled.setdefault(row["article"], set()).add(row["sentence_id"])
    files = {f.stem: f for folder in paths.article_folders() for f in folder.glob("*.txt")}
    assert len(labeled) == 216 and set(labeled) <= set(files)
    for article, ids in labeled.items():
        assert ids == {s.sentence_id for s in segment(read_article(files[article]))}, article
