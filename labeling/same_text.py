"""The same article twice: an article whose sentence texts another article already holds (the same
text under another file name, a re-saved page with a changed line, an excerpt), found by its
sentences' texts with spaces and case normalised. ``stance labeling push`` (labeling/loop.py) skips
such an article with a note naming both, ``status`` lists the project's copies (labeling/sync.py),
and the labeling plan leaves out an article its folder holds twice (training/plan_studio.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from labeling.segment import Sentence
from labeling.snapshot import latest_snapshot
from stance.console import one_line
from stance.io import read_jsonl

# An article at least this share of whose sentences one other article holds is that article again
# (the same text under another file name, a re-saved page with a changed line): push skips it.
SAME_TEXT_SHARE = 0.9


def normal_text(text: str) -> str:
    """A sentence's text as copies are matched: spaces and case normalised (a re-saved page, a
    renamed file or a sentence copied out of an article hold the same sentence under another id)."""
    return one_line(text).casefold()


class SentenceIndex:
    """Which articles hold each sentence text (spaces and case normalised)."""

    def __init__(self) -> None:
        self.holders: dict[str, set[str]] = defaultdict(set)
        self.sizes: Counter[str] = Counter()

    def add(self, article: str, texts: set[str]) -> None:
        for text in texts:
            if article not in self.holders[text]:
                self.holders[text].add(article)
                self.sizes[article] += 1

    def same_text(self, article: str, texts: set[str]) -> tuple[str, int] | None:
        """(the other article that holds at least SAME_TEXT_SHARE of ``texts``, how many), if any."""
        hits = Counter(a for t in texts for a in self.holders.get(t, ()) if a != article)
        if not hits:
            return None
        other, n = min(hits.items(), key=lambda kv: (-kv[1], kv[0]))
        return (other, n) if n >= SAME_TEXT_SHARE * len(texts) else None


def _texts_by_article(exported: list[dict]) -> dict[str, set[str]]:
    by_article: dict[str, set[str]] = defaultdict(set)
    for task in exported:
        data = task.get("data", {})
        if isinstance(data.get("article"), str) and isinstance(data.get("text"), str):
            by_article[data["article"]].add(normal_text(data["text"]))
    return by_article


def copies(exported: list[dict]) -> list[str]:
    """The project's articles that another of its articles holds again (pushed under two file
    names before push checked for it, or imported so): one line each, naming both, so a copy's
    tasks can be deleted before its sentences are labeled twice."""
    by_article = _texts_by_article(exported)
    index = SentenceIndex()
    for article, texts in by_article.items():
        index.add(article, texts)
    lines, seen = [], set()
    for article in sorted(by_article):
        found = index.same_text(article, by_article[article])
        if found and frozenset((article, found[0])) not in seen:
            seen.add(frozenset((article, found[0])))
            n, size = found[1], len(by_article[article])
            lines.append(f"'{article}' is '{found[0]}' again ({n} of its {size} sentences are there)")
    return lines


def _labeled_texts() -> tuple[str, dict[str, set[str]]]:
    """The committed snapshot's name and its sentence texts by article (none without a snapshot)."""
    snapshot = latest_snapshot(required=False)
    by_article: dict[str, set[str]] = defaultdict(set)
    for _, row in read_jsonl(snapshot) if snapshot else ():
        if isinstance(row.get("article"), str) and isinstance(row.get("text"), str):
            by_article[row["article"]].add(normal_text(row["text"]))
    return (snapshot.name if snapshot else ""), by_article


def distinct_articles(
    read: list[tuple[Path, list[Sentence]]], exported: list[dict], title: str, notes: list[str]
) -> list[list[Sentence]]:
    """The articles to push: each one whose text the project holds under another article id, the
    labeled snapshot holds under another id, or an article earlier in the push has, is left out
    with a note naming both. An article whose own id is in the project already is a re-push (its
    tasks are there, keyed by sentence id), and one whose own id is labeled is pushed on purpose
    (to label it again): kept."""
    on_server, here, labeled = SentenceIndex(), SentenceIndex(), SentenceIndex()
    by_article = _texts_by_article(exported)
    for article, texts in by_article.items():
        on_server.add(article, texts)
    snapshot, labeled_texts = _labeled_texts()
    for article, texts in labeled_texts.items():
        labeled.add(article, texts)
    pushed: dict[str, Path] = {}
    kept = []
    for path, sentences in read:
        article = sentences[0].article if sentences else path.stem
        texts = {normal_text(s.text) for s in sentences}
        if article not in by_article and texts:
            if found := on_server.same_text(article, texts):
                notes.append(
                    same_text_note(path, found, len(texts), on_server, f"already in project '{title}'")
                )
                continue
            if article not in labeled_texts and (found := labeled.same_text(article, texts)):
                where = f"labeled in the snapshot {snapshot} (push it as {found[0]} to label it again)"
                notes.append(same_text_note(path, found, len(texts), labeled, where))
                continue
            if found := here.same_text(article, texts):
                where = f"({pushed[found[0]]}) earlier in this push"
                notes.append(same_text_note(path, found, len(texts), here, where))
                continue
        here.add(article, texts)
        pushed.setdefault(article, path)
        kept.append(sentences)
    return kept


def same_text_note(path: Path, found: tuple[str, int], size: int, index: SentenceIndex, where: str) -> str:
    """The line that says ``path`` holds the text of article ``found[0]`` and is skipped (push, plan)."""
    other, n = found
    if n == size == index.sizes[other]:
        same = "the same text as"
    elif n == size:  # an excerpt of the other
        same = f"all its {size} sentences are in"
    else:
        same = f"nearly the same text ({n} of its {size} sentences) as"
    return f"{path}: {same} article '{other}' {where}; skipped, so no sentence is labeled twice"
