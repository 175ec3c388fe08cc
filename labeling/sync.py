"""Label Studio -> the project's data and back: ``stance labeling pull|status|import``.

* ``pull``: the full JSON export -> a content-hashed snapshot in the format of labeling/annotations.py,
  with agreement per facet and the unresolved conflicts listed.
* ``status``: tasks, annotated, unresolved, agreement, the predictions' model version.
* ``import``: a snapshot's annotations -> the server, by their annotators, so ``pull`` gives it back.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from labeling.agreement import agreement
from labeling.annotations import find_article
from labeling.articles import article_meta, origin_line, read_article
from labeling.loop import check_raw_file, task_data
from labeling.records import Annotation, Record, resolve
from labeling.same_text import copies
from labeling.segment import Sentence, segment
from labeling.snapshot import load_snapshot
from labeling.studio import (
    ANNOTATOR_DOMAIN,
    Studio,
    pairs_to_result,
    result_to_pairs,
)
from stance.errors import StanceError, one_or_several
from stance.io import dumps_jsonl, write_atomic
from stance.scheme import Scheme


# -- pull --------------------------------------------------------------------------------
def tasks_to_records(tasks: list[dict], users: dict[int, str], scheme: Scheme) -> list[Record]:
    """Annotated tasks -> resolved records; cancelled (skipped) annotations dropped."""
    records, seen = [], {}
    for task in tasks:
        data = task.get("data", {})
        sid = data.get("sentence_id")
        where = f"task {task['id']} ({sid or 'no sentence id'})"
        kept: dict[str, tuple[int, Annotation]] = {}
        for ann in task.get("annotations", []):
            if ann.get("was_cancelled"):
                continue
            name = users.get(ann.get("completed_by"), f"user-{ann.get('completed_by')}")
            pairs = result_to_pairs(ann.get("result", []), scheme, where)
            kept[name] = (ann["id"], Annotation(name, pairs, bool(ann.get("ground_truth"))))  # newest wins
        if not kept:
            continue
        missing = {"article", "sentence_id", "start", "end", "text"} - set(data)
        if missing:
            raise StanceError(
                f"{where}: task data lacks {', '.join(sorted(missing))}; was it created by `stance labeling push`?"
            )
        if sid in seen:
            raise StanceError(f"{where}: sentence {sid} is also task {seen[sid]}; delete one of them")
        seen[sid] = task["id"]
        sentence = Sentence(data["article"], sid, data["start"], data["end"], data["text"])
        record = Record(sentence, [a for _, a in sorted(kept.values(), key=lambda x: x[0])])
        record.pairs, record.resolved_by = resolve(record.annotations)
        records.append(record)
    return records


def summarize(records: list[Record], scheme: Scheme) -> dict:
    return {
        "sentences": len(records),
        "resolved_by": dict(Counter(r.resolved_by for r in records)),
        "agreement": agreement([r.annotations for r in records], scheme),
        "unresolved": [
            {
                "sentence_id": r.sentence.sentence_id,
                "text": r.sentence.text,
                "annotations": {
                    a.annotator: [f"{p.actor}/{p.stance}" for p in a.pairs] or ["none"] for a in r.annotations
                },
            }
            for r in records
            if r.pairs is None
        ],
    }


def _line_key(line: dict) -> tuple:
    """Raw annotation lines in file order: by sentence, annotators before the reviewer."""
    return line["article"], line["start"], line["ground_truth"], line["annotator"]


def raw_lines(tasks: list[dict], users: dict[int, str], scheme: Scheme) -> list[dict]:
    """Every kept annotation as a raw annotation line (labeling/annotations.py's raw format)."""
    lines = []
    for r in tasks_to_records(tasks, users, scheme):
        s = r.sentence
        for a in r.annotations:
            lines.append(
                {
                    "article": s.article,
                    "start": s.start,
                    "end": s.end,
                    "text": s.text,
                    "annotator": a.annotator,
                    "pairs": [p.to_dict() for p in a.pairs],
                    "ground_truth": a.ground_truth,
                }
            )
    return sorted(lines, key=_line_key)


def order_record(tasks: list[dict], users: dict[int, str]) -> list[dict]:
    """Who labeled which task when, with the model's confidence in it at push time (for budget studies)."""
    rows = []
    for t in tasks:
        data = t.get("data", {})
        for a in t.get("annotations", []):
            if a.get("was_cancelled"):
                continue
            rows.append(
                {
                    "created_at": a.get("created_at"),
                    "annotator": users.get(a.get("completed_by"), f"user-{a.get('completed_by')}"),
                    "review": bool(a.get("ground_truth")),
                    "task": t["id"],
                    "article": data.get("article"),
                    "sentence_id": data.get("sentence_id"),
                    "push_rank": data.get("push_rank"),
                    "push_score": data.get("push_score"),
                    "push_model": data.get("push_model"),
                }
            )
    rows.sort(key=lambda r: (r["created_at"] or "", r["task"]))
    return [{"order": i, **r} for i, r in enumerate(rows)]


def pull(studio: Studio, scheme: Scheme, title: str, folder: Path | None = None) -> dict:
    """Export -> the project's raw annotation file -> a snapshot of *all* raw files.

    The server's annotations are written as ``labeling/raw/studio-<project>.jsonl`` (with the
    labeling-order record beside it) and the snapshot is rebuilt from every raw file, so a pull
    never drops labeled sentences the project already has: for a sentence the server holds, the
    server's annotations win. Nothing is rewritten when nothing changed.
    """
    from labeling.annotations import default_raw_files, import_annotations, studio_raw_file

    if (
        folder is not None and folder.exists() and not folder.is_dir()
    ):  # found only after the raw file was written
        raise StanceError(f"--out {folder}: is a file, not a folder for the snapshot; nothing was written")
    project = studio.project(title)
    tasks = studio.export(project.id)
    studio.check_labels(project.id, tasks, scheme)  # every label checked before writing
    check_raw_file(studio, title)
    users = studio.users()
    lines = raw_lines(tasks, users, scheme)
    if not lines:
        raise StanceError(f"project '{title}' has no annotations yet: nothing to pull")
    check_articles(tasks)  # the raw file written now must import, or every later import fails on it
    raw = studio_raw_file(title)
    lines, replaced = merged_lines(raw, lines)
    order = raw.with_suffix(".order.jsonl")
    write_if_changed(raw, dumps_jsonl(lines))
    write_if_changed(order, dumps_jsonl(merged_order(order, order_record(tasks, users))))
    report = import_annotations(default_raw_files(), scheme, folder)
    records = tasks_to_records(tasks, users, scheme)
    mine = {
        r.sentence.sentence_id for r in records
    }  # the checks of this project's sentences, not every file's
    return {
        **summarize(records, scheme),
        "replaced": replaced,
        "edited": edited_by_others(tasks, users),
        "checks": [c for c in report["checks"] if c.split(": ", 1)[0].split(" ", 1)[0] in mine],
        "raw": str(raw),
        "snapshot": report["snapshot"],
        "snapshot_sentences": report["sentences"],
        "new": report["new"],
        "data_version": report["data_version"],
    }


def check_articles(tasks: list[dict]) -> None:
    """Every annotated task's sentence found where the snapshot is built from: its article's text
    (by article id, in seeds/, corpus/articles/ or coverage/articles/) holds it at its offsets.

    An article pushed from another folder (``push /tmp/x.txt``) is in none of them. Its annotations
    were written into the project's raw file before the snapshot failed on them, and from then on
    every pull and ``stance import-annotations`` failed on that file. One error names each such
    article, with its annotated tasks, before anything is written."""
    from labeling.annotations import article_folders_listed, project_article_text

    found: dict[str, tuple[Path, str] | None] = {}
    bad: dict[str, list[int]] = defaultdict(list)
    for task in tasks:
        if all(a.get("was_cancelled") for a in task.get("annotations", [])):
            continue
        data = task["data"]
        article = data["article"]
        if article not in found:
            found[article] = project_article_text(article)
        there = found[article]
        if there is None or there[1][data["start"] : data["end"]] != data["text"]:
            bad[article].append(task["id"])

    def line(article: str, ids: list[int]) -> str:
        which = f"task {ids[0]}" if len(ids) == 1 else f"{len(ids)} annotated tasks, the first task {ids[0]}"
        if (there := found[article]) is None:
            return (
                f"article '{article}' ({which}) is in none of {article_folders_listed()}, where pull reads the "
                f"text of each sentence: copy the file it was pushed from into one of them as {article}.txt, then "
                "pull again"
            )
        return (
            f"article '{article}' ({which}): {there[0]} no longer holds the sentence at the task's "
            "offsets: put back the text the article was pushed with, then pull again"
        )

    if bad:
        problems = [line(article, sorted(ids)) for article, ids in sorted(bad.items())]
        header = f"{len(problems)} annotated articles of the project cannot be read; nothing was written:"
        raise StanceError(one_or_several(problems, header, alone="; nothing was written"))


def _span(line: dict) -> tuple:
    return line["article"], line["start"], line["end"]


def edited_by_others(tasks: list[dict], users: dict[int, str]) -> list[str]:
    """Annotations another user changed after their annotator made them, one line each. Label
    Studio lets every user of the organization edit any annotation (an annotator opening the
    other's task in the Data Manager, a reviewer correcting a label in place of deciding), and
    the labels then count as the annotator's own. The project's commands make annotations as the
    admin for the annotator, updated when made: those are not named."""
    from datetime import datetime

    def uid(user):
        return user.get("id") if isinstance(user, dict) else user

    lines = []
    for task in sorted(tasks, key=lambda t: t["id"]):
        for ann in task.get("annotations", []):
            by, editor = uid(ann.get("completed_by")), uid(ann.get("updated_by"))
            if ann.get("was_cancelled") or editor in (None, by):
                continue
            made, changed = (datetime.fromisoformat(ann[k]) for k in ("created_at", "updated_at"))
            if (changed - made).total_seconds() > 1:
                sid = task.get("data", {}).get("sentence_id", "no sentence id")
                who, other = users.get(by, f"user {by}"), users.get(editor, f"user {editor}")
                lines.append(f"task {task['id']} ({sid}): {who}'s annotation was last changed by {other}")
    return lines


def merged_lines(raw: Path, lines: list[dict]) -> tuple[list[dict], int]:
    """The server's annotation lines merged into the project's raw file as it stands: for a
    sentence the server holds annotations of, the server's lines replace the file's; every other
    sentence of the file is kept, so a pull from a server that holds only some of the project's
    sentences (a fresh server, a new batch) never drops the rest. (The lines, how many sentences
    the file had whose labels the server's lines changed.)"""
    from stance.io import read_jsonl

    if not raw.is_file():
        return lines, 0
    old = [row for _, row in read_jsonl(raw)]
    held = {_span(x) for x in lines}
    kept = [x for x in old if _span(x) not in held]
    before, after = defaultdict(list), defaultdict(list)
    for rows, by_span in ((old, before), (lines, after)):
        for x in sorted(rows, key=_line_key):
            by_span[_span(x)].append(x)
    replaced = sum(before[s] != after[s] for s in before.keys() & held)
    return sorted(kept + lines, key=_line_key), replaced


def merged_order(path: Path, rows: list[dict]) -> list[dict]:
    """The labeling-order record merged alike: the file's rows for sentences the server's rows do
    not name are kept, the server's rows added, all in the order they were labeled."""
    from stance.io import read_jsonl

    if path.is_file():
        held = {(r["article"], r["sentence_id"]) for r in rows}
        old = [r for _, r in read_jsonl(path) if (r.get("article"), r.get("sentence_id")) not in held]
        rows = sorted(old + rows, key=lambda r: (r.get("created_at") or "", r.get("task") or 0))
    return [{**r, "order": i} for i, r in enumerate(rows)]


def write_if_changed(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        write_atomic(path, text)


def status(studio: Studio, scheme: Scheme, title: str) -> dict:
    project = studio.project(title)
    tasks = studio.export(project.id)
    studio.check_labels(project.id, tasks, scheme)
    records = tasks_to_records(tasks, studio.users(), scheme)
    versions = Counter(p.model_version for p in studio.predictions(project.id))
    return {
        "project": title,
        "tasks": len(tasks),
        "annotated": len(records),
        **summarize(records, scheme),
        "prediction_versions": dict(versions),
        "project_model_version": getattr(studio.client.projects.get(project.id), "model_version", None),
        "copies": copies(tasks),
    }


# -- import ------------------------------------------------------------------------------
def ensure_annotators(studio: Studio, names: list[str]) -> dict[str, int]:
    """Annotator name -> user id, creating the users that do not exist yet."""
    ids = {name: uid for uid, name in studio.users().items()}
    for name in names:
        if name not in ids:
            with studio.calls(f"creating user {name}"):
                user = studio.client.users.create(
                    username=name, email=f"{name}@{ANNOTATOR_DOMAIN}", first_name=name
                )
            ids[name] = user.id
    return ids


def snapshot_tasks(records: list[Record]) -> dict[str, dict]:
    """Task data for a snapshot's sentences, with the neighbours our segmenter gives them."""
    out: dict[str, dict] = {}
    for article in dict.fromkeys(r.sentence.article for r in records):
        path = find_article(article)
        sentences, origin = segment(read_article(path)), origin_line(article, article_meta(path))
        for i in range(len(sentences)):
            out[sentences[i].sentence_id] = task_data(sentences, i, origin)
    for r in records:  # a sentence the segmenter no longer gives keeps its own fields
        out.setdefault(
            r.sentence.sentence_id,
            {**r.sentence.to_dict(), "origin": r.sentence.article, "context_before": "", "context_after": ""},
        )
    return out


def import_snapshot(studio: Studio, scheme: Scheme, title: str, snapshot: Path) -> dict:
    """Load a snapshot's annotations as annotations by their annotators; re-running adds nothing."""
    records = load_snapshot(snapshot, scheme)
    project = studio.project(title)
    users = ensure_annotators(
        studio, list(dict.fromkeys(a.annotator for r in records for a in r.annotations))
    )
    names = {uid: name for name, uid in users.items()}
    existing = {t["data"].get("sentence_id"): t for t in studio.export(project.id)}
    data = snapshot_tasks(records)

    def annotation(a: Annotation) -> dict:
        return {
            "result": pairs_to_result(a.pairs, scheme),
            "completed_by": users[a.annotator],
            "ground_truth": a.ground_truth,
            "was_cancelled": False,
        }

    new, added = [], 0
    for r in records:
        sid = r.sentence.sentence_id
        task = existing.get(sid)
        if task is None:
            new.append({"data": data[sid], "annotations": [annotation(a) for a in r.annotations]})
            continue
        there = {
            names.get(a["completed_by"]) for a in task.get("annotations", []) if not a.get("was_cancelled")
        }
        for a in r.annotations:
            if a.annotator not in there:
                with studio.calls(f"adding {a.annotator}'s annotation to task {task['id']}"):
                    studio.client.annotations.create(task["id"], **annotation(a))
                added += 1
    if new:
        with studio.calls(f"importing {len(new)} annotated tasks"):
            studio.client.projects.import_tasks(project.id, request=new)
    return {
        "snapshot": str(snapshot),
        "tasks_created": len(new),
        "annotations": sum(len(t["annotations"]) for t in new) + added,
        "annotators": sorted({a.annotator for r in records for a in r.annotations}),
    }
