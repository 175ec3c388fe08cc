"""The labeling loop against a real Label Studio server (from .ls-venv) on a free loopback port.

One server per test session (a first start migrates its database: about a minute). The
commands run as a user runs them, through the console script; annotations are created
through Label Studio's API as annotators would create them in the UI.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path

import httpx
import pytest

from labeling.agreement import agreement
from labeling.annotations import studio_raw_file
from labeling.articles import read_article
from labeling.loop import DEFAULT_MODEL, init, task_data
from labeling.records import Annotation
from labeling.segment import segment
from labeling.snapshot import data_version, latest_snapshot, load_snapshot
from labeling.studio import Studio, label_config, pairs_to_result, result_to_pairs
from labeling.sync import ensure_annotators
from stance import paths
from stance.errors import StanceError
from stance.scheme import Pair, Scheme
from tests.conftest import ADMIN, PASSWORD, REPO, SHELL_SECRETS, TOKEN, free_port, run_cli
from training.prelabel import resolve_model

ARTICLES = [REPO / "seeds" / "000_acbd9a63285937e5.txt", REPO / "seeds" / "001_64535fbd2cbe07ec.txt"]
HEADLINE_0 = "End of Istanbul talks; Taliban refuse to recognize TTP as terrorist group"  # seeds/articles.tsv
UNLABELED = (  # an article of no snapshot: pushed under any name, it is new work
    "Officials from both sides met in Doha on Sunday for a second round of talks.\n"
    "Pakistan asked Kabul to act against militants who cross the border.\n"
    "A Taliban spokesman said Afghan soil is not used against any country.\n"
    "Qatar and Turkey offered to host a third round next month.\n"
    "The defence minister told a television channel that patience was running out.\n"
    "Kabul denied that it shelters fighters of the banned group.\n"
    "Islamabad accused the Taliban government of ignoring its evidence.\n"
    "The Qatari mediator said both delegations agreed to keep the ceasefire.\n"
    "Traders at the Torkham crossing waited for the border to reopen.\n"
    "Analysts in Peshawar said the next round would test both sides' resolve.\n"
)
PK_DEMAND, TB_DENIAL = Pair("pakistan", "demand"), Pair("afghan_taliban", "denial")


def cli(*args: str) -> tuple[int, str]:
    """Exit status and the output (stdout + stderr) in one string, lines joined as printed."""
    out = run_cli(*args)
    return out.returncode, out.stdout.decode() + out.stderr.decode()


# -- the labeling interface and results (no server) -------------------------------------------
def test_a_tsv_line_without_a_tab_is_named_as_such(scheme, tmp_path):
    """An editor that turns tabs into spaces made `5 pakistan/demand`, refused as "'task' must be a
    task id (a positive integer), got '5 pakistan/demand'": the pairs read as part of the task id."""
    from labeling.batch_file import read_batch

    tsv = tmp_path / "labels.tsv"
    tsv.write_text("4\tnone\n6\n5 pakistan/demand\n")  # 6: a task whose pairs are still to come
    with pytest.raises(StanceError) as e:
        read_batch(tsv, scheme, later=[])
    assert str(e.value) == (
        f"{tsv}:3: no tab on this line: a TSV line is TASK<TAB>PAIRS (e.g. '12<TAB>pakistan/demand'), "
        "got '5 pakistan/demand'"
    )
    tsv.write_text("²\tnone\n")  # a digit to str.isdigit, not to int(): it was a ValueError's traceback
    with pytest.raises(StanceError) as e:
        read_batch(tsv, scheme, later=[])
    assert str(e.value) == f"{tsv}:1: 'task' must be a task id (a positive integer), got '²'"


def test_a_batch_that_cannot_be_written_is_refused_before_the_server(tmp_path, monkeypatch):
    """`next -o` and `disagreements -o` a folder, or a path under a file, as `plan -o` and `predict -o`
    refuse it: one line, before the server is asked (it was asked, then `cannot write (Is a directory)`,
    and `cannot write (File exists)` for a path under a file)."""
    monkeypatch.setenv("LABEL_STUDIO_URL", f"http://127.0.0.1:{free_port()}")  # no server: never reached
    (tmp_path / "notes").write_text("")
    for command in (("next", "--as", "ann"), ("disagreements",)):
        code, out = cli("labeling", *command, "-o", str(tmp_path))
        assert (
            code == 2
            and out.strip() == f"error: {tmp_path}: is a directory, not a file to write the batch to"
        )
        code, out = cli("labeling", *command, "-o", str(tmp_path / "notes" / "batch.jsonl"))
        assert code == 2 and out.strip() == (
            f"error: {tmp_path / 'notes' / 'batch.jsonl'}: cannot write the batch ({tmp_path / 'notes'} is a "
            "file, not a folder)"
        )


def test_the_config_offers_every_actor_and_stance_with_the_guide_as_hints(scheme):
    xml = label_config(scheme)
    for label in [*scheme.actor_labels, *scheme.stance_labels]:
        assert f'value="{label}"' in xml
    assert 'name="actor"' in xml and 'name="stance"' in xml and 'name="more_pairs"' in xml
    assert "Tehrik-i-Taliban Pakistan and its spokespeople." in xml  # a definition, as a hint
    assert xml == label_config(scheme)  # same scheme, same text: re-running init changes nothing


def test_the_project_is_the_flag_else_the_environment_else_stance(monkeypatch):
    """Every labeling command, the planner and the ML backend read one rule for the project."""
    from labeling.studio import project_title

    monkeypatch.delenv("LABEL_STUDIO_PROJECT", raising=False)
    assert project_title("") == project_title(None) == "stance"
    monkeypatch.setenv("LABEL_STUDIO_PROJECT", "team-b")
    assert (project_title(""), project_title("round-2")) == ("team-b", "round-2")


def test_a_plain_http_url_to_another_machine_is_warned_about_before_the_token_is_sent(
    monkeypatch, tmp_path, capsys
):
    """The token travels in a header: over http:// to another host, anyone on the way reads it.
    One warning line comes first (the host here is never reached: `.invalid` never resolves)."""
    token = secrets.token_hex(20)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", token)
    far = "http://me:hunter2@stance-test.invalid:9"
    monkeypatch.setenv("LABEL_STUDIO_URL", far)
    code, out = cli("labeling", "pull", "--out", str(tmp_path / "snapshots"))
    shown = "http://me:***@stance-test.invalid:9"
    assert code == 2 and out.splitlines() == [
        f"warning: Label Studio at {shown} is plain http on another machine: the API token crosses the "
        "network unencrypted; use an https:// LABEL_STUDIO_URL",
        f"error: cannot reach Label Studio at {shown} (ConnectError): "
        "start it with `make label-studio`, or set LABEL_STUDIO_URL to your server",
    ]
    assert token not in out and "hunter2" not in out
    port = free_port()
    near = [f"http://{host}:{port}" for host in ("127.0.0.1", "localhost", "[::1]", "127.8.9.10")]
    for url in [*near, "https://stance-test.invalid:9"]:  # this machine, or encrypted: no warning
        with pytest.raises(StanceError, match=f"^cannot reach Label Studio at {re.escape(url)} "):
            Studio.connect(url, token)
        assert capsys.readouterr() == ("", ""), url


def test_the_instructions_an_annotator_reads_are_the_whole_guide(scheme, tmp_path, monkeypatch):
    """An annotator in the UI reads the project's instructions, not ../shared/labeling-guide.md:
    they held the guide's two tables only, without its rulings on the hard cases (a mediating state
    urging talks is a demand, "officials said the Taliban were unwilling" is two pairs)."""
    from labeling.loop import project_settings

    guide = tmp_path / "shared" / "labeling-guide.md"
    guide.parent.mkdir()
    guide.write_text(
        "# Labeling guide\n\n| stance | the actor ... |\n|---|---|\n| `demand` | asks |\n\n"
        "## Rulings on recurring hard cases\n- A mediating state urging the sides to keep talking is\n"
        "  `(mediator, demand)` (a request for talks).\n"
    )
    monkeypatch.setenv("STANCE_ROOT", str(tmp_path / "project"))
    shown = project_settings(scheme, "t")["expert_instruction"]
    assert "<h2>Rulings on recurring hard cases</h2>" in shown
    assert (
        "<li>A mediating state urging the sides to keep talking is\n<code>(mediator, demand)</code>" in shown
    )
    assert "<td><code>demand</code></td>" in shown
    guide.unlink()  # no guide beside the project: the scheme's tables, as before
    assert "<h4>Stances</h4>" in project_settings(scheme, "t")["expert_instruction"]


def test_html_written_in_the_guide_reaches_the_annotator_as_text(scheme, tmp_path, monkeypatch):
    """The guide is shared Markdown anyone on the team edits; the instructions are HTML that Label
    Studio shows every annotator: a <script> or an onerror= in the guide is shown as text, never run."""
    from labeling.loop import project_settings

    guide = tmp_path / "shared" / "labeling-guide.md"
    guide.parent.mkdir()
    guide.write_text("# Guide\n\n<script>alert(1)</script>\n\nSee <img src=x onerror=alert(2)> here.\n")
    monkeypatch.setenv("STANCE_ROOT", str(tmp_path / "project"))
    shown = project_settings(scheme, "t")["expert_instruction"]
    assert "<script" not in shown and "<img" not in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown


def test_pairs_survive_a_trip_through_an_annotation_result(scheme):
    for pairs in [(), (PK_DEMAND,), (PK_DEMAND, TB_DENIAL, Pair("mediator", "mediation"))]:
        assert result_to_pairs(pairs_to_result(pairs, scheme), scheme, "task 1") == pairs


def test_a_label_outside_the_scheme_or_a_half_none_pair_names_the_task(scheme):
    result = pairs_to_result((PK_DEMAND,), scheme)
    result[1]["value"]["choices"] = ["threat"]
    with pytest.raises(StanceError, match=r"^task 7 \(s:1\): stance 'threat' is not in the label scheme"):
        result_to_pairs(result, scheme, "task 7 (s:1)")
    result[1]["value"]["choices"] = ["none"]
    with pytest.raises(StanceError, match="actor 'pakistan' with stance 'none': 'none' goes with 'none'"):
        result_to_pairs(result, scheme, "task 7 (s:1)")


# -- a real server (the `server` and `studio` fixtures are in conftest.py) ----------------
@pytest.fixture(scope="session")
def pushed(studio, trained):
    """Project 'stance' initialised, two seed articles pushed with the champion's predictions."""
    assert cli("labeling", "init")[0] == 0
    code, out = cli("labeling", "push", *map(str, ARTICLES))
    assert code == 0, out
    return studio.project("stance").id, out


def sentence_ids(studio: Studio, project_id: int) -> list[str]:
    return [t["data"]["sentence_id"] for t in studio.export(project_id)]


@pytest.mark.slow
def test_init_twice_gives_one_project_and_changes_nothing(studio, scheme):
    code, out = cli("labeling", "init", "--project", "init twice")
    assert (
        code == 0
        and "project 'init twice'" in out
        and out.rstrip().endswith(
            f"created at {studio.url}/projects/{studio.project('init twice').id}; each sentence goes to 2 annotator(s)"
        )
    )
    settings = studio.client.projects.get(studio.project("init twice").id)
    # two independent annotators per task; a sampling the settings page shows (push orders the tasks)
    assert (settings.maximum_annotations, settings.sampling) == (2, "Sequential sampling")
    code, out = cli("labeling", "init", "--project", "init twice")
    assert code == 0 and " unchanged at " in out
    assert [p.title for p in studio.client.projects.list()].count("init twice") == 1
    # a title that differs only in punctuation would pull into the same raw file: refused, nothing made
    raw = studio_raw_file("init twice")
    code, out = cli("labeling", "init", "--project", "init-twice")
    assert code == 2 and out.strip() == (
        f"error: project 'init-twice' would pull into {raw}, the file of project 'init twice' (the titles "
        "differ only in spaces or punctuation); give one of them a title with other letters or digits"
    )
    assert studio.find_project("init-twice") is None
    # one made on the server by hand is refused at pull, before either project's file is written
    studio.client.projects.create(title="init twice!")
    code, out = cli("labeling", "pull", "--project", "init twice")
    assert code == 2 and "the file of project 'init twice!'" in out and not raw.exists()
    studio.client.projects.delete(studio.project("init twice!").id)

    # an edited definition in the scheme updates the project in place
    edited = Scheme(dict(scheme.actors, ttp="The TTP."), scheme.stances, scheme.none)
    project_id = studio.project("init twice").id
    assert init(studio, edited, "init twice") == (project_id, "updated (labeling interface, instructions)")
    assert 'hint="The TTP."' in studio.client.projects.get(project_id).label_config
    assert init(studio, scheme, "init twice") == (project_id, "updated (labeling interface, instructions)")
    assert init(studio, scheme, "init twice") == (project_id, "unchanged")
    # a plain re-run after `--overlap 3` goes back to the config's 2, and says so with both values
    assert cli("labeling", "init", "--project", "init twice", "--overlap", "3")[0] == 0
    code, out = cli("labeling", "init", "--project", "init twice")
    assert (
        code == 0
        and " updated (overlap 3 -> 2) at " in out
        and out.rstrip().endswith("goes to 2 annotator(s)")
    )

    # a task pushed before the header named where it comes from gains its origin at the next init, once
    old = {"text": "Pakistan demanded action.", "article": ARTICLES[0].stem, "sentence_id": "x:1"}
    old |= {"context_before": "", "context_after": ""}
    studio.client.projects.import_tasks(project_id, request=[{"data": old}])
    assert init(studio, scheme, "init twice") == (project_id, "updated (the origin in the header of 1 task)")
    (task,) = studio.export(project_id)
    assert task["data"] == {**old, "origin": f"{HEADLINE_0} · {ARTICLES[0].stem}"}
    assert init(studio, scheme, "init twice") == (project_id, "unchanged")


@pytest.mark.slow
def test_push_twice_creates_no_duplicates_and_predicts_least_confident_first(studio, pushed, scheme):
    project_id, first = pushed
    expected = [s.sentence_id for a in ARTICLES for s in segment(read_article(a))]
    version = resolve_model(DEFAULT_MODEL)
    assert (
        f"{len(expected)} tasks created, 0 already there; {len(expected)} predictions added from {version}"
        in first
    )
    code, again = cli("labeling", "push", *map(str, ARTICLES))
    assert code == 0 and f"0 tasks created, {len(expected)} already there; 0 predictions added" in again
    tasks = studio.export(project_id)
    assert sorted(t["data"]["sentence_id"] for t in tasks) == sorted(expected)  # one task per sentence

    # predictions: one per task, with the model version and a score; the queue's first is the least sure
    preds = {p.task: p for p in studio.predictions(project_id)}
    assert len(preds) == len(tasks) and {p.model_version for p in preds.values()} == {version}
    assert all(0 < p.score <= 1 for p in preds.values())
    by_id = sorted(tasks, key=lambda t: t["id"])
    scores = [preds[t["id"]].score for t in by_id]
    assert scores == sorted(scores)  # created least confident first
    assert studio.client.projects.get(project_id).model_version == version
    nxt = httpx.get(
        f"{studio.url}/api/projects/{project_id}/next", headers={"Authorization": f"Token {TOKEN}"}
    )
    assert preds[nxt.json()["id"]].score == min(scores)

    # the task carries where it comes from and its neighbours
    first_task = next(t for t in by_id if t["data"]["context_before"] and t["data"]["context_after"])
    data = first_task["data"]
    text = read_article(REPO / "seeds" / f"{data['article']}.txt").text
    assert text[data["start"] : data["end"]] == data["text"]
    sentences = segment(read_article(REPO / "seeds" / f"{data['article']}.txt"))
    i = [s.sentence_id for s in sentences].index(data["sentence_id"])
    assert data["context_before"] == " ".join(s.text for s in sentences[max(0, i - 2) : i])
    assert data["context_after"] == " ".join(s.text for s in sentences[i + 1 : i + 3])
    headline = {
        "000_acbd9a63285937e5": HEADLINE_0,
        "001_64535fbd2cbe07ec": 'Failed Negotiations: Afghan Taliban Urges Pakistan to Engage in Peace Talks with TTP" · about 2023-07-24',
    }[data["article"]]
    assert data["origin"] == f"{headline} · {data['article']}"  # the header: seeds/articles.tsv's row

    # the score is the model's confidence in its pair, from the same predictor predict uses
    from training.predict import Predictor

    sentence = next(
        s for a in ARTICLES for s in segment(read_article(a)) if s.sentence_id == data["sentence_id"]
    )
    (p,) = Predictor(f"models:/{version}").predict_sentences([sentence])
    assert preds[first_task["id"]].score == round(p.confidence, 4)


@pytest.mark.slow
def test_push_without_a_champion_says_so_and_pushes_the_tasks(studio, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'empty.db'}")
    assert cli("labeling", "init", "-p", "no model")[0] == 0
    code, out = cli("labeling", "push", "-p", "no model", str(ARTICLES[0]))
    assert code == 0
    assert "no champion model (models:/stance-classifier@champion): pushed without predictions" in out
    assert len(sentence_ids(studio, studio.project("no model").id)) == len(segment(read_article(ARTICLES[0])))


def test_push_refuses_two_files_of_one_article_and_reads_a_file_given_twice_once(studio, tmp_path):
    """dawn/index.html and tolo/index.html (or x.txt beside x.html) were pushed as one article
    'index' of both texts, whose second text `pull` could not read; a file given twice (a glob and
    its name) said each of its notes twice."""
    title = "one article id"  # a title of its own: the server is shared by the module's tests
    assert cli("labeling", "init", "-p", title)[0] == 0
    (tmp_path / "dawn").mkdir()
    (tmp_path / "tolo").mkdir()
    dawn, tolo = tmp_path / "dawn" / "index.txt", tmp_path / "tolo" / "index.txt"
    dawn.write_text(UNLABELED)
    tolo.write_bytes(ARTICLES[1].read_bytes())
    code, out = cli("labeling", "push", "-p", title, "--no-predictions", str(dawn), str(tolo))
    assert code == 2 and " ".join(out.split()) == (
        f"error: {dawn} and {tolo} are both article 'index' (an article is named by its file name, without its "
        "folder and suffix): push each article once, under a name of its own; nothing was pushed"
    )
    assert sentence_ids(studio, studio.project(title).id) == []
    code, out = cli(
        "labeling",
        "push",
        "-p",
        title,
        "--no-predictions",
        str(dawn),
        str(tmp_path / "dawn" / ".." / "dawn" / "index.txt"),
    )
    assert code == 0, out
    assert out.count(f"{dawn}: article 'index' is in none of") == 1
    assert f"{len(segment(read_article(dawn)))} tasks created" in out


@pytest.mark.slow
def test_push_skips_an_article_already_there_under_another_name(studio, tmp_path):
    """The same article under another file name (another article id, so other sentence ids) was
    pushed as new tasks: its sentences were labeled twice and `labeling plan` could pick both copies."""
    title = "copies"
    assert cli("labeling", "init", "-p", title)[0] == 0
    assert cli("labeling", "push", "-p", title, "--no-predictions", str(ARTICLES[0]))[0] == 0
    names = ("renamed", "other", "other-again", "labeled-copy")
    renamed, other, again, labeled = (tmp_path / f"{name}.txt" for name in names)
    renamed.write_bytes(ARTICLES[0].read_bytes())
    other.write_text(UNLABELED)  # an article no one has labeled
    again.write_text(UNLABELED + "\nThe talks resume in Doha on Monday, officials said.\n")
    labeled.write_bytes(ARTICLES[1].read_bytes())  # a labeled article under another name
    n0, n1 = (len(segment(read_article(a))) for a in (ARTICLES[0], other))
    assert len(segment(read_article(again))) == n1 + 1  # one sentence more: nearly the same text
    skipped = "skipped, so no sentence is labeled twice"
    # an article pushed from outside the article folders: said at push, not first at pull
    folders = ", ".join(str(f) for f in paths.article_folders())
    unpullable = (
        f"{other}: article 'other' is in none of {folders}, where `stance labeling pull` reads the text of each "
        "sentence: copy it into one of them as other.txt before its labels are pulled"
    )
    files = (renamed, ARTICLES[0], other, again, labeled)
    # the labeled copy was pushed as new: its sentences labeled a second time under other ids
    labeled_note = (
        f"{labeled}: the same text as article '{ARTICLES[1].stem}' labeled in the snapshot "
        f"{latest_snapshot().name} (push it as {ARTICLES[1].stem} to label it again); {skipped}"
    )
    code, out = cli("labeling", "push", "-p", title, "--no-predictions", *map(str, files))
    assert code == 0 and out.splitlines() == [
        f"{renamed}: the same text as article '{ARTICLES[0].stem}' already in project 'copies'; {skipped}",
        f"{again}: nearly the same text ({n1} of its {n1 + 1} sentences) as article 'other' ({other}) earlier "
        f"in this push; {skipped}",
        labeled_note,
        unpullable,
        f"project 'copies': {n1} tasks created, {n0} already there; 0 predictions added",
    ]
    # pushed again: the same two are skipped, the copy now as one of the project's; nothing new
    code, out = cli("labeling", "push", "-p", title, "--no-predictions", *map(str, files))
    assert code == 0 and out.splitlines() == [
        f"{renamed}: the same text as article '{ARTICLES[0].stem}' already in project 'copies'; {skipped}",
        f"{again}: nearly the same text ({n1} of its {n1 + 1} sentences) as article 'other' already in project "
        f"'copies'; {skipped}",
        labeled_note,
        unpullable,
        f"project 'copies': 0 tasks created, {n0 + n1} already there; 0 predictions added",
    ]
    tasks = studio.export(studio.project(title).id)
    articles = [t["data"]["article"] for t in tasks]
    assert sorted(set(articles)) == [ARTICLES[0].stem, "other"] and len(articles) == n0 + n1
    # each task's push rank is its place in the project's whole queue: the second push goes on after the first
    ranks = {
        a: sorted(t["data"]["push_rank"] for t in tasks if t["data"]["article"] == a) for a in set(articles)
    }
    assert ranks == {ARTICLES[0].stem: list(range(n0)), "other": list(range(n0, n0 + n1))}
    code, out = cli("labeling", "status", "-p", title)
    assert code == 0 and "the same article twice" not in out

    # a copy that came in before push checked (imported as tasks): `status` names it, once
    sentences = segment(read_article(renamed))
    payload = [{"data": task_data(sentences, i)} for i in range(len(sentences))]
    studio.client.projects.import_tasks(studio.project(title).id, request=payload)
    code, out = cli("labeling", "status", "-p", title)
    twice = [line.strip() for line in out.splitlines() if "the same article twice" in line]
    assert code == 0 and twice == [
        f"the same article twice: '{ARTICLES[0].stem}' is 'renamed' again ({n0} of its {n0} sentences are "
        "there); delete one's tasks in Label Studio"
    ]


def annotate(studio: Studio, task_id: int, user_id: int, *pairs: Pair, cancelled=False, scheme=None) -> None:
    with studio.calls("annotating"):
        studio.client.annotations.create(
            task_id,
            result=pairs_to_result(pairs, scheme),
            completed_by=user_id,
            was_cancelled=cancelled,
            ground_truth=False,
        )


@pytest.mark.slow
def test_pull_drops_cancelled_reports_agreement_and_lists_the_conflict(studio, scheme, tmp_path):
    assert cli("labeling", "init", "-p", "pull test")[0] == 0
    assert cli("labeling", "push", "-p", "pull test", "--no-predictions", str(ARTICLES[0]))[0] == 0
    project_id = studio.project("pull test").id
    tasks = sorted(studio.export(project_id), key=lambda t: t["data"]["start"])[:4]
    users = ensure_annotators(studio, ["ann-x", "ann-y", "ann-z"])
    x, y, z = users["ann-x"], users["ann-y"], users["ann-z"]
    t0, t1, t2, t3 = (t["id"] for t in tasks)
    annotate(studio, t0, x, TB_DENIAL, scheme=scheme)
    annotate(studio, t0, y, TB_DENIAL, scheme=scheme)
    annotate(studio, t1, x, PK_DEMAND, scheme=scheme)  # the two disagree: a conflict
    annotate(studio, t1, y, TB_DENIAL, scheme=scheme)
    annotate(studio, t2, x, scheme=scheme)
    annotate(studio, t2, y, scheme=scheme)
    annotate(studio, t2, z, PK_DEMAND, cancelled=True, scheme=scheme)  # skipped: dropped
    annotate(studio, t3, x, PK_DEMAND, TB_DENIAL, scheme=scheme)
    annotate(studio, t3, y, PK_DEMAND, scheme=scheme)

    out_dir = tmp_path / "snapshots"
    code, out = cli("labeling", "pull", "-p", "pull test", "--out", str(out_dir))
    assert code == 0, out
    # the codebook checks it prints are this project's sentences', not the committed corpus's
    assert not [line for line in out.splitlines() if line.strip().startswith("corpus-")]
    snapshot = latest_snapshot(out_dir)
    ids = [t["data"]["sentence_id"] for t in tasks]
    all_rows = [json.loads(line) for line in snapshot.read_text().splitlines()]
    # the project's labeled sentences are all kept; the server's annotations win for the ones it holds
    assert len(all_rows) == len(load_snapshot(latest_snapshot(), scheme))
    rows = sorted((r for r in all_rows if r["sentence_id"] in ids), key=lambda r: ids.index(r["sentence_id"]))
    got = [
        (r["sentence_id"], r["pairs"], r["resolved_by"], [a["annotator"] for a in r["annotations"]])
        for r in rows
    ]
    demand, denial = PK_DEMAND.to_dict(), TB_DENIAL.to_dict()
    assert got == [
        (ids[0], [denial], "agreement", ["ann-x", "ann-y"]),
        (ids[1], None, "unresolved", ["ann-x", "ann-y"]),
        (ids[2], [], "agreement", ["ann-x", "ann-y"]),
        (ids[3], [demand], "agreement", ["ann-x", "ann-y"]),  # the secondary pair only one gave is left out
    ]
    assert rows[3]["annotations"][0]["pairs"] == [demand, denial]
    assert snapshot.name == f"annotations-{data_version(snapshot)}.jsonl"

    ann = lambda who, *p: Annotation(who, p)  # noqa: E731
    units = [
        [ann("x", TB_DENIAL), ann("y", TB_DENIAL)],
        [ann("x", PK_DEMAND), ann("y", TB_DENIAL)],
        [ann("x"), ann("y")],
        [ann("x", PK_DEMAND, TB_DENIAL), ann("y", PK_DEMAND)],
    ]
    kappa = agreement(units, scheme)["stance"]["value"]
    assert f"stance: Cohen's κ {kappa:.3f} (observed 0.750, 4 sentences, 2 annotators)" in out
    assert (
        f"unresolved conflicts (1):\n  {ids[1]}  ann-x: pakistan/demand; ann-y: afghan_taliban/denial" in out
    )

    code, again = cli("labeling", "pull", "-p", "pull test", "--out", str(out_dir))
    assert code == 0 and "unchanged (already there)" in again
    assert sorted(p.name for p in out_dir.iterdir()) == ["LATEST", snapshot.name]
    raw = studio_raw_file("pull test")
    assert raw.name == "studio-pull-test.jsonl" and len(raw.read_text().splitlines()) == 8  # z's was skipped

    code, status = cli("labeling", "status", "-p", "pull test")
    assert code == 0
    assert f"{len(sentence_ids(studio, project_id))} tasks, 4 annotated, 1 unresolved" in status
    assert "predictions: none" in status

    # a label outside the scheme stops the pull, naming the task, the annotator and the task's page in
    # the UI, where it is fixed or deleted; nothing is written
    def bad_label(task_id: int, user_id: int, facet: int, label: str) -> None:
        bad = pairs_to_result((PK_DEMAND,), scheme)
        bad[facet]["value"]["choices"] = [label]  # Label Studio stores what its API is given
        with studio.calls("annotating"):
            studio.client.annotations.create(
                task_id, result=bad, completed_by=user_id, was_cancelled=False, ground_truth=False
            )

    bad_label(t0, z, 1, "threat")
    kept = raw.read_text()
    page = f"{studio.url}/projects/{project_id}/data?task="
    threat = (
        f"task {t0} ({ids[0]}) by ann-z@stance.local: stance 'threat' is not in the label scheme "
        "(stances: demand, denial, accusation, mediation, none)"
    )
    code, out = cli("labeling", "pull", "-p", "pull test", "--out", str(tmp_path / "bad"))
    assert code == 2
    assert out.strip() == f"error: {threat}; fix or delete this annotation in Label Studio at {page}{t0}"
    assert not (tmp_path / "bad").exists() and raw.read_text() == kept
    # several (an old config's actor on six more tasks): all in one error, the first five and a count,
    # from pull, status and disagreements alike
    later = sorted(
        t["id"] for t in studio.export(project_id) if t["id"] > t0 and t["id"] not in (t1, t2, t3)
    )[:6]
    for task_id in later:
        bad_label(task_id, x, 0, "tehrik")
    tehrik = "by ann-x@stance.local: actor 'tehrik' is not in the label scheme (actors: "
    for command in ("pull", "status", "disagreements"):
        out_file = ("-o", str(tmp_path / "review.jsonl")) if command == "disagreements" else ()
        code, out = cli("labeling", command, "-p", "pull test", *out_file)
        lines = out.strip().splitlines()
        assert code == 2 and lines[:2] == [
            "error: 7 annotations on the server do not fit the label scheme; fix or delete each in Label "
            "Studio at its task's page:",
            f"  {threat}; {page}{t0}",
        ]
        for line, task_id in zip(lines[2:6], later[:4], strict=True):
            assert (
                line.startswith(f"  task {task_id} (")
                and tehrik in line
                and line.endswith(f"; {page}{task_id}")
            )
        assert lines[6:] == ["  … and 2 more"]
    assert raw.read_text() == kept and not (tmp_path / "review.jsonl").exists()
    for path in (raw, raw.with_suffix(".order.jsonl")):  # leave the scratch project's data as committed
        path.unlink()


def test_a_pull_from_a_server_holding_some_sentences_keeps_the_projects_others(studio, scheme, tmp_path):
    """A fresh server (or a new batch) holds a few sentences; the project's raw file for the same
    project name holds many. The pull replaced the whole file with the server's few, and the
    snapshot lost every other sentence. Now the server's lines replace only the sentences it holds."""
    from stance.io import dumps_jsonl

    title = "merge test"
    assert cli("labeling", "init", "-p", title)[0] == 0
    assert cli("labeling", "push", "-p", title, "--no-predictions", str(ARTICLES[0]))[0] == 0
    tasks = sorted(studio.export(studio.project(title).id), key=lambda t: t["data"]["start"])
    held = tasks[0]["data"]
    users = ensure_annotators(studio, ["ann-x"])
    annotate(studio, tasks[0]["id"], users["ann-x"], TB_DENIAL, scheme=scheme)
    other = segment(read_article(ARTICLES[1]))[1]  # a sentence the server never saw

    def line(article, start, end, text, pair):
        return {"article": article, "start": start, "end": end, "text": text, "annotator": "earlier",
                "pairs": [pair.to_dict()], "ground_truth": False}  # fmt: skip

    raw = studio_raw_file(title)
    raw.write_text(
        dumps_jsonl(
            [
                line(held["article"], held["start"], held["end"], held["text"], PK_DEMAND),  # relabeled there
                line(other.article, other.start, other.end, other.text, PK_DEMAND),
            ]
        )
    )
    code, out = cli("labeling", "pull", "-p", title, "--out", str(tmp_path / "snapshots"))
    assert code == 0, out
    assert (
        "1 annotated sentence; resolved by one annotator 1" in out
    )  # was "1 annotated sentences; … single 1"
    assert (
        "1 sentence it already had annotations of now take the server's; its other sentences are kept" in out
    )
    got = [
        (x["article"], x["start"], x["annotator"], x["pairs"])
        for x in map(json.loads, raw.read_text().splitlines())
    ]
    assert sorted(got) == sorted(
        [
            (held["article"], held["start"], "ann-x", [TB_DENIAL.to_dict()]),
            (other.article, other.start, "earlier", [PK_DEMAND.to_dict()]),
        ]
    )
    rows = {
        r["sentence_id"]: r
        for r in map(json.loads, latest_snapshot(tmp_path / "snapshots").read_text().splitlines())
    }
    assert rows[held["sentence_id"]]["pairs"] == [TB_DENIAL.to_dict()]
    assert other.sentence_id in rows  # kept in the snapshot too
    for path in (raw, raw.with_suffix(".order.jsonl")):  # leave the scratch project's data as committed
        path.unlink()


def test_a_push_names_the_labels_of_the_projects_raw_file_a_pull_would_replace(studio, scheme):
    """A labeled article pushed again to a fresh server under the same project name: after two
    annotators labeled it there, the pull replaced the team's earlier labels of its sentences in the
    raw file (30 labels of 15 sentences by four annotators), said only then. The push now says so,
    before anyone labels it, naming the file and whose labels."""
    from stance.io import dumps_jsonl

    title = "relabel test"
    assert cli("labeling", "init", "-p", title)[0] == 0
    first = segment(read_article(ARTICLES[0]))[0]
    raw = studio_raw_file(title)
    raw.write_text(
        dumps_jsonl(
            [
                {
                    "article": first.article,
                    "start": first.start,
                    "end": first.end,
                    "text": first.text,
                    "annotator": "annotator-2",
                    "pairs": [PK_DEMAND.to_dict()],
                    "ground_truth": False,
                }
            ]  # fmt: skip
        )
    )
    code, out = cli("labeling", "push", "-p", title, "--no-predictions", str(ARTICLES[0]))
    assert code == 0, out
    assert (
        f"article '{first.article}': 1 of its new tasks are labeled in {raw} (by annotator-2); a pull of "
        f"project '{title}' replaces each such sentence's labels there with the server's once it is labeled here"
    ) in " ".join(out.split())
    again = cli("labeling", "push", "-p", title, "--no-predictions", str(ARTICLES[0]))[1]
    assert "of its new tasks are labeled" not in again  # nothing new pushed, nothing to say
    raw.unlink()  # leave the scratch project's data as committed


def test_an_annotator_is_found_by_the_e_mail_they_log_in_with(studio):
    """`--as ann1@stance.local`, the login an annotator types in the UI, was "no annotator
    'ann1@stance.local' …: add it with `stance labeling add-annotator ann1@stance.local`", a name
    add-annotator refuses."""
    from labeling.annotators import annotator_id

    uid = ensure_annotators(studio, ["ann-login"])["ann-login"]
    assert annotator_id(studio, "ann-login@stance.local") == annotator_id(studio, "ann-login") == uid
    with pytest.raises(StanceError) as e:
        annotator_id(studio, "nobody@stance.local")
    assert str(e.value) == (
        f"no annotator 'nobody@stance.local' in Label Studio at {studio.url}: name an annotator by the part "
        "before '@', added with `stance labeling add-annotator NAME` (user NAME@stance.local)"
    )


def test_a_pull_counts_only_the_sentences_whose_labels_changed_on_the_server(tmp_path):
    """Each pull said "N sentences it already had annotations of now take the server's": a second
    pull of an unchanged project said it of every sentence, as if the server had changed them."""
    from labeling.sync import merged_lines
    from stance.io import dumps_jsonl

    def line(start, annotator, pair):
        return {"article": "a", "start": start, "end": start + 5, "text": "x", "annotator": annotator,
                "pairs": [pair.to_dict()], "ground_truth": False}  # fmt: skip

    server = [line(0, "ann1", PK_DEMAND), line(0, "ann2", PK_DEMAND), line(9, "ann1", TB_DENIAL)]
    raw = tmp_path / "studio-p.jsonl"
    raw.write_text(dumps_jsonl(server))
    assert merged_lines(raw, server)[1] == 0  # pulled again, nothing changed
    relabeled = [line(0, "ann1", PK_DEMAND), line(0, "ann2", TB_DENIAL), line(9, "ann1", TB_DENIAL)]
    assert merged_lines(raw, relabeled)[1] == 1  # ann2 changed one sentence
    assert merged_lines(raw, server[:2])[1] == 0  # a server holding fewer sentences changes none


def test_a_pull_names_an_annotation_another_user_changed(tmp_path):
    """Label Studio lets every user edit any annotation: an annotator who opened the other's task in
    the Data Manager changed it (HTTP 200), and the pull kept it as the first annotator's label,
    silently. The project's own commands make annotations as the admin for the annotator: not named."""
    from labeling.sync import edited_by_others

    def ann(by, editor, updated):
        return {"completed_by": by, "updated_by": editor, "was_cancelled": False,
                "created_at": "2026-12-07T00:26:02.578624Z", "updated_at": updated}  # fmt: skip

    made = "2026-12-07T00:26:02.578700Z"  # as `submit` / `import` make it: updated when created
    tasks = [
        {"id": 2, "data": {"sentence_id": "a:1"}, "annotations": [ann(2, 2, "2026-12-07T00:30:00Z"), ann(3, 2, "2026-12-07T00:31:49Z")]},
        {"id": 5, "data": {"sentence_id": "a:2"}, "annotations": [ann(4, 1, made), ann({"id": 3}, 3, "2026-12-07T00:40:00Z")]},
    ]  # fmt: skip
    users = {1: "admin", 2: "ann1", 3: "ann2", 4: "rev1"}
    assert edited_by_others(tasks, users) == ["task 2 (a:1): ann2's annotation was last changed by ann1"]


def test_a_pull_of_an_article_pushed_from_another_folder_writes_nothing_and_says_where_it_goes(
    studio, scheme, tmp_path
):
    """An article pushed from outside the article folders (`push /tmp/x.txt`): the pull wrote its
    annotations into the project's raw file, then failed building the snapshot ("article not found"),
    and from then on every pull and `stance import-annotations` failed on that file. Now the pull
    says where the article goes before it writes anything, and pulls once it is there."""
    title = "elsewhere"
    article = tmp_path / "elsewhere-1.txt"
    article.write_text(UNLABELED)  # a labeled seed under this name would be skipped as labeled
    assert cli("labeling", "init", "-p", title)[0] == 0
    assert cli("labeling", "push", "-p", title, "--no-predictions", str(article))[0] == 0
    tasks = sorted(studio.export(studio.project(title).id), key=lambda t: t["data"]["start"])[:2]
    user = ensure_annotators(studio, ["ann-x"])["ann-x"]
    for task in tasks:
        annotate(studio, task["id"], user, PK_DEMAND, scheme=scheme)
    first = min(t["id"] for t in tasks)
    raw, snapshots = studio_raw_file(title), tmp_path / "snapshots"
    folders = ", ".join(str(f) for f in paths.article_folders())
    code, out = cli("labeling", "pull", "-p", title, "--out", str(snapshots))
    assert code == 2 and out.strip() == (
        f"error: article 'elsewhere-1' (2 annotated tasks, the first task {first}) is in none of {folders}, "
        "where pull reads the text of each sentence: copy the file it was pushed from into one of them as "
        "elsewhere-1.txt, then pull again; nothing was written"
    )
    assert not raw.exists() and not raw.with_suffix(".order.jsonl").exists() and not snapshots.exists()
    assert cli("import-annotations")[0] == 0  # the project's data still imports

    placed = paths.coverage() / "articles" / article.name
    try:
        placed.write_text("Another text. " + article.read_text())  # not the text it was pushed with
        code, out = cli("labeling", "push", "-p", title, "--no-predictions", str(article))
        assert code == 0 and out.splitlines()[0] == (
            f"{article}: article 'elsewhere-1' is {placed} with another text, which `stance labeling pull` "
            "reads: its labels cannot be pulled until the two are one"
        )
        code, out = cli("labeling", "pull", "-p", title, "--out", str(snapshots))
        assert code == 2 and out.strip() == (
            f"error: article 'elsewhere-1' (2 annotated tasks, the first task {first}): {placed} no longer "
            "holds the sentence at the task's offsets: put back the text the article was pushed with, then "
            "pull again; nothing was written"
        )
        assert not raw.exists() and not snapshots.exists()
        placed.write_bytes(article.read_bytes())
        code, out = cli("labeling", "pull", "-p", title, "--out", str(snapshots))
        assert code == 0, out
        rows = {
            r["sentence_id"]: r for r in map(json.loads, latest_snapshot(snapshots).read_text().splitlines())
        }
        assert all(rows[t["data"]["sentence_id"]]["pairs"] == [PK_DEMAND.to_dict()] for t in tasks)
        # an --out that is a file: the raw files were written, then "…/annotations-….jsonl: cannot write (File exists)"
        for path in (raw, raw.with_suffix(".order.jsonl")):
            path.unlink()
        code, out = cli("labeling", "pull", "-p", title, "--out", str(article))
        assert code == 2 and out.strip() == (
            f"error: --out {article}: is a file, not a folder for the snapshot; nothing was written"
        )
        assert not raw.exists() and not raw.with_suffix(".order.jsonl").exists()
    finally:  # leave the scratch project's data as committed
        for path in (placed, raw, raw.with_suffix(".order.jsonl")):
            path.unlink(missing_ok=True)


def test_two_users_of_one_email_name_are_two_annotators_in_a_pull(studio, scheme, tmp_path):
    """ann@a.example and ann@b.example (people who signed up with their own e-mail) were both annotator
    'ann': a pull kept one of their two labels of a sentence, and their disagreement was never seen."""
    title = "one name"
    assert cli("labeling", "init", "-p", title)[0] == 0
    assert cli("labeling", "push", "-p", title, "--no-predictions", str(ARTICLES[0]))[0] == 0
    task = min(studio.export(studio.project(title).id), key=lambda t: t["data"]["start"])
    with studio.calls("creating users"):
        a, b = (
            studio.client.users.create(username=f"dup-{x}", email=f"dup@{x}.example", first_name="dup").id
            for x in "ab"
        )
    annotate(studio, task["id"], a, PK_DEMAND, scheme=scheme)
    annotate(studio, task["id"], b, TB_DENIAL, scheme=scheme)
    code, out = cli("labeling", "pull", "-p", title, "--out", str(tmp_path / "snapshots"))
    assert code == 0, out
    assert (
        f"unresolved conflicts (1):\n  {task['data']['sentence_id']}  dup@a.example: pakistan/demand; "
        "dup@b.example: afghan_taliban/denial" in out
    )
    raw = studio_raw_file(title)
    assert [json.loads(line)["annotator"] for line in raw.read_text().splitlines()] == [
        "dup@a.example",
        "dup@b.example",
    ]
    # an annotator this project makes keeps its name, so `next --as dup` still finds it
    dup = ensure_annotators(studio, ["dup"])["dup"]
    assert studio.users()[dup] == "dup" and studio.users()[a] == "dup@a.example"
    for path in (raw, raw.with_suffix(".order.jsonl")):  # leave the scratch project's data as committed
        path.unlink()


@pytest.mark.slow
def test_import_then_pull_reproduces_the_committed_dataset(studio, tmp_path):
    committed = latest_snapshot(REPO / "labeling" / "snapshots")
    assert cli("labeling", "init", "-p", "round trip")[0] == 0
    code, out = cli("labeling", "import", str(committed), "-p", "round trip")
    assert code == 0, out
    assert "2466 tasks created, 5037 annotations added" in out  # seeds, corpus and coverage
    assert (
        "annotators: annotator-1, annotator-2, annotator-3, annotator-4, annotator-5, annotator-a, annotator-b, "
        "reviewer, reviewer-1" in out
    )
    code, again = cli("labeling", "import", str(committed), "-p", "round trip")
    assert code == 0 and "0 tasks created, 0 annotations added" in again
    code, out = cli("labeling", "pull", "-p", "round trip", "--out", str(tmp_path))
    assert code == 0, out
    pulled = latest_snapshot(tmp_path)
    assert pulled.name == committed.name  # the same content hash: the same data version
    assert pulled.read_bytes() == committed.read_bytes()
    raw = studio_raw_file("round trip")
    for path in (raw, raw.with_suffix(".order.jsonl")):
        path.unlink()


@pytest.mark.slow
def test_connection_problems_are_one_clear_line_and_the_token_is_never_shown(server, monkeypatch, tmp_path):
    out_dir = tmp_path / "snapshots"

    def fails(*env: tuple[str, str]) -> str:
        for k, v in env:
            monkeypatch.setenv(k, v)
        code, out = cli("labeling", "pull", "--out", str(out_dir))
        assert code == 2 and TOKEN not in out and "wrong-token-123" not in out
        assert not out_dir.exists()
        return out.strip()

    assert fails(("LABEL_STUDIO_API_KEY", "wrong-token-123")) == (
        f"error: Label Studio at {server.url} refused the API token (HTTP 401) while checking the API token: "
        "set LABEL_STUDIO_API_KEY to your token (Label Studio: Account & Settings → Access Token)"
    )
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", TOKEN)
    down = f"http://127.0.0.1:{free_port()}"
    assert fails(("LABEL_STUDIO_URL", down)) == (
        f"error: cannot reach Label Studio at {down} (ConnectError): "
        "start it with `make label-studio`, or set LABEL_STUDIO_URL to your server"
    )
    bare = server.url.removeprefix("http://")  # no scheme: it said "cannot reach", as if it were down
    assert (
        fails(("LABEL_STUDIO_URL", bare))
        == f"error: LABEL_STUDIO_URL={bare}: give the scheme too, e.g. http://{bare}"
    )
    wrong = f"{server.url}/label-studio"
    assert fails(("LABEL_STUDIO_URL", wrong)) == (
        f"error: {wrong} is not a Label Studio server (HTTP 404 on /api/current-user/whoami): "
        "check LABEL_STUDIO_URL (scheme, host, port, no path)"
    )
    assert fails(("LABEL_STUDIO_URL", server.url), ("LABEL_STUDIO_PROJECT", "no such project")) == (
        f"error: no project 'no such project' in Label Studio at {server.url}: "
        "create it with `stance labeling init --project 'no such project'`"
    )


def start_local_server(env: dict[str, str]) -> tuple[int, str]:
    """`make label-studio`'s command (`python -m stance.server start`) in ``env``: (exit status, stdout + stderr)."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "stance.server", "start"], env=env, cwd=REPO, capture_output=True, timeout=300
    )
    return out.returncode, out.stdout.decode() + out.stderr.decode()


def test_a_token_label_studio_would_not_apply_is_refused_before_the_server_starts(tmp_path):
    """A token of 5 characters or fewer: Label Studio did not apply it (every command then got
    HTTP 401) and printed it, in full, into its log (`Token abc12 is not applied to user ...`)."""
    from stance.server import LocalServer

    url, data = f"http://127.0.0.1:{free_port()}", tmp_path / ".stance" / "label-studio"
    env = {**os.environ, "STANCE_ROOT": str(tmp_path), "LABEL_STUDIO_URL": url}
    try:
        code, out = start_local_server(
            {**env, "LABEL_STUDIO_API_KEY": "abc12", "LABEL_STUDIO_PASSWORD": "pw-not-shown-42"}
        )
    finally:
        LocalServer(url, data).stop()
    assert code == 2 and out.strip() == (
        "error: LABEL_STUDIO_API_KEY has 5 characters: Label Studio applies a token of 6 or more (a shorter "
        f"one it refuses, and writes into its log); set a longer one, or remove it from the environment and "
        f"{tmp_path / '.env'} to have one made"
    )
    assert not data.exists()  # no server was started, so no log holds the token


def test_a_server_that_cannot_start_says_why_in_one_line_and_sends_nothing_to_sentry(tmp_path):
    """A data folder whose database is not one (a disk fault, a copy cut short): Label Studio exits,
    and the error said only `exited (status 1) ...; see server.log`. Its traceback then went to
    HumanSignal's Sentry (with `send_default_pii`), and the log's last lines were its retries."""
    from stance.server import LocalServer

    data = tmp_path / ".stance" / "label-studio"
    data.mkdir(parents=True)
    (data / "label_studio.sqlite3").write_bytes(secrets.token_bytes(4096))
    (data / "server.log").write_text("ValueError: an earlier start's error, not this one's\n")
    local = LocalServer(f"http://127.0.0.1:{free_port()}", data)
    try:
        with pytest.raises(StanceError) as raised:
            local.start(ADMIN, "pw-not-shown-42", secrets.token_hex(20), timeout=240)
    finally:
        local.stop()
    assert str(raised.value) == (
        "Label Studio exited (status 1) before answering: django.db.utils.DatabaseError: file is not a "
        f"database; see {data / 'server.log'}"
    )
    log = (data / "server.log").read_text()
    assert "Traceback" in log and "sentry" not in log.lower()


def test_the_servers_data_folder_is_the_owners_only(tmp_path):
    """Label Studio keeps the admin's API token unhashed in its database in the data folder, beside its
    log and the projects' exports. `make label-studio` made the folder with the umask's mode (755 here):
    any user of the machine could read the token (`select key from authtoken_token`) and act as the
    admin. A folder an earlier start left open is closed too."""
    import stat

    from stance.server import LocalServer

    data = tmp_path / ".stance" / "label-studio"
    data.mkdir(parents=True, mode=0o755)
    data.chmod(0o755)  # as an earlier start left it
    (data / "label_studio.sqlite3").write_bytes(secrets.token_bytes(4096))  # exits fast: not a database
    local = LocalServer(f"http://127.0.0.1:{free_port()}", data)
    try:
        with pytest.raises(StanceError):
            local.start(ADMIN, "pw-not-shown-42", secrets.token_hex(20), timeout=240)
    finally:
        local.stop()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700  # the database, log and pid file are in it


def test_label_studio_runs_without_the_secrets_of_other_parts(server):
    """Label Studio ran with every secret of the shell that started it (an annotator's password, the
    stack's database password, MLflow credentials), readable in /proc by its user and carried into
    whatever it runs. It keeps its own: the admin's token, which it is started with."""
    import subprocess

    pid = int(server.pid_file.read_text())
    tree = subprocess.run(
        ["pgrep", "-g", str(os.getpgid(pid))], capture_output=True, text=True
    ).stdout.split()
    for p in tree:
        names = {
            e.split(b"=", 1)[0].decode() for e in Path(f"/proc/{p}/environ").read_bytes().split(b"\0") if e
        }
        assert not names & set(SHELL_SECRETS), p
        assert "LABEL_STUDIO_USER_TOKEN" in names or int(p) != pid


def test_the_annotators_browser_is_not_sent_to_sentry(server):
    """Each page Label Studio serves configured the browser to send its errors (the task on screen
    among them) to HumanSignal's Sentry."""
    import httpx

    login = f"{server.url}/user/login/"
    with httpx.Client(timeout=60) as http:  # logged in as the UI does: its form, its CSRF token
        http.get(login).raise_for_status()
        fields = {"email": ADMIN, "password": PASSWORD, "csrfmiddlewaretoken": http.cookies["csrftoken"]}
        assert http.post(login, data=fields, headers={"Referer": login}).status_code == 302  # accepted
        page = http.get(f"{server.url}/projects/")
    assert page.status_code == 200 and "sentry_dsn: null," in page.text  # it named HumanSignal's DSN
    assert "sentry.io" not in page.text


@pytest.mark.slow
def test_a_start_with_another_token_than_the_first_says_the_server_keeps_the_first(tmp_path):
    """Label Studio sets its admin's token on the first start with a data folder only. `make
    label-studio` with other secrets (a new .env, another token exported) said "Label Studio was
    already running ... log in" and every labeling command then got HTTP 401, "set
    LABEL_STUDIO_API_KEY to your token", which it was."""
    from stance.server import LocalServer, ls_venv

    first, other = secrets.token_hex(20), secrets.token_hex(20)
    local = LocalServer(f"http://127.0.0.1:{free_port()}", tmp_path / ".stance" / "label-studio")
    env = {k: v for k, v in os.environ.items() if k not in ("LABEL_STUDIO_PASSWORD", "LABEL_STUDIO_API_KEY")}
    env.update(STANCE_ROOT=str(tmp_path), LABEL_STUDIO_URL=local.url, LABEL_STUDIO_USERNAME=ADMIN)
    secret = {"LABEL_STUDIO_PASSWORD": "pw-not-shown-42"}
    try:
        local.start(ADMIN, "pw-not-shown-42", first)
        code, out = start_local_server({**env, **secret, "LABEL_STUDIO_API_KEY": other})
        assert code == 2 and out.strip() == (
            f"error: Label Studio at {local.url} is running but refuses LABEL_STUDIO_API_KEY (HTTP 401): its "
            f"admin keeps the token and password of the first start with its data ({local.data_dir}), which a "
            f"later start does not change. Put that token back in LABEL_STUDIO_API_KEY ({tmp_path / '.env'}), "
            "or log in to the UI and copy it from Account & Settings → Access Token (a forgotten password: "
            f"LABEL_STUDIO_BASE_DATA_DIR={local.data_dir} {ls_venv()}/bin/label-studio reset_password "
            f"--username {ADMIN})"
        )
        assert first not in out and other not in out
        code, out = start_local_server({**env, **secret, "LABEL_STUDIO_API_KEY": first})
        assert code == 0 and f"Label Studio was already running at {local.url}" in out
        # where the password is: the environment's (it wins over .env), or .env's; it said .env always
        login = "log in as admin@stance.local with the password"
        assert f"{login} in the environment variable LABEL_STUDIO_PASSWORD\n" in out
        (tmp_path / ".env").write_text(
            f"LABEL_STUDIO_PASSWORD=pw-not-shown-42\nLABEL_STUDIO_API_KEY={first}\n"
        )
        code, out = start_local_server(env)
        assert code == 0 and f"{login} LABEL_STUDIO_PASSWORD in {tmp_path / '.env'}\n" in out
        # a new password is not the admin's either: said, where it used to send the user to a login that failed
        code, out = start_local_server({**env, "LABEL_STUDIO_PASSWORD": "pw-new-not-shown-43"})
        assert code == 0 and login not in out and "pw-new-not-shown-43" not in out
        assert (
            f"  the login page refuses LABEL_STUDIO_PASSWORD for {ADMIN}: the admin keeps the password of the "
            f"first start with its data ({local.data_dir}). Log in with that one, or make this one the admin's "
            f"(it asks for it): LABEL_STUDIO_BASE_DATA_DIR={local.data_dir} {ls_venv()}/bin/label-studio "
            f"reset_password --username {ADMIN}\n"
        ) in out
    finally:
        local.stop()


# -- the UI ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_ui_shows_the_controls_and_the_pre_annotation(server, studio, pushed, scheme):
    from tests.browser import browser_page

    project_id, _ = pushed
    preds = sorted(studio.predictions(project_id), key=lambda p: p.score)
    first = preds[0]  # the least confident: the one an annotator sees first
    actor, stance = (r["value"]["choices"][0] for r in first.result)
    shot = Path(os.environ.get("STANCE_SCREENSHOT") or server.data_dir / "label-studio-task.png")
    with browser_page(width=1280, height=800) as page:
        page.goto(f"{server.url}/user/login/")
        page.fill("input[name=email]", ADMIN)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/user/login" not in url, timeout=60_000)
        page.goto(f"{server.url}/projects/{project_id}/data?task={first.task}")
        page.get_by_text("Primary pair: who takes which stance").wait_for(timeout=60_000)
        radios = page.locator("input.ant-radio-input")
        radios.first.wait_for(timeout=30_000)
        names = [radios.nth(i).get_attribute("name") for i in range(radios.count())]
        assert names == [*scheme.actor_labels, *scheme.stance_labels]  # every actor, then every stance
        # the pre-annotation: the model's choices are selected, and its tab shows the score
        checked = page.locator("input.ant-radio-input:checked")
        checked = {checked.nth(i).get_attribute("name") for i in range(checked.count())}
        assert checked == {actor, stance}
        page.get_by_text(f"{first.score * 100:.2f}%").wait_for(timeout=10_000)
        page.get_by_text("Additional pairs (other clauses)").wait_for()
        # above the sentence: its article's headline (and outlet, date) from the articles table
        page.get_by_text(studio.client.tasks.get(first.task).data["origin"], exact=True).wait_for(
            timeout=10_000
        )
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000


def test_an_annotator_name_with_capitals_is_refused_before_a_user_is_made(studio, monkeypatch):
    """`add-annotator Ann-Upper` with a password: Label Studio's sign-up made the user ann-upper, and the
    command said "signed up Ann-Upper@stance.local but lists no user 'Ann-Upper'"; run again, "refused to
    sign up ...: User with this email already exists"."""
    monkeypatch.setenv("STANCE_ANNOTATOR_PASSWORD", "pw-not-shown-42")
    code, out = cli("labeling", "add-annotator", "Ann-Upper")
    assert code == 2 and out.strip() == (
        "error: annotator name 'Ann-Upper': use lowercase letters: Label Studio's sign-up stores an e-mail "
        "address in lowercase, so 'Ann-Upper' would become the user 'ann-upper' (add-annotator ann-upper)"
    )
    assert {"Ann-Upper", "ann-upper"}.isdisjoint(studio.users().values())  # no user was made


def test_next_says_when_an_articles_pattern_matches_nothing_and_when_nothing_is_left(
    studio, scheme, tmp_path
):
    """`next -a 'coverage-0[0-4]'` (a typo, a missing `*`) wrote an empty batch and said "0 tasks for
    ann: set each row's pairs ...", as it did on an empty project and once every task was done."""
    title, batch = "queue ends", tmp_path / "batch.jsonl"
    assert cli("labeling", "init", "-p", title, "--overlap", "1")[0] == 0
    user = ensure_annotators(studio, ["ann-q"])["ann-q"]

    def next_(*patterns: str) -> tuple[int, str]:
        articles = [x for p in patterns for x in ("-a", p)]
        return cli("labeling", "next", "-p", title, "--as", "ann-q", *articles, "-o", str(batch))

    code, out = next_()
    assert code == 2 and out.strip() == (
        "error: the project has no tasks yet: push articles with `stance labeling push`; nothing was written"
    )
    assert cli("labeling", "push", "-p", title, "--no-predictions", str(ARTICLES[0]))[0] == 0
    article = ARTICLES[0].stem
    for command in (("next", "--as", "ann-q"), ("disagreements",)):
        code, out = cli("labeling", *command, "-p", title, "-a", "000_*x", "-a", "000_*", "-o", str(batch))
        assert code == 2 and out.strip() == (
            f"error: --articles '000_*x' matches no article of the project (its articles: '{article}'); "
            "nothing was written"
        )
    assert not batch.exists()
    for task in studio.export(studio.project(title).id):
        annotate(studio, task["id"], user, scheme=scheme)
    code, out = next_("000_*")
    assert code == 0 and out.strip() == (
        "no task left for ann-q: each task of these articles is labeled by ann-q or has its 1 annotators' "
        f"labels ({batch} holds no rows)"
    )
    assert batch.read_text() == ""
    # one label per sentence, nothing for a reviewer: said so, not "0 disagreements to review ... decide"
    code, out = cli("labeling", "disagreements", "-p", title, "-a", "000_*", "-o", str(batch))
    assert code == 0 and out.strip() == (
        "no disagreement to review: the annotators of each sentence of these articles agree on its primary "
        f"pair, or a reviewer has decided it ({batch} holds no rows)"
    )


def test_a_batch_decided_over_two_sittings_is_sent_in_two_parts_with_partial(studio, tmp_path):
    """A half-filled batch was refused whole ('task N has no pairs yet'): a reviewer deciding over
    several sittings had to cut the undecided rows out of the file and keep them elsewhere."""
    title, batch = "two sittings", tmp_path / "batch.jsonl"
    assert cli("labeling", "init", "-p", title, "--overlap", "1")[0] == 0
    ensure_annotators(studio, ["ann-s"])
    assert cli("labeling", "push", "-p", title, "--no-predictions", str(ARTICLES[0]))[0] == 0
    assert cli("labeling", "next", "-p", title, "--as", "ann-s", "--limit", "3", "-o", str(batch))[0] == 0
    rows = [json.loads(line) for line in batch.read_text().splitlines()]
    rows[0]["pairs"] = "none"
    batch.write_text("".join(json.dumps(r) + "\n" for r in rows))
    send = ("labeling", "submit", str(batch), "-p", title, "--as", "ann-s")
    code, out = cli(*send)
    assert code == 2 and out.strip() == (
        f"error: {batch}:2: task {rows[1]['task']} has no pairs yet: give the pairs, primary first, or 'none' "
        "(or send the rows that have them with --partial)"
    )
    code, out = cli(*send, "--partial")
    assert code == 0 and out.strip() == (
        f"ann-s: 1 annotation added, 0 already there; 2 rows without pairs left for later (submit {batch} again)"
    )
    for r in rows[1:]:
        r["pairs"] = "none"
    batch.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, out = cli(*send, "--partial")  # the second sitting: the first row is not sent twice
    assert code == 0 and out.strip() == "ann-s: 2 annotations added, 1 already there"
    labeled = [t for t in studio.export(studio.project(title).id) if t["annotations"]]
    assert sorted(t["id"] for t in labeled) == sorted(r["task"] for r in rows)
    assert all(len(t["annotations"]) == 1 for t in labeled)


def test_a_filled_in_batch_not_yet_submitted_is_not_written_over(studio, tmp_path):
    """`next -o batch.jsonl` again before `submit` replaced the rows whose pairs were set with the
    same tasks' empty rows: the labels were lost, with the usual "3 tasks for ann-u" line."""
    title, batch = "unsent", tmp_path / "batch.jsonl"
    assert cli("labeling", "init", "-p", title, "--overlap", "1")[0] == 0
    ensure_annotators(studio, ["ann-u"])
    assert cli("labeling", "push", "-p", title, "--no-predictions", str(ARTICLES[0]))[0] == 0
    take = ("labeling", "next", "-p", title, "--as", "ann-u", "--limit", "3", "-o", str(batch))
    assert cli(*take)[0] == 0
    rows = [json.loads(line) for line in batch.read_text().splitlines()]
    rows[0]["pairs"] = "none"
    batch.write_text(filled := "".join(json.dumps(r) + "\n" for r in rows))
    for command in (take, ("labeling", "disagreements", "-p", title, "-o", str(batch))):
        code, out = cli(*command)
        submit_as = "--as ann-u" if command is take else "--as REVIEWER --review"
        assert code == 2 and out.strip() == (
            f"error: {batch}: the labels of 1 row are not submitted yet (task {rows[0]['task']}, the first): send "
            f"them first (`stance labeling submit {batch} {submit_as} --partial`), or write this batch to another "
            "file; nothing was written"
        )
        assert batch.read_text() == filled
    # once sent, the file is written over with the next tasks
    assert cli("labeling", "submit", str(batch), "-p", title, "--as", "ann-u", "--partial")[0] == 0
    code, out = cli(*take)
    assert code == 0, out
    again = [json.loads(line) for line in batch.read_text().splitlines()]
    assert len(again) == 3 and rows[0]["task"] not in {r["task"] for r in again}


# -- a team: annotators, their queues, a reviewer ------------------------------------------------
@pytest.mark.slow
def test_two_annotators_and_a_reviewer_label_through_the_server(studio, scheme, tmp_path, monkeypatch):
    assert cli("labeling", "init", "-p", "team")[0] == 0
    assert cli("labeling", "push", "-p", "team", "--no-predictions", str(ARTICLES[0]))[0] == 0
    monkeypatch.setenv("STANCE_ANNOTATOR_PASSWORD", "pw-not-shown-42")
    for name in ("ann-1", "ann-2", "ann-3", "rev-1"):
        code, out = cli("labeling", "add-annotator", name)
        assert code == 0 and f"annotator {name} (user " in out and "pw-not-shown-42" not in out
    code, out = cli("labeling", "add-annotator", "ann-1")
    assert code == 0 and "already there" in out
    # each can log in to the UI with the password (the users API stored none: the login failed)
    from labeling.annotators import can_log_in

    assert can_log_in(studio.url, "ann-1@stance.local", "pw-not-shown-42")
    assert not can_log_in(studio.url, "ann-1@stance.local", "another-pw-77")
    # another password for an existing annotator cannot be set through the API: one line says how
    monkeypatch.setenv("STANCE_ANNOTATOR_PASSWORD", "another-pw-77")
    code, out = cli("labeling", "add-annotator", "ann-1")
    assert code == 2 and "reset_password --username ann-1@stance.local" in out and "another-pw-77" not in out
    monkeypatch.setenv("STANCE_ANNOTATOR_PASSWORD", "short")  # Label Studio's own rule, in its words
    code, out = cli("labeling", "add-annotator", "ann-9")
    assert code == 2 and "refused to sign up ann-9@stance.local: Please enter a password 8" in out
    assert "short" not in out  # the password is never printed

    def batch(who: str, limit: int = 3) -> list[dict]:
        path = tmp_path / f"{who}.jsonl"
        code, out = cli("labeling", "next", "-p", "team", "--as", who, "--limit", str(limit), "-o", str(path))
        assert code == 0, out
        return [json.loads(line) for line in path.read_text().splitlines()]

    def submit(who: str, lines: list[str], *extra: str) -> tuple[int, str]:
        path = tmp_path / f"{who}-labels.tsv"
        path.write_text("".join(line + "\n" for line in lines))
        return cli("labeling", "submit", str(path), "-p", "team", "--as", who, *extra)

    first = batch("ann-1")
    # an annotator sees the sentence and its context, never a prediction or another annotator's label
    assert set(first[0]) == {
        "task",
        "article",
        "sentence_id",
        "context_before",
        "text",
        "context_after",
        "pairs",
    }
    assert [r["pairs"] for r in first] == [None, None, None]
    t0, t1, t2 = (r["task"] for r in first)
    # a label outside the scheme: one line naming the line and task, and nothing is sent
    code, out = submit("ann-1", [f"{t0}\tpakistan/demand", f"{t1}\tpakistan/threat"])
    assert code == 2 and out.strip().endswith(
        f"-labels.tsv:2 (task {t1}): stance 'threat' is not a stance of a pair "
        "(stances: demand, denial, accusation, mediation; a sentence with no pair has stance 'none')"
    )
    # task ids the project does not have: each named by its file and line, and nothing is sent
    tsv = tmp_path / "ann-1-labels.tsv"
    code, out = submit("ann-1", [f"{t0}\tpakistan/demand", "# a comment", "999998\tnone", "999999\tnone"])
    assert code == 2 and out.strip().splitlines() == [
        "error: 2 rows of the batch name tasks that are not in project 'team'; nothing was sent:",
        f"  {tsv}:3: task 999998 is not in project 'team'",
        f"  {tsv}:4: task 999999 is not in project 'team'",
    ]
    code, out = submit("ann-1", [f"{t0}\tpakistan/demand", "999999\tnone"])
    assert (
        code == 2 and out.strip() == f"error: {tsv}:2: task 999999 is not in project 'team'; nothing was sent"
    )
    assert batch("ann-1")[0]["task"] == t0
    lines1 = [f"{t0}\tpakistan/demand", f"{t1}\tnone", f"{t2}\tafghan_taliban/denial; pakistan/accusation"]
    assert submit("ann-1", lines1)[1].strip() == "ann-1: 3 annotations added, 0 already there"
    assert submit("ann-1", lines1)[1].strip() == "ann-1: 0 annotations added, 3 already there"
    assert t0 not in {r["task"] for r in batch("ann-1")}  # not served twice to the same annotator
    assert [r["task"] for r in batch("ann-2")] == [t0, t1, t2]  # the second annotator gets them
    submit("ann-2", [f"{t0}\tafghan_taliban/demand", f"{t1}\tnone", f"{t2}\tafghan_taliban/denial"])
    assert {t0, t1, t2}.isdisjoint(r["task"] for r in batch("ann-3", 50))  # two labels each: done
    # nor may a third annotator's labels reach them by a hand-made batch; nothing is sent
    code, out = submit("ann-3", [f"{t0}\tnone"])
    assert code == 2 and out.strip().startswith(
        f"error: task {t0} already has 2 annotators' labels, the project's overlap of 2"
    )

    # the reviewer sees only the primary-pair disagreement, with both labels, and decides it
    path = tmp_path / "review.jsonl"
    code, out = cli("labeling", "disagreements", "-p", "team", "-o", str(path))
    assert code == 0 and out.startswith("1 disagreement to review")
    (row,) = [json.loads(line) for line in path.read_text().splitlines()]
    assert row["task"] == t0 and row["annotations"] == {
        "ann-1": [PK_DEMAND.to_dict()],
        "ann-2": [{"actor": "afghan_taliban", "stance": "demand"}],
    }
    row["pairs"] = [PK_DEMAND.to_dict()]
    path.write_text(json.dumps(row) + "\n")
    # an annotator of the sentence cannot decide it: refused, not skipped as "already there"
    code, out = cli("labeling", "submit", str(path), "-p", "team", "--as", "ann-1", "--review")
    assert code == 2 and out.strip().startswith(f"error: ann-1 labeled task {t0} as an annotator")
    code, out = cli("labeling", "submit", str(path), "-p", "team", "--as", "rev-1", "--review")
    assert code == 0 and "rev-1: 1 annotation added" in out

    code, out = cli("labeling", "pull", "-p", "team", "--out", str(tmp_path / "snap"))
    assert code == 0, out
    rows = {json.loads(x)["sentence_id"]: json.loads(x) for x in latest_snapshot(tmp_path / "snap").open()}
    assert len(rows) == len(load_snapshot(latest_snapshot(), scheme))  # nothing the project had is dropped
    by_task = {r["task"]: r["sentence_id"] for r in first}
    assert (
        rows[by_task[t0]]["pairs"] == [PK_DEMAND.to_dict()]
        and rows[by_task[t0]]["resolved_by"] == "ground_truth"
    )
    assert rows[by_task[t2]]["pairs"] == [TB_DENIAL.to_dict()]  # the secondary pair only one gave is left out
    raw = studio_raw_file("team")
    order = [json.loads(line) for line in raw.with_suffix(".order.jsonl").read_text().splitlines()]
    assert [(o["annotator"], o["task"], o["review"]) for o in order] == [
        *(("ann-1", t, False) for t in (t0, t1, t2)),
        *(("ann-2", t, False) for t in (t0, t1, t2)),
        ("rev-1", t0, True),
    ]
    assert [o["order"] for o in order] == list(range(7)) and all("push_score" in o for o in order)
    # a third annotator per sentence, set on the server, is what `next` serves by (not the config's 2)
    assert cli("labeling", "init", "-p", "team", "--overlap", "3")[0] == 0
    assert {t1, t2} <= {r["task"] for r in batch("ann-3", 50)}
    for path in (raw, raw.with_suffix(".order.jsonl")):
        path.unlink()
