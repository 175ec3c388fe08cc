"""Predict's output contract, its refusal of a foreign scheme, and its handling of bad input."""

import csv
import io
import json
import re

import numpy as np
import pytest

from stance import paths
from stance.errors import StanceError
from stance.scheme import Scheme
from tests.conftest import renamed_actor, run_cli
from training import confidence
from training.predict import Predictor, read_sentences_file

SEED = "seeds/001_64535fbd2cbe07ec.txt"
FIELDS = [
    "kind",
    "article",
    "sentence_id",
    "start",
    "end",
    "text",
    "actor",
    "actor_scores",
    "stance",
    "stance_scores",
    "holder",  # the parse's reading of the holder (null for the baseline these tests train)
    "pair_right",  # how often the model's calls of the row's pair were right on unseen articles
    "p",
]


@pytest.fixture(scope="module")
def predictor(trained):
    return Predictor()


def test_predictions_follow_the_contract(predictor, scheme):
    from labeling.articles import read_article
    from labeling.segment import segment

    path = paths.root() / SEED
    (result,) = predictor.predict_files([path])
    expected = segment(read_article(path))
    assert [p.sentence_id for p in result.sentences] == [s.sentence_id for s in expected]
    for p in result.sentences:
        assert list(p.actor_scores) == scheme.actor_labels and list(p.stance_scores) == scheme.stance_labels
        assert sum(p.actor_scores.values()) == pytest.approx(1, abs=1e-3)
        assert sum(p.stance_scores.values()) == pytest.approx(1, abs=1e-3)
        assert p.stance == max(p.stance_scores, key=p.stance_scores.get)
        assert (p.actor == "none") == (p.stance == "none")


def test_profile_counts_pairs_and_names_the_most_confident_evidence(predictor):
    (result,) = predictor.predict_files([paths.root() / SEED])
    prof = result.profile
    stance_bearing = [p for p in result.sentences if p.stance != "none"]
    assert prof["sentences"] == len(result.sentences)
    assert prof["no_stance"] == len(result.sentences) - len(stance_bearing)
    assert sum(n for row in prof["counts"].values() for n in row.values()) == len(stance_bearing)
    for ev in prof["evidence"]:
        holders = [p for p in stance_bearing if (p.actor, p.stance) == (ev["actor"], ev["stance"])]
        assert ev["count"] == len(holders)
        assert ev["p"] == pytest.approx(max(p.confidence for p in holders), abs=1e-4)
        assert "confidence" not in ev  # one name for the figure: the sentence lines' `p`


def test_a_long_input_says_how_far_it_has_got_and_scores_as_one_batch(predictor, monkeypatch, capsys):
    """A 1 MB article runs for minutes: predict prints a line per chunk, and chunking changes no
    prediction (each sentence's context is read across the chunks as in one batch)."""
    from labeling.articles import read_article
    from labeling.segment import segment
    from training import predict, predict_cli

    sentences = segment(read_article(paths.root() / SEED))
    whole = predictor.predict_sentences(sentences)
    monkeypatch.setattr(predict, "PROGRESS_CHUNK", 4)
    monkeypatch.setattr(predict_cli, "PROGRESS_CHUNK", 4)
    calls = []
    chunked = predictor.predict_sentences(sentences, lambda done, total: calls.append((done, total)))
    n = len(sentences)
    assert chunked == whole
    assert calls == [(min(at, n), n) for at in range(4, n + 4, 4)]
    predict_cli._progress(8, n)
    assert capsys.readouterr().err == f"scored 8 of {n} sentences\n"
    predict_cli._progress(3, 3)  # an input of one chunk says nothing
    assert capsys.readouterr().err == ""


def test_a_report_of_predicts_jsonl_says_which_sentences_were_training_data(trained, tmp_path):
    """Each profile line names the data version the model was fitted to, so `stance report` over
    the JSONL flags a labeled seed's sentences as in-sample, as it does over the folder."""
    from labeling.snapshot import data_version, latest_snapshot

    seed, fresh = paths.root() / SEED, tmp_path / "fresh.txt"
    fresh.write_text("Pakistan demanded on Friday that Kabul hand over the militants behind the raid.\n")
    out = run_cli("predict", str(seed), str(fresh), "-o", str(tmp_path / "p.jsonl"))
    assert out.returncode == 0, out.stderr.decode()
    rows = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    labeled = sum(r["kind"] == "sentence" and r["article"] == seed.stem for r in rows)
    assert {r["data_version"] for r in rows if r["kind"] == "profile"} == {data_version(latest_snapshot())}
    res = run_cli("report", str(tmp_path / "p.jsonl"), "--out", str(tmp_path / "report"))
    assert res.returncode == 0, res.stderr.decode()
    assert f"in-sample: {labeled} of the {labeled + 1} sentences (1 of 2 articles)" in res.stdout.decode()
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["in_sample"] == {"sentences": labeled, "articles": 1}


def test_cli_jsonl_keeps_input_order_across_articles_and_ends_with_profiles(trained):
    a, b = paths.root() / "seeds/002_5d788933c5039c46.txt", paths.root() / SEED
    out = run_cli("predict", str(a), str(b))
    assert out.returncode == 0, out.stderr.decode()
    rows = [json.loads(line) for line in out.stdout.decode().splitlines()]
    sentences = [r for r in rows if r["kind"] == "sentence"]
    profiles = [r for r in rows if r["kind"] == "profile"]
    assert list(sentences[0]) == FIELDS
    # p: the pair confidence the table shows, the figure the confidence bands read
    for r in sentences:
        p = confidence.pair_confidence(r["actor_scores"], r["stance_scores"], r["actor"], r["stance"], "none")
        assert r["p"] == round(p, 4)
    assert len({r["p"] for r in sentences}) > 1  # a figure per row, not a constant
    arts = [r["article"] for r in sentences]
    assert arts == sorted(arts, key=[a.stem, b.stem].index)  # a's sentences, then b's
    assert [p["article"] for p in profiles] == [a.stem, b.stem] and rows[-2:] == profiles
    # an evidence entry's `p` is its sentence's, by the same name (it was `confidence`)
    p_of = {r["sentence_id"]: r["p"] for r in sentences}
    evidence = [e for profile in profiles for e in profile["evidence"]]
    assert evidence and all(e["p"] == p_of[e["sentence_id"]] for e in evidence)
    text = a.read_text()
    assert all(text[r["start"] : r["end"]] == r["text"] for r in sentences if r["article"] == a.stem)


def test_cli_csv_and_table_and_standard_input(trained, tmp_path):
    out = run_cli("predict", "-", "--format", "csv", stdin=b"Pakistan urged Kabul to act against the TTP.")
    assert out.returncode == 0, out.stderr.decode()
    rows = list(csv.DictReader(io.StringIO(out.stdout.decode())))
    assert len(rows) == 1 and rows[0]["text"] == "Pakistan urged Kabul to act against the TTP."
    assert rows[0]["article"].startswith("text-") and "stance:demand" in rows[0]
    pair = [float(rows[0][f"stance:{rows[0]['stance']}"])]
    if rows[0]["stance"] != "none":
        holders = sum(float(v) for k, v in rows[0].items() if k.startswith("actor:") and k != "actor:none")
        pair.append(float(rows[0][f"actor:{rows[0]['actor']}"]) / holders)
    assert float(rows[0]["p"]) == pytest.approx(np.prod(pair), abs=1e-4)
    table = run_cli("predict", str(paths.root() / SEED), "-f", "table")
    assert table.returncode == 0
    assert "stance profile of 001_64535fbd2cbe07ec" in table.stdout.decode()
    assert (
        "p: the model's confidence in the row's pair, p(stance) × p(actor | a stance)"
        in table.stdout.decode()
    )


def test_predict_says_which_model_version_scored(trained, tmp_path):
    from pathlib import Path

    from labeling.articles import read_article
    from labeling.segment import segment

    out = run_cli("predict", str(paths.root() / SEED), "-f", "csv")
    assert out.returncode == 0, out.stderr.decode()
    version = trained["model_uri"].rsplit("/", 1)[1]
    model_line, note = out.stderr.decode().strip().splitlines()[-2:]
    assert model_line == (
        f"model: models:/stance-classifier/{version} (@champion): kind baseline, "
        f"data_version {trained_data_version(trained)}, run {trained['run_id']}"
    )
    # a seed article is labeled training data of the model: predict says its calls are in-sample
    n = len(segment(read_article(paths.root() / SEED)))
    assert note == (
        f"note: {n} of these {n} sentences ({Path(SEED).stem}) were the model's labeled training data: "
        "its calls on them are in-sample, no measure of how it does on new coverage"
    )
    # the same article saved under another name, or piped in, is the same training data
    renamed = tmp_path / "taliban-talks.txt"
    renamed.write_bytes((paths.root() / SEED).read_bytes())
    for args, stdin in (((str(renamed),), None), (("-",), renamed.read_bytes())):
        out = run_cli("predict", *args, stdin=stdin)
        assert out.returncode == 0, out.stderr.decode()
        assert out.stderr.decode().strip().splitlines()[-1].startswith(f"note: {n} of these {n} sentences (")
    fresh = tmp_path / "fresh.txt"  # an article the model never saw: no such note
    fresh.write_text("Pakistan demanded on Friday that Kabul hand over the militants behind the attack.\n")
    out = run_cli("predict", str(fresh))
    assert out.returncode == 0 and "in-sample" not in out.stderr.decode()


def test_predict_says_which_sentences_are_in_another_script_than_the_english_it_learned(trained, tmp_path):
    """An analyst's folder holds an Urdu or Pashto article too; the model, trained on English
    coverage, scored it like any other ("other / demand" at p 0.14, "none" at 0.59) without a word.
    Predict now says which sentences are written mostly in another script, as it says which were
    training data; an English sentence quoting a few Urdu words is English."""
    urdu = tmp_path / "urdu.txt"
    urdu.write_text(
        "پاکستان نے افغان طالبان سے مطالبہ کیا ہے کہ وہ ٹی ٹی پی کے خلاف کارروائی کریں\n\n"
        "افغان طالبان کے ترجمان ذبیح اللہ مجاہد نے الزامات کو مسترد کر دیا۔\n"
    )
    mixed = tmp_path / "mixed.txt"
    mixed.write_text(
        "Pakistan on Monday repeated its demand that the Afghan Taliban act against the TTP.\n"
        '"ہم نے بار بار کہا ہے," the foreign office spokesperson said, adding that patience was running out.\n'
    )
    out = run_cli("predict", str(urdu), str(mixed), "-f", "csv")
    assert out.returncode == 0, out.stderr.decode()
    assert out.stderr.decode().strip().splitlines()[-1] == (
        "note: 2 of these 4 sentences (urdu) are written mostly in another language than English (Arabic "
        "letters): the model learned from English coverage alone, so its calls on them are no measure of "
        "what they say; score an English translation instead"
    )
    out = run_cli("predict", str(mixed))
    assert out.returncode == 0 and "another language" not in out.stderr.decode()


def test_predict_says_which_sentences_are_in_another_language_in_latin_letters(trained, tmp_path):
    """A French or Roman Urdu article ("Hukumat ne Afghan Taliban se mutalba kiya hai...") was
    scored at a confident-looking p with no word said, as the Urdu one in Arabic letters was before
    session 47. Predict now names it in the same note; an English article crowded with names, or
    quoting a few Urdu words, is English."""
    french = tmp_path / "french.txt"
    french.write_text(
        "Le gouvernement pakistanais a demandé mardi aux talibans afghans de prendre des mesures contre "
        "les militants du TTP, selon le ministère des Affaires étrangères.\n"
    )
    roman_urdu = tmp_path / "roman-urdu.txt"
    roman_urdu.write_text(
        "Hukumat ne Afghan Taliban se mutalba kiya hai ke woh TTP ke khilaf karrawai karein.\n\n"
        "Taliban ke tarjuman Zabihullah Mujahid ne in ilzamat ko mustarad kar diya aur kaha ke Afghanistan "
        "ki sarzameen kisi aur mulk ke khilaf istemal nahi hogi.\n"
    )
    names = tmp_path / "names.txt"
    names.write_text(
        "Khawaja Asif, Ishaq Dar and Zabihullah Mujahid met in Doha.\n\n"
        "Defence Minister Khawaja Asif, Foreign Minister Ishaq Dar, ISI chief Lt Gen Asim Malik and Taliban "
        "spokesman Zabihullah Mujahid met in Doha on Sunday.\n\n"
        'The minister said "hum amn chahte hain" to reporters on Tuesday, adding that Pakistan wanted peace.\n'
    )
    out = run_cli("predict", str(french), str(roman_urdu), str(names), "-f", "table")
    assert out.returncode == 0, out.stderr.decode()
    assert out.stderr.decode().strip().splitlines()[-1] == (
        "note: 3 of these 6 sentences (french, roman-urdu) are written mostly in another language than "
        "English (Latin letters, with more little words of another language (such as 'le', 'und', 'hai') "
        "than of English): the model learned from English coverage alone, so its calls on them are no measure of what "
        "they say; score an English translation instead"
    )
    out = run_cli("predict", str(names))
    assert out.returncode == 0 and "another language" not in out.stderr.decode()


def test_the_csv_names_the_model_and_its_data_version_on_every_row(predictor, trained, tmp_path):
    """A CSV handed around lost which model made it: the JSONL's profile lines name the model and
    the data version it was fitted to, the CSV named neither. Now each row does, as two columns
    (no comment line: a spreadsheet and pandas.read_csv read it as it is)."""
    import pandas as pd

    version = trained["model_uri"].rsplit("/", 1)[1]
    folder = predictor.model.folder  # the same model given as a plain folder: no registry version
    for model, named in (
        ("models:/stance-classifier@champion", f"models:/stance-classifier/{version}"),
        (str(folder), str(folder.resolve())),
    ):
        out = run_cli("predict", str(paths.root() / SEED), "--model", model, "-f", "csv")
        assert out.returncode == 0, out.stderr.decode()
        rows = list(csv.DictReader(io.StringIO(out.stdout.decode())))
        assert {(r["model"], r["data_version"]) for r in rows} == {(named, trained_data_version(trained))}
        frame = pd.read_csv(io.StringIO(out.stdout.decode()), dtype=str)
        assert len(frame) == len(rows) and frame["model"].eq(named).all()


def trained_data_version(trained) -> str:
    from mlflow import MlflowClient

    return MlflowClient().get_run(trained["run_id"]).data.tags["data_version"]


def test_sentences_file_plain_and_jsonl(trained, tmp_path):
    plain = tmp_path / "lines.txt"
    plain.write_text("Kabul rejected the demand.\n\nQatar hosted the talks.\n")
    assert [s.text for s in read_sentences_file(plain)] == [
        "Kabul rejected the demand.",
        "Qatar hosted the talks.",
    ]
    js = tmp_path / "s.jsonl"
    js.write_text('{"text": "Qatar hosted the talks.", "article": "x"}\n')
    out = run_cli("predict", "--sentences", str(js), "-o", str(tmp_path / "out.jsonl"))
    assert out.returncode == 0, out.stderr.decode()
    first = json.loads((tmp_path / "out.jsonl").read_text().splitlines()[0])
    assert first["article"] == "x" and first["start"] is None and first["text"] == "Qatar hosted the talks."


def test_sentences_given_twice_scores_both_files(trained, tmp_path):
    """`--sentences a --sentences b` scored b alone, silently (the option kept its last value)."""
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("Kabul rejected the demand.\n")
    b.write_text("Qatar hosted the talks.\nPakistan urged Kabul to act.\n")
    out = run_cli("predict", "--sentences", str(a), "--sentences", str(b), "-f", "csv")
    assert out.returncode == 0, out.stderr.decode()
    rows = list(csv.DictReader(io.StringIO(out.stdout.decode())))
    assert [(r["article"], r["text"]) for r in rows] == [
        ("a", "Kabul rejected the demand."),
        ("b", "Qatar hosted the talks."),
        ("b", "Pakistan urged Kabul to act."),
    ]


def test_a_one_sentence_table_counts_it_in_the_singular(trained):
    """An analyst checking one sentence read 'k: 1 sentences' and 'no stance in 0 of 1 sentences'."""
    one = run_cli(
        "predict", "--sentences", "-", "-f", "table", stdin=b'{"text": "Kabul rejected it.", "article": "k"}'
    )
    assert one.returncode == 0, one.stderr.decode()
    titles = [
        line.strip()
        for line in one.stdout.decode().splitlines()
        if line.strip().startswith(("k:", "stance profile"))
    ]
    assert titles[0] == "k: 1 sentence"
    assert re.fullmatch(r"stance profile of k \(no stance in [01] of 1 sentence\)", titles[1])


def test_the_tables_evidence_names_its_p_apart_from_the_pairs_trust(scheme):
    """Under the profile, where "3 (0.26)" is the share of the pair's calls that were right, each
    evidence line read "pakistan / denial (0.94): ...": an analyst took the sentence's p for the
    pair's trust. The evidence says which figure it gives."""
    from training.predict import ArticleResult, profile, to_table

    preds = [
        _row(scheme, 0, "pakistan", "denial", 0.97),
        _row(scheme, 1, "pakistan", "denial", 0.9),
        _row(scheme, 2, "none", "none", 0.9),
    ]
    cell = {"called": 43, "right": 11, "precision": 0.26, "precision_interval": [0.14, 0.4]}
    trust = {"cells": {"pakistan/denial": cell}, "where": "the rolling origin", "articles": 133}
    table = to_table([ArticleResult("a", preds, profile(preds, scheme, trust))], scheme, width=200)
    assert "│ pakistan │      . │ 2 (0.26) │" in table  # the count, and its pair's share right
    p = preds[0].confidence
    assert f"  pakistan / denial, its most confident sentence (p {p:.2f}): sentence 0\n" in table
    assert f"pakistan / denial ({p:.2f})" not in table


def test_the_tables_evidence_says_plainly_when_its_pair_was_never_or_rarely_right(scheme):
    """The coverage report says "never right" beside Pakistan's mediation (0 of 16 on unseen
    articles) and "rarely right" beside its denials; predict's table printed the same figures under
    the same sentences ("right 0.00 [0.00, 0.00] of 16 calls") with no word of it, so an analyst
    reading one article quoted a sentence the report would have told them to check."""
    from training.predict import ArticleResult, profile, to_table

    preds = [
        _row(scheme, 0, "pakistan", "mediation", 0.9),
        _row(scheme, 1, "pakistan", "denial", 0.9),
        _row(scheme, 2, "pakistan", "demand", 0.9),
    ]
    cells = {
        "pakistan/mediation": {"called": 16, "right": 0, "precision": 0.0, "precision_interval": [0.0, 0.0]},
        "pakistan/denial": {"called": 43, "right": 11, "precision": 0.26, "precision_interval": [0.14, 0.4]},
        "pakistan/demand": {
            "called": 131,
            "right": 88,
            "precision": 0.67,
            "precision_interval": [0.59, 0.74],
        },
    }
    trust = {"cells": cells, "where": "the rolling origin", "articles": 133}
    table = to_table([ArticleResult("a", preds, profile(preds, scheme, trust))], scheme, width=200)
    lines = table.splitlines()
    # each evidence line, and the line under it: its pair's calls on unseen articles
    said = {
        line.split(",")[0].strip(): lines[i + 1]
        for i, line in enumerate(lines)
        if "its most confident" in line
    }
    assert said["pakistan / mediation"].endswith(
        "of 16 calls · never right: check each sentence before quoting it"
    )
    assert said["pakistan / denial"].endswith(
        "of 43 calls · rarely right: check each sentence before quoting it"
    )
    assert "right:" not in said["pakistan / demand"] and said["pakistan / demand"].endswith("of 131 calls")


def test_the_tables_holder_read_is_blank_on_a_row_with_no_stance(scheme):
    """The table showed "Pakistan → pakistan" as the holder read of "Pakistan has not disclosed the
    members of its delegation.", a sentence with no stance: no stance, no holder of one to read."""
    from training.predict import ArticleResult, profile, to_table

    preds = [_row(scheme, 0, "pakistan", "demand", 0.9), _row(scheme, 1, "none", "none", 0.9)]
    preds[0].holder = {"phrase": "Islamabad", "actor": "pakistan", "from": "subject"}
    preds[1].holder = {"phrase": "Pakistan", "actor": "pakistan", "from": "subject"}
    table = to_table([ArticleResult("a", preds, profile(preds, scheme))], scheme, width=200)
    rows = [line for line in table.splitlines() if "sentence 0" in line or "sentence 1" in line]
    assert "Islamabad → pakistan" in rows[0]
    assert "→" not in rows[1] and "Pakistan" not in rows[1]


def test_the_table_shows_a_sentence_a_pdf_wrapped_on_one_line(scheme):
    """A PDF's sentence keeps its line breaks (its text is a span of the article), and the table
    printed them: its row and its evidence line broke where the page did, a sentence's end alone on
    a line under the next row's columns. The terminal shows each on one line; the JSON keeps them."""
    from dataclasses import replace

    from training.predict import ArticleResult, profile, to_jsonl, to_table

    wrapped = "Pakistan on Monday accused the Afghan Taliban\nof failing to act against\nthe militants."
    preds = [replace(_row(scheme, 0, "pakistan", "accusation", 0.9), text=wrapped)]
    results = [ArticleResult("a", preds, profile(preds, scheme))]
    lines = to_table(results, scheme, width=400).splitlines()
    flat = "Pakistan on Monday accused the Afghan Taliban of failing to act against the militants."
    assert any(flat in line and "│" in line for line in lines)  # the row
    assert any(
        re.search(rf"its most confident sentence \(p [\d.]+\): {re.escape(flat)}$", line) for line in lines
    )
    assert not any(line.lstrip("│ ").startswith(("of failing", "the militants")) for line in lines)
    assert json.loads(to_jsonl(results).splitlines()[0])["text"] == wrapped


def _row(scheme, i: int, actor: str, stance: str, p: float, pair_right: float | None = None):
    """A sentence prediction of article "a" whose pair has probability ``p`` on both facets."""
    from training.predict import SentencePrediction

    actors = {a: (p if a == actor else (1 - p) / 5) for a in scheme.actor_labels}
    stances = {s: (p if s == stance else (1 - p) / 4) for s in scheme.stance_labels}
    return SentencePrediction(
        "a", f"a:{i}", None, None, f"sentence {i}", actor, actors, stance, stances, pair_right=pair_right
    )


def test_the_csv_tells_a_pair_called_too_rarely_to_measure_from_a_sentence_with_no_stance(predictor, scheme):
    """`pair_right` was blank both for a sentence with no stance and for a pair the model called
    under 10 times on unseen articles: filtering the CSV on it dropped the weakest pairs with the
    no-stance rows. `pair_calls` says how many calls the share was read from, blank for no stance."""
    from training.predict import ArticleResult, profile, to_csv

    preds = [
        _row(scheme, 0, "pakistan", "denial", 0.9, pair_right=0.26),
        _row(scheme, 1, "ttp", "demand", 0.8),
        _row(scheme, 2, "none", "none", 0.9),
    ]
    cells = {
        "pakistan/denial": {"called": 43, "right": 11, "precision": 0.26, "precision_interval": [0.14, 0.4]},
        "ttp/demand": {"called": 3, "right": 1},
    }
    trust = {"cells": cells, "where": "the rolling origin", "articles": 133}

    def csv_rows(result):
        return list(csv.DictReader(io.StringIO(to_csv([result], scheme))))

    rows = csv_rows(ArticleResult("a", preds, profile(preds, scheme, trust)))
    assert list(rows[0])[-4:] == ["pair_right", "pair_calls", "model", "data_version"]
    assert [(r["stance"], r["pair_right"], r["pair_calls"]) for r in rows] == [
        ("denial", "0.26", "43"),
        ("demand", "", "3"),  # called, too few times for a share
        ("none", "", ""),  # no stance: no pair to trust
    ]
    # a model logged without the measure claims no calls either
    bare = csv_rows(ArticleResult("a", preds, profile(preds, scheme)))
    assert {r["pair_calls"] for r in bare} == {""}
    # the trained model's rows: each call's count is its pair's in the model's trust table
    (result,) = predictor.predict_files([paths.root() / SEED])
    for r in csv_rows(result):
        cell = predictor.trust["cells"].get(f"{r['actor']}/{r['stance']}", {"called": 0})
        assert r["pair_calls"] == ("" if r["stance"] == "none" else str(cell["called"])), r["sentence_id"]


def test_each_article_is_named_by_its_headline_outlet_and_date_where_an_articles_tsv_says(
    predictor, trained, tmp_path
):
    """Predict named each article by its file name alone, although coverage folders carry an
    articles.tsv (in the folder above the files): the profile records, the --profile file and the
    table's heading now say its headline, outlet and date (as given: "~" is inferred), as
    score-batch's rows do; an article no articles.tsv names reads as before."""
    folder = tmp_path / "coverage"
    (folder / "articles").mkdir(parents=True)
    named, unnamed = folder / "articles" / "talks.txt", folder / "articles" / "other.txt"
    named.write_bytes((paths.root() / SEED).read_bytes())
    unnamed.write_text("Pakistan demanded on Friday that Kabul hand over the militants behind the attack.\n")
    (folder / "articles.tsv").write_text(
        "article\turl\toutlet\tdate\theadline\ntalks\t\tDawn\t~2025-11\tTalks stall in Doha\n"
    )
    meta = {"date": "~2025-11", "outlet": "Dawn", "url": None, "headline": "Talks stall in Doha"}
    profiles = tmp_path / "profiles.json"
    out = run_cli("predict", str(named), str(unnamed), "--profile", str(profiles))
    assert out.returncode == 0, out.stderr.decode()
    rows = [json.loads(line) for line in out.stdout.decode().splitlines()]
    assert all(list(r) == FIELDS for r in rows if r["kind"] == "sentence")  # the rows join by article
    for records in ([r for r in rows if r["kind"] == "profile"], json.loads(profiles.read_text())):
        talks, other = records
        assert (talks["article"], {k: talks.get(k, "absent") for k in meta}) == ("talks", meta)
        assert other["article"] == "other" and not set(meta) & set(other)  # as before
    (result,) = predictor.predict_files([named])
    assert result.meta == meta

    table = run_cli("predict", str(named), str(unnamed), "-f", "table")
    assert table.returncode == 0, table.stderr.decode()
    titles = [line.strip() for line in table.stdout.decode().splitlines() if " sentence" in line]
    n = len(result.sentences)
    assert f"Talks stall in Doha · Dawn, about 2025-11 · talks: {n} sentences" in titles
    assert "other: 1 sentence" in titles


def test_sentences_read_from_standard_input_as_from_a_file(trained, tmp_path):
    """`--sentences -` was taken as a file named '-'; standard input can be read once only."""
    rows = b'{"text": "Kabul rejected the demand.", "article": "k"}\n{"text": "Qatar hosted the talks."}\n'
    out = run_cli("predict", "--sentences", "-", "-f", "csv", stdin=rows)
    assert out.returncode == 0, out.stderr.decode()
    got = [(r["article"], r["text"]) for r in csv.DictReader(io.StringIO(out.stdout.decode()))]
    assert got[0] == ("k", "Kabul rejected the demand.")
    assert got[1][0].startswith("text-") and got[1][1] == "Qatar hosted the talks."
    listed = tmp_path / "lines.txt"
    listed.write_text("Kabul rejected the demand.\nQatar hosted the talks.\n")
    from_file = run_cli("predict", "--sentences", str(listed), "-f", "csv")
    piped = run_cli("predict", "--sentences", "-", "-f", "csv", stdin=listed.read_bytes())
    calls = [
        [(r["actor"], r["stance"], r["p"]) for r in csv.DictReader(io.StringIO(o.stdout.decode()))]
        for o in (from_file, piped)
    ]
    assert len(calls[0]) == 2 and calls[0] == calls[1]
    twice = run_cli("predict", "-", "--sentences", "-", stdin=rows)
    assert twice.returncode == 2 and twice.stderr.decode().strip() == (
        "error: standard input ('-') can be read once: give it as one article or one --sentences"
    )


def test_a_sentences_file_of_many_short_articles_is_one_batch_that_says_how_far_it_has_got(trained, tmp_path):
    """300 rows of 30 articles: one batch, so the progress lines a long input prints (each article
    alone is under a chunk, and was scored alone and silently), and one profile per article."""
    js = tmp_path / "rows.jsonl"
    js.write_text(
        "".join(
            json.dumps({"article": f"a{i // 10}", "text": f"Kabul rejected demand number {i} of Pakistan."})
            + "\n"
            for i in range(300)
        )
    )
    out = run_cli("predict", "--sentences", str(js), "-o", str(tmp_path / "out.jsonl"))
    assert out.returncode == 0, out.stderr.decode()
    assert "scored 256 of 300 sentences\nscored 300 of 300 sentences\n" in out.stderr.decode()
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["article"] for r in rows if r["kind"] == "profile"] == [f"a{i}" for i in range(30)]
    assert [r["text"] for r in rows if r["kind"] == "sentence"] == [
        json.loads(line)["text"] for line in js.read_text().splitlines()
    ]


def test_a_model_with_another_label_scheme_is_refused(trained, tmp_path):
    changed = tmp_path / "scheme.yaml"
    changed.write_text(paths.scheme_file().read_text().replace("  mediator: >-", "  broker: >-"))
    other = Scheme.load(changed)
    with pytest.raises(StanceError, match=re.escape("was trained with a different label scheme")) as err:
        Predictor(scheme=other)
    assert f"than configs/scheme.yaml ({other.hash}); retrain it or pick a matching model" in str(err.value)


def test_scheme_change_in_the_project_makes_the_cli_refuse(trained, scratch_root, tmp_path):
    with renamed_actor(scratch_root):
        out = run_cli("predict", str(paths.root() / SEED), "-o", str(tmp_path / "out.jsonl"))
    assert out.returncode == 2
    (line,) = out.stderr.decode().strip().splitlines()
    assert line.startswith(
        "error: model 'models:/stance-classifier@champion' was trained with a different label scheme"
    )
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.txt", "no such file"),
        (lambda d: d, "is a directory, not an article file"),
        (lambda d: _write(d / "empty.txt", b""), "is empty"),
        (lambda d: _write(d / "bin.txt", b"\x00\x01\x02PK\x03\x04"), "looks like a binary file"),
        (lambda d: _write(d / "cp.txt", "naïve".encode("latin-1")), "not valid UTF-8"),
        (lambda d: _write(d / "big.txt", b"Kabul refused. " * 350_000), "too large for one article (5.2 MB"),
        # text, but no sentence in it: it scored as an empty profile, silently
        (
            lambda d: _write(d / "hi.txt", b"Hi\n-----\n"),
            "no sentence to score: its text (2 words) is page furniture",
        ),
    ],
)
def test_bad_input_gets_one_error_line_and_no_output_file(tmp_path, make, message, trained):
    target = make(tmp_path)
    out_file = tmp_path / "out.jsonl"
    out = run_cli("predict", str(target), "-o", str(out_file))
    assert out.returncode == 2
    (line,) = out.stderr.decode().strip().splitlines()
    assert line.startswith("error: ") and message in line
    assert not out_file.exists()


def test_an_output_that_is_an_input_or_the_other_output_is_refused_and_nothing_is_lost(trained, tmp_path):
    article = tmp_path / "talks.txt"
    article.write_text("Pakistan urged Kabul to act against the TTP.\n")
    out = run_cli("predict", str(article), "-o", str(article))
    assert out.returncode == 2
    assert out.stderr.decode().strip().splitlines() == [
        f"error: --output {article} is an input: writing there would replace it; write elsewhere"
    ]
    assert article.read_text() == "Pakistan urged Kabul to act against the TTP.\n"
    both = tmp_path / "out.json"
    out = run_cli("predict", str(article), "-o", str(both), "--profile", str(both))
    assert out.returncode == 2 and "the profiles would replace the predictions" in out.stderr.decode()
    assert not both.exists()


def test_two_inputs_that_are_one_article_id_are_refused_before_any_work(trained, tmp_path):
    """Two saved pages named index.html, or a file given twice, were two articles of one id in the
    output (their sentence ids alike), which `stance report` reads back as one article."""
    seed = (paths.root() / SEED).read_bytes()
    for outlet in ("dawn", "tolo"):
        (tmp_path / outlet).mkdir()
        _write(tmp_path / outlet / "index.html", seed)
    a, b = tmp_path / "dawn" / "index.html", tmp_path / "tolo" / "index.html"
    out_file = tmp_path / "out.jsonl"
    for args, line in (
        (
            [str(a), str(b)],
            f"error: {a} and {b} are both article 'index' (an article file is named by its file name, "
            "without its folder and suffix): give each article once, under its own name",
        ),
        ([str(a), str(a)], f"error: {a}: given twice; give each article once"),
    ):
        out = run_cli("predict", *args, "-o", str(out_file))
        assert out.returncode == 2
        assert out.stderr.decode().strip().splitlines() == [line]
        assert not out_file.exists()


def test_a_model_that_does_not_exist_is_a_clear_error(trained):
    out = run_cli("predict", str(paths.root() / SEED), "--model", "models:/no-such-model/7")
    assert out.returncode == 2
    (line,) = out.stderr.decode().strip().splitlines()
    assert line.startswith("error: cannot find model 'models:/no-such-model/7' in sqlite:///")
    assert "pass --model" not in line and "check the URI" in line  # it was passed: the URI is wrong


def test_html_article_is_scored_by_its_text(predictor, tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        "<html><body><script>alert(1)</script><p>Pakistan urged the Taliban to act against the TTP.</p>"
        "<p>The talks were hosted by Qatar.</p></body></html>"
    )
    (result,) = predictor.predict_files([page])
    assert [p.text for p in result.sentences] == [
        "Pakistan urged the Taliban to act against the TTP.",
        "The talks were hosted by Qatar.",
    ]


def _write(path, data):
    path.write_bytes(data)
    return path


def test_a_cached_copy_scores_when_the_store_is_unreachable_and_says_which_version(trained):
    """Predict keeps a local copy of the champion per version; with the store gone it uses it, and says so."""
    first = run_cli("predict", str(paths.root() / SEED), "-f", "csv")
    assert first.returncode == 0, first.stderr.decode()
    version = trained["model_uri"].rsplit("/", 1)[1]
    db = paths.mlflow_db()
    away = db.with_name("mlflow.db.away")
    db.rename(away)  # the store does not answer
    try:
        offline = run_cli("predict", str(paths.root() / SEED), "-f", "csv")
    finally:
        away.rename(db)
    assert offline.returncode == 0, offline.stderr.decode()
    assert offline.stdout == first.stdout  # the same model scored
    assert offline.stderr.decode().strip().splitlines()[-2] == (
        f"model: models:/stance-classifier/{version} (@champion): kind baseline, "
        f"data_version {trained_data_version(trained)}, run {trained['run_id']}; "
        f"the cached copy: tracking store sqlite:///{db} not reachable"
    )


def test_predicts_own_jsonl_reads_back_as_its_sentences(tmp_path):
    """Scoring predict's JSONL again (another model, `--sentences out.jsonl`) stopped at the first
    profile line: "needs a non-empty 'text' field". Its sentence lines are read; its profiles passed over."""
    lines = [
        {"kind": "sentence", "article": "a", "sentence_id": "a:1", "text": "Pakistan urged talks.", "p": 0.9},
        {"kind": "sentence", "article": "a", "sentence_id": "a:2", "text": "Kabul denied it.", "p": 0.8},
        {"kind": "profile", "article": "a", "sentences": 2, "stances": {}},
    ]
    path = tmp_path / "out.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    got = read_sentences_file(path)
    assert [(s.article, s.sentence_id, s.text) for s in got] == [
        ("a", "a:1", "Pakistan urged talks."),
        ("a", "a:2", "Kabul denied it."),
    ]
    path.write_text(
        json.dumps({"kind": "sentence", "article": "a"}) + "\n"
    )  # a line with no text still is an error
    with pytest.raises(StanceError, match="needs a non-empty 'text' field"):
        read_sentences_file(path)


def test_a_version_number_an_earlier_store_used_fetches_the_stores_own_model(trained):
    """A store made again (mlflow.db moved away, `make demo` run anew) registers another run's model
    as version 1; predict kept scoring with its copy of the earlier store's version 1, named by the
    number alone ("a numbered version never changes"), and printed that run's id. The copy's run is
    checked against the version's in the store; a copy of another run's model is fetched afresh."""
    from training import loading, tracking

    version = trained["model_uri"].rsplit("/", 1)[1]
    folder = loading.cache_root(tracking.tracking_uri()) / "stance-classifier" / version
    assert run_cli("predict", str(paths.root() / SEED), "-f", "csv").returncode == 0  # the copy is made
    earlier = (folder / "MLmodel").read_text().replace(trained["run_id"], "0" * 32)
    for model in (f"models:/stance-classifier/{version}", "models:/stance-classifier@champion"):
        (folder / "MLmodel").write_text(earlier)  # the earlier store's version, at the same place
        out = run_cli("predict", str(paths.root() / SEED), "-f", "csv", "--model", model)
        assert out.returncode == 0, out.stderr.decode()
        assert f"run {trained['run_id']}" in out.stderr.decode().strip().splitlines()[-2]
        assert "0" * 32 not in (folder / "MLmodel").read_text()
    db = paths.mlflow_db()
    away = db.with_name("mlflow.db.away")
    db.rename(away)  # the store does not answer: the number's copy scores, and says so
    try:
        offline = run_cli(
            "predict", str(paths.root() / SEED), "--model", f"models:/stance-classifier/{version}"
        )
    finally:
        away.rename(db)
    assert offline.returncode == 0, offline.stderr.decode()
    assert f"the cached copy: tracking store sqlite:///{db} not reachable" in offline.stderr.decode()


def test_a_store_copied_without_its_artifacts_names_where_the_files_should_be(trained, tmp_path, monkeypatch):
    """mlflow.db copied (or its mlruns folder moved): the store lists the version, its files are not
    where it keeps them, and predict said "'models:/stance-classifier/1' is not an MLflow model (no
    MLmodel file)", about a model that is one. It says what is missing, and where."""
    import sqlite3

    version = trained["model_uri"].rsplit("/", 1)[1]
    copy = tmp_path / "mlflow.db"
    copy.write_bytes(paths.mlflow_db().read_bytes())
    gone = (tmp_path / "gone").as_uri()
    with sqlite3.connect(copy) as con:
        for table, column in (
            ("logged_models", "artifact_location"),
            ("runs", "artifact_uri"),
            ("model_versions", "storage_location"),
        ):
            con.execute(
                f"update {table} set {column} = ? || substr({column}, instr({column}, '/mlruns') + 7)",
                (gone,),
            )
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{copy}")
    out = run_cli("predict", str(paths.root() / SEED), "--model", f"models:/stance-classifier/{version}")
    assert out.returncode == 2
    (line,) = out.stderr.decode().strip().splitlines()
    assert line.startswith(
        f"error: 'models:/stance-classifier/{version}': sqlite:///{copy} lists it, but its files are not where "
        f"that store keeps them ({gone}/"
    )
    assert line.endswith(
        "an artifact folder moved or deleted, or a copy of mlflow.db made without its mlruns folder"
    )


def test_predict_loads_without_mlflow_pyfunc_torch_or_transformers(trained):
    """The light cold start: the cached champion is found and scored without MLflow, torch or transformers."""
    import subprocess
    import sys

    code = (
        "import sys; from training.predict import Predictor; "
        "p = Predictor(); p.model.predict({'text': ['Kabul rejected the demand.']}); "
        "print(sorted(m for m in ('mlflow', 'torch', 'transformers') "
        "if m in sys.modules))"
    )
    Predictor()  # the copy is cached
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_each_call_says_how_often_the_models_calls_of_its_pair_were_right_on_unseen_articles(
    predictor, trained, scheme, tmp_path
):
    """The trust the coverage report shows per cell travels with the model: predict's rows, profile
    and table say it, from the training run's own rolling-origin rows, with no store to ask."""
    import shutil

    import yaml

    from training import reliability
    from training.report_notes import trust_of

    trust = predictor.trust
    assert trust["where"] == reliability.ROLLING and trust["all_pairs"]
    pairs = [(a, s) for a in scheme.actors for s in scheme.stance_labels if s != "none"]
    report = trust_of(trained["run_id"], trained_data_version(trained), pairs)
    assert trust == report  # predict and the report read one measure
    import mlflow

    logged = mlflow.artifacts.load_text(f"runs:/{trained['run_id']}/evaluation/trust.md")
    busiest = max(trust["cells"], key=lambda k: trust["cells"][k]["called"])
    assert f"| {busiest} | {trust['cells'][busiest]['called']} |" in logged  # what the run page shows
    rows, _ = reliability.logged_rows(trained["run_id"])
    for pair, cell in trust["cells"].items():  # calls counted by hand from the logged rows
        assert cell["called"] == sum("/".join(r["predicted"][:2]) == pair for r in rows), pair

    (result,) = predictor.predict_files([paths.root() / SEED])
    called = [p for p in result.sentences if p.stance != "none"]
    assert called and all(p.pair_right is None for p in result.sentences if p.stance == "none")
    for p in called:
        assert p.pair_right == trust["cells"][f"{p.actor}/{p.stance}"].get("precision")
    for ev in result.profile["evidence"]:
        cell = trust["cells"][f"{ev['actor']}/{ev['stance']}"]
        assert ev["trust"]["called"] == cell["called"]
        assert ev["trust"].get("precision") == cell.get("precision")
        assert ev["trust"]["newest"] == cell["newest"]  # the newest block's own count rides along
    assert result.profile["trust_measured"]["articles"] == trust["articles"]

    table = run_cli("predict", str(paths.root() / SEED), "-f", "table").stdout.decode()
    top = result.profile["evidence"][0]
    assert f"its calls of this pair: {reliability.call_note(top['trust'])}" in table
    assert f"read on {trust['articles']} articles the model never saw" in table

    # a model logged without the measure (an older one) still scores, and claims nothing
    bare = tmp_path / "bare"
    shutil.copytree(predictor.model.folder, bare)
    mlmodel = yaml.safe_load((bare / "MLmodel").read_text())
    del mlmodel["flavors"]["python_function"]["artifacts"][reliability.ARTIFACT]
    (bare / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    (older,) = Predictor(str(bare)).predict_files([paths.root() / SEED])
    assert [p.stance for p in older.sentences] == [p.stance for p in result.sentences]
    assert all(p.pair_right is None for p in older.sentences)
    assert "trust_measured" not in older.profile and all("trust" not in e for e in older.profile["evidence"])
