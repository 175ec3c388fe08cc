"""The next sentences worth labeling: ``stance labeling plan --budget N [--apply]``.

The unlabeled sentences are the tasks of a Label Studio project that have no annotation yet,
or, with ``--articles FOLDER``, the sentences of those articles that no snapshot holds. The
simulation's stand-in (training/simulate.py), trained on every labeled sentence, scores them,
and the strategy the last simulation found best (fewest labels to its target) picks ``N``.

Per (actor, stance) cell the plan shows the labeled count, the current F1 (the stand-in trained
on the train split, scored on the held-out test split), and the expected gain: the cell's
measured F1 slope per doubling of the pool (train on half of it, then all of it) times the
doublings the planned sentences add to the cell, counting each planned sentence as the
model's probability that it holds the cell's pair. It is an extrapolation, and says so. A cell
whose F1 did not rise from half the pool to all of it shows "no rise", never a negative gain.

``--apply`` writes each planned task's rank into its data (``plan_rank``) and keeps a Data
Manager tab, "plan", that shows only the planned tasks in that order; "Label All Tasks" from
that tab serves them in plan order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from labeling.page_lines import one_line_read
from stance.errors import StanceError
from stance.scheme import Scheme
from training.plan_studio import PLAN_VIEW, Candidate, Labeled, apply, from_folder, from_studio
from training.simulate import STRATEGIES, Split, StandIn, confidences, load_splits, select


def cells(scheme: Scheme) -> list[tuple[str, str]]:
    """Every (actor, stance) cell of the scheme, and (none, none) for no stance."""
    stances = [s for s in scheme.stance_labels if s != scheme.none]
    return [(a, s) for a in scheme.actors for s in stances] + [(scheme.none, scheme.none)]


def cell_ids(actors: np.ndarray, stances: np.ndarray, scheme: Scheme) -> list[tuple[str, str]]:
    return [(scheme.actor_labels[a], scheme.stance_labels[s]) for a, s in zip(actors, stances, strict=True)]


def cell_proba(
    actor_p: np.ndarray, stance_p: np.ndarray, scheme: Scheme
) -> dict[tuple[str, str], np.ndarray]:
    """p(cell) per sentence: p(stance) x p(actor | a stance), and p(no stance) for (none, none)."""
    none_s = scheme.labels.none_stance_id
    holders = np.maximum(actor_p[:, scheme.labels.real_actor_ids].sum(axis=1), 1e-9)
    out = {}
    for a, s in cells(scheme):
        if s == scheme.none:
            out[(a, s)] = stance_p[:, none_s]
        else:
            ai, si = scheme.actor_labels.index(a), scheme.stance_labels.index(s)
            out[(a, s)] = stance_p[:, si] * actor_p[:, ai] / holders
    return out


def cell_f1(model: StandIn, test: Split, rows: np.ndarray, scheme: Scheme) -> dict[tuple[str, str], float]:
    from training.evaluate import predicted_ids

    a_p, s_p = model.predict_proba(rows)
    a_pred, s_pred = predicted_ids(a_p, s_p, scheme)
    gold, pred = cell_ids(test.actors, test.stances, scheme), cell_ids(a_pred, s_pred, scheme)
    out = {}
    for c in cells(scheme):
        tp = sum(g == c and p == c for g, p in zip(gold, pred, strict=True))
        n_gold, n_pred = gold.count(c), pred.count(c)
        out[c] = 2 * tp / (n_gold + n_pred) if n_gold + n_pred else float("nan")
    return out


def best_strategy(summary_file: Path, data_version: str | None = None) -> tuple[str, str]:
    """(strategy, why): the last simulation's fastest to its target, else ``diverse``; ``why`` says
    when that simulation ran on other labels than ``data_version``'s."""
    if summary_file.is_file():
        try:
            summary = json.loads(summary_file.read_text(encoding="utf-8"))
            reached = {s: v["labels"] for s, v in summary["to_target"].items() if v["labels"] is not None}
        except (
            ValueError,
            TypeError,
            KeyError,
            AttributeError,
        ) as exc:  # cut or hand-edited: was a traceback
            what = (
                "not valid JSON"
                if isinstance(exc, ValueError)
                else "not a summary of `stance labeling simulate`"
            )
            return "diverse", f"{summary_file} is {what}; run `stance labeling simulate` again"
        if reached:
            best = min(reached, key=reached.get)
            why = f"fewest labels to the target in {summary_file} ({reached[best]:.0f})"
            ran_on = summary.get("data_version")
            if data_version and ran_on and ran_on != data_version:
                why += (
                    f"; simulated on data {ran_on}, the labels are now {data_version}: "
                    "run `stance labeling simulate` again"
                )
            return best, why
    return "diverse", f"no simulation summary at {summary_file}; run `stance labeling simulate`"


def plan(
    candidates: list[Candidate], pool: Split, test: Split, scheme: Scheme, budget: int, strategy: str,
    quota: int = 3, seed: int = 0,
) -> dict:  # fmt: skip
    """The chosen candidates (in labeling order) and the per-cell table."""
    if not candidates:
        raise StanceError("no unlabeled sentences to plan: every one has annotations or is in the snapshot")
    if strategy not in STRATEGIES:
        raise StanceError(f"unknown strategy '{strategy}'; choose from {', '.join(STRATEGIES)}")
    texts = [s.text for s in pool.sentences + test.sentences] + [c.sentence.text for c in candidates]
    model = StandIn(scheme, texts)
    n_pool, n_lab = len(pool), len(pool) + len(test)
    test_rows, cand_rows = np.arange(n_pool, n_lab), np.arange(n_lab, len(texts))

    # the current F1 per cell, and its slope from half the pool to all of it
    half = np.random.default_rng(seed).choice(n_pool, size=max(2, n_pool // 2), replace=False)
    f1_half = cell_f1(model.fit(half, pool.actors[half], pool.stances[half]), test, test_rows, scheme)
    full = np.arange(n_pool)
    f1_now = cell_f1(model.fit(full, pool.actors, pool.stances), test, test_rows, scheme)

    # choose with everything labeled so far
    labeled = np.arange(n_lab)
    model.fit(
        labeled, np.concatenate([pool.actors, test.actors]), np.concatenate([pool.stances, test.stances])
    )
    a_p, s_p = model.predict_proba(cand_rows)
    conf = confidences([c.sentence for c in candidates], a_p, s_p, scheme)
    articles = np.array([c.sentence.article for c in candidates])
    rng = np.random.default_rng(seed)
    chosen = select(strategy, np.arange(len(candidates)), budget, rng, conf, articles, quota)

    counts_all = cell_ids(
        np.concatenate([pool.actors, test.actors]), np.concatenate([pool.stances, test.stances]), scheme
    )
    counts_pool = cell_ids(pool.actors, pool.stances, scheme)
    counts_test = cell_ids(test.actors, test.stances, scheme)  # what each F1 rests on
    expected = {c: float(p[chosen].sum()) for c, p in cell_proba(a_p, s_p, scheme).items()}
    table = []
    for c in cells(scheme):
        n_now, n_half = counts_pool.count(c), sum(1 for i in half if counts_pool[i] == c)
        slope = None
        if n_now > n_half > 0 and not np.isnan(f1_now[c]) and not np.isnan(f1_half[c]):
            slope = (f1_now[c] - f1_half[c]) / np.log2(n_now / n_half)
        # a cell whose F1 did not rise from half the pool to all of it has no gain to extrapolate:
        # its drop is noise at these counts, not a sign that labels would hurt
        gain = (
            None
            if slope is None or slope <= 0
            else slope * np.log2((counts_all.count(c) + expected[c]) / counts_all.count(c))
        )
        table.append({
            "actor": c[0], "stance": c[1], "labeled": counts_all.count(c),
            "f1": None if np.isnan(f1_now[c]) else round(f1_now[c], 3), "test": counts_test.count(c),
            "expected_new": round(expected[c], 1),
            "f1_slope": None if slope is None else round(float(slope), 3),
            "expected_gain": None if gain is None else round(float(gain), 3),
        })  # fmt: skip
    picked = [
        {"rank": r, "task": candidates[i].task, "article": candidates[i].sentence.article,
         "sentence_id": candidates[i].sentence.sentence_id, "confidence": round(float(conf[i]), 4),
         "text": candidates[i].sentence.text}
        for r, i in enumerate(chosen, 1)  # rank 1 is labeled first
    ]  # fmt: skip
    return {
        "strategy": strategy,
        "budget": budget,
        "unlabeled": len(candidates),
        "plan": picked,
        "cells": table,
    }


SHOWN = 10  # planned sentences printed; -o writes them all
TABLE_TITLE = (
    "per (actor, stance) cell: F1 now is measured on the cell's 'of test' labeled test sentences (a few "
    "say little); expected new: how many of the planned sentences the stand-in expects in the cell (its "
    "probabilities summed); expected gain is an extrapolation of the measured F1 slope, 'no rise' where "
    "F1 did not rise from half the labels to all, '-' where there is no slope to measure (no labels of "
    "the cell in half the pool, or no test sentence)"
)


def print_plan(result: dict, why: str, console, next_step: str = "") -> None:
    from rich.table import Table

    console.print(
        f"{len(result['plan'])} of {result['unlabeled']} unlabeled sentences by '{result['strategy']}' ({why})"
    )
    t = Table(title=TABLE_TITLE)
    for col in ("actor", "stance", "labeled", "F1 now", "of test", "expected new", "expected gain"):
        t.add_column(col, justify="left" if col in ("actor", "stance") else "right", no_wrap=True)
    fmt = lambda v: "-" if v is None else f"{round(v, 3) or 0.0:.3f}" if isinstance(v, float) else str(v)  # noqa: E731  (never -0.000)
    for c in result["cells"]:
        t.add_row(
            c["actor"],
            c["stance"],
            str(c["labeled"]),
            fmt(c["f1"]),
            str(c["test"]),
            f"{c['expected_new']:.1f}",
            "no rise" if c.get("f1_slope") is not None and c["f1_slope"] <= 0 else fmt(c["expected_gain"]),
        )
    console.print(t)
    console.print("  rank  stand-in's confidence  sentence: the planned sentences, to label in this order")
    for p in result["plan"][:SHOWN]:
        console.print(
            f"  {p['rank']:>4}  {p['confidence']:>21.2f}  {p['sentence_id']}  {one_line_read(p['text'])[:90]}"
        )
    if len(result["plan"]) > SHOWN:
        console.print(f"  … and {len(result['plan']) - SHOWN} more (-o FILE writes them all)")
    if next_step:
        console.print(f"next: {next_step}")


def cli(
    budget: Annotated[int, typer.Option(min=1, help="How many sentences to plan.")],
    apply_plan: Annotated[
        bool, typer.Option("--apply", help="Rank the planned tasks in Label Studio.")
    ] = False,
    articles: Annotated[
        Path | None, typer.Option(help="Plan from this folder of articles, not Label Studio.")
    ] = None,
    project: Annotated[
        str,
        typer.Option("--project", "-p", help="Project title [env LABEL_STUDIO_PROJECT, default 'stance']."),
    ] = "",
    strategy: Annotated[
        str | None, typer.Option(help="random, uncertainty or diverse [default: the simulation's best].")
    ] = None,
    quota: Annotated[int, typer.Option(min=1, help="diverse: at most this many sentences per article.")] = 3,
    snapshot: Annotated[Path | None, typer.Option(help="Annotation snapshot [default: the latest].")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Also write the plan as JSON here.")] = None,
) -> None:
    """Choose the next sentences to label and show, per (actor, stance) cell, what they should buy."""

    from rich.console import Console
    from rich.markup import escape

    from stance import paths
    from stance.io import check_writable, write_atomic

    if out:
        check_writable(out, "plan")  # before the data and the server: it printed the plan, then failed
    if apply_plan and articles:
        raise StanceError("--apply ranks Label Studio tasks; it cannot apply a plan made from --articles")
    if strategy is not None and strategy not in STRATEGIES:  # before the data and the server
        raise StanceError(f"unknown strategy '{strategy}'; choose from {', '.join(STRATEGIES)}")
    scheme = Scheme.load()
    pool, test = load_splits(scheme, snapshot)
    labeled = Labeled.of(pool.sentences + test.sentences)
    why = f"chosen with --strategy {strategy}"
    if strategy is None:
        from labeling.snapshot import data_version, latest_snapshot

        strategy, why = best_strategy(
            paths.state() / "simulate" / "summary.json", data_version(snapshot or latest_snapshot())
        )
    studio = data = project_id = None
    notes: list[str] = []
    if articles:
        candidates = from_folder(articles, labeled, notes)
    else:
        from labeling.studio import Studio, project_title

        studio = Studio.connect()
        project_id = studio.project(project_title(project)).id
        candidates, data = from_studio(studio, project_id, labeled, notes)
    result = plan(candidates, pool, test, scheme, budget, strategy, quota)
    console = Console(highlight=False, soft_wrap=True, width=max(Console().width, 110))
    for note in notes:  # a note names files, whose names may hold [brackets]
        console.print(escape(note))
    if articles:  # Label Studio serves what is labeled: the plan is a preview until the articles are there
        from training.batch_inputs import articles_folder

        next_step = (
            f"push these articles (`stance labeling push {articles_folder(articles)}/…`), then `stance labeling plan "
            f"--budget {budget} --apply` ranks their tasks in Label Studio's '{PLAN_VIEW}' tab"
        )
    elif not apply_plan:
        next_step = f"--apply ranks these tasks in Label Studio's '{PLAN_VIEW}' tab, to label in this order"
    else:
        next_step = ""
    print_plan(result, why, console, next_step)
    if out:
        write_atomic(out, json.dumps(result, indent=2) + "\n")
    if apply_plan:
        n = apply(studio, project_id, result["plan"], data)
        console.print(
            f"plan applied: {len(result['plan'])} tasks ranked in the '{PLAN_VIEW}' tab ({n} tasks updated, "
            "old ranks cleared); Label All Tasks from that tab"
        )
