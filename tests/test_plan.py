"""``stance labeling plan``: the next sentences to label, per-cell table, and --apply on a real server."""

from __future__ import annotations

import json

import pytest

from tests.conftest import REPO, run_cli
from training.plan import cell_ids, cells
from training.plan_studio import PLAN_VIEW

ARTICLE = (
    "Pakistan urged the Afghan Taliban to act against the TTP before the next round in Istanbul. "
    "A Taliban spokesman rejected the demand and said the TTP was Pakistan's internal matter. "
    "Turkish officials said they would keep both delegations talking. "
    "The talks resumed on Tuesday.\n"
)


def cli(*args: str) -> tuple[int, str]:
    out = run_cli(*args)
    return out.returncode, out.stdout.decode() + out.stderr.decode()


def plan_of(tmp_path, *files: tuple[str, str]) -> tuple[int, str, dict | None]:
    """(exit status, output, plan.json) of a 3-sentence uncertainty plan over a folder of these files."""
    folder = tmp_path / "new"
    folder.mkdir(exist_ok=True)
    for name, text in files:
        (folder / name).write_text(text)
    plan = tmp_path / "plan.json"
    code, out = cli(
        "labeling", "plan", "--budget", "3", "--articles", str(folder), "--strategy", "uncertainty",
        "-o", str(plan),
    )  # fmt: skip
    return code, out, json.loads(plan.read_text()) if code == 0 else None


def test_plan_lists_every_cell_and_picks_the_budget(tmp_path, scheme):
    doha = "<p>Qatar hosted the delegations in Doha. Pakistan accused Kabul of sheltering the TTP.</p>"
    code, out, result = plan_of(tmp_path, ("istanbul.TXT", ARTICLE), ("doha.htm", doha))
    assert code == 0, out
    assert result["unlabeled"] == 6  # a .htm page and an upper-case suffix are articles, as in report
    (tmp_path / "new" / "doha.htm").unlink()
    code, out, result = plan_of(tmp_path)
    assert code == 0, out
    assert [(c["actor"], c["stance"]) for c in result["cells"]] == cells(scheme)
    assert len(cells(scheme)) == len(scheme.actors) * (len(scheme.stance_labels) - 1) + 1
    assert result["unlabeled"] == 4 and len(result["plan"]) == 3
    confidences = [p["confidence"] for p in result["plan"]]
    assert confidences == sorted(confidences)  # least confident first
    assert "3 of 4 unlabeled sentences by 'uncertainty'" in out
    for actor, stance in cells(scheme):
        assert actor in out and stance in out
    # labeled cells carry a measured F1 and a count
    pk_demand = next(c for c in result["cells"] if (c["actor"], c["stance"]) == ("pakistan", "demand"))
    assert pk_demand["labeled"] > 0 and pk_demand["f1"] is not None
    # each F1 with the test sentences it rests on: one sentence's F1 of 1.000 is not a solved cell
    from training.simulate import load_splits

    _, test = load_splits(scheme)
    gold = cell_ids(test.actors, test.stances, scheme)
    assert [c["test"] for c in result["cells"]] == [gold.count(c) for c in cells(scheme)]
    said = " ".join(out.split())  # the table's title, wrapped to the terminal
    assert "of test" in said and "a few say little" in said
    # every column says what it is: "expected new" and a '-' in "expected gain" were unexplained
    assert "expected new: how many of the planned sentences the stand-in expects in the cell" in said
    assert "'-' where there is no slope to measure" in said
    # a cell whose F1 fell from half the labels to all shows 'no rise', never a negative gain
    fell = [c for c in result["cells"] if c["f1_slope"] is not None and c["f1_slope"] <= 0]
    assert fell and all(c["expected_gain"] is None for c in fell)
    assert all(c["expected_gain"] is None or c["expected_gain"] >= 0 for c in result["cells"])
    assert "no rise" in out
    # the planned sentences under a header, and what to do with a plan made from a folder
    assert "rank  stand-in's confidence  sentence: the planned sentences, to label in this order" in out
    assert (
        f"next: push these articles (`stance labeling push {tmp_path / 'new'}/…`), then `stance labeling "
        "plan --budget 3 --apply` ranks their tasks in Label Studio's 'plan' tab"
    ) in " ".join(out.split())


def test_a_long_plan_says_how_many_more_it_holds():
    from rich.console import Console

    from training.plan import SHOWN, print_plan

    picked = [{"rank": r, "confidence": 0.5, "sentence_id": f"a:{r}", "text": "t"} for r in range(SHOWN + 2)]
    console = Console(record=True, width=200)
    print_plan({"plan": picked, "unlabeled": 40, "strategy": "diverse", "cells": []}, "why", console)
    text = console.export_text()
    assert f"a:{SHOWN - 1}" in text and f"a:{SHOWN}" not in text
    assert "… and 2 more (-o FILE writes them all)" in text and "next:" not in text


def test_a_labeled_article_saved_under_another_name_is_not_planned_again(tmp_path):
    """Its sentences have other ids (the file's name is the article id), but the snapshot holds
    their texts: labeling them again would be work done twice."""
    copy = ("saved-page.txt", (REPO / "corpus" / "articles" / "corpus-010.txt").read_text())
    code, out, result = plan_of(tmp_path, ("istanbul.txt", ARTICLE), copy)
    assert code == 0, out
    assert result["unlabeled"] == 4 and {p["article"] for p in result["plan"]} == {"istanbul"}
    # with only the copy, nothing is left to plan
    (tmp_path / "new" / "istanbul.txt").unlink()
    code, out, _ = plan_of(tmp_path)
    assert code == 2 and "error: no unlabeled sentences to plan" in out


def test_the_same_article_twice_in_the_folder_is_planned_once(tmp_path):
    """A page saved under two names: push skips the second copy, so a plan that picked both spent
    the budget twice on each sentence (the copy's tasks never exist)."""
    code, out, result = plan_of(tmp_path, ("istanbul.txt", ARTICLE), ("saved.txt", ARTICLE))
    assert code == 0, out
    assert result["unlabeled"] == 4 and {p["article"] for p in result["plan"]} == {"istanbul"}
    assert (
        f"{tmp_path / 'new' / 'saved.txt'}: the same text as article 'istanbul' "
        f"({tmp_path / 'new' / 'istanbul.txt'}) earlier in this folder; skipped, so no sentence is labeled twice"
    ) in " ".join(out.split())


def test_an_empty_file_in_the_folder_is_skipped_and_named(tmp_path):
    """One empty download among the articles stopped the whole plan (`error: …/empty.txt: is empty`):
    the others are planned, as report and score-batch read past such a file, and one line names it."""
    code, out, result = plan_of(
        tmp_path, ("istanbul.txt", ARTICLE), ("empty.txt", ""), ("blank.txt", " \n\t\n")
    )
    assert code == 0, out
    assert result["unlabeled"] == 4 and {p["article"] for p in result["plan"]} == {"istanbul"}
    said = " ".join(out.split())
    for name in ("blank.txt", "empty.txt"):
        assert (
            f"{tmp_path / 'new' / name}: is empty; skipped: not an article (leave it out of `stance labeling "
            "push`, which refuses it)"
        ) in said
    # a folder of nothing but such files is one line, in score-batch's and report's words
    (tmp_path / "new" / "istanbul.txt").unlink()
    code, out, _ = plan_of(tmp_path)
    assert code == 2 and out.strip() == (
        f"error: {tmp_path / 'new'}: none of its 2 article files can be read (the first: "
        f"{tmp_path / 'new' / 'blank.txt'}: is empty); nothing written"
    )
    (tmp_path / "new" / "blank.txt").unlink()  # one such file: said of one, not "none of its 1 ... files"
    code, out, _ = plan_of(tmp_path)
    assert code == 2 and out.strip() == (
        f"error: {tmp_path / 'new'}: its one article file cannot be read ({tmp_path / 'new' / 'empty.txt'}: "
        "is empty); nothing written"
    )


def test_a_coverage_folder_is_planned_from_its_articles_folder(tmp_path):
    """A drop of coverage as the project keeps it (articles.tsv beside articles/, which report and
    score-batch read) was `no article files (.txt, .html, .htm) to plan from`."""
    drop = tmp_path / "drop"
    (drop / "articles").mkdir(parents=True)
    (drop / "articles" / "istanbul.txt").write_text(ARTICLE)
    (drop / "articles.tsv").write_text(
        "article\turl\toutlet\tdate\theadline\nistanbul\t\tDawn\t2026-12-01\tTalks\n"
    )
    code, out = cli("labeling", "plan", "--budget", "2", "--articles", str(drop), "--strategy", "uncertainty")
    assert code == 0, out
    said = " ".join(out.split())
    assert "2 of 4 unlabeled sentences by 'uncertainty'" in said
    assert f"next: push these articles (`stance labeling push {drop / 'articles'}/…`)" in said


def test_two_files_of_one_article_name_are_refused_as_report_refuses_them(tmp_path):
    """x.txt beside x.html were planned as one article 'x' of both texts (its quota, its ids);
    score-batch and report refuse the folder in one line."""
    doha = "<p>Qatar hosted the delegations in Doha. Pakistan accused Kabul of sheltering the TTP.</p>"
    code, out, _ = plan_of(tmp_path, ("istanbul.txt", ARTICLE), ("istanbul.html", doha))
    assert code == 2 and out.strip() == (
        f"error: {tmp_path / 'new'}: istanbul.html and istanbul.txt are both article 'istanbul' (an article is "
        "named by its file name without the suffix): keep one, or rename the other; nothing written"
    )


def test_a_folder_with_nothing_to_plan_says_why_in_one_line(tmp_path):
    """No sentences at all, every sentence labeled, no folder, a file: each its own line."""
    folder = tmp_path / "new"
    code, out, _ = plan_of(tmp_path, ("scores.txt", "id\tscore\n1\t0.5\n"))
    assert code == 2 and out.strip() == f"error: {folder}: its 1 article file holds no sentences to plan"
    (folder / "scores.txt").unlink()
    copy = (REPO / "corpus" / "articles" / "corpus-010.txt").read_text()
    code, out, _ = plan_of(tmp_path, ("saved-page.txt", copy))
    assert code == 2 and out.strip() == (
        f"error: no unlabeled sentences to plan: the snapshot holds every sentence of the 1 article "
        f"in {folder} (by id or by text)"
    )
    for where, line in [
        (tmp_path / "none-such", f"error: {tmp_path / 'none-such'}: no such folder"),
        (folder / "saved-page.txt", f"error: {folder / 'saved-page.txt'} is a file; --articles takes a folder of articles"),
    ]:  # fmt: skip
        code, out = cli(
            "labeling", "plan", "--budget", "3", "--articles", str(where), "--strategy", "diverse"
        )
        assert code == 2 and out.strip() == line


def test_a_simulation_on_older_labels_is_named_as_such(tmp_path):
    """Without --strategy, plan takes the last simulation's fastest strategy; a simulation run on
    other labels than today's is still read, and the line that names it says to run it again."""
    from labeling.snapshot import data_version, latest_snapshot
    from stance import paths

    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "istanbul.txt").write_text(ARTICLE)
    summary = paths.state() / "simulate" / "summary.json"
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text(json.dumps({
        "data_version": "b18cd89cc529",
        "to_target": {"random": {"labels": 300}, "uncertainty": {"labels": 150}, "diverse": {"labels": None}},
    }))  # fmt: skip
    try:
        code, out = cli("labeling", "plan", "--budget", "2", "--articles", str(folder))
    finally:
        summary.unlink()
    assert code == 0, out
    assert (
        f"2 of 4 unlabeled sentences by 'uncertainty' (fewest labels to the target in {summary} (150); "
        f"simulated on data b18cd89cc529, the labels are now {data_version(latest_snapshot())}: run "
        "`stance labeling simulate` again)"
    ) in " ".join(out.split())


def test_a_simulation_summary_that_cannot_be_read_is_named_and_diverse_is_used(tmp_path):
    """A cut or hand-edited summary.json was a JSONDecodeError or KeyError traceback, and no plan."""
    from stance import paths
    from training.plan import best_strategy

    summary = tmp_path / "summary.json"
    for text, what in [
        (b'{"data_version": "93c2ad279699", "to_tar', "not valid JSON"),
        (b"\xff\xfe{", "not valid JSON"),
        (b"{}", "not a summary of `stance labeling simulate`"),
        (b'{"to_target": {"random": 300}}', "not a summary of `stance labeling simulate`"),
    ]:
        summary.write_bytes(text)
        assert best_strategy(summary) == (
            "diverse",
            f"{summary} is {what}; run `stance labeling simulate` again",
        )
    # the command plans by it
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "istanbul.txt").write_text(ARTICLE)
    kept = paths.state() / "simulate" / "summary.json"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text("{}")
    try:
        code, out = cli("labeling", "plan", "--budget", "2", "--articles", str(folder))
    finally:
        kept.unlink()
    assert code == 0, out
    assert f"2 of 4 unlabeled sentences by 'diverse' ({kept} is not a summary of" in " ".join(out.split())


def test_plan_refuses_bad_input_in_one_line(tmp_path):
    code, out = cli("labeling", "plan", "--budget", "3", "--articles", str(tmp_path), "--strategy", "diverse")
    assert (
        code == 2
        and out.strip()
        == f"error: {tmp_path}: no article files (.txt, .html, .htm, .pdf) in it or in its articles/ folder to plan from"
    )
    code, out = cli("labeling", "plan", "--budget", "3", "--articles", str(tmp_path), "--apply")
    assert code == 2 and "error: --apply ranks Label Studio tasks" in out
    # a mistyped strategy is named first, not after a server that is down or the data is read
    code, out = cli("labeling", "plan", "--budget", "3", "--strategy", "smart", "-p", "none-such")
    assert (
        code == 2
        and out.strip() == "error: unknown strategy 'smart'; choose from random, uncertainty, diverse"
    )
    # -o a folder: said first, where the whole plan was printed before "cannot write (Is a directory)"
    code, out = cli("labeling", "plan", "--budget", "3", "--strategy", "smart", "-o", str(tmp_path))
    assert code == 2 and out.strip() == f"error: {tmp_path}: is a directory, not a file to write the plan to"


@pytest.mark.slow
def test_apply_ranks_the_planned_tasks_and_keeps_a_plan_tab(studio, scheme, tmp_path):  # noqa: F811
    assert cli("labeling", "init", "--project", "plan")[0] == 0
    # no task yet: said so, where it was "every one has annotations or is in the snapshot"
    code, out = cli("labeling", "plan", "--project", "plan", "--budget", "4", "--strategy", "diverse")
    assert code == 2 and " ".join(out.split()) == (
        "error: the project has no tasks yet: push articles with `stance labeling push`, or plan from their "
        "folder with --articles"
    )
    seeds = [tmp_path / "istanbul.txt", tmp_path / "doha.txt"]
    seeds[0].write_text(ARTICLE)
    seeds[1].write_text(
        "Qatar hosted the delegations in Doha. Pakistan accused Kabul of sheltering the TTP.\n"
    )
    from training.simulate import load_splits

    # a third article quoting one sentence the snapshot holds (labeled): left out of the plan, and said
    quoted = load_splits(scheme)[0].sentences[0].text
    seeds.append(tmp_path / "quote.txt")
    seeds[2].write_text(
        f"Talks resumed in Istanbul on Monday. {quoted}\nNo date was set for a further round.\n"
    )
    code, out = cli("labeling", "push", "--project", "plan", "--no-predictions", *map(str, seeds))
    assert code == 0, out
    # a task imported another way (the UI, another tool): no article or sentence id to plan by
    project_id = studio.project("plan").id
    studio.client.projects.import_tasks(
        project_id,
        request=[{"data": {"text": "Officials met in Doha.", "context_before": "", "context_after": ""}}],
    )
    code, out = cli(
        "labeling", "plan", "--project", "plan", "--budget", "4", "--strategy", "diverse", "--apply"
    )
    assert code == 0, out
    said = " ".join(out.split())
    assert (
        "1 open task of the project left out: the snapshot already holds its sentence (by id or by text); "
        "`next` serves it after the planned ones"
    ) in said
    assert (  # it was left out with no word
        "1 open task of the project left out: it was not made by `stance labeling push` (no article and "
        "sentence id); `next` serves it after the planned ones"
    ) in said
    assert "plan applied: 4 tasks ranked in the 'plan' tab (4 tasks updated, old ranks cleared)" in out
    ranked = sorted(
        (t["data"]["plan_rank"], t["data"]["article"])
        for t in studio.export(project_id)
        if "plan_rank" in t["data"]
    )
    assert [r for r, _ in ranked] == [1, 2, 3, 4]  # rank 1 is labeled first
    views = [v for v in studio.client.views.list(project=project_id) if v.data.get("title") == PLAN_VIEW]
    assert len(views) == 1 and views[0].data["ordering"] == ["tasks:data.plan_rank"]
    # applying again with a smaller budget clears the old ranks and keeps one tab
    code, out = cli(
        "labeling", "plan", "--project", "plan", "--budget", "2", "--strategy", "diverse", "--apply"
    )
    assert code == 0, out
    assert sum("plan_rank" in t["data"] for t in studio.export(project_id)) == 2
    assert "plan applied: 2 tasks ranked in the 'plan' tab (2 tasks updated, old ranks cleared)" in out
    assert (
        len([v for v in studio.client.views.list(project=project_id) if v.data.get("title") == PLAN_VIEW])
        == 1
    )
