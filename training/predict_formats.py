"""Predict's output formats: JSON lines, CSV and a rich table with each article's profile."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from enum import StrEnum
from typing import TYPE_CHECKING

from labeling.articles import origin_line
from labeling.page_lines import one_line_read
from stance.console import counted
from training.inputs import PROFILE
from training.outputs import HOLDER_COLUMNS
from training.reliability import CHECK_EACH, FEW, call_note, seldom_right

if TYPE_CHECKING:
    from stance.scheme import Scheme
    from training.predict import ArticleResult


class Format(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    table = "table"


def to_jsonl(results: list[ArticleResult]) -> str:
    lines = [
        json.dumps({"kind": "sentence", **asdict(p), "p": round(p.confidence, 4)}, ensure_ascii=False)
        for r in results
        for p in r.sentences
    ]
    lines += [json.dumps({"kind": PROFILE, **article_record(r)}, ensure_ascii=False) for r in results]
    return "".join(line + "\n" for line in lines)


def article_record(r: ArticleResult) -> dict:
    """An article's profile as JSONL and ``--profile`` write it: its id, then its date, outlet, url
    and headline where an articles.tsv names it (the keys score-batch's rows carry), then the profile."""
    return {"article": r.article, **r.meta, **r.profile}


# what made the predictions, as the JSONL's profile lines name it: the model (a URI naming its
# version, or a folder's absolute path) and the data version it was fitted to; the CSV has no
# profile lines, so each row carries them (a spreadsheet or pandas.read_csv reads them as columns)
PROVENANCE = ("model", "data_version")


def to_csv(results: list[ArticleResult], scheme: Scheme) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    head = ["article", "sentence_id", "start", "end", "text", "actor", "stance", "p"]
    writer.writerow(
        head
        + [f"actor:{a}" for a in scheme.actor_labels]
        + [f"stance:{s}" for s in scheme.stance_labels]
        + list(HOLDER_COLUMNS)
        + ["pair_right", "pair_calls", *PROVENANCE]
    )
    for r in results:
        calls = _pair_calls(r)
        made_by = [r.profile.get(k) or "" for k in PROVENANCE]
        for p in r.sentences:
            writer.writerow(
                [p.article, p.sentence_id, p.start, p.end, p.text, p.actor, p.stance, round(p.confidence, 4)]
                + list(p.actor_scores.values()) + list(p.stance_scores.values())
                + [(p.holder or {}).get(k) or "" for k in ("phrase", "actor", "from")]
                + ["" if p.pair_right is None else p.pair_right, calls.get((p.actor, p.stance), "")]
                + made_by
            )  # fmt: skip
    return buf.getvalue()


def _pair_calls(r: ArticleResult) -> dict[tuple[str, str], int]:
    """How many times the model called each pair of the article on articles it never saw (its
    profile's trust): beside a blank ``pair_right`` a number under ``FEW`` says "too few calls to
    measure", where a blank says "no stance" (or a model logged without the measure)."""
    return {(e["actor"], e["stance"]): e["trust"]["called"] for e in r.profile["evidence"] if "trust" in e}


def to_table(results: list[ArticleResult], scheme: Scheme, width: int = 120) -> str:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=io.StringIO(), width=width, force_terminal=False)
    for r in results:
        t = Table(
            title=f"{_named(r)}: {counted(len(r.sentences), 'sentence')}",
            caption="p: the model's confidence in the row's pair, p(stance) × p(actor | a stance), or "
            "p(no stance) on a row with none; holder read: "
            "who the parse reads as the holder of the row's stance, and the side it speaks for (? when "
            "no cue says; blank with no stance)",
            show_lines=False,
        )
        for col in ("#", "actor", "stance", "p", "holder read", "sentence"):
            t.add_column(col, overflow="fold")
        for i, p in enumerate(r.sentences, 1):
            # with no stance there is no holder of one: the parse's subject there reads as a claim
            holder = holder_cell(p.holder) if p.stance != scheme.none else ""
            t.add_row(str(i), p.actor, p.stance, f"{p.confidence:.2f}", holder, one_line_read(p.text))
        console.print(t)
        console.print(_profile_table(r, scheme))
        for e in r.profile["evidence"]:
            # p named: the profile above puts each pair's share right in brackets, "3 (0.26)"
            console.print(
                f"  {e['actor']} / {e['stance']}, its most confident sentence (p {e['p']:.2f}): {one_line_read(e['text'])}"
            )
            if "trust" in e:
                note = f"    on unseen articles, its calls of this pair: {call_note(e['trust'])}"
                if seldom := seldom_right(e["trust"]):  # the coverage report's words beside its evidence
                    note += f" · {seldom}: {CHECK_EACH}"
                console.print(note, soft_wrap=True)  # one line, however long: a reader greps it
        if measured := r.profile.get("trust_measured"):
            newest = measured.get("newest")
            recent = f"; the newest: {newest['articles']} articles from {newest['first']}" if newest else ""
            console.print(
                f"  (how far to trust each pair: read on {measured['articles']} articles the model never "
                f"saw, {measured['where']}{recent}; 90 % intervals by article)"
            )
        console.print()
    return console.file.getvalue()


def _named(r: ArticleResult) -> str:
    """An article as the table heads it: "headline · outlet, date · id" where its articles.tsv
    names it (the labeling task's header, :func:`labeling.articles.origin_line`), else its id."""
    return origin_line(r.article, {k: v for k, v in r.meta.items() if v})


def holder_cell(holder: dict | None) -> str:
    """'the defence minister → pakistan', 'He → afghan_taliban (earlier sentence)', '' for none."""
    if not holder:
        return ""
    where = "" if holder["from"] == "subject" else f" ({holder['from']})"
    return f"{holder['phrase']} → {holder['actor'] or '?'}{where}"


def _profile_table(r: ArticleResult, scheme: Scheme):
    from rich.table import Table

    stances = [s for s in scheme.stance_labels if s != scheme.none]
    t = Table(
        title=f"stance profile of {r.article} (no stance in {r.profile['no_stance']} of {counted(r.profile['sentences'], 'sentence')})"
    )
    t.add_column("actor")
    for s in stances:
        t.add_column(s, justify="right")
    trust = {(e["actor"], e["stance"]): e.get("trust") for e in r.profile["evidence"]}
    if r.profile.get("trust_measured"):
        t.caption = (
            "(0.xx): of the model's calls of that pair on articles it never saw, the share right; "
            f"(r/n): right of called, under {FEW} calls"
        )
    for actor, row in r.profile["counts"].items():
        if any(row.values()):
            t.add_row(actor, *(_count(row[s], trust.get((actor, s))) for s in stances))
    return t


def _count(n: int, cell: dict | None) -> str:
    """A profile cell: the count, and how often such calls were right where measured."""
    if not n:
        return "."
    if not cell:
        return str(n)
    if "precision" in cell:
        return f"{n} ({cell['precision']:.2f})"
    return f"{n} ({cell['right']}/{cell['called']})"
