"""How far would more labels carry the targets? The rolling origin's learning curve (issue 11).

The learning curve in the README (``experiments/learning-curve.yaml``) is grouped CV's: it mixes
the eras, scores stance macro-F1 only, and its recipe is no longer ``make demo``'s. The question
issue 11 leaves open is the time split's: would four times the labels bring the model on *new*
coverage to stance macro-F1 0.80 and actor accuracy end to end 0.85? This study asks it on the
rolling origin (experiments/rolling_origin.py: three blocks of the newest articles, each scored
by a model fitted only on older ones, pooled into 133 articles):

* each block's training articles are cut to a share (25, 50, 75, 100 %) by one fixed shuffle per
  block and draw, a smaller share a subset of a larger one's (whole articles, like the CV curve);
  the test articles never change, so every point of the curve is scored on the same sentences;
* shares under 100 % are drawn ``--draws`` times (which articles a quarter keeps matters), and
  each point is the mean over its draws;
* 90 % intervals by article: the same bootstrap resample of the test articles scores every draw
  and every share, so the intervals of the points and of the slope are paired;
* the slope is a least-squares line of each figure against log2(share): what one doubling of the
  labeled articles bought, and, were it to hold, how many doublings the target is away. Curves
  flatten as labels grow, so the doublings read off a straight line are the optimistic reading:
  at least that many.

    .venv/bin/python experiments/label_curve.py configs/hybrid-mpnet-broker-mean-parse.yaml

Each (recipe, share, draw) is written as its blocks finish to the git-ignored
``.stance/cache/label-curve/<data version>/``, keyed like the rolling origin's cache (the
recipe's content, its gazetteer and the fitting code's digest); a re-run fits only what is missing. The 100 % point is the
rolling origin's own fit, so its figures are the study's (experiments/rolling-origin-*). Each
recipe is one MLflow run (experiment ``label-curve-rolling``; a re-run updates it), every figure
logged at each share as a step so the UI draws the curve. Writes experiments/label-curve/
result.json, result.md and label_curve.png, or under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from experiments.rolling_origin import cache_key, compact, labeled_blocks  # noqa: E402
from stance.errors import StanceError, script_main  # noqa: E402
from stance.io import dumps_jsonl, write_atomic  # noqa: E402
from stance.scheme import Scheme  # noqa: E402
from training import intervals, timesplit, tracking  # noqa: E402
from training.evaluate import article_share  # noqa: E402
from training.recipes import load_recipe, make_classifier  # noqa: E402

OUT = ROOT / "experiments" / "label-curve"
EXPERIMENT = "label-curve-rolling"
SHARES = (0.25, 0.5, 0.75, 1.0)
DRAWS = 4
TARGETS = {"stance_macro_f1": 0.80, "actor_accuracy_e2e": 0.85}
# the intervals module's three figures, and the two factors of actor accuracy end to end
FIGURES = (*intervals.FIGURES, "stance_called", "holder_where_called")
SEED = 29


def keep(train: set[str], share: float, block: int, draw: int) -> set[str]:
    """The articles a share of a block's training set keeps (at least two): a prefix of one fixed
    shuffle per (block, draw), so a smaller share keeps a subset of a larger one's articles."""
    if not 0 < share <= 1:
        raise StanceError(f"a share of the training articles must be in (0, 1] (got {share})")
    if share >= 1:
        return set(train)
    return article_share(train, share, [SEED, block, draw])


def slope(shares, values) -> tuple[float, float]:
    """(gain per doubling, intercept at 100 %): the least-squares line of ``values`` (the last
    axis runs over ``shares``) against log2(share)."""
    x = np.log2(np.asarray(shares, dtype=float))
    values = np.asarray(values, dtype=float)
    xc = x - x.mean()
    b = (values - values.mean(-1, keepdims=True)) @ xc / (xc @ xc)
    return b, values.mean(-1) - b * x.mean()  # log2(1) = 0: the intercept is the line at 100 %


def doublings(gain: float, at_full: float, target: float) -> float:
    """Doublings of the labeled articles the line needs to reach ``target`` from its value at
    100 % (0 when already there; inf when a doubling buys nothing or loses)."""
    if at_full >= target:
        return 0.0
    if gain <= 0:
        return math.inf
    return (target - at_full) / gain


def step(shares, values):
    """The gain per doubling over the curve's last step alone (the two largest shares): where a
    flattening curve shows first. The last axis of ``values`` runs over ``shares``."""
    values = np.asarray(values, dtype=float)
    return (values[..., -1] - values[..., -2]) / math.log2(shares[-1] / shares[-2])


def spread(values) -> list[float]:
    """The central 90 % of resampled doublings, some of them infinite (a resample whose line does
    not rise): the rank-based percentiles, so an infinite bound reads as such."""
    lo, hi = np.percentile(np.asarray(values, dtype=float), [5, 95], method="nearest")
    return [round(float(lo), 2), round(float(hi), 2)]


def curve(runs: dict[tuple[float, int], list[dict]], shares, scheme: Scheme, resamples=intervals.RESAMPLES):
    """The figures of each share (the mean over its draws) with paired intervals by article, and the
    slope of each figure against log2(share) with its interval. ``runs``: (share, draw) -> rows."""
    none, n = scheme.labels.none_stance_id, len(scheme.stance_labels)
    names = sorted({r["article"] for rows in runs.values() for r in rows})
    w = intervals.draws(len(names), resamples)
    point = {f: np.zeros(len(shares)) for f in FIGURES}
    boot = {f: np.zeros((resamples, len(shares))) for f in FIGURES}
    index = {a: i for i, a in enumerate(names)}
    for j, share in enumerate(shares):
        mine = [rows for (s, _), rows in sorted(runs.items()) if s == share]
        for rows in mine:
            articles, actors, stances, a_pred, s_pred = timesplit.row_ids(rows, scheme)
            if sorted(set(articles)) != names:
                raise StanceError(f"share {share:g}: scored on other articles than the rest of the curve")
            confusion, holders = intervals.per_article(articles, actors, stances, a_pred, s_pred, n, none)
            p = intervals.figures_of(confusion.sum(0), holders.sum(0))
            b = intervals.figures_of(np.einsum("ra,aij->rij", w, confusion), w @ holders)
            # actor accuracy end to end = (stance called | labeled one) × (holder right | called)
            called = np.zeros(len(names))
            np.add.at(called, [index[a] for a in articles], (stances != none) & (s_pred != none))
            right, bearing = holders[:, 0], holders[:, 1]
            with np.errstate(invalid="ignore", divide="ignore"):
                p |= {
                    "stance_called": called.sum() / bearing.sum(),
                    "holder_where_called": right.sum() / called.sum(),
                }
                b |= {
                    "stance_called": (w @ called) / (w @ bearing),
                    "holder_where_called": (w @ right) / (w @ called),
                }
            for f in FIGURES:
                point[f][j] += p[f] / len(mine)
                boot[f][:, j] += b[f] / len(mine)
    out = {"shares": list(shares), "articles": len(names), "figures": {}}
    for f in FIGURES:
        gain, full = slope(shares, point[f])
        gains, _ = slope(shares, boot[f])
        last = step(shares, point[f])
        out["figures"][f] = {
            "points": [round(float(v), 4) for v in point[f]],
            "intervals": [
                [round(v, 4) for v in intervals.interval(boot[f][:, j])] for j in range(len(shares))
            ],
            "gain_per_doubling": round(float(gain), 4),
            "gain_interval": [round(v, 4) for v in intervals.interval(gains)],
            "line_at_full": round(float(full), 4),
        }
        if len(shares) > 1:
            out["figures"][f] |= {
                "last_step_gain": round(float(last), 4),
                "last_step_interval": [round(v, 4) for v in intervals.interval(step(shares, boot[f]))],
            }
        if f in TARGETS:
            need = doublings(float(gain), float(point[f][-1]), TARGETS[f])
            each = [doublings(g, v, TARGETS[f]) for g, v in zip(gains, boot[f][:, -1], strict=True)]
            out["figures"][f] |= {
                "target": TARGETS[f],
                "doublings": round(need, 2),
                "doublings_interval": spread(each),
                "labels_times": round(2**need, 1),
            }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("recipes", nargs="+", help="recipe YAML files")
    ap.add_argument("--shares", type=float, nargs="+", default=list(SHARES))
    ap.add_argument("--draws", type=int, default=DRAWS, help="article draws for each share under 100 %%")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    shares = sorted(set(args.shares))
    for s in shares:
        keep(set(), s, 0, 0)  # a share outside (0, 1]: one line before any fit
    if args.draws < 1:
        raise StanceError(f"--draws must be at least 1 (got {args.draws})")
    recipes = {path: load_recipe(ROOT / path) for path in args.recipes}  # a bad one: before any fit
    from datasets import DatasetDict

    scheme = Scheme.load()
    data, meta, cuts, index = labeled_blocks(scheme)
    sentences = {a: len(v) for a, v in index.items()}

    def subset(names):
        return data.select(sorted(i for a in names for i in index[a]))

    experiment_id = tracking.setup(EXPERIMENT)
    cache = ROOT / ".stance" / "cache" / "label-curve" / meta["data_version"]
    cache.mkdir(parents=True, exist_ok=True)
    result = {"data_version": meta["data_version"], "draws": args.draws, "recipes": []}
    for path in args.recipes:
        recipe = recipes[path]
        key = f"{Path(path).stem}-{cache_key(recipe, scheme)}"
        runs, trained = {}, {}
        for share in shares:
            for draw in range(1 if share >= 1 else args.draws):
                file = cache / f"{key}-{share:g}-{draw}.jsonl"
                rows = [json.loads(x) for x in file.read_text().splitlines() if x] if file.is_file() else []
                done = {r["block"] for r in rows}
                sizes = []
                for b, (train, test) in enumerate(cuts, 1):
                    kept = keep(train, share, b, draw)
                    sizes.append(sum(sentences[a] for a in kept))
                    if b in done:
                        continue
                    t0 = time.perf_counter()
                    model = make_classifier(recipe, scheme)
                    _, scored = timesplit.evaluate(
                        model, DatasetDict(train=subset(kept), test=subset(test)), scheme
                    )
                    rows += compact(scored, b)
                    write_atomic(file, dumps_jsonl(rows))  # a block is either written whole or not at all
                    print(
                        f"{path}: share {share:g}, draw {draw}, block {b} ({len(kept)} of {len(train)} training "
                        f"articles) in {time.perf_counter() - t0:.0f} s",
                        flush=True,
                    )
                runs[share, draw] = rows
                trained.setdefault(share, []).append(sizes)
        row = {"recipe": path} | curve(runs, shares, scheme)
        row["training_sentences"] = {
            f"{s:g}": np.mean(trained[s], axis=0).round().astype(int).tolist() for s in shares
        }
        row["run_id"] = log_run(experiment_id, path, recipe, meta["data_version"], row, args.draws)
        result["recipes"] = [r for r in result["recipes"] if r["recipe"] != path] + [row]
        write(result, args.out)
    print(markdown(result))


def log_run(experiment_id: str, path: str, recipe, data_version: str, row: dict, draws: int) -> str:
    """One MLflow run per (recipe, data version, draws), updated by a re-run: each figure logged at
    every share as a step (the share in percent), so the MLflow UI draws the curve; the slope, the
    doublings to each target and the result as metrics and a JSON artifact."""
    import mlflow

    match = {"tags.recipe": path, "tags.data_version": data_version, "params.draws": draws}
    tags = {"recipe": path, "kind": recipe.kind, "data_version": data_version}
    params = recipe.model_dump() | {"draws": draws, "shares": " ".join(map(str, row["shares"]))}
    with tracking.study_run(experiment_id, f"{Path(path).stem}-label-curve", match, tags, params) as run:
        client = mlflow.MlflowClient()
        for f, fig in row["figures"].items():
            # a re-run adds no second point at a step that already holds the same value
            have = {(m.step, m.value) for m in client.get_metric_history(run.info.run_id, f"rolling_{f}")}
            for share, value in zip(row["shares"], fig["points"], strict=True):
                if (round(share * 100), value) not in have:
                    mlflow.log_metric(f"rolling_{f}", value, step=round(share * 100))
            mlflow.log_metric(f"{f}_gain_per_doubling", fig["gain_per_doubling"])
            if "doublings" in fig and math.isfinite(fig["doublings"]):
                mlflow.log_metric(f"{f}_doublings_to_target", fig["doublings"])
        mlflow.log_dict(row, "label_curve.json")
        return run.info.run_id


def write(result: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "result.json", json.dumps(result, indent=2) + "\n")
    write_atomic(out / "result.md", markdown(result))
    plot(result, out / "label_curve.png")


def plot(result: dict, path: Path) -> None:
    """The two target figures against the share of labeled articles (log2 axis), one line a recipe:
    the points with their intervals, the fitted line carried on to four times the labels (dashed),
    and the target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from training.compare_plots import save

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    for ax, f in zip(axes, TARGETS, strict=True):
        for x in result["recipes"]:
            fig_ = x["figures"][f]
            shares = np.asarray(x["shares"])
            points = np.asarray(fig_["points"])
            lo, hi = np.asarray(fig_["intervals"]).T
            bar = ax.errorbar(
                shares,
                points,
                yerr=[points - lo, hi - points],
                marker="o",
                capsize=3,
                label=Path(x["recipe"]).stem,
            )
            ahead = np.array([shares[0], 4.0])
            line = fig_["line_at_full"] + fig_["gain_per_doubling"] * np.log2(ahead)
            ax.plot(ahead, line, ls="--", color=bar[0].get_color(), alpha=0.6)
        ax.axhline(TARGETS[f], color="black", lw=1, ls=":", label="the issue's target")
        ax.annotate(f"target {TARGETS[f]:.2f}", (0.25, TARGETS[f]), xytext=(2, 3), textcoords="offset points")
        ax.set_xscale("log", base=2)
        ax.set_xticks([0.25, 0.5, 1, 2, 4], ["25 %", "50 %", "100 %", "× 2", "× 4"])
        ax.set(xlabel="labeled training articles (share of each block's past)", title=NAMES[f])
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("rolling origin, pooled (90 % interval by article)")
    axes[0].legend(loc="lower right")
    fig.suptitle(
        "More labels of the same kind: the rolling origin's learning curve, the line carried on (dashed)"
    )
    save(fig, path)


NAMES = {
    "stance_macro_f1": "stance macro-F1",
    "actor_accuracy_e2e": "actor accuracy end to end",
    "stance_called": "its first factor: a stance called on a labeled stance-bearing sentence",
    "holder_where_called": "its second factor: the holder right where a stance is called",
    "actor_precision_e2e": "actor precision end to end",
}


def markdown(r: dict) -> str:
    parts = [
        f"# The rolling origin's learning curve (data {r['data_version']})\n\n"
        "Each block of the rolling origin (experiments/rolling_origin.py) scored by a model fitted on a "
        "share of the articles older than it (whole articles, one shuffle per block and draw, a smaller "
        f"share a subset of a larger); shares under 100 % are the mean of {r['draws']} draws. The test "
        "articles are the same at every share; 90 % bootstrap intervals by article, paired across shares. "
        "The slope is the least-squares line against log2(share): the gain one doubling of the labeled "
        "articles bought; curves flatten, so the doublings read off it are the optimistic reading. The "
        "last step's gain, between the two largest shares, is where flattening shows first. Doublings "
        "away: from the 100 % point along the line, with the 5th and 95th percentile over resamples "
        "(inf: a resample whose line does not rise).\n"
    ]
    for x in r["recipes"]:
        shares = x["shares"]
        head = " | ".join(f"{s:.0%}" for s in shares)
        sizes = " | ".join(" / ".join(map(str, x["training_sentences"][f"{s:g}"])) for s in shares)
        lines = [
            f"\n## {x['recipe']} ({x['articles']} test articles)\n",
            f"| figure | {head} | gain per doubling (the line) | the last step's gain per doubling "
            "| target: doublings away on the line |",
            f"|---|{'---|' * len(shares)}---|---|---|",
            f"| training sentences (blocks 1 / 2 / 3) | {sizes} | | | |",
        ]
        for f, name in NAMES.items():
            fig = x["figures"][f]
            cells = " | ".join(
                f"{p:.3f} [{lo:.3f}, {hi:.3f}]"
                for p, (lo, hi) in zip(fig["points"], fig["intervals"], strict=True)
            )
            lo, hi = fig["gain_interval"]
            target = ""
            if "target" in fig:
                d, (dlo, dhi) = fig["doublings"], fig["doublings_interval"]
                target = f"{fig['target']:.2f}: " + (
                    "never on this line"
                    if math.isinf(d)
                    else f"{d:.1f} [{dlo:.1f}, {dhi:.1f}] (labels × {2**d:.0f})"
                )
            last = ""
            if "last_step_gain" in fig:
                llo, lhi = fig["last_step_interval"]
                last = f"{fig['last_step_gain']:+.3f} [{llo:+.3f}, {lhi:+.3f}]"
            lines.append(
                f"| {name} | {cells} | {fig['gain_per_doubling']:+.3f} [{lo:+.3f}, {hi:+.3f}] | {last} | {target} |"
            )
        parts.append("\n".join(lines) + "\n")
    return "".join(parts)


if __name__ == "__main__":
    from training.models import encoding_cache

    with encoding_cache.enabled():  # the frozen encoder's pass computed once for every share
        script_main(main)
