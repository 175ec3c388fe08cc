"""A labeling team on one Label Studio project: annotators, their queues, reviews.

Every sentence is labeled by ``overlap`` independent annotators (two by default,
``configs/labeling.yaml``), each a Label Studio user of their own; a reviewer
adjudicates the sentences whose primary pairs differ. Annotators work in the
Label Studio UI, or, for batch work, through two commands that go through the
same server:

* ``next``: the annotator's next tasks as a JSONL batch to fill in: the sentence,
  its neighbours and its article, in queue order. It never shows the model's
  pre-annotation or another annotator's labels, and never serves a task the
  annotator already labeled or one that has its ``overlap`` annotations.
* ``submit``: the filled-in batch back as that user's annotations; every row is
  checked against the scheme before anything is sent, and re-submitting adds
  nothing.
* ``disagreements`` / ``submit --review``: the same for the reviewer, whose
  decisions are stored as ground-truth annotations.

Queue order: articles by their least confident sentence at push time (the
model's pair confidence), each article's sentences in reading order, so the
annotator reads whole articles (the guide asks to resolve "he" and "the
minister" from the article) while the least certain articles come first.

The team's members (Label Studio users, added and found by name) are
``labeling/annotators.py``; the batch file itself (its JSONL and TSV formats,
each row checked) is ``labeling/batch_file.py``.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from labeling.annotators import annotator_id
from labeling.batch_file import BatchRow, batch_rows
from labeling.studio import Studio, pairs_to_result, result_to_pairs
from stance import paths
from stance.config import Config
from stance.console import counted
from stance.errors import StanceError, one_or_several
from stance.scheme import Scheme


class LabelingConfig(Config):
    """How the team labels: ``configs/labeling.yaml``."""

    overlap: int = 2  # independent annotators per sentence (Label Studio's maximum_annotations)
    context_sentences: int = 2  # neighbours shown on each side of the sentence

    @classmethod
    def load(cls, path: Path | None = None) -> LabelingConfig:
        path = path or paths.configs() / "labeling.yaml"
        cfg = cls.from_yaml(path) if path.is_file() else cls()
        if cfg.overlap < 1:
            raise StanceError(
                f"{path}: bad value for 'overlap': at least 1 annotator per sentence (got {cfg.overlap})"
            )
        return cfg


def project_overlap(project) -> int:
    """Independent annotators per sentence as the project on the server has it (``labeling init
    --overlap`` sets Label Studio's maximum_annotations), else the configured default."""
    value = getattr(project, "maximum_annotations", None)
    return int(value) if isinstance(value, int) and value >= 1 else LabelingConfig.load().overlap


# -- queues ------------------------------------------------------------------------------
@dataclass
class Task:
    id: int
    data: dict
    annotations: list[dict]  # not cancelled

    @property
    def by(self) -> set[int]:
        return {a["completed_by"] for a in self.annotations}

    def independent(self) -> list[dict]:
        return [a for a in self.annotations if not a.get("ground_truth")]


def tasks_of(studio: Studio, project_id: int, exported: list[dict] | None = None) -> list[Task]:
    """The project's tasks with their annotations that were not cancelled (from ``exported``, the
    project's export, when the caller has it)."""
    out = []
    for t in studio.export(project_id) if exported is None else exported:
        anns = [a for a in t.get("annotations", []) if not a.get("was_cancelled")]
        for a in anns:
            if isinstance(a.get("completed_by"), dict):  # some exports nest the user
                a["completed_by"] = a["completed_by"].get("id")
        out.append(Task(t["id"], t.get("data", {}), anns))
    return out


def queue_order(tasks: list[Task]) -> list[Task]:
    """Planned tasks first, in plan order (`stance labeling plan --apply`); then articles by their
    least confident sentence at push time, sentences in reading order."""
    planned = sorted(
        (t for t in tasks if t.data.get("plan_rank") is not None), key=lambda t: t.data["plan_rank"]
    )
    rest = [t for t in tasks if t.data.get("plan_rank") is None]
    return planned + _by_article(rest)


def _by_article(tasks: list[Task]) -> list[Task]:
    worst: dict[str, float] = defaultdict(lambda: 1.0)
    for t in tasks:
        score = t.data.get("push_score")
        worst[t.data.get("article", "")] = min(
            worst[t.data.get("article", "")], 1.0 if score is None else score
        )
    return sorted(
        tasks,
        key=lambda t: (
            worst[t.data.get("article", "")],
            t.data.get("article", ""),
            t.data.get("start", 0),
            t.id,
        ),
    )


def _matches(article: str, patterns: list[str]) -> bool:
    return not patterns or any(fnmatch.fnmatch(article, p) for p in patterns)


def check_patterns(tasks: list[Task], patterns: list[str]) -> None:
    """A pattern of ``--articles`` that matches no article of the project (a typo, a missing ``*``)
    is one line naming it, not an empty batch that reads as "nothing left to label"."""
    articles = sorted({str(t.data.get("article", "")) for t in tasks})
    unmatched = [p for p in patterns if not any(fnmatch.fnmatch(a, p) for a in articles)]
    if not unmatched:
        return
    some = ", ".join(f"'{a}'" for a in articles[:3]) + (
        f", … {len(articles)} in all" if len(articles) > 3 else ""
    )
    raise StanceError(
        f"--articles {', '.join(repr(p) for p in unmatched)} matches no article of the project "
        f"({f'its articles: {some}' if articles else 'it has no tasks yet'}); nothing was written"
    )


def batch_row(task: Task) -> dict:
    d = task.data
    return {
        "task": task.id,
        "article": d.get("article"),
        "sentence_id": d.get("sentence_id"),
        "context_before": d.get("context_before", ""),
        "text": d.get("text"),
        "context_after": d.get("context_after", ""),
        "pairs": None,
    }


def next_batch(
    studio: Studio, project_id: int, name: str, overlap: int, limit: int, articles: list[str],
    over: Path | None = None,
) -> list[dict]:  # fmt: skip
    """The annotator's next tasks: not labeled by them, fewer than ``overlap`` labels, queue order.
    ``over``, the file the batch is to replace, must hold no labels the annotator has yet to submit."""
    uid = annotator_id(studio, name)
    every = tasks_of(studio, project_id)
    if not every:
        raise StanceError(
            "the project has no tasks yet: push articles with `stance labeling push`; nothing was written"
        )
    check_patterns(every, articles)
    open_ = [t for t in queue_order(every) if uid not in t.by and len(t.independent()) < overlap]
    if over:
        check_unsent(over, open_, f"--as {name}")
    return [batch_row(t) for t in open_ if _matches(t.data.get("article", ""), articles)][:limit]


def check_unsent(path: Path, open_: list[Task], submit_as: str) -> None:
    """Refuse to replace a batch file whose filled-in rows are still to be submitted (their tasks in
    ``open_``): `next -o batch.jsonl` again, before `submit`, replaced the labels set in it with empty
    rows, and they were lost. Rows already sent, or no longer wanted, do not count."""
    if not path.is_file():
        return
    try:
        filled = [task for _, task, pairs in batch_rows(path) if pairs not in (None, "")]
    except StanceError:
        return  # not a batch: written over, as any -o is
    ids = {t.id for t in open_}
    unsent = [task for task in filled if task in ids]
    if unsent:
        raise StanceError(
            f"{path}: the labels of {counted(len(unsent), 'row')} are not submitted yet (task {unsent[0]}, the first): "
            f"send them first (`stance labeling submit {path} {submit_as} --partial`), or write this batch "
            "to another file; nothing was written"
        )


def disagreements(
    studio: Studio, project_id: int, scheme: Scheme, articles: list[str], over: Path | None = None
) -> list[dict]:
    """Tasks whose independent annotations differ on the primary pair and have no review yet.
    ``over``, the file the batch is to replace, must hold no decision still to be submitted."""
    exported = studio.export(project_id)
    studio.check_labels(project_id, exported, scheme)
    names = studio.users()
    every = tasks_of(studio, project_id, exported)
    check_patterns(every, articles)
    if over:
        undecided = [t for t in every if not any(a.get("ground_truth") for a in t.annotations)]
        check_unsent(over, undecided, "--as REVIEWER --review")
    rows = []
    for t in queue_order(every):
        if not _matches(t.data.get("article", ""), articles) or any(
            a.get("ground_truth") for a in t.annotations
        ):
            continue
        labeled = {
            names.get(a["completed_by"], str(a["completed_by"])): result_to_pairs(
                a["result"], scheme, f"task {t.id}"
            )
            for a in t.independent()
        }
        if len({scheme.primary(list(p)) for p in labeled.values()}) > 1:
            rows.append(
                {
                    **batch_row(t),
                    "annotations": {k: [p.to_dict() for p in v] for k, v in labeled.items()},
                }
            )
    return rows


# -- submit ------------------------------------------------------------------------------
def submit(
    studio: Studio,
    project,
    scheme: Scheme,
    name: str,
    rows: list[BatchRow],
    review: bool,
    overlap: int | None = None,
) -> dict:
    """Post the rows as ``name``'s annotations (ground truth when reviewing) to ``project`` (the
    server's, with its id and title); already labeled ones are skipped. Refused whole: a task id
    the project does not have, a review by someone who labeled the task as an annotator, and a label
    for a task that already has ``overlap`` independent labels."""
    uid = annotator_id(studio, name)
    tasks = {t.id: t for t in tasks_of(studio, project.id)}
    unknown = [
        f"{r.where}: task {r.task} is not in project '{project.title}'" for r in rows if r.task not in tasks
    ]
    if unknown:
        header = f"{len(unknown)} rows of the batch name tasks that are not in project '{project.title}'"
        raise StanceError(one_or_several(unknown, f"{header}; nothing was sent:", alone="; nothing was sent"))
    own = [t for t, *_ in rows if any(a.get("completed_by") == uid for a in tasks[t].independent())]
    if review and own:  # the decision would be skipped as "already there", silently
        raise StanceError(
            f"{name} labeled task {own[0]} as an annotator ({len(own)} tasks of the batch): a review comes from "
            "someone who did not label the sentence (add a reviewer with `stance labeling add-annotator NAME`); "
            "nothing was sent"
        )
    if not review and overlap:
        full = [
            t for t, *_ in rows if uid not in tasks[t].by and len(tasks[t].independent()) >= overlap
        ]  # `next` would not have served them
        if full:
            raise StanceError(
                f"task {full[0]} already has {len(tasks[full[0]].independent())} annotators' labels, the project's "
                f"overlap of {overlap} ({len(full)} such tasks in the batch): take tasks from `stance labeling next`; "
                "nothing was sent"
            )
    added = skipped = 0
    for task, pairs, _ in rows:
        if uid in tasks[task].by:
            skipped += 1
            continue
        with studio.calls(f"adding {name}'s annotation to task {task}"):
            studio.client.annotations.create(
                task,
                result=pairs_to_result(pairs, scheme),
                completed_by=uid,
                ground_truth=review,
                was_cancelled=False,
            )
        added += 1
    return {"added": added, "skipped": skipped}
