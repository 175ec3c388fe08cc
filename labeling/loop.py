"""The labeling loop on a Label Studio server: ``stance labeling init|push|pull|status|import``.

* ``init``: create the project, or update it in place, from the scheme; nothing changes when nothing changed.
* ``push``: articles -> one task per sentence (idempotent by sentence id) with the champion model's
  pre-annotations; the queue serves the least confident first (uncertainty sampling).
* ``pull``: the full JSON export -> a content-hashed snapshot in the format of labeling/annotations.py,
  with agreement per facet and the unresolved conflicts listed.
* ``status``: tasks, annotated, unresolved, agreement, the predictions' model version.
* ``import``: a snapshot's annotations -> the server, by their annotators, so ``pull`` gives it back.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from labeling.annotations import (
    Annotation,
    Record,
    agreement,
    data_version,
    find_article,
    latest_snapshot,
    load_snapshot,
    resolve,
    write_snapshot,
)
from labeling.articles import read_article
from labeling.segment import Sentence, segment
from labeling.studio import (
    ANNOTATOR_DOMAIN,
    DEFAULT_PROJECT,
    Studio,
    choice,
    instructions,
    label_config,
    pairs_to_result,
    result_to_pairs,
)
from stance.errors import StanceError
from stance.scheme import Scheme

UNCERTAINTY = "Uncertainty sampling"  # Label Studio serves the lowest prediction score first
CONTEXT_SENTENCES = 2  # neighbours shown on each side of the sentence
DEFAULT_MODEL = "models:/stance-classifier@champion"


# -- init --------------------------------------------------------------------------------
def project_settings(scheme: Scheme, title: str) -> dict:
    return {
        "title": title,
        "description": "Who takes which stance in coverage of the Pakistan / Afghan Taliban talks.",
        "label_config": label_config(scheme),
        "expert_instruction": instructions(scheme),
        "show_instruction": True,
        "show_skip_button": True,
        "sampling": UNCERTAINTY,
    }


def init(studio: Studio, scheme: Scheme, title: str) -> tuple[int, str]:
    """(project id, 'created' | 'updated' | 'unchanged')."""
    wanted = project_settings(scheme, title)
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


def resolve_model(model_uri: str) -> str | None:
    """The registered version a model URI names ('stance-classifier/3'), or None if the alias is unset."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from training import tracking

    tracking.quiet_mlflow()
    mlflow.set_tracking_uri(tracking.tracking_uri())
    name = model_uri.removeprefix("models:/")
    if "@" not in name:
        return name
    name, alias = name.split("@", 1)
    try:
        return f"{name}/{MlflowClient().get_model_version_by_alias(name, alias).version}"
    except MlflowException:
        return None


def pair_score(pred, scheme: Scheme) -> float:
    """How sure the model is of its pair: p(none) for no stance, else p(stance) · p(actor | a stance)."""
    p_none = pred.stance_scores[scheme.none]
    if pred.stance == scheme.none:
        return round(p_none, 4)
    p_actor_given = pred.actor_scores[pred.actor] / max(1.0 - p_none, 1e-9)
    return round(pred.stance_scores[pred.stance] * p_actor_given, 4)


def prediction(pred, scheme: Scheme, model_version: str) -> dict:
    return {
        "model_version": model_version,
        "score": pair_score(pred, scheme),
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
    studio: Studio, scheme: Scheme, title: str, articles: list[Path], model_uri: str | None = DEFAULT_MODEL
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

    version = resolve_model(model_uri) if model_uri else None
    if model_uri and version is None:
        if model_uri != DEFAULT_MODEL:
            raise StanceError(
                f"model '{model_uri}' does not exist (see `mlflow` registry); pass another --model"
            )
        report.notes.append(
            f"no champion model ({DEFAULT_MODEL}): pushed without predictions (train one first)"
        )
    preds: dict[str, dict] = {}
    if version:
        from training.predict import Predictor

        have = {p.task for p in studio.predictions(project.id) if p.model_version == version}
        need = [
            t for t in tasks if t["sentence_id"] not in existing or existing[t["sentence_id"]] not in have
        ]
        sentences = [Sentence(t["article"], t["sentence_id"], t["start"], t["end"], t["text"]) for t in need]
        predictor = Predictor(f"models:/{version}", scheme)
        preds = {
            p.sentence_id: prediction(p, scheme, version) for p in predictor.predict_sentences(sentences)
        }
        report.model_version = version

    # least confident first, so even a sequential queue starts where the model is least sure
    new.sort(key=lambda t: preds[t["sentence_id"]]["score"] if t["sentence_id"] in preds else 0.0)
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


def pull(studio: Studio, scheme: Scheme, title: str, folder: Path | None = None) -> dict:
    """Export -> snapshot (atomic, named by content hash); nothing new is written when nothing changed."""
    project = studio.project(title)
    tasks = studio.export(project.id)
    records = tasks_to_records(tasks, studio.users(), scheme)  # every label checked before writing
    if not records:
        raise StanceError(f"project '{title}' has no annotations yet: nothing to pull")
    path, new = write_snapshot(records, folder)
    return {
        **summarize(records, scheme),
        "snapshot": str(path),
        "new": new,
        "data_version": data_version(path),
    }


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


# -- commands ----------------------------------------------------------------------------
app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="The labeling loop on Label Studio (LABEL_STUDIO_URL, LABEL_STUDIO_API_KEY; .env is read).",
)
ProjectOpt = Annotated[
    str,
    typer.Option("--project", "-p", help="Project title [env LABEL_STUDIO_PROJECT, default 'stance']."),
]


def _title(project: str) -> str:
    return project or os.environ.get("LABEL_STUDIO_PROJECT") or DEFAULT_PROJECT


def _console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


@app.command("init")
def init_cli(project: ProjectOpt = "") -> None:
    """Create the project, or update it in place, with the labeling interface generated from the scheme."""
    studio = Studio.connect()
    title = _title(project)
    project_id, action = init(studio, Scheme.load(), title)
    _console().print(f"project '{title}' (id {project_id}) {action} at {studio.url}/projects/{project_id}")


@app.command("push")
def push_cli(
    articles: Annotated[list[Path], typer.Argument(help="Article files (.txt or .html).")],
    project: ProjectOpt = "",
    model: Annotated[str, typer.Option(help="MLflow model URI for the pre-annotations.")] = DEFAULT_MODEL,
    no_predictions: Annotated[
        bool, typer.Option("--no-predictions", help="Push without pre-annotations.")
    ] = False,
) -> None:
    """Segment articles and create one task per new sentence, with the model's pre-annotations."""
    studio = Studio.connect()
    title = _title(project)
    r = push(studio, Scheme.load(), title, articles, None if no_predictions else model)
    console = _console()
    for note in r.notes:
        console.print(f"[yellow]{note}[/yellow]")
    console.print(
        f"project '{title}': {r.created} tasks created, {r.existing} already there; "
        f"{r.predictions_added} predictions added"
        + (f" from {r.model_version} (least confident first)" if r.model_version else "")
    )


def _print_agreement(console, report: dict) -> None:
    ag = report["agreement"]
    for facet, a in ag.items():
        metric = "Cohen's κ" if a["metric"] == "cohen_kappa" else "Krippendorff's α"
        console.print(
            f"  {facet}: {metric} {a['value']:.3f} (observed {a['observed_agreement']:.3f}, "
            f"{a['units']} sentences, {len(a['annotators'])} annotators)"
        )
    if not ag:
        console.print("  agreement: no sentence has two annotators yet")
    if report["unresolved"]:
        console.print(f"[yellow]unresolved conflicts ({len(report['unresolved'])}):[/yellow]")
        for u in report["unresolved"]:
            votes = "; ".join(f"{k}: {', '.join(v)}" for k, v in u["annotations"].items())
            console.print(f"  {u['sentence_id']}  {votes}")


@app.command("pull")
def pull_cli(
    project: ProjectOpt = "",
    out: Annotated[Path | None, typer.Option(help="Snapshot folder [default: labeling/snapshots].")] = None,
) -> None:
    """Export the annotations into a content-hashed snapshot; report agreement and conflicts."""
    studio = Studio.connect()
    report = pull(studio, Scheme.load(), _title(project), out)
    console = _console()
    console.print(f"{report['sentences']} annotated sentences; resolved by {report['resolved_by']}")
    _print_agreement(console, report)
    state = "written" if report["new"] else "unchanged (already there)"
    console.print(f"snapshot {report['snapshot']} {state}; data version {report['data_version']}")


@app.command("status")
def status_cli(project: ProjectOpt = "") -> None:
    """Tasks, annotated, unresolved, agreement so far, and the predictions' model version."""
    studio = Studio.connect()
    s = status(studio, Scheme.load(), _title(project))
    console = _console()
    console.print(
        f"project '{s['project']}': {s['tasks']} tasks, {s['annotated']} annotated, "
        f"{len(s['unresolved'])} unresolved"
    )
    versions = ", ".join(f"{v} ({n})" for v, n in s["prediction_versions"].items()) or "none"
    console.print(f"  predictions: {versions}; queue model version: {s['project_model_version'] or 'none'}")
    _print_agreement(console, s)


@app.command("import")
def import_cli(
    snapshot: Annotated[
        Path | None, typer.Argument(help="Snapshot file [default: labeling/snapshots/LATEST].")
    ] = None,
    project: ProjectOpt = "",
) -> None:
    """Load a snapshot's annotations into Label Studio as annotations by their annotators."""
    studio = Studio.connect()
    r = import_snapshot(studio, Scheme.load(), _title(project), snapshot or latest_snapshot())
    _console().print(
        f"imported {r['snapshot']}: {r['tasks_created']} tasks created, {r['annotations']} annotations added "
        f"(annotators: {', '.join(r['annotators'])})"
    )
