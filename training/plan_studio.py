"""Where a labeling plan's candidates come from and where it goes (:mod:`training.plan`).

Candidates are the Label Studio project's tasks with no annotation yet, or the sentences of a
folder of articles that no snapshot holds: by id, or by text (spaces and case aside), so a labeled
article saved under another name is not planned again. ``apply`` writes the plan back into Label
Studio: each planned task's rank in its data (``plan_rank``) and a Data Manager tab, "plan", in
that order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from labeling.segment import Sentence
from stance.console import counted
from stance.errors import StanceError
from training.batch_inputs import ARTICLE_SUFFIXES, articles_folder, check_one_file_per_article

PLAN_VIEW = "plan"


@dataclass
class Candidate:
    sentence: Sentence
    task: int | None = None  # the Label Studio task, when the sentence comes from a project


@dataclass
class Labeled:
    """The sentences the snapshot holds: by id, and by text under any article id."""

    ids: set[str]
    texts: set[str]

    @classmethod
    def of(cls, sentences: list[Sentence]) -> Labeled:
        from labeling.same_text import normal_text

        return cls({s.sentence_id for s in sentences}, {normal_text(s.text) for s in sentences})

    def __contains__(self, sentence: Sentence) -> bool:
        from labeling.same_text import normal_text

        return sentence.sentence_id in self.ids or normal_text(sentence.text) in self.texts


def from_studio(
    studio, project_id: int, labeled: Labeled, notes: list[str] | None = None
) -> tuple[list[Candidate], dict[int, dict]]:
    """Tasks with no annotation (cancelled ones do not count), and every task's data by id. A task
    whose sentence the snapshot holds is left out, and ``notes`` says how many: the plan's "of 38"
    beside a project's 43 open tasks said nothing of the 5, which ``next`` still serves."""
    tasks = studio.export(project_id)
    if not tasks:  # as `next` says it; it was "every one has annotations or is in the snapshot"
        raise StanceError(
            "the project has no tasks yet: push articles with `stance labeling push`, or plan from their "
            "folder with --articles"
        )
    out, held, foreign = [], 0, 0
    for t in tasks:
        d = t.get("data", {})
        if any(not a.get("was_cancelled") for a in t.get("annotations", [])):
            continue
        if not {"article", "sentence_id", "text"} <= set(d):
            foreign += 1  # not a task of `stance labeling push`: no sentence to score
            continue
        sentence = Sentence(d["article"], d["sentence_id"], d.get("start"), d.get("end"), d["text"])
        if sentence not in labeled:
            out.append(Candidate(sentence, t["id"]))
        else:
            held += 1
    if notes is not None:
        notes += left_out_notes(held, foreign)
    return out, {t["id"]: t.get("data", {}) for t in tasks}


def left_out_notes(held: int, foreign: int) -> list[str]:
    """Why open tasks of the project are not in the plan, which ``next`` still serves after it: the
    plan's "of 38" beside 43 open tasks said nothing of the 5."""
    it = lambda n, one, many: one if n == 1 else many  # noqa: E731
    why = [
        (held, f"the snapshot already holds {it(held, 'its sentence', 'their sentences')} (by id or by text)"),
        (foreign, f"{it(foreign, 'it was', 'they were')} not made by `stance labeling push` (no article and sentence id)"),
    ]  # fmt: skip
    return [
        f"{counted(n, 'open task')} of the project left out: {reason}; `next` serves {it(n, 'it', 'them')} "
        "after the planned ones"
        for n, reason in why
        if n
    ]


def article_files(folder: Path) -> list[Path]:
    """The article files of the folder, or of its ``articles/`` folder where it has one (coverage's
    layout, which ``report`` and ``score-batch`` read; plan found no article there), or one line
    saying why there are none to read."""
    if not folder.exists():
        raise StanceError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise StanceError(f"{folder} is a file; --articles takes a folder of articles")
    where = articles_folder(folder)
    files = sorted(p for p in where.iterdir() if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES)
    if not files:
        raise StanceError(
            f"{folder}: no article files (.txt, .html, .htm, .pdf) in it or in its articles/ folder to plan from"
        )
    check_one_file_per_article(files)  # x.txt beside x.html: two texts planned as one article 'x'
    return files


def from_folder(folder: Path, labeled: Labeled, notes: list[str]) -> list[Candidate]:
    """The sentences of the folder's articles that no snapshot holds. An article whose text an
    earlier one of the folder holds (a page saved under two names) is left out with a note, as
    ``push`` leaves it out: planned, its sentences took the budget twice and never became tasks."""
    from labeling.articles import check_any_read
    from labeling.same_text import SentenceIndex, normal_text, same_text_note
    from labeling.segment import segment

    files = article_files(folder)
    here, seen, out, n_sentences, skipped = SentenceIndex(), {}, [], 0, []
    for path in files:
        if (article := _read_or_skip(path, skipped, notes)) is None:
            continue
        sentences = segment(article)
        article = sentences[0].article if sentences else path.stem
        texts = {normal_text(s.text) for s in sentences}
        if texts and (found := here.same_text(article, texts)):
            where = f"({seen[found[0]]}) earlier in this folder"
            notes.append(same_text_note(path, found, len(texts), here, where))
            continue
        here.add(article, texts)
        seen.setdefault(article, path)
        n_sentences += len(sentences)
        out += [Candidate(s) for s in sentences if s not in labeled]
    n = len(files)
    check_any_read(folder, skipped, n)
    if not n_sentences:
        raise StanceError(
            f"{folder}: its {n} article file{'s' if n > 1 else ''} hold{'' if n > 1 else 's'} no sentences to plan"
        )
    if not out:
        raise StanceError(
            f"no unlabeled sentences to plan: the snapshot holds every sentence of the {len(seen)} "
            f"article{'s' if len(seen) > 1 else ''} in {folder} (by id or by text)"
        )
    return out


def _read_or_skip(path: Path, skipped: list[dict], notes: list[str]):
    """The article, or None with a line saying why it is skipped (an empty download, a binary
    file): the folder's other articles are planned, as ``report`` and ``score-batch`` read past such
    a file. It stopped the whole plan, naming only that file."""
    from labeling.articles import read_article

    try:
        return read_article(path)
    except StanceError as exc:
        skipped.append({"file": str(path), "error": str(exc)})
        notes.append(
            f"{exc}; skipped: not an article (leave it out of `stance labeling push`, which refuses it)"
        )
        return None


def apply(studio, project_id: int, picked: list[dict], data: dict[int, dict]) -> int:
    """Write ``plan_rank`` into the planned tasks (clearing old ranks) and keep the "plan" tab."""
    ranks = {p["task"]: p["rank"] for p in picked}
    changed = 0
    for task, d in data.items():
        if ranks.get(task) == d.get("plan_rank") or (task not in ranks and "plan_rank" not in d):
            continue
        new = {k: v for k, v in d.items() if k != "plan_rank"} | (
            {"plan_rank": ranks[task]} if task in ranks else {}
        )
        with studio.calls(f"writing the plan rank of task {task}"):
            studio.client.tasks.update(id=str(task), data=new)
        changed += 1
    view = {
        "title": PLAN_VIEW,
        "ordering": ["tasks:data.plan_rank"],
        "filters": {
            "conjunction": "and",
            "items": [
                {
                    "filter": "filter:tasks:data.plan_rank",
                    "operator": "empty",
                    "type": "Number",
                    "value": False,
                }
            ],
        },
    }
    with studio.calls("keeping the plan tab"):
        found = [
            v
            for v in studio.client.views.list(project=project_id)
            if (v.data or {}).get("title") == PLAN_VIEW
        ]
        if found:
            studio.client.views.update(id=str(found[0].id), project=project_id, data=view)
        else:
            studio.client.views.create(project=project_id, data=view)
    return changed
