"""Do the 90 % intervals by article cover 90 % of the time? (the statistician's check)

The project quotes 90 % percentile-bootstrap intervals by article (``training/intervals.py``) for
stance macro-F1, actor accuracy end to end and actor precision end to end, and per (actor,
stance) pair the share of calls right and of labels found (``training/reliability.py``: the same
bootstrap, Clopper–Pearson over the articles holding the calls where every resample gives the
same share). A percentile bootstrap over k clusters is known to run narrow when k is small; this
study measures by how much, on real predictions rather than a model of them.

The population: a run's grouped-CV out-of-fold predictions (every labeled article, each predicted
by a model that never saw it). Its figures over all its articles are the truth. Many samples of n
articles are drawn from it **with replacement** (an article drawn twice is two articles to the
bootstrap), so the population's articles stand for an endless supply of articles like them and
the population figure is exactly the quantity a sample estimates; each sample's interval is
computed with the project's own functions, and the share of samples whose interval holds the
truth is its coverage. Drawn *without* replacement, a sample of n holds a share n/N of a finite
population and varies less than a bootstrap assumes (by sqrt((N-n)/(N-1)) in spread), so coverage
reads high at large n: that design is reported beside, for the finite-population effect alone.

Trust cells are measured the same way at the article counts the real tables have (44: the time
split's test set; 133: the rolling origin's three blocks): each sample's table is
``reliability.pair_reliability`` itself, and each reported cell (at least ``reliability.FEW``
calls) is scored against its pair's share over the population, by how many of the sample's
articles hold the calls.

Beside the project's intervals, candidates that could mend undercoverage, on the same samples:
for the figures, the interval widened about its point by sqrt(n/(n-1)) (the bootstrap's variance
is the plug-in one, short by that factor), BCa (bias and skew corrected from a jackknife over
articles), and point +- t(n-1) x the bootstrap's standard deviation widened so; for the cells,
the bootstrap interval widened by sqrt(k/(k-1)) over the k articles holding the calls, and
Clopper–Pearson over an effective number of calls (the calls a binomial would need to vary as
much as the share does across articles; the k articles where the share is 0 or 1).

    .venv/bin/python experiments/interval_coverage.py OOF_JSONL [--samples 1000]

OOF_JSONL: a copy of a run's ``evaluation/oof_predictions.jsonl`` (e.g. the champion's). Prints
the tables with the hardware; writes experiments/interval-coverage/result.md and result.json, or
under ``--out``. No model is fitted; on 2 shared cores it takes a few minutes.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from statistics import NormalDist

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from train_recipes import hardware  # noqa: E402

from stance.errors import StanceError, script_main  # noqa: E402
from stance.io import write_atomic  # noqa: E402
from stance.scheme import Scheme  # noqa: E402
from training import intervals, reliability  # noqa: E402
from training.timesplit import row_ids  # noqa: E402

OUT = ROOT / "experiments" / "interval-coverage"
SIZES = (5, 10, 20, 44, 75, 133)  # 44: the time split's test articles; 133: the rolling origin's
CELL_SIZES = (44, 133)
BINS = ((1, 4), (5, 9), (10, 15), (16, 30), (31, 60), (61, 10**6))  # articles holding a cell's calls
METHODS = ("project", "widened", "t_widened", "t", "bca")
CELL_METHODS = ("project", "widened", "t_widened", "cp_eff")
SEED = 47


@functools.cache
def _draws(n_articles: int, resamples: int = intervals.RESAMPLES, seed: int = intervals.SEED) -> np.ndarray:
    """``intervals.draws``, kept per size: the same draws the project makes (its seed is fixed),
    read-only, made once instead of once per sample (they were most of the run time)."""
    w = _project_draws(n_articles, resamples, seed)
    w.setflags(write=False)
    return w


_project_draws, intervals.draws = intervals.draws, _draws


# ---- the population -------------------------------------------------------------------------


def load(path: Path, scheme) -> tuple[list[dict], dict]:
    """The prediction rows and every labeled pair of their sentences (the snapshot this checkout
    holds, as the trust table counts them); one error line where a sentence is not in it."""
    if not path.is_file():
        raise StanceError(f"{path}: no such file (a copy of a run's evaluation/oof_predictions.jsonl)")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    version = (ROOT / "labeling" / "snapshots" / "LATEST").read_text().strip()
    labeled = reliability.snapshot_pairs(version.removeprefix("annotations-").removesuffix(".jsonl"))
    missing = [r["sentence_id"] for r in rows if r["sentence_id"] not in (labeled or {})]
    if labeled is None or missing:
        raise StanceError(
            f"{path}: {len(missing)} of {len(rows)} sentences not in the annotation snapshot {version} "
            "(labeling/snapshots/): a run's out-of-fold rows of this checkout's data are needed"
        )
    return rows, labeled


class Population:
    """Per article: its sentences' ids (for the figures) and its per-pair counts (for the cells)."""

    def __init__(self, rows: list[dict], scheme, labeled: dict):
        articles, actors, stances, a_pred, s_pred = row_ids(rows, scheme)
        self.names = sorted(set(articles))
        index = {a: i for i, a in enumerate(self.names)}
        art = np.array([index[a] for a in articles])
        order = np.argsort(art, kind="stable")
        self.ids = np.column_stack([actors, stances, a_pred, s_pred])[order]
        self.starts = np.searchsorted(art[order], np.arange(len(self.names) + 1))
        self.rows = [rows[i] for i in order]
        self.n_stances, self.none = len(scheme.stance_labels), scheme.labels.none_stance_id
        self.pairs, self.labeled = scheme.pairs, labeled
        _, self.called, self.labeled_n, self.right = reliability.counts(self.rows, scheme.pairs, labeled)
        conf, held = intervals.per_article(
            articles, actors, stances, a_pred, s_pred, self.n_stances, self.none
        )
        self.truth = {k: float(v) for k, v in intervals.figures_of(conf.sum(0), held.sum(0)).items()}
        with np.errstate(invalid="ignore", divide="ignore"):
            self.precision = self.right.sum(0) / self.called.sum(0)
            self.recall = self.right.sum(0) / self.labeled_n.sum(0)

    def sample(self, picks: np.ndarray) -> tuple[list[int], np.ndarray]:
        """The sentences of the picked articles, each pick its own article: (article per sentence, ids)."""
        spans = [np.arange(self.starts[p], self.starts[p + 1]) for p in picks]
        unit = np.repeat(np.arange(len(picks)), [len(s) for s in spans])
        return unit.tolist(), self.ids[np.concatenate(spans)]

    def sample_rows(self, picks: np.ndarray) -> list[dict]:
        """The picked articles' prediction rows, an article drawn twice named twice (names that sort
        in the order of the picks, so the table's draws weigh the articles as :meth:`sample`'s)."""
        return [
            r | {"article": f"{j:04d}"}
            for j, p in enumerate(picks)
            for r in self.rows[self.starts[p] : self.starts[p + 1]]
        ]


# ---- the figures: the project's interval and the candidates ------------------------------------


def figure_intervals(pop: Population, picks: np.ndarray) -> dict[str, dict[str, tuple[float, float]]]:
    """Per figure, per method: the 90 % interval on the sample of ``picks``."""
    units, ids = pop.sample(picks)
    args = (units, *ids.T, pop.n_stances, pop.none)
    quoted = intervals.figures("s", *args)  # what a run logs
    conf, held = intervals.per_article(*args)
    point = intervals.figures_of(conf.sum(0), held.sum(0))
    w = intervals.draws(len(conf))
    boot = intervals.figures_of(np.einsum("ra,aij->rij", w, conf), w @ held)
    jack = intervals.figures_of(conf.sum(0) - conf, held.sum(0) - held)
    n = len(picks)
    out = {}
    for name in intervals.FIGURES:
        lo, hi = intervals.interval(boot[name])  # the percentile interval, from the run's own draws
        p = float(point[name])
        out[name] = {
            "project": (quoted.get(f"s_{name}_lo", np.nan), quoted.get(f"s_{name}_hi", np.nan)),
            "widened": _widen(p, lo, hi, np.sqrt(n / (n - 1))),
            "t_widened": _widen(p, lo, hi, _t_factor(n)),
            "bca": _bca(boot[name], p, jack[name]),
            "t": _t_interval(boot[name], p, n),
        }
    return out


def _widen(point: float, lo: float, hi: float, factor: float) -> tuple[float, float]:
    """An interval stretched about its point by ``factor``, kept within [0, 1]."""
    return max(0.0, point - factor * (point - lo)), min(1.0, point + factor * (hi - point))


def _t_factor(n: int) -> float:
    """How much wider a 90 % interval from n units should be than the bootstrap's: Student's t with
    n-1 degrees of freedom over the normal's quantile, times sqrt(n/(n-1)) (the bootstrap's plug-in
    variance is short by that); 1.45 at 5 articles, 1.03 at 44, 1.01 at 133."""
    from scipy.stats import t

    q = (1 + intervals.LEVEL) / 2
    return float(t.ppf(q, n - 1) / NormalDist().inv_cdf(q) * np.sqrt(n / (n - 1)))


def _bca(boot: np.ndarray, point: float, jack: np.ndarray) -> tuple[float, float]:
    """The BCa interval: percentiles moved by the bootstrap's median bias (z0) and the jackknife's
    skew (acceleration); the plain percentiles where the bootstrap does not move."""
    norm = NormalDist()
    boot, jack = boot[~np.isnan(boot)], jack[~np.isnan(jack)]
    if len(boot) == 0 or np.isnan(point):
        return float("nan"), float("nan")
    share = np.clip((np.sum(boot < point) + 0.5 * np.sum(boot == point)) / len(boot), 1e-3, 1 - 1e-3)
    z0 = norm.inv_cdf(share)
    d = jack.mean() - jack
    spread = np.sum(d**2)
    a = np.sum(d**3) / (6 * spread**1.5) if spread > 0 else 0.0
    z = np.array([norm.inv_cdf((1 - intervals.LEVEL) / 2), norm.inv_cdf((1 + intervals.LEVEL) / 2)])
    q = [norm.cdf(v) for v in z0 + (z0 + z) / (1 - a * (z0 + z))]
    lo, hi = np.percentile(boot, [100 * v for v in q])
    return float(lo), float(hi)


def _t_interval(boot: np.ndarray, point: float, n: int) -> tuple[float, float]:
    """point +- t(n-1) x the bootstrap's standard deviation widened by sqrt(n/(n-1)), within [0, 1]."""
    from scipy.stats import t

    if np.isnan(boot).all() or np.isnan(point):
        return float("nan"), float("nan")
    half = t.ppf((1 + intervals.LEVEL) / 2, n - 1) * np.nanstd(boot) * np.sqrt(n / (n - 1))
    return max(0.0, point - half), min(1.0, point + half)


def figure_coverage(pop: Population, sizes, samples: int, replace: bool, rng) -> dict:
    """Per size, per figure, per method: coverage, misses below and above, median width."""
    out = {}
    for n in sizes:
        got = []
        for _ in range(samples):
            got.append(figure_intervals(pop, rng.choice(len(pop.names), size=n, replace=replace)))
        out[n] = {
            name: _score([g[name] for g in got], pop.truth[name], METHODS) for name in intervals.FIGURES
        }
    return out


def _score(found: list[dict], truth, methods) -> dict:
    """Coverage of ``truth`` (one value, or one per interval) by each method's intervals; a sample
    whose figure is undefined (no stance-bearing sentence) is counted apart."""
    truth = np.broadcast_to(np.asarray(truth, dtype=float), (len(found),))
    out = {}
    for m in methods:
        lo, hi = np.array([f[m] for f in found], dtype=float).reshape(-1, 2).T
        ok = ~np.isnan(lo)
        below, above = (truth < lo)[ok], (truth > hi)[ok]
        out[m] = {
            "coverage": round(float(1 - below.mean() - above.mean()), 3) if ok.any() else None,
            "truth_below": round(float(below.mean()), 3) if ok.any() else None,
            "truth_above": round(float(above.mean()), 3) if ok.any() else None,
            "median_width": round(float(np.median((hi - lo)[ok])), 3) if ok.any() else None,
            "samples": int(ok.sum()),
            "undefined": int((~ok).sum()),
        }
    return out


# ---- the trust cells ---------------------------------------------------------------------------


def cell_intervals(pop: Population, picks: np.ndarray) -> list[dict]:
    """Each reported cell of the sample's trust table: its pair, articles holding its calls (or
    labels), whether the exact stand-in was used, and each method's interval, for right and found."""
    table = reliability.pair_reliability(pop.sample_rows(picks), pop.pairs, pop.labeled)
    w = intervals.draws(len(picks))
    out = []
    for k, pair in enumerate(pop.pairs):
        cell = table[f"{pair[0]}/{pair[1]}"]
        right = pop.right[picks, k]
        for key, base, truth in (
            ("precision", pop.called[picks, k], pop.precision[k]),
            ("recall", pop.labeled_n[picks, k], pop.recall[k]),
        ):
            if key not in cell:
                continue
            share = right.sum() / base.sum()
            with np.errstate(invalid="ignore", divide="ignore"):
                boot_lo, boot_hi = intervals.interval((w @ right) / (w @ base))
            holding, boot = int((base > 0).sum()), (boot_lo, boot_hi)
            out.append(
                {
                    "pair": f"{pair[0]}/{pair[1]}",
                    "key": key,
                    "truth": round(float(truth), 3),
                    "articles": holding,
                    "exact": boot_lo == boot_hi,
                    "project": tuple(cell[f"{key}_interval"]),
                    "widened": _cell_widened(boot, share, holding, lambda k: np.sqrt(k / (k - 1))),
                    "t_widened": _cell_widened(boot, share, holding, _t_factor),
                    "cp_eff": _cp_effective(right[base > 0], base[base > 0], share),
                }
            )
    return out


def _cell_widened(boot: tuple[float, float], share: float, holding: int, factor) -> tuple[float, float]:
    """The bootstrap's interval of a cell stretched about its share by ``factor(k)``, k the articles
    holding the calls; where the bootstrap does not move, the project's exact stand-in."""
    if boot[0] == boot[1]:
        return intervals.exact(share * holding, holding)
    return _widen(share, *boot, factor(holding)) if holding > 1 else boot


def _cp_effective(right: np.ndarray, base: np.ndarray, share: float) -> tuple[float, float]:
    """Clopper–Pearson over the effective number of calls: the n at which a binomial share varies
    as much as this ratio does across its k articles (linearized, with k/(k-1)); at a share of 0 or
    1 (no spread to read) the k articles, as the project's stand-in does."""
    k, calls = len(base), base.sum()
    resid = np.sum((right - share * base) ** 2) * k / max(k - 1, 1)
    if share in (0.0, 1.0) or k < 2 or resid == 0:
        n_eff = k
    else:
        n_eff = float(np.clip(share * (1 - share) * calls**2 / resid, 1, calls))
    return intervals.exact(share * n_eff, n_eff)


def cell_coverage(pop: Population, sizes, samples: int, rng) -> dict:
    """Per size, for right and found: each method's coverage per bin of articles holding the calls
    (with the share of cells quoting the exact stand-in, and how often those held the truth), and
    per pair."""
    out = {}
    for n in sizes:
        cells = [c for _ in range(samples) for c in cell_intervals(pop, rng.choice(len(pop.names), size=n))]
        out[n] = {}
        for key in ("precision", "recall"):
            mine = [c for c in cells if c["key"] == key]
            bins = {f"{lo}-{hi}" if hi < 10**6 else f"{lo}+": (lo, hi) for lo, hi in BINS} | {
                "all": (0, 10**6)
            }
            out[n][key] = {
                "bins": {
                    b: _cells_score([c for c in mine if lo <= c["articles"] <= hi])
                    for b, (lo, hi) in bins.items()
                },
                "pairs": {
                    pair: _cells_score([c for c in mine if c["pair"] == pair])
                    for pair in sorted({c["pair"] for c in mine})
                },
            }
            out[n][key]["bins"] = {b: s for b, s in out[n][key]["bins"].items() if s}
    return out


def _cells_score(cells: list[dict]) -> dict:
    if not cells:
        return {}
    exact = [c for c in cells if c["exact"]]
    return _score(cells, [c["truth"] for c in cells], CELL_METHODS) | {
        "cells": len(cells),
        "truth": cells[0]["truth"],
        "median_articles": float(np.median([c["articles"] for c in cells])),
        "exact_share": round(len(exact) / len(cells), 3),
        "exact_coverage": _score(exact, [c["truth"] for c in exact], ("project",))["project"]["coverage"]
        if exact
        else None,
    }


# ---- the report --------------------------------------------------------------------------------


def _cov(s: dict) -> str:
    c = s["coverage"]
    text = "—" if c is None else f"**{c:.2f}**" if c < 0.85 else f"{c:.2f}"
    return text + (f" ({s['undefined']} undef.)" if s["undefined"] else "")


def _width(s: dict) -> str:
    return "—" if s["median_width"] is None else f"{s['median_width']:.3f}"


def _header(first: list[str], methods, widths) -> list[str]:
    names = [*first, *methods, "project: truth below / above", "width: " + ", ".join(widths)]
    return ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]


def _row(first: list, s: dict, methods, widths) -> str:
    """A table row: ``first``, each method's coverage, where the project's misses fell, the widths."""
    p = s["project"]
    return (
        "| "
        + " | ".join(str(v) for v in first)
        + " | "
        + " | ".join(_cov(s[m]) for m in methods)
        + f" | {p['truth_below']:.2f} / {p['truth_above']:.2f} | "
        + ", ".join(_width(s[m]) for m in widths)
        + " |"
    )


def _figures_table(figs_by_size: dict) -> list[str]:
    lines = _header(["figure", "n"], METHODS, ("project", "t_widened", "t"))
    for n, figs in figs_by_size.items():
        for name, s in figs.items():
            lines.append(_row([f"`{name}`", n], s, METHODS, ("project", "t_widened", "t")))
    return lines + [""]


def _cells_table(cells: dict) -> list[str]:
    first = ["n", "share", "articles holding", "cells", "exact: share, covered"]
    lines = _header(first, CELL_METHODS, ("project", "t_widened", "cp_eff"))
    for n, keys in cells.items():
        for key, parts in keys.items():
            for b, s in parts["bins"].items():
                exact = f"{s['exact_share']:.3f}" + (
                    f", {s['exact_coverage']:.2f}" if s["exact_coverage"] is not None else ""
                )
                share = "right" if key == "precision" else "found"
                lines.append(
                    _row(
                        [n, share, b, s["cells"], exact], s, CELL_METHODS, ("project", "t_widened", "cp_eff")
                    )
                )
    return lines + [""]


def _pairs_table(cells: dict) -> list[str]:
    sizes = list(cells)
    lines = [
        "| pair | population share right | "
        + " | ".join(f"n={n}: cells, median articles holding, project, cp_eff" for n in sizes)
        + " |",
        "|---|---|" + "---|" * len(sizes),
    ]
    pairs = sorted({p for n in sizes for p in cells[n]["precision"]["pairs"]})
    for pair in pairs:
        row = []
        for n in sizes:
            s = cells[n]["precision"]["pairs"].get(pair)
            row.append(
                f"{s['cells']}, {s['median_articles']:.0f}, {_cov(s['project'])}, {_cov(s['cp_eff'])}"
                if s
                else "—"
            )
        truth = next(
            cells[n]["precision"]["pairs"][pair]["truth"]
            for n in sizes
            if pair in cells[n]["precision"]["pairs"]
        )
        lines.append(f"| {pair} | {truth:.3f} | " + " | ".join(row) + " |")
    return lines + [""]


def markdown(r: dict) -> str:
    t = r["truth"]
    return "\n".join(
        [
            "# Do the 90 % intervals by article cover 90 % of the time?\n",
            f"Population: {r['sentences']} out-of-fold predictions on {r['articles']} articles "
            f"({r['source'] or r['rows_file']}, sha256 {r['rows_sha256'][:12]}); its figures are the truth: stance "
            f"macro-F1 {t['stance_macro_f1']:.3f}, actor accuracy e2e {t['actor_accuracy_e2e']:.3f}, "
            f"actor precision e2e {t['actor_precision_e2e']:.3f}. {r['samples']} samples per size n "
            f"(Monte Carlo error of a coverage near 0.90: about ±{r['mc_error']:.3f}, two standard "
            f"errors); coverage under 0.85 in bold. {r['hardware']}; {r['seconds']:.0f} s.\n",
            "Methods: **project** the interval a run quotes (`training/intervals.py`: percentiles of "
            "1,000 resamples of articles); **widened** it stretched about the point by sqrt(n/(n-1)); "
            "**t_widened** stretched by t(n-1)/z × sqrt(n/(n-1)) (1.45 at 5 articles, 1.03 at 44); "
            "**t** point ± t(n−1) × bootstrap s.d. × sqrt(n/(n-1)); **bca** bias-corrected and "
            "accelerated (jackknife by article). Widths are medians.\n",
            "## Figures, n articles drawn with replacement (the measure)\n",
            *_figures_table(r["with_replacement"]),
            "## Figures, n articles drawn without replacement from the population\n",
            "A sample holding a large share of a finite population varies less than the bootstrap "
            "assumes, so this design reads high at large n: the finite-population effect, not the "
            "intervals' quality.\n",
            *_figures_table(r["without_replacement"]),
            "## Trust cells: the share of calls right (and of labels found)\n",
            "Each sample's trust table is `reliability.pair_reliability` on n articles drawn with "
            "replacement; a cell is scored where it quotes a share (at least 10 calls, or labels), "
            "against its pair's share over the population, binned by the k articles holding its calls "
            "(labels). widened and t_widened stretch the bootstrap's interval by the factors above "
            "with k for n (where the bootstrap does not move, the exact stand-in); **cp_eff**: Clopper–Pearson over the effective "
            "number of calls. exact: the share of cells quoting the Clopper–Pearson stand-in, and how "
            "often those held the truth. The stretched intervals are unrounded; the quoted ones are "
            "rounded to 3 decimals, as the table shows them (the truth too).\n",
            *_cells_table(r["cells"]),
            "### Share of calls right, per pair\n",
            *_pairs_table(r["cells"]),
        ]
    )


def study(path: Path, samples: int) -> dict:
    scheme = Scheme.load()
    rows, labeled = load(path, scheme)
    pop = Population(rows, scheme, labeled)
    t0 = time.perf_counter()
    rng = np.random.default_rng(SEED)
    result = {
        "rows_file": str(path),
        "rows_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "sentences": len(rows),
        "articles": len(pop.names),
        "truth": pop.truth,
        "samples": samples,
        "mc_error": round(2 * float(np.sqrt(0.9 * 0.1 / samples)), 3),
        "with_replacement": figure_coverage(pop, SIZES, samples, True, rng),
        "without_replacement": figure_coverage(pop, SIZES, samples, False, rng),
        "cells": cell_coverage(pop, CELL_SIZES, samples, rng),
    }
    return result | {"seconds": round(time.perf_counter() - t0, 1), "hardware": hardware()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("rows", type=Path, help="a copy of a run's evaluation/oof_predictions.jsonl")
    ap.add_argument("--source", default="", help="where the rows were copied from, in words, for the result")
    ap.add_argument("--samples", type=int, default=1000, help="samples of articles per size")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    result = study(args.rows, args.samples) | {"source": args.source}
    text = markdown(result)
    for name, data in (("result.json", json.dumps(result, indent=1) + "\n"), ("result.md", text)):
        write_atomic(args.out / name, data)
    print(text)


if __name__ == "__main__":
    script_main(main)
