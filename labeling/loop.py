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
    find_article,
    latest_snapshot,
    load_snapshot,
    print_checks,
    resolve,
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
from stance.errors import StanceError, redact
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
    have = (
        {p.task for p in studio.predictions(project.id) if p.model_version == version} if version else set()
    )
    need = [t for t in tasks if t["sentence_id"] not in existing or existing[t["sentence_id"]] not in have]
    if version and need:  # the model is loaded only when some task lacks its prediction
        from training.predict import Predictor

        # every sentence of the articles, in reading order, so each keeps its preceding sentences as
        # context; only the tasks that lack a prediction get one
        wanted = {t["sentence_id"] for t in need}
        sentences = [Sentence(t["article"], t["sentence_id"], t["start"], t["end"], t["text"]) for t in tasks]
        predictor = Predictor(f"models:/{version}", scheme)
        preds = {
            p.sentence_id: prediction(p, scheme, version)
            for p in predictor.predict_sentences(sentences)
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
def init_cli(
    project: ProjectOpt = "",
    overlap: Annotated[
        int | None,
        typer.Option(min=1, help="Independent annotators per sentence [default: configs/labeling.yaml, 2]."),
    ] = None,
) -> None:
    """Create the project, or update it in place, with the labeling interface generated from the scheme."""
    from labeling.team import LabelingConfig

    overlap = overlap or LabelingConfig.load().overlap
    studio = Studio.connect()
    title = _title(project)
    project_id, action = init(studio, Scheme.load(), title, overlap)
    _console().print(
        f"project '{title}' (id {project_id}) {action} at {redact(studio.url)}/projects/{project_id}; "
        f"each sentence goes to {overlap} annotator(s)"
    )


@app.command("add-annotator")
def add_annotator_cli(
    name: Annotated[str, typer.Argument(help="The annotator's user name (letters, digits, '-', '_').")],
    password_env: Annotated[
        str,
        typer.Option(help="Environment variable holding the annotator's UI password (never printed)."),
    ] = "STANCE_ANNOTATOR_PASSWORD",
) -> None:
    """Add an annotator: a Label Studio user of their own, in the organization that holds the projects."""
    from labeling.team import add_annotator

    studio = Studio.connect()
    password = os.environ.get(password_env) or None
    uid, created = add_annotator(studio, name, password)
    login = f"log in as {name}@{ANNOTATOR_DOMAIN}" + (
        f" with the password in ${password_env}" if password else f" once a password is set (${password_env})"
    )
    _console().print(f"annotator {name} (user {uid}) {'created' if created else 'already there'}; {login}")


ArticlesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--articles", "-a", help="Only these articles (ids or patterns such as 'coverage-0[0-3]*')."
    ),
]


@app.command("next")
def next_cli(
    annotator: Annotated[str, typer.Option("--as", help="The annotator asking for tasks.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Batch file to write (JSONL).")],
    limit: Annotated[int, typer.Option(min=1, help="At most this many tasks.")] = 100,
    articles: ArticlesOpt = None,
    project: ProjectOpt = "",
) -> None:
    """Write an annotator's next tasks to fill in: no pre-annotations, no other annotator's labels."""
    from labeling.team import LabelingConfig, next_batch, write_batch

    studio = Studio.connect()
    title = _title(project)
    rows = next_batch(
        studio, studio.project(title).id, annotator, LabelingConfig.load().overlap, limit, articles or []
    )
    write_batch(rows, out)
    _console().print(
        f'{len(rows)} tasks for {annotator} in {out}: set each row\'s "pairs" ([] for no stance; '
        "pairs primary first), then `stance labeling submit`"
    )


@app.command("disagreements")
def disagreements_cli(
    out: Annotated[Path, typer.Option("--out", "-o", help="Batch file to write (JSONL).")],
    articles: ArticlesOpt = None,
    project: ProjectOpt = "",
) -> None:
    """Write the sentences whose annotators differ on the primary pair and await a reviewer's decision."""
    from labeling.team import disagreements, write_batch

    studio = Studio.connect()
    rows = disagreements(studio, studio.project(_title(project)).id, Scheme.load(), articles or [])
    write_batch(rows, out)
    _console().print(
        f'{len(rows)} disagreements to review in {out}; decide "pairs", then `stance labeling submit --review`'
    )


@app.command("submit")
def submit_cli(
    batch: Annotated[Path, typer.Argument(help="A filled-in batch from `next` or `disagreements`.")],
    annotator: Annotated[str, typer.Option("--as", help="Who labeled it (a Label Studio user).")],
    review: Annotated[bool, typer.Option("--review", help="Reviewer decisions (ground truth).")] = False,
    project: ProjectOpt = "",
) -> None:
    """Send a filled-in batch as the annotator's annotations; rows already labeled by them are skipped."""
    from labeling.team import read_batch, submit

    scheme = Scheme.load()
    rows = read_batch(batch, scheme)  # every row checked before the server is called
    studio = Studio.connect()
    r = submit(studio, studio.project(_title(project)).id, scheme, annotator, rows, review)
    _console().print(f"{annotator}: {r['added']} annotations added, {r['skipped']} already there")


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
        pk = a.get("pairwise_kappa", {})
        if a["metric"] != "cohen_kappa" and pk.get("mean") is not None:
            console.print(
                f"    Cohen's κ per pair of annotators: mean {pk['mean']:.3f} over {len(pk['pairs'])} pairs"
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
    print_checks(console, report["checks"])
    state = "written" if report["new"] else "unchanged (already there)"
    console.print(f"annotations of this project: {report['raw']}")
    console.print(
        f"snapshot {report['snapshot']} {state}: {report['snapshot_sentences']} sentences from every raw file; "
        f"data version {report['data_version']}"
    )


@app.command("check")
def check_cli(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Snapshots or raw annotation files [default: labeling/snapshots/LATEST]."),
    ] = None,
    rules_file: Annotated[Path | None, typer.Option("--rules", help="[default: configs/rules.yaml]")] = None,
) -> None:
    """List the labels that break a codebook rule (configs/rules.yaml), with their sentence ids."""
    from labeling.rules import check_rows, load_rules
    from stance.io import read_jsonl

    scheme = Scheme.load()
    rules = load_rules(scheme, rules_file)
    console = _console()
    found = blocking = 0
    for path in files or [latest_snapshot()]:
        violations = check_rows(rules, (row for _, row in read_jsonl(path)), scheme.none)
        found += len(violations)
        blocking += sum(v.blocking for v in violations)
        for v in violations:
            console.print(f"{path.name}: {v.line()}" + (" [blocking]" if v.blocking else ""))
    console.print(f"{found} violation(s) of {len(rules)} rules ({blocking} of blocking rules)")
    raise SystemExit(1 if blocking else 0)  # review flags alone do not fail a script


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
