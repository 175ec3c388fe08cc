"""The labeling loop on a Label Studio server: ``stance labeling init|push|pull|status|import``.

* ``init``: create the project, or update it in place, from the scheme; nothing changes when nothing changed.
* ``push``: articles -> one task per sentence (idempotent by sentence id) with the champion model's
  pre-annotations; the queue serves the least confident first (uncertainty sampling).
* ``pull``: the full JSON export -> a content-hashed snapshot in the format of labeling/annotations.py,
  with agreement per facet and the unresolved conflicts listed.
* ``status``: tasks, annotated, unresolved, agreement, the predictions' model version.
* ``import``: a snapshot's annotations -> the server, by their annotators, so ``pull`` gives it back.

The commands are in labeling/commands.py. ``push`` is handed the model that pre-annotates (a
:class:`Scorer`, which the CLI builds in training/prelabel.py), so labeling never imports training.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from labeling.annotations import (
    Annotation,
    Record,
    agreement,
    find_article,
    load_snapshot,
    resolve,
)
from labeling.articles import read_article
from labeling.segment import Sentence, segment
from labeling.studio import (
    ANNOTATOR_DOMAIN,
    Studio,
    choice,
    instructions,
    label_config,
    pairs_to_result,
    result_to_pairs,
)
from stance.errors import StanceError
from stance.io import dumps_jsonl, write_atomic
from stance.scheme import Scheme

# Push imports new tasks least confident first, so sequential sampling serves them in that order;
# it is also the setting Label Studio's settings page shows (it offers no uncertainty sampling there).
SAMPLING = "Sequential sampling"
CONTEXT_SENTENCES = 2  # neighbours shown on each side of the sentence
DEFAULT_MODEL = "models:/stance-classifier@champion"


# -- init --------------------------------------------------------------------------------
def project_settings(scheme: Scheme, title: str, overlap: int = 2) -> dict:
    return {
        "title": title,
        "description": "Who takes which stance in coverage of the Pakistan / Afghan Taliban talks.",
        "label_config": label_config(scheme),
        "expert_instruction": instructions(scheme),
        "show_instruction": True,
        "show_skip_button": True,
        "sampling": SAMPLING,
        # every task goes to `overlap` independent annotators before the queue moves on
        "maximum_annotations": overlap,
        "overlap_cohort_percentage": 100,
    }


def init(studio: Studio, scheme: Scheme, title: str, overlap: int = 2) -> tuple[int, str]:
    """(project id, 'created' | 'updated' | 'unchanged')."""
    wanted = project_settings(scheme, title, overlap)
    project = studio.find_project(title)
    if project is None:
        with studio.calls(f"creating project '{title}'"):
            return studio.client.projects.create(**wanted).id, "created"
    with studio.calls(f"reading project '{title}'"):
        current = studio.client.projects.get(project.id)
    changed = {k: v for k, v in wanted.items() if getattr(current, k, None) != v}
    if not changed:
        return project.id, "unchanged"
    with studio.calls(f"updating project '{title}' ({', '.join(changed)})"):
        studio.client.projects.update(project.id, **changed)
    return project.id, "updated"


# -- push --------------------------------------------------------------------------------
def task_data(sentences: list[Sentence], i: int) -> dict:
    """A task's data: the sentence, where it comes from, and its neighbours for context."""
    s = sentences[i]
    return {
        "text": s.text,
        "article": s.article,
        "sentence_id": s.sentence_id,
        "start": s.start,
        "end": s.end,
        "context_before": " ".join(x.text for x in sentences[max(0, i - CONTEXT_SENTENCES) : i]),
        "context_after": " ".join(x.text for x in sentences[i + 1 : i + 1 + CONTEXT_SENTENCES]),
    }


class Scorer(Protocol):
    """What ``push`` needs of a model (training/prelabel.py builds one from ``--model``).

    ``version`` is the registered version ``uri`` names (None when its alias is unset); calling
    it on sentences in reading order gives one prediction per sentence, each with
    ``sentence_id``, ``actor``, ``stance``, ``actor_scores``, ``stance_scores`` and ``confidence``.
    """

    uri: str
    version: str | None

    def __call__(self, sentences: list[Sentence], scheme: Scheme) -> list: ...


def prediction(pred, scheme: Scheme, model_version: str) -> dict:
    return {
        "model_version": model_version,
        "score": round(pred.confidence, 4),  # the same figure as predict's `p`
        "result": [
            choice("actor", pred.actor, pred.actor_scores[pred.actor]),
            choice("stance", pred.stance, pred.stance_scores[pred.stance]),
        ],
    }


@dataclass
class PushReport:
    created: int = 0
    existing: int = 0
    predictions_added: int = 0
    model_version: str | None = None
    notes: list[str] = field(default_factory=list)


def push(
    studio: Studio, scheme: Scheme, title: str, articles: list[Path], scorer: Scorer | None
) -> PushReport:
    """One task per sentence, new sentences only, with pre-annotations, least confident first."""
    by_article = [segment(read_article(p)) for p in articles]  # inputs checked before any server call
    tasks = [task_data(group, i) for group in by_article for i in range(len(group))]
    tasks = list({t["sentence_id"]: t for t in tasks}.values())
    project = studio.project(title)
    existing = {t["data"].get("sentence_id"): t["id"] for t in studio.export(project.id)}
    report = PushReport()
    new = [t for t in tasks if t["sentence_id"] not in existing]
    report.created, report.existing = len(new), len(tasks) - len(new)

    version = scorer.version if scorer else None
    if scorer and version is None:
        if scorer.uri != DEFAULT_MODEL:
            raise StanceError(
                f"model '{scorer.uri}' does not exist (see `mlflow` registry); pass another --model"
            )
        report.notes.append(
            f"no champion model ({DEFAULT_MODEL}): pushed without predictions (train one first)"
        )
    preds: dict[str, dict] = {}
    have = (
        {p.task for p in studio.predictions(project.id) if p.model_version == version} if version else set()
    )
    need = [t for t in tasks if t["sentence_id"] not in existing or existing[t["sentence_id"]] not in have]
    if scorer and version and need:  # the model is loaded only when some task lacks its prediction
        # every sentence of the articles, in reading order, so each keeps its preceding sentences as
        # context; only the tasks that lack a prediction get one
        wanted = {t["sentence_id"] for t in need}
        sentences = [Sentence(t["article"], t["sentence_id"], t["start"], t["end"], t["text"]) for t in tasks]
        preds = {
            p.sentence_id: prediction(p, scheme, version)
            for p in scorer(sentences, scheme)
            if p.sentence_id in wanted
        }
        report.model_version = version

    # least confident first, so even a sequential queue starts where the model is least sure
    new.sort(key=lambda t: preds[t["sentence_id"]]["score"] if t["sentence_id"] in preds else 0.0)
    for rank, t in enumerate(new):  # kept with the task: the labeling-order record reads them at pull
        t["push_rank"] = rank
        t["push_score"] = preds[t["sentence_id"]]["score"] if t["sentence_id"] in preds else None
        t["push_model"] = version
    if new:
        payload = [
            {"data": t, "predictions": [preds[t["sentence_id"]]] if t["sentence_id"] in preds else []}
            for t in new
        ]
        with studio.calls(f"creating {len(new)} tasks"):
            studio.client.projects.import_tasks(project.id, request=payload)
    for sid, task_id in existing.items():
        if sid in preds:
            with studio.calls(f"adding a prediction to task {task_id}"):
                studio.client.predictions.create(task=task_id, **preds[sid])
            report.predictions_added += 1
    report.predictions_added += sum(1 for t in new if t["sentence_id"] in preds)
    if version:
        with studio.calls("setting the project's model version"):
            studio.client.projects.update(project.id, model_version=version)
    return report


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
    return sorted(lines, key=lambda x: (x["article"], x["start"], x["ground_truth"], x["annotator"]))


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

    project = studio.project(title)
    tasks = studio.export(project.id)
    users = studio.users()
    lines = raw_lines(tasks, users, scheme)  # every label checked before writing
    if not lines:
        raise StanceError(f"project '{title}' has no annotations yet: nothing to pull")
    raw = studio_raw_file(title)
    write_if_changed(raw, dumps_jsonl(lines))
    write_if_changed(raw.with_suffix(".order.jsonl"), dumps_jsonl(order_record(tasks, users)))
    report = import_annotations(default_raw_files(), scheme, folder)
    records = tasks_to_records(tasks, users, scheme)
    return {
        **summarize(records, scheme),
        "checks": report["checks"],
        "raw": str(raw),
        "snapshot": report["snapshot"],
        "snapshot_sentences": report["sentences"],
        "new": report["new"],
        "data_version": report["data_version"],
    }


def write_if_changed(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        write_atomic(path, text)


def status(studio: Studio, scheme: Scheme, title: str) -> dict:
    project = studio.project(title)
    tasks = studio.export(project.id)
    records = tasks_to_records(tasks, studio.users(), scheme)
    versions = Counter(p.model_version for p in studio.predictions(project.id))
    return {
        "project": title,
        "tasks": len(tasks),
        "annotated": len(records),
        **summarize(records, scheme),
        "prediction_versions": dict(versions),
        "project_model_version": getattr(studio.client.projects.get(project.id), "model_version", None),
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
        sentences = segment(read_article(find_article(article)))
        for i in range(len(sentences)):
            out[sentences[i].sentence_id] = task_data(sentences, i)
    for r in records:  # a sentence the segmenter no longer gives keeps its own fields
        out.setdefault(
            r.sentence.sentence_id, {**r.sentence.to_dict(), "context_before": "", "context_after": ""}
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
