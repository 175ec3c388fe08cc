"""The compare report's tables: the terminal table and the Markdown report, same columns."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from stance.console import counted
from stance.scheme import Scheme

if TYPE_CHECKING:
    from training.compare import Comparison, RunRow


# -- the terminal table ------------------------------------------------------------------
# the columns the terminal shows; the report (and ``stance compare --wide``) shows every one
HEADLINE = (
    "run", "kind", "model", "rolling F1", "rolling actor", "rolling actor P", "time F1", "time actor", "CV F1",
    "CV actor", "fit",
)  # fmt: skip


def columns(scheme: Scheme) -> list[tuple[str, str, callable]]:
    """(report header, terminal header, value-of-row) for every column of the tables."""

    def pm(name):  # a fold mean and its spread; a run logged without one shows a dash, not "nan ± nan"
        return lambda r: (
            "—"
            if np.isnan(r.m(name))
            else f"{r.m(name):.3f}" + ("" if np.isnan(r.m(name + "_std")) else f" ± {r.m(name + '_std'):.3f}")
        )

    def num(name, fmt="{:.3f}"):
        return lambda r: "—" if np.isnan(r.m(name)) else fmt.format(r.m(name))

    def pair(a, b):  # runs logged before a metric existed show a dash
        return lambda r: "—" if np.isnan(r.m(a)) else f"{r.m(a):.2f} / {r.m(b):.2f}"

    def ci(name):  # a figure with its 90 % bootstrap interval by article, or that it has none
        def shown(r):
            if np.isnan(r.m(name)):
                return "—"
            lo, hi = r.m(name + "_lo"), r.m(name + "_hi")
            if np.isnan(lo) or np.isnan(hi):  # a run logged by hand or by other code: "[nan–nan]"
                return f"{r.m(name):.3f} (no interval logged)"
            return f"{r.m(name):.3f} [{lo:.2f}–{hi:.2f}]"

        return shown

    cols = [
        ("run", "run", lambda r: r.entry),
        ("kind", "kind", lambda r: r.kind),
        ("registered model (aliases now)", "model", lambda r: r.model or "—"),
        ("rolling origin: stance macro-F1 [90% CI]", "rolling F1", ci("rolling_stance_macro_f1")),
        ("rolling origin: actor acc. end to end [90% CI]", "rolling actor", ci("rolling_actor_accuracy_e2e")),
        (
            "rolling origin: actor precision end to end [90% CI]",
            "rolling actor P",
            ci("rolling_actor_precision_e2e"),
        ),
        (
            "rolling origin, articles from outlets their model never trained on: stance macro-F1 [90% CI]",
            "new-outlet F1",
            ci("rolling_new_outlet_stance_macro_f1"),
        ),
        (
            "rolling origin, articles from outlets their model never trained on: actor acc. end to end [90% CI]",
            "new-outlet actor",
            ci("rolling_new_outlet_actor_accuracy_e2e"),
        ),
        ("time split: stance macro-F1 [90% CI]", "time F1", ci("time_stance_macro_f1")),
        ("time split: actor acc. end to end [90% CI]", "time actor", ci("time_actor_accuracy_e2e")),
        ("time split: actor precision end to end [90% CI]", "time actor P", ci("time_actor_precision_e2e")),
        ("time split: p ≥ 0.9, share / pair right", "time p≥.9", pair("time_p90_share", "time_p90_accuracy")),
        ("CV pooled: stance macro-F1 [90% CI]", "CV F1", ci("cv_stance_macro_f1")),
        ("CV pooled: actor acc. end to end [90% CI]", "CV actor", ci("cv_actor_accuracy_e2e")),
        ("stance macro-F1", "macro-F1", pm("stance_macro_f1")),
    ]
    cols += [(f"F1 {s}", s, num(f"stance_f1_{s}", "{:.2f}")) for s in scheme.stance_labels]
    cols += [
        ("actor acc. over every sentence", "actor acc. all", pm("actor_accuracy")),
        ("actor acc. (stance-bearing)", "bearing", num("actor_accuracy_stance_bearing")),
        (
            "profile pairs precision / recall",
            "pairs P/R",
            pair("profile_pair_precision", "profile_pair_recall"),
        ),
        ("stance ECE", "ECE", num("stance_ece")),
        ("CV time", "CV", num("cv_seconds", "{:.0f} s")),
        ("time split time (fit and scoring)", "time split", num("time_seconds", "{:.0f} s")),
        ("rolling origin time (its older blocks)", "rolling", num("rolling_seconds", "{:.0f} s")),
        ("final fit", "fit", num("train_seconds", "{:.0f} s")),
    ]
    return cols


def print_tables(comp: Comparison, scheme: Scheme, wide: bool = False) -> None:
    """The ranked runs per data version: the headline columns (every column with ``wide``), each
    value whole: a narrow terminal folds a value onto a second line, never cuts it short."""
    from rich.table import Table

    from stance.console import console as stance_console

    cols = [c for c in columns(scheme) if wide or c[1] in HEADLINE]
    console = stance_console(40 + 22 * len(cols))  # a pipe or a log: as wide as the table needs
    if note := comp.mixed_note():
        console.print(f"[bold yellow]note:[/] {note}")
    for version in comp.data_versions:
        rows = comp.ranked(version)
        if not rows:
            continue
        table = Table(
            title=f"{comp.experiment}: data version {version}, ranked by rolling-origin stance macro-F1 "
            "(the time split's for runs logged before it)",
            caption=(
                "rolling: the time split and two older blocks, each scored by a model fitted on what is older,"
                " pooled; time: trained on the older articles, scored on the newest; CV: grouped CV's out-of-fold"
                " predictions pooled; [90% bootstrap interval by article]; actor: end to end, on the labeled"
                " stance-bearing sentences, right only when the predicted actor is the labeled one; actor P: end"
                " to end, of the sentences the model calls stance-bearing, the share labeled stance-bearing with"
                " the predicted actor; model: the run's registered version and the aliases it holds now"
                + (
                    "; new-outlet: the rolling origin's articles from an outlet no training article of their"
                    " block came from; macro-F1: fold mean ± std; per-class stance F1 pooled out-of-fold; bearing: best real"
                    " actor on stance-bearing sentences; pairs: (actor, stance) pairs per article, reported"
                    " against labeled; p≥.9: the newest articles' sentences predicted with p ≥ 0.9, their share"
                    " / of them, pair right"
                    if wide
                    else "; every column: the report below, or stance compare --wide"
                )
            ),
        )
        table.add_column("#", justify="right")
        for _, short, _ in cols:
            table.add_column(short, justify="left" if short in ("run", "kind") else "right", overflow="fold")
        for i, row in enumerate(rows, 1):
            table.add_row(str(i), *(value(row) for _, _, value in cols))
        console.print(table)
    if missing := comp.not_run():
        console.print(f"[bold yellow]not in this comparison:[/] {_not_run_note(comp, missing)}")
    for note in comp.notes:
        console.print(f"[bold yellow]note:[/] {note}")
    if comp.curve:
        console.print(f"learning curve: {len(comp.curve)} points, see the report's learning_curve.png")


# -- the Markdown report ------------------------------------------------------------------
def _uncommitted(comp: Comparison, commits: list[str]) -> str:
    """What the commit does not say when runs were trained with uncommitted changes (``-dirty``):
    the source hashes of the code that did train them, so runs trained by different code under
    one dirty commit are not read as one code's."""
    if not any(c.endswith("-dirty") for c in commits):
        return ""
    codes = sorted({r.tags["code_version"] for r in comp.rows if r.tags.get("code_version")})
    # a code version a run at a clean commit was trained by is that commit's code: the uncommitted
    # changes of the other runs with it were outside the sources (the README edited during a train)
    clean = {
        r.tags["code_version"]: r.tags["git_commit"]
        for r in sorted(comp.rows, key=lambda r: r.tags.get("git_commit", ""))
        if r.tags.get("code_version") and not r.tags.get("git_commit", "-dirty").endswith("-dirty")
    }
    if codes and all(c in clean for c in codes):
        held = ", ".join(f"`{c}` = commit `{clean[c]}`" for c in codes)
        return (
            f", with uncommitted changes outside the Python sources: {counted(len(codes), 'code version')} "
            f"({held}; each run's `code_version` tag)"
        )
    return (
        f", with uncommitted changes: {counted(len(codes), 'code version')} "
        f"({', '.join(f'`{c}`' for c in codes)}; each run's `code_version` tag), so no commit holds the "
        "code of every run"
    )


def markdown(comp: Comparison, scheme: Scheme, images: list[str]) -> str:
    lines = [f"# Experiment `{comp.experiment}`", ""]
    specs = sorted({r.tags.get("spec", "") for r in comp.rows} - {""})
    commits = sorted({r.tags.get("git_commit", "?") for r in comp.rows})
    lines += [
        f"Written by `stance compare {comp.experiment}` from the MLflow runs"
        + (f" of `{'`, `'.join(specs)}`" if specs else "")
        + f"; the runs were trained by the code at git commit {', '.join(f'`{c}`' for c in commits)}"
        + _uncommitted(comp, commits)
        + ".",
        "Runs are ranked by the champion rule's first figure, stance macro-F1 over the **rolling origin** (the time",
        "split and two older blocks, each scored by a model fitted only on the articles older than it, pooled); runs",
        "logged before it, by the **time split** alone (trained on the older articles, scored on the newest). Intervals are 90 % bootstrap intervals by article (1,000",
        "resamples of whole articles). Actor accuracy end to end: on sentences whose labeled stance is not",
        "`none`, right only when the predicted actor is the labeled primary actor; actor precision end to end,",
        "its companion: of the sentences the model calls stance-bearing, the share labeled stance-bearing with",
        "the predicted actor as primary actor (the first rewards calling stances, this one pays for each",
        "called where the labels hold none). CV pooled: grouped",
        "cross-validation's out-of-fold predictions, all folds together. The other metrics are grouped",
        "cross-validation by article (mean ± standard deviation over folds;",
        "per-class F1 pooled over the out-of-fold predictions). Profile pairs: the distinct (actor, stance)",
        "pairs each article's profile reports, against those its labels hold, pooled over articles",
        "(— for runs logged before this figure existed).",
        "",
    ]
    if note := comp.mixed_note():
        lines += [f"**Note: {note}.**", ""]
    if missing := comp.not_run():
        lines += [f"**Not in this report:** {_not_run_note(comp, missing)}.", ""]
    lines += [line for note in comp.notes for line in (f"**Note:** {note}.", "")]
    for version in comp.data_versions:
        rows = comp.ranked(version)
        if rows:
            lines += [f"## Data version `{version}`", "", *_md_table(rows, scheme), ""]
    if comp.curve:
        lines += ["## Learning curve", "", *_md_curve(comp.curve), ""]
    for image in images:
        lines += [f"![{image.removesuffix('.png').replace('_', ' ')}]({image})", ""]
    return "\n".join(lines).rstrip() + "\n"


def _not_run_note(comp: Comparison, missing: list[str]) -> str:
    names = ", ".join(f"`{n}`" for n in missing)
    return (
        f"the spec's runs {names} have no finished run in this store "
        "(`stance experiment run SPEC` trains them; finished runs are skipped)"
    )


def _md_table(rows: list[RunRow], scheme: Scheme) -> list[str]:
    cols = columns(scheme)
    out = ["| # | " + " | ".join(h for h, _, _ in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for i, row in enumerate(rows, 1):
        out.append(f"| {i} | " + " | ".join(value(row) for _, _, value in cols) + " |")
    return out


def _md_curve(points: list[RunRow]) -> list[str]:
    out = [
        "| run | share of training articles | training sentences (mean per fold) | stance macro-F1 |",
        "|---|---|---|---|",
    ]
    for r in sorted(points, key=lambda r: (r.entry, r.data_version, r.train_share)):
        out.append(
            f"| {r.entry} | {r.train_share:.0%} | {r.m('train_sentences'):.0f} | "
            f"{r.m('stance_macro_f1'):.3f} ± {r.m('stance_macro_f1_std'):.3f} |"
        )
    return out
