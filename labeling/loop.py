"""The labeling loop on a Label Studio server: ``stance labeling init|push``.

* ``init``: create the project, or update it in place, from the scheme; nothing changes when nothing changed.
* ``push``: articles -> one task per sentence (idempotent by sentence id) with the champion model's
  pre-annotations; the queue serves the least confident first (uncertainty sampling). An article
  whose text the project already holds under another article id (a file renamed or saved twice) is
  skipped, so no sentence is labeled twice (found in labeling/same_text.py).

``pull``, ``status`` and ``import`` are in labeling/sync.py, the commands in labeling/commands.py.
``push`` is handed the model that pre-annotates (a :class:`Scorer`, which the CLI builds in
training/prelabel.py), so labeling never imports training.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from labeling.annotations import article_folders_listed, project_article_text, studio_raw_file
from labeling.articles import Article, article_meta, origin_line, read_article
from labeling.same_text import distinct_articles
from labeling.segment import Sentence, segment
from labeling.studio import (
    Studio,
    choice,
    instructions,
    label_config,
)
from stance.errors import StanceError
from stance.io import read_jsonl
from stance.registry import CHAMPION_URI
from stance.scheme import Scheme

# Push imports new tasks least confident first, so sequential sampling serves them in that order;
# it is also the setting Label Studio's settings page shows (it offers no uncertainty sampling there).
SAMPLING = "Sequential sampling"
CONTEXT_SENTENCES = 2  # neighbours shown on each side of the sentence
DEFAULT_MODEL = CHAMPION_URI  # push's pre-annotations


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


# what `init` names when it changes a setting in place
SETTING_NAMES = {
    "label_config": "labeling interface",
    "expert_instruction": "instructions",
    "maximum_annotations": "overlap",
}


def check_raw_file(studio: Studio, title: str) -> None:
    """One raw annotation file per project: titles that differ only in spaces or punctuation
    ("team a", "team-a") name the same ``studio-team-a.jsonl``, where each pull would replace the
    sentences the other project's pull wrote, so a second such project is refused."""
    raw = studio_raw_file(title)
    with studio.calls("listing projects"):
        twin = next(
            (
                p.title
                for p in studio.client.projects.list()
                if p.title != title and studio_raw_file(p.title) == raw
            ),
            None,
        )
    if twin is not None:
        raise StanceError(
            f"project '{title}' would pull into {raw}, the file of project '{twin}' (the titles differ only in "
            "spaces or punctuation); give one of them a title with other letters or digits"
        )


def init(studio: Studio, scheme: Scheme, title: str, overlap: int = 2) -> tuple[int, str]:
    """(project id, 'created' | 'updated (what changed)' | 'unchanged'); a changed overlap is
    named with its old and new value, so a plain re-run that lowers it is seen."""
    wanted = project_settings(scheme, title, overlap)
    project = studio.find_project(title)
    if project is None:
        check_raw_file(studio, title)
        with studio.calls(f"creating project '{title}'"):
            return studio.client.projects.create(**wanted).id, "created"
    with studio.calls(f"reading project '{title}'"):
        current = studio.client.projects.get(project.id)
    changed = {k: v for k, v in wanted.items() if getattr(current, k, None) != v}
    origins = add_origins(studio, project.id)  # before the interface that shows them
    if not changed and not origins:
        return project.id, "unchanged"
    if changed:
        with studio.calls(f"updating project '{title}' ({', '.join(changed)})"):
            studio.client.projects.update(project.id, **changed)
    what = [
        f"overlap {current.maximum_annotations} -> {overlap}"
        if k == "maximum_annotations"
        else SETTING_NAMES.get(k, k.replace("_", " "))
        for k in changed
    ] + [f"the origin in the header of {origins} task{'s' * (origins != 1)}"] * bool(origins)
    return project.id, f"updated ({', '.join(what)})"


def add_origins(studio: Studio, project_id: int) -> int:
    """Tasks pushed before a task's header named where it comes from (headline, outlet, date) gain
    their ``origin``: the article id alone where the project's article folders do not hold the
    article. How many. (The data key is not ``source``: Label Studio's interface reads ``$source``
    as the whole task's JSON.)"""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn

    from stance.console import progress

    missing = [t for t in studio.export(project_id) if "origin" not in t.get("data", {})]
    origins: dict[str, str] = {}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with progress(*columns) as bar:  # once per project, one call per task: 5 min for 2466 tasks here
        step = bar.add_task("adding each task's origin", total=len(missing))
        for t in missing:
            article = t["data"].get("article") or ""
            if article not in origins:
                found = project_article_text(article)
                origins[article] = origin_line(article, article_meta(found[0])) if found else article
            with studio.calls(f"adding the origin to task {t['id']}"):
                studio.client.tasks.update(t["id"], data={**t["data"], "origin": origins[article]})
            bar.advance(step)
    return len(missing)


# -- push --------------------------------------------------------------------------------
def task_data(sentences: list[Sentence], i: int, origin: str = "") -> dict:
    """A task's data: the sentence, where it comes from (``origin``, the header: headline, outlet,
    date, article id; the article id alone when not given), and its neighbours for context."""
    s = sentences[i]
    return {
        "text": s.text,
        "article": s.article,
        "origin": origin or s.article,
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


def once_each(texts: list[tuple[Path, Article]]) -> list[tuple[Path, Article]]:
    """Each article once: a file given twice is read once, and two files of one article id (x.txt
    beside x.html, dawn/index.html and tolo/index.html) are refused: push made one article of both
    texts, whose second text `pull` could not read."""
    seen: dict[str, Path] = {}
    out = []
    for path, article in texts:
        if article.id not in seen:
            seen[article.id] = path
            out.append((path, article))
        elif seen[article.id].resolve() != path.resolve():
            raise StanceError(
                f"{seen[article.id]} and {path} are both article '{article.id}' (an article is named by its file "
                "name, without its folder and suffix): push each article once, under a name of its own; "
                "nothing was pushed"
            )
    return out


def unpullable(path: Path, article: Article) -> str | None:
    """A note for an article whose labels `pull` could not take: it reads an article's text by its id
    from the article folders, and this one is not there (pushed from another folder), or is there
    with another text."""
    if (there := project_article_text(article.id)) is None:
        return (
            f"{path}: article '{article.id}' is in none of {article_folders_listed()}, where `stance labeling pull` "
            f"reads the text of each sentence: copy it into one of them as {article.id}{path.suffix or '.txt'} before its labels are "
            "pulled"
        )
    if there[1] != article.text:
        return (
            f"{path}: article '{article.id}' is {there[0]} with another text, which `stance labeling pull` reads: "
            "its labels cannot be pulled until the two are one"
        )
    return None


def relabeled_notes(title: str, new: list[dict]) -> list[str]:
    """A note per article whose new tasks the project's raw file already holds labels of (a labeled
    article pushed again, to a fresh server): once one of its sentences is labeled on the server, a
    pull replaces that sentence's labels in the file with the server's. A team's earlier labels of
    15 sentences were gone after the next pull, with a line saying so only then."""
    raw = studio_raw_file(title)
    if not new or not raw.is_file():
        return []
    wanted = {(t["article"], t["start"]) for t in new}
    held: dict[str, set[int]] = defaultdict(set)
    who: dict[str, set[str]] = defaultdict(set)
    for _, line in read_jsonl(raw):
        if (line.get("article"), line.get("start")) in wanted:
            held[line["article"]].add(line["start"])
            who[line["article"]].add(str(line.get("annotator")))
    return [
        f"article '{article}': {len(held[article])} of its new tasks are labeled in {raw} (by "
        f"{', '.join(sorted(who[article]))}); a pull of project '{title}' replaces each such sentence's labels "
        "there with the server's once it is labeled here"
        for article in sorted(held)
    ]


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
    """One task per sentence, new sentences only, with pre-annotations, least confident first.

    An article whose text is already in the project, or earlier in ``articles``, under another
    article id is skipped with a note naming both."""
    texts = once_each([(Path(p), read_article(p)) for p in articles])  # inputs checked before any server call
    read = [(p, segment(a)) for p, a in texts]
    project = studio.project(title)
    exported = studio.export(project.id)
    report = PushReport()
    by_article = distinct_articles(read, exported, title, report.notes)
    pushed = {group[0].article for group in by_article if group}
    report.notes += [n for p, a in texts if a.id in pushed and (n := unpullable(p, a))]
    origins = {a.id: origin_line(a.id, article_meta(p, a.id)) for p, a in texts}
    tasks = [
        task_data(group, i, origins[group[0].article]) for group in by_article for i in range(len(group))
    ]
    tasks = list({t["sentence_id"]: t for t in tasks}.values())
    existing = {t["data"].get("sentence_id"): t["id"] for t in exported}
    new = [t for t in tasks if t["sentence_id"] not in existing]
    report.created, report.existing = len(new), len(tasks) - len(new)
    report.notes += relabeled_notes(title, new)

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
    # ranks go on from the project's earlier pushes, so a rank is a task's place in the whole queue
    start = 1 + max((r for t in exported if isinstance(r := t["data"].get("push_rank"), int)), default=-1)
    for rank, t in enumerate(new, start):  # kept with the task: the labeling-order record reads them at pull
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
