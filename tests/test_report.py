"""The coverage report: its counts are the predictions', undated articles count, and it renders."""

from __future__ import annotations

import csv
import json
import re
from html import unescape
from pathlib import Path

import pytest

from tests.conftest import REPO, free_port, run_cli

ACTORS = ["pakistan", "afghan_taliban", "ttp", "mediator", "other", "none"]
STANCES = ["demand", "denial", "accusation", "mediation", "none"]


def prediction(article: str, i: int, actor: str, stance: str, p_actor: float, p_stance: float) -> dict:
    def spread(labels, top, p):
        rest = (1 - p) / (len(labels) - 1)
        return {label: round(p if label == top else rest, 4) for label in labels}

    return {
        "kind": "sentence", "article": article, "sentence_id": f"{article}:{i}", "start": 0, "end": 1,
        "text": f"sentence {i} of {article}", "actor": actor, "actor_scores": spread(ACTORS, actor, p_actor),
        "stance": stance, "stance_scores": spread(STANCES, stance, p_stance),
    }  # fmt: skip


@pytest.fixture
def predictions(tmp_path):
    rows = [
        prediction("a-1", 0, "pakistan", "demand", 0.9, 0.8),
        prediction("a-1", 1, "afghan_taliban", "denial", 0.7, 0.6),
        prediction("a-2", 0, "pakistan", "demand", 0.6, 0.5),
        prediction("a-2", 1, "none", "none", 0.9, 0.9),
        prediction("a-3", 0, "ttp", "mediation", 0.8, 0.7),  # undated; breaks the side-mediates rule
    ]
    path = tmp_path / "preds.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    meta = tmp_path / "articles.tsv"
    meta.write_text(
        "article\turl\toutlet\tdate\theadline\n"
        "a-1\thttps://example.org/a-1\tDawn\t2025-10-03\tFirst headline\n"
        "a-2\thttps://example.org/a-2\tGeo\t~2025-12\tSecond headline\n"
        "a-3\t\tGeo\t~2024\tThird headline, year only\n"
    )
    return path, meta, rows


def test_the_reports_counts_are_the_predictions_and_undated_articles_count(predictions, tmp_path):
    path, meta, rows = predictions
    out = tmp_path / "report"
    res = run_cli("report", str(path), "--meta", str(meta), "--out", str(out))
    assert res.returncode == 0, res.stderr.decode()
    assert (  # one flag, in the singular
        "report of 3 articles, 5 sentences; 1 undated (counted, listed); 1 codebook flag\n"
        in res.stdout.decode()
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["undated"] == ["a-3"]
    argmax = {k: v["argmax"] for k, v in summary["matrix"].items() if v["argmax"]}
    assert argmax == {"pakistan/demand": 2, "afghan_taliban/denial": 1, "ttp/mediation": 1}
    # expected count: sum over sentences of p(stance) x p(actor | a stance)
    want = 0.0
    for r in rows:
        holders = sum(v for k, v in r["actor_scores"].items() if k != "none")
        want += r["stance_scores"]["demand"] * r["actor_scores"]["pakistan"] / holders
    assert summary["matrix"]["pakistan/demand"]["expected"] == pytest.approx(want, abs=1e-3)
    timeline = list(csv.DictReader((out / "timeline.csv").open()))
    periods = [r["period"] for r in timeline if r["actor"] == "pakistan" and r["stance"] == "demand"]
    assert periods == ["2025-10", "2025-11", "2025-12", "undated", "total"]  # empty months are zeros
    by = {(r["period"], r["actor"], r["stance"]): int(r["argmax"]) for r in timeline}
    assert by[("2025-11", "pakistan", "demand")] == 0 and by[("undated", "ttp", "mediation")] == 1
    assert sum(by[(p, "pakistan", "demand")] for p in periods[:-1]) == by[("total", "pakistan", "demand")]
    checks = json.loads((out / "checks.json").read_text())
    assert [(c["rule"], c["sentence_id"]) for c in checks] == [("side-mediates", "a-3:0")]
    html = (out / "report.html").read_text()
    # evidence carries each date as articles.tsv gives it: an inferred month is no exact day to quote
    evidence = json.loads((out / "evidence.json").read_text())
    assert [(e["article"], e["date"]) for e in evidence["pakistan/demand"]] == [
        ("a-1", "2025-10-03"),
        ("a-2", "~2025-12"),
    ]
    assert "Second headline</a> · Geo · ~2025-12</span>" in html and "2025-12-15" not in html
    # each sentence's figure under predict's name for it, `p`: the report called it `confidence`
    from training.confidence import pair_confidence

    first = rows[0]  # a-1:0, pakistan/demand's most confident
    want = pair_confidence(first["actor_scores"], first["stance_scores"], "pakistan", "demand", "none")
    assert evidence["pakistan/demand"][0]["p"] == round(want, 4)
    assert all("confidence" not in e for items in evidence.values() for e in items)
    # a flag says which pair the model called and what the rule asks, not the rule's id alone
    assert (
        "<td>side-mediates</td><td>ttp/mediation: a side of the talks mediates only when it hosts or "
        "brokers talks between others; review</td>"
    ) in html
    assert "a-3: Third headline, year only (Geo)" in html and 'href="https://example.org/a-1"' in html
    # a flag names its article as the evidence does: here one with no url (no link) and a year only
    assert "Third headline, year only · Geo · undated · a-3:0</span>" in html
    # predictions read from a file name no training run: nothing says how far to trust the cells
    assert summary["trust"] is None and "Not measured: these predictions name no registered model" in html
    assert "trust" not in evidence["pakistan/demand"][0] and "on unseen articles" not in html


def test_articles_the_metadata_does_not_list_are_said_not_silently_undated(predictions, tmp_path):
    """Without articles.tsv (predictions written elsewhere, articles copied without it), or with one
    that lacks the newest articles, the report said only "3 undated": an analyst could not tell
    undated coverage from a missing file. It names what is missing and how to give it."""
    path, meta, _ = predictions
    res = run_cli("report", str(path), "--out", str(tmp_path / "bare"))
    assert res.returncode == 0, res.stderr.decode()
    note = (
        "no articles.tsv read (give one with --meta): none of the 3 articles has a date, outlet or url, "
        "so all are undated"
    )
    assert f"\n  {note}\n" in res.stdout.decode()
    summary = json.loads((tmp_path / "bare" / "summary.json").read_text())
    assert summary["unlisted"] == ["a-1", "a-2", "a-3"] and summary["meta_note"] == note
    assert f"<b>Metadata:</b> {note}" in (tmp_path / "bare" / "report.html").read_text()
    # the header's input line named "the profile lines" as where the metadata came from, with none
    # read (here no profile line at all; a folder without articles.tsv read the same)
    assert summary["meta"] == "none"
    assert "metadata none)" in (tmp_path / "bare" / "report.html").read_text()
    # one article: it "has a date, outlet or url, so it is undated" read as the opposite of what it said
    from training import report_notes

    one = report_notes.meta_note(["a-1"], None, None)
    assert (
        one
        == "no articles.tsv read (give one with --meta): the 1 article has no date, outlet or url, so it is undated"
    )

    meta.write_text("".join(line for line in meta.read_text().splitlines(True) if not line.startswith("a-2")))
    res = run_cli("report", str(path), "--meta", str(meta), "--out", str(tmp_path / "partial"))
    assert res.returncode == 0, res.stderr.decode()
    assert (
        f"\n  1 article not in {meta} (a-2): no date, outlet or url for it, so it counts as undated\n"
        in res.stdout.decode()
    )
    meta.write_text(meta.read_text() + "a-2\t\tGeo\t2025-12-01\tSecond headline\n")
    res = run_cli("report", str(path), "--meta", str(meta), "--out", str(tmp_path / "whole"))
    assert "not in" not in res.stdout.decode() and "no articles.tsv" not in res.stdout.decode()
    assert json.loads((tmp_path / "whole" / "summary.json").read_text())["unlisted"] == []

    # predict's profile lines carry what an articles.tsv beside the articles said: read, --meta aside
    profiles = [
        {"kind": "profile", "article": "a-1", "date": "2025-10-03", "outlet": "Dawn", "url": None, "headline": "First"},
        {"kind": "profile", "article": "a-2", "date": "~2025-12", "outlet": "Geo", "url": None, "headline": "Second"},
    ]  # fmt: skip
    path.write_text(path.read_text() + "".join(json.dumps(p) + "\n" for p in profiles))
    res = run_cli("report", str(path), "--out", str(tmp_path / "carried"))
    assert res.returncode == 0, res.stderr.decode()
    summary = json.loads((tmp_path / "carried" / "summary.json").read_text())
    assert summary["unlisted"] == ["a-3"] and summary["undated"] == ["a-3"]


def test_a_flagged_prediction_names_its_article_as_the_evidence_does(predictions, tmp_path):
    """A reviewer of a codebook flag opens the article to judge the call: checks.json and the Checks
    table named its id alone, where the evidence gave headline, outlet, date and url."""
    path, meta, _ = predictions
    meta.write_text(
        meta.read_text().replace("a-3\t\tGeo\t~2024\t", "a-3\thttps://example.org/a-3\tGeo\t~2025-11\t")
    )
    out = tmp_path / "report"
    res = run_cli("report", str(path), "--meta", str(meta), "--out", str(out))
    assert res.returncode == 0, res.stderr.decode()
    (flag,) = json.loads((out / "checks.json").read_text())
    named = {
        "article": "a-3",
        "headline": "Third headline, year only",
        "outlet": "Geo",
        "date": "~2025-11",  # as given, as the evidence gives it
        "url": "https://example.org/a-3",
    }
    assert {k: flag[k] for k in named} == named
    assert (flag["rule"], flag["sentence_id"], flag["text"]) == (
        "side-mediates",
        "a-3:0",
        "sentence 0 of a-3",
    )
    (evidence,) = json.loads((out / "evidence.json").read_text())["ttp/mediation"]
    assert {k: evidence[k] for k in named} == named
    html = (out / "report.html").read_text()
    checks_table = html[html.index('id="checks-table"') :]
    assert (
        '<a class="check-link" href="https://example.org/a-3">Third headline, year only</a> · Geo · ~2025-11 · a-3:0'
        in checks_table
    )


def unseen_calls() -> list[dict]:
    """A training run's rows on 12 articles it never saw: Pakistan's demands right 9 of 12 calls,
    the TTP's mediation never (each is an accusation), the Afghan Taliban's denials 1 of 12, the
    mediators' mediation 2 of 3 (too few for a share)."""

    def call(article, i, true, predicted):
        return {"article": article, "sentence_id": f"{article}:{i}", "true": true, "predicted": predicted}

    rows = []
    for i in range(12):
        a = f"u-{i}"
        rows.append(call(a, 0, ["pakistan", "demand"] if i < 9 else ["none", "none"], ["pakistan", "demand"]))
        rows.append(call(a, 1, ["ttp", "accusation"], ["ttp", "mediation"]))
        rows.append(
            call(a, 2, ["afghan_taliban", "denial" if i == 0 else "accusation"], ["afghan_taliban", "denial"])
        )
        if i < 3:
            rows.append(call(a, 3, ["mediator", "mediation" if i else "demand"], ["mediator", "mediation"]))
    return rows


def batch_output(folder, rows: list[dict], record: dict):
    """A `stance score-batch` OUTPUT folder holding ``rows`` (predict's sentence lines) and ``record``."""
    import pandas as pd

    flat = [
        {k: v for k, v in r.items() if k not in ("kind", "actor_scores", "stance_scores")}
        | {f"actor:{a}": p for a, p in r["actor_scores"].items()}
        | {f"stance:{s}": p for s, p in r["stance_scores"].items()}
        for r in rows
    ]
    (folder / "sentences").mkdir(parents=True)
    pd.DataFrame(flat).to_parquet(folder / "sentences" / "part-0.parquet", index=False)
    (folder / "model.json").write_text(json.dumps(record))
    return folder


def test_each_pairs_evidence_says_how_far_its_calls_held_on_unseen_articles(predictions, tmp_path):
    """The evidence lists a pair's most confident sentences; without its trust beside them an analyst
    quoted Pakistan's "mediation" from four confident sentences where 0 of 16 such calls were right
    on articles the model never saw. Each pair's evidence now says it, in the trust table's words,
    and plainly where the calls were rarely or never right; evidence.json keeps its layout (pair ->
    sentences), each sentence carrying its pair's calls as predict's evidence does."""
    from stance.scheme import Scheme
    from training import reliability

    path, meta, rows = predictions
    rows = [*rows, prediction("a-2", 2, "mediator", "mediation", 0.9, 0.9)]
    scheme = Scheme.load()
    trust = reliability.summary(unseen_calls(), reliability.ROLLING, scheme.pairs, None)
    record = {"model": "models:/stance-classifier/7", "data_version": "?", "scheme_hash": scheme.hash}
    batch = batch_output(tmp_path / "batch", rows, record | {"trust": trust})
    out = tmp_path / "report"
    res = run_cli("report", str(batch), "--meta", str(meta), "--out", str(out))
    assert res.returncode == 0, res.stderr.decode()

    evidence = json.loads((out / "evidence.json").read_text())
    assert set(evidence) == {f"{a}/{s}" for a, s in scheme.pairs}
    demand = trust["cells"]["pakistan/demand"]
    lo, hi = demand["precision_interval"]
    assert [e["trust"] for e in evidence["pakistan/demand"]] == 2 * [
        {"called": 12, "right": 9, "precision": 0.75, "precision_interval": [lo, hi]}
    ]
    assert [e["article"] for e in evidence["pakistan/demand"]] == ["a-1", "a-2"]  # the sentences as before
    assert evidence["mediator/mediation"][0]["trust"] == {
        "called": 3,
        "right": 2,
    }  # counts only, as the table
    html = (out / "report.html").read_text()
    said = {
        text.split(" (")[0]: text
        for text in (re.sub(r"<[^>]+>", "", s) for s in re.findall(r"<summary>(.*?)</summary>", html))
    }
    denial = trust["cells"]["afghan_taliban/denial"]["precision_interval"]
    assert (
        said["pakistan/demand"]
        == f"pakistan/demand (2 shown) · on unseen articles: right 0.75 [{lo:.2f}, {hi:.2f}] of 12 calls"
    )
    assert said["ttp/mediation"] == (
        "ttp/mediation (1 shown) · on unseen articles: right 0.00 [0.00, 0.22] of 12 calls · never right: "
        "check each sentence before quoting it"
    )
    assert said["afghan_taliban/denial"] == (
        f"afghan_taliban/denial (1 shown) · on unseen articles: right 0.08 [{denial[0]:.2f}, {denial[1]:.2f}] "
        "of 12 calls · rarely right: check each sentence before quoting it"
    )
    assert said["mediator/mediation"] == (
        "mediator/mediation (1 shown) · on unseen articles: right 2 of 3 calls (too few for a share)"
    )


def test_the_trust_table_counts_a_single_call_in_the_singular_and_says_never_called(predictions, tmp_path):
    """The coverage report's trust table read "0 of 1 calls right" for the TTP's mediation and
    "0 of 0 calls right" for a pair the model never called there (a share of nothing, read as a
    measure): one call reads "call", and a pair never called says so, as its evidence would, on
    the newest articles too."""
    from stance.scheme import Scheme
    from training import reliability

    path, meta, rows = predictions
    scheme = Scheme.load()
    calls = [
        {
            "article": "u-0",
            "sentence_id": "u-0:0",
            "true": ["ttp", "accusation"],
            "predicted": ["ttp", "mediation"],
            "block": 2,
        },
        {
            "article": "u-1",
            "sentence_id": "u-1:0",
            "true": ["ttp", "demand"],
            "predicted": ["none", "none"],
            "block": 1,
        },
    ]
    trust = reliability.summary(calls, reliability.ROLLING, scheme.pairs, None)
    record = {"model": "models:/stance-classifier/7", "data_version": "?", "scheme_hash": scheme.hash}
    batch = batch_output(tmp_path / "batch", rows, record | {"trust": trust})
    out = tmp_path / "report"
    res = run_cli("report", str(batch), "--meta", str(meta), "--out", str(out))
    assert res.returncode == 0, res.stderr.decode()
    html = (out / "report.html").read_text()
    table = html.split('id="trust"')[1].split("</table>")[0]
    row = re.search(r"<tr><th>ttp</th>(.*?)</tr>", table).group(1)
    cells = [re.sub(r"<[^>]+>", " ", c).split() for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
    demand, _, _, mediation = (" ".join(c) for c in cells)
    assert mediation.startswith("0 of 1 call right ")
    assert demand.startswith("never called ") and "1 labeled" in demand
    # on the newest block alone: a pair called before but not there is never called there, as its
    # evidence says ("newest: 0 of 0" until session 47); a pair never called at all says it once
    assert mediation.endswith(" newest: never called") and "newest" not in demand


def test_a_stance_said_again_in_one_article_counts_its_sentences_and_one_article(predictions, tmp_path):
    """A headline, its lede and a quote restating one stance are three sentences of one article; an
    analyst reading "3" beside a pair could not tell one article saying it three times from three
    articles. Beside each count, the articles it comes from: in summary.json, timeline.csv and
    the matrix."""
    path, meta, rows = predictions
    again = [prediction("a-1", i, "pakistan", "demand", 0.9, 0.8) for i in (5, 6)]
    path.write_text("".join(json.dumps(r) + "\n" for r in [*rows, *again]))
    out = tmp_path / "report"
    res = run_cli("report", str(path), "--meta", str(meta), "--out", str(out))
    assert res.returncode == 0, res.stderr.decode()
    summary = json.loads((out / "summary.json").read_text())
    demand = summary["matrix"]["pakistan/demand"]
    assert (demand["argmax"], demand["articles"]) == (4, 2)
    assert summary["matrix"]["afghan_taliban/denial"]["articles"] == 1
    assert summary["matrix"]["ttp/denial"]["articles"] == 0
    timeline = {
        (r["period"], r["actor"], r["stance"]): r for r in csv.DictReader((out / "timeline.csv").open())
    }
    october = timeline[("2025-10", "pakistan", "demand")]
    assert (october["argmax"], october["pair_articles"], october["articles"]) == ("3", "1", "1")
    assert timeline[("2025-12", "pakistan", "demand")]["pair_articles"] == "1"
    html = (out / "report.html").read_text()
    assert re.search(r'<td class="num">4 \([\d.]+\)<br><span class="small">in 2 articles</span></td>', html)
    assert re.search(r'<td class="num">1 \([\d.]+\)<br><span class="small">in 1 article</span></td>', html)


def test_bad_report_inputs_are_one_line(predictions, tmp_path):
    path, meta, _ = predictions
    meta.write_text(meta.read_text().replace("2025-10-03", "3 Oct 2025"))
    res = run_cli("report", str(path), "--meta", str(meta), "--out", str(tmp_path / "r"))
    assert res.returncode == 2
    assert res.stderr.decode().strip() == (
        f"error: {meta}:2: date '3 Oct 2025' is not YYYY-MM-DD or YYYY-MM (a leading ~ marks an inferred date)"
    )
    empty = tmp_path / "no-meta-here" / "empty"
    empty.mkdir(parents=True)
    res = run_cli("report", str(empty), "--out", str(tmp_path / "r"))
    assert (
        res.stderr.decode().strip() == f"error: {empty}: no articles (.txt, .html or .pdf files) to report on"
    )
    # a folder none of whose files is an article: one line, before any model loads, nothing written
    (empty / "a.txt").write_bytes(b"")
    (empty / "b.html").write_text("<html><body><script>x()</script></body></html>")
    res = run_cli("report", str(empty), "--out", str(tmp_path / "r"))
    assert res.returncode == 2
    assert res.stderr.decode().strip() == (
        f"error: {empty}: none of its 2 article files can be read (the first: {empty / 'a.txt'}: is empty); "
        "nothing written"
    )
    assert not (tmp_path / "r").exists()  # checked writable, then undone: no empty folder left behind
    # one article file is told what report reads, not that it is bad JSON
    (empty / "a.txt").write_text("Pakistan demanded action against the TTP.\n")
    res = run_cli("report", str(empty / "a.txt"), "--out", str(tmp_path / "r"))
    assert res.returncode == 2
    assert res.stderr.decode().strip() == (
        f"error: {empty / 'a.txt'}: one article; report reads a folder of articles (put it in one), "
        "`stance predict -f jsonl` output or a `stance score-batch` folder"
    )
    # predictions already made: a --model would be silently ignored, so it is refused
    res = run_cli("report", str(path), "--model", "models:/stance-classifier/3", "--out", str(tmp_path / "r"))
    assert res.returncode == 2
    assert (
        res.stderr.decode()
        .strip()
        .startswith(f"error: --model is for scoring a folder of articles; {path} is scored already")
    )
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_the_report_of_scored_articles_renders_in_a_browser(trained, tmp_path):
    from labeling.articles import read_article
    from labeling.segment import segment
    from tests.browser import browser_page
    from training import reliability

    folder = tmp_path / "articles"
    folder.mkdir()
    ids = ["coverage-100", "coverage-150", "coverage-178"]
    for a in ids:
        (folder / f"{a}.txt").write_bytes((REPO / "coverage" / "articles" / f"{a}.txt").read_bytes())
    # files a scraped folder holds that are not articles: passed over and listed, not fatal
    (folder / "failed-download.html").write_text("<html><body><script>x()</script></body></html>")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "live-blog.md").write_text("Pakistan demanded that Kabul act against the TTP, a source said.\n")
    # an article the model never saw, beside three whose labels it was trained on
    (folder / "fresh.txt").write_text(
        "Pakistan demanded on Friday that Kabul hand over the militants behind the border attack.\n\n"
        "A Taliban spokesman denied that any militant group operates from Afghan soil.\n"
    )
    out = tmp_path / "report"
    res = run_cli("report", str(folder), "--meta", str(REPO / "coverage" / "articles.tsv"), "--out", str(out))
    assert res.returncode == 0, res.stderr.decode()
    assert (
        "skipped 3 files that are not articles (listed in the report with the reasons)" in res.stdout.decode()
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["articles"] == len(ids) + 1
    # the three labeled articles are in-sample, every sentence of them; the fresh one is not
    labeled = sum(len(segment(read_article(folder / f"{a}.txt"))) for a in ids)
    assert summary["in_sample"] == {"sentences": labeled, "articles": len(ids)}
    assert summary["sentences"] == labeled + 2
    assert (
        f"in-sample: {labeled} of the {labeled + 2} sentences (3 of 4 articles) were the model's labeled "
        "training data" in res.stdout.decode()
    )
    assert summary["skipped"] == [
        {"file": str(folder / "empty.txt"), "error": f"{folder / 'empty.txt'}: is empty"},
        {"file": str(folder / "failed-download.html"), "error": f"{folder / 'failed-download.html'}: has no text outside its markup"},
        {"file": str(folder / "live-blog.md"), "error": f"{folder / 'live-blog.md'}: not an article file (only .txt, .html, .htm and .pdf files are read)"},
    ]  # fmt: skip
    with browser_page(width=1200, height=900) as page:
        page.goto((out / "report.html").as_uri())
        assert "stance-classifier/" in page.locator("#header").inner_text()  # the model version scored it
        assert "3 file(s) passed over" in page.locator("#header").inner_text()
        assert (
            page.locator("#in-sample")
            .inner_text()
            .startswith(
                f"In-sample: {labeled} of these {labeled + 2} sentences (3 of 4 articles) were labeled training data"
            )
        )
        assert page.locator("#skipped + p + table tr").count() == 3
        for plot in ("#timeline-plot", "#matrix-plot"):
            assert page.eval_on_selector(plot, "img => img.complete && img.naturalWidth > 300")
        assert page.locator("#matrix-table tr").count() == 1 + 5  # a header and one row per actor
        # how far to trust each cell: the champion run's own predictions on articles it never saw
        trust = json.loads((out / "summary.json").read_text())["trust"]
        assert trust["where"] == "the rolling origin of its training run" and trust["articles"] >= 40
        cell = trust["cells"]["pakistan/demand"]
        assert 0 <= cell["right"] <= min(cell["called"], cell["labeled"])
        row = page.locator("#trust-table tr").nth(1).inner_text()  # pakistan's row
        assert row.startswith("pakistan") and f"of {cell['called']}" in row
        # and the same count on the newest block alone, beside the pooled share
        newest = cell["newest"]
        assert (
            newest["right"] <= newest["called"] <= cell["called"]
            and trust["newest"]["articles"] < trust["articles"]
        )
        assert f"newest: {newest['right']} of {newest['called']}" in row
        # each pair's evidence carries that table's row for its pair, in the file and beside its heading
        evidence = json.loads((out / "evidence.json").read_text())
        pair = next(key for key, items in evidence.items() if items)
        calls = reliability.pair_calls(trust, *pair.split("/"))
        assert {json.dumps(e["trust"]) for e in evidence[pair]} == {json.dumps(calls)}
        heading = page.locator("details.evidence-cell summary").first.inner_text()
        assert (
            heading.startswith(f"{pair} (")
            and f"on unseen articles: {reliability.call_note(calls)}" in heading
        )
        links = page.locator("a.evidence-link")
        assert links.count() > 0
        assert links.first.get_attribute("href").startswith("https://")
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)


def test_a_report_made_again_scores_only_the_articles_it_has_not_scored(trained, tmp_path):
    """The analyst makes the report again (another output, an article corrected): what the same
    model and code scored before is read back, not scored again, and the report is the same."""
    folder = tmp_path / "articles"
    folder.mkdir()
    texts = {
        "again-1": "Pakistan demanded that Kabul act against the TTP within a week, officials said in Quetta.\n\n"
        "A Taliban spokesman rejected the deadline as interference.\n",
        "again-2": "Qatar offered to host a second round of the Quetta talks.\n",
    }
    for name, text in texts.items():
        (folder / f"{name}.txt").write_text(text)

    def report(out: str) -> tuple[str, dict, str]:
        res = run_cli("report", str(folder), "--out", str(tmp_path / out))
        assert res.returncode == 0, res.stderr.decode()
        summary = json.loads((tmp_path / out / "summary.json").read_text())
        return res.stdout.decode(), summary, (tmp_path / out / "timeline.csv").read_text()

    said, first, timeline = report("r1")
    assert "read as an earlier report" not in said
    said, again, same = report("r2")
    assert "2 articles read as an earlier report scored them (the same model, code and text" in said
    assert (again["sentences"], same) == (first["sentences"], timeline)
    # one article corrected: it is scored again (its new sentence counts), the other read back
    (folder / "again-2.txt").write_text(texts["again-2"] + "\nThe TTP denied any role in the attack.\n")
    said, third, _ = report("r3")
    assert "  1 article read as an earlier report scored it" in said
    assert third["sentences"] == first["sentences"] + 1


def test_an_article_saved_twice_in_the_folder_counts_once(trained, tmp_path):
    """An analyst's folder held coverage-160.txt and the same article saved from the browser as
    dar-page.html: the report counted its 12 sentences twice (70 of 58), its three flags twice, and
    listed the copy as one more undated article. A file whose text is another file's is passed
    over, named with the file it repeats; a file that differs by a sentence is an article of its own.
    An unlisted copy that sorted before the article articles.tsv lists was counted besides it."""
    folder = tmp_path / "articles"
    folder.mkdir()
    text = (
        "Pakistan demanded that Kabul act against the TTP within a week, officials said in Quetta.\n\n"
        "A Taliban spokesman rejected the deadline as interference.\n"
    )
    (folder / "dawn-1.txt").write_text(text)
    page = "".join(f"<p>{line}</p>\n" for line in text.splitlines())
    (folder / "saved-page.html").write_text(f"<html><body>\n{page}</body></html>\n")
    (folder / "dawn-2.txt").write_text(text + "\nThe TTP denied any role in the attack.\n")

    def report(out: str) -> tuple[str, dict, list[tuple[str, str]]]:
        res = run_cli("report", str(folder), "--out", str(tmp_path / out))
        assert res.returncode == 0, res.stderr.decode()
        summary = json.loads((tmp_path / out / "summary.json").read_text())
        copies = [(Path(s["file"]).name, s["same_as"]) for s in summary["skipped"]]
        return res.stdout.decode(), summary, copies

    said, summary, copies = report("out")
    assert (summary["articles"], summary["sentences"], copies) == (2, 5, [("saved-page.html", "dawn-1")])
    assert "the same text as dawn-1" in summary["skipped"][0]["error"]
    assert "  passed over 1 file with the same text as another (listed in the report)" in said
    assert "not an article" not in said
    # a wire story two outlets ran, each listed in articles.tsv, is two publications
    (folder / "articles.tsv").write_text(
        "article\turl\toutlet\tdate\theadline\n"
        "dawn-1\t\tDawn\t2025-10-03\tDeadline\n"
        "saved-page\t\tThe News\t2025-10-03\tDeadline\n"
    )
    _, summary, copies = report("out2")
    assert (summary["articles"], summary["sentences"], copies) == (3, 7, [])
    # an unlisted copy that sorts before the listed article it repeats is the copy, not the article
    (folder / "dawn-1-copy.txt").write_text(text)
    _, summary, copies = report("out3")
    assert (summary["articles"], summary["sentences"], copies) == (3, 7, [("dawn-1-copy.txt", "dawn-1")])


def test_a_report_of_predicts_jsonl_says_how_far_to_trust_each_cell(trained, tmp_path):
    """predict's profile lines name the model that scored; a report read from them shows that
    model's trust table, the one a report of the same articles scored in place shows."""
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "jsonl-1.txt").write_text(
        "Pakistan demanded that Kabul act against the TTP, officials said.\n\n"
        "A Taliban spokesman denied that militants use Afghan soil.\n"
    )
    predicted = run_cli("predict", "-f", "jsonl", str(folder / "jsonl-1.txt"))
    assert predicted.returncode == 0, predicted.stderr.decode()
    (tmp_path / "preds.jsonl").write_bytes(predicted.stdout)
    summaries = []
    for given, out in ((tmp_path / "preds.jsonl", "from-jsonl"), (folder, "in-place")):
        res = run_cli("report", str(given), "--out", str(tmp_path / out))
        assert res.returncode == 0, res.stderr.decode()
        summaries.append(json.loads((tmp_path / out / "summary.json").read_text()))
    from_jsonl, in_place = summaries
    assert from_jsonl["model"].startswith("predictions in preds.jsonl by models:/stance-classifier/")
    assert from_jsonl["trust"] is not None and from_jsonl["trust"] == in_place["trust"]
    html = (tmp_path / "from-jsonl" / "report.html").read_text()
    assert 'id="trust-table"' in html and "Not measured" not in html


def test_a_report_whose_scores_cannot_be_kept_is_still_made(monkeypatch, capsys, tmp_path):
    """.stance/ cannot be written (a read-only checkout, another user's): the articles are scored and
    the report made, with one warning that their scores are not kept; it failed after scoring them."""
    from types import SimpleNamespace

    from training import report_inputs
    from training.predict import SentencePrediction

    (tmp_path / "scored").write_text("")  # a file where the folder of kept scores would go
    monkeypatch.setattr("stance.paths.state", lambda: tmp_path)
    row = SentencePrediction("a1", "a1:0", 0, 5, "Text.", "none", {"none": 1.0}, "none", {"none": 1.0})
    predictor = SimpleNamespace(
        model=SimpleNamespace(identity="m-1"),
        predict_articles=lambda articles: [SimpleNamespace(sentences=[row]) for _ in articles],
    )
    article = SimpleNamespace(id="a1", text="Text.")
    assert report_inputs.scored_articles(predictor, [article]) == ([[row]], 0)
    assert "warning: the scores of 1 article could not be kept" in capsys.readouterr().err


def test_a_jsonl_whose_models_trust_cannot_be_read_says_so(predictions, tmp_path, monkeypatch):
    """predict's lines name the model that scored, but the tracking store does not answer: the report
    says which model it could not read the trust table of, not that the lines name no model."""
    path, _, _ = predictions
    profile = {"kind": "profile", "article": "a-1", "model": "models:/stance-classifier/1"}
    path.write_text(path.read_text() + json.dumps(profile) + "\n")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")  # nothing listens
    res = run_cli("report", str(path), "--out", str(tmp_path / "out"))
    assert res.returncode == 0, res.stderr.decode()
    html = (tmp_path / "out" / "report.html").read_text()
    assert "name no registered model" not in html
    assert "Not measured: these predictions name models:/stance-classifier/1, but its trust table" in html
    # the lines of two predicts, of two models: that is said, not that they name no model
    path.write_text(path.read_text() + json.dumps(profile | {"model": "models:/stance-classifier/2"}) + "\n")
    res = run_cli("report", str(path), "--out", str(tmp_path / "two"))
    assert res.returncode == 0, res.stderr.decode()
    assert "predictions in preds.jsonl of 2 models" in (tmp_path / "two" / "summary.json").read_text()
    html = (tmp_path / "two" / "report.html").read_text()
    assert (
        "these predictions are of 2 models (models:/stance-classifier/1, models:/stance-classifier/2)" in html
    )


def test_each_period_says_how_many_articles_its_counts_come_from(predictions, tmp_path):
    path, meta, _ = predictions
    out = tmp_path / "report"
    res = run_cli("report", str(path), "--meta", str(meta), "--out", str(out))
    assert res.returncode == 0, res.stderr.decode()
    timeline = list(csv.DictReader((out / "timeline.csv").open()))
    articles = {r["period"]: int(r["articles"]) for r in timeline}
    # 2025-11 has no article: its zeros are no coverage, not a month in which nobody demanded
    assert articles == {"2025-10": 1, "2025-11": 0, "2025-12": 1, "undated": 1, "total": 3}
    html = (out / "report.html").read_text()
    assert '<tr><td>2025-11</td><td class="num">0</td>' in html
    assert "A period with no article is shaded grey; its zeros are no coverage, not no stance." in html


def test_a_report_says_which_sentences_are_in_another_script_than_english(predictions, tmp_path):
    """An Urdu article in the folder was counted beside the English ones, its calls made by a model
    that learned from English alone, without a word; the report now says so under its header, in
    summary.json and on the command's output, as predict does."""
    output, found, banner = _reported(
        predictions,
        tmp_path,
        {
            3: "افغان طالبان کے ترجمان ذبیح اللہ مجاہد نے الزامات کو مسترد کر دیا۔",
            4: '"ہم نے بار بار کہا ہے," the spokesperson said, adding that patience was running out.',
        },
    )
    said = (
        "1 of these 5 sentences (1 of 3 articles: a-2) are written mostly in another language than English "
        "(Arabic letters): the model learned from English coverage alone, so its calls on them are no "
        "measure of what they say"
    )
    assert f"  another language: {said}\n" in output and said in banner
    assert found == {"sentences": 1, "articles": ["a-2"], "scripts": ["Arabic"]}


def test_a_report_says_which_sentences_are_in_another_language_in_latin_letters(predictions, tmp_path):
    """A French or Roman Urdu article in the folder was counted beside the English ones with no
    word, as an Urdu one in Arabic letters was before session 47; the report now names it in the
    same line, under its header, in summary.json and on the command's output. An English sentence
    crowded with names is English."""
    output, found, banner = _reported(
        predictions,
        tmp_path,
        {
            0: "Khawaja Asif, Ishaq Dar and Zabihullah Mujahid met in Doha.",
            2: "Hukumat ne Afghan Taliban se mutalba kiya hai ke woh TTP ke khilaf karrawai karein.",
            4: "Le gouvernement pakistanais a demandé mardi aux talibans afghans de prendre des mesures contre "
            "les militants du TTP, selon le ministère des Affaires étrangères.",
        },
    )
    said = (
        "2 of these 5 sentences (2 of 3 articles: a-2, a-3) are written mostly in another language than "
        "English (Latin letters, with more little words of another language (such as 'le', 'und', 'hai') "
        "than of English): the model learned from English coverage alone, so its calls on them are no measure of what "
        "they say"
    )
    assert f"  another language: {said}\n" in output and said in banner
    assert found == {"sentences": 2, "articles": ["a-2", "a-3"], "scripts": ["Latin"]}


def _reported(predictions, tmp_path, texts: dict[int, str]) -> tuple[str, dict, str]:
    """The report of the predictions with the given rows' texts: the command's output,
    summary.json's ``other_language``, and the text of the page's another-language banner."""
    path, meta, rows = predictions
    for i, text in texts.items():
        rows[i]["text"] = text
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "report"
    res = run_cli("report", str(path), "--meta", str(meta), "--out", str(out))
    assert res.returncode == 0, res.stderr.decode()
    page = (out / "report.html").read_text()
    banner = re.search(r'<p id="other-language"[^>]*>(.*?)</p>', page, re.S)
    assert banner, "no another-language banner on the page"
    found = json.loads((out / "summary.json").read_text())["other_language"]
    return res.stdout.decode(), found, unescape(re.sub(r"<[^>]+>", "", banner.group(1)))


def test_one_file_passed_over_is_said_in_the_singular(monkeypatch, capsys, tmp_path):
    from training import report

    done = {
        "out": str(tmp_path),
        "articles": 2,
        "sentences": 5,
        "undated": [],
        "in_sample": None,
        "other_language": None,
        "meta_note": None,
        "checks": 0,
        "reused": 0,
    }
    monkeypatch.setattr(report, "build", lambda *_: done | {"skipped": [{"file": "live.md", "error": "…"}]})
    report.cli(tmp_path)
    assert (
        "  skipped 1 file that is not an article (listed in the report with the reasons)\n"
        in capsys.readouterr().out
    )


def test_kept_scores_are_keyed_by_the_model_the_code_and_the_scoring_libraries(monkeypatch):
    """A report reads back a kept score only when nothing that computed it changed: another model,
    or an upgraded parser (spaCy parses the holder) gives another key, so the article is scored again."""
    import importlib.metadata

    from training.report_inputs import scored_key

    key = scored_key("m-1")
    assert scored_key("m-1") == key and scored_key("m-2") != key
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "9.9" if name == "spacy" else real(name))
    assert scored_key("m-1") != key
