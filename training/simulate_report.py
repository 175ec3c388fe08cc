"""The simulation's learning curves: a table, a plot, labels saved, MLflow; ``stance labeling simulate``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from stance.errors import StanceError
from stance.io import write_atomic

CURVE_METRICS = ("stance_macro_f1", "actor_accuracy")
EXPERIMENT = "stance-labeling-simulation"


def curves(rows: list[dict]) -> list[dict]:
    """Mean and spread (standard deviation, min, max) over seeds per (strategy, labeled)."""
    groups: dict[tuple[str, int], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["strategy"], r["labeled"]), []).append(r)
    out = []
    for (strategy, n), rs in groups.items():
        row: dict = {"strategy": strategy, "labeled": n, "seeds": len(rs)}
        for m in CURVE_METRICS:
            v = np.array([r[m] for r in rs])
            row |= {f"{m}_mean": float(v.mean()), f"{m}_std": float(v.std()), f"{m}_min": float(v.min())}
            row[f"{m}_max"] = float(v.max())
        out.append(row)
    return sorted(out, key=lambda r: (r["strategy"], r["labeled"]))


def labels_to_reach(curve: list[dict], target: float, metric: str = "stance_macro_f1") -> float | None:
    """Labels at which the mean curve first reaches ``target`` (linear between points); None if never."""
    prev = None
    for r in curve:
        y = r[f"{metric}_mean"]
        if y >= target:
            if prev is None:
                return float(r["labeled"])
            (x0, y0), x1 = prev, r["labeled"]
            return float(x0 + (target - y0) / (y - y0) * (x1 - x0))
        prev = (r["labeled"], y)
    return None


def savings(table: list[dict], target: float) -> dict[str, dict]:
    """Per strategy: labels to reach ``target`` stance macro-F1, and labels saved against random."""
    by = {}
    for r in table:
        by.setdefault(r["strategy"], []).append(r)
    need = {s: labels_to_reach(c, target) for s, c in by.items()}
    base = need.get("random")
    return {
        s: {"labels": n, "saved_vs_random": None if n is None or base is None else round(base - n, 1)}
        for s, n in need.items()
    }


def default_target(table: list[dict]) -> float:
    """95% of the stance macro-F1 reached with the whole pool labeled (the best mean of the last point)."""
    last = max(r["labeled"] for r in table)
    return round(0.95 * max(r["stance_macro_f1_mean"] for r in table if r["labeled"] == last), 3)


def to_csv(table: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(table[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)
    return buf.getvalue()


def plot(table: list[dict], target: float, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, m, title in zip(axes, CURVE_METRICS, ("stance macro-F1", "actor accuracy"), strict=True):
        for strategy in dict.fromkeys(r["strategy"] for r in table):
            c = [r for r in table if r["strategy"] == strategy]
            x = [r["labeled"] for r in c]
            mean = np.array([r[f"{m}_mean"] for r in c])
            std = np.array([r[f"{m}_std"] for r in c])
            ax.plot(x, mean, marker=".", label=strategy)
            ax.fill_between(x, mean - std, mean + std, alpha=0.2)
        if m == "stance_macro_f1":
            ax.axhline(target, color="grey", linestyle=":", label=f"target {target:.3f}")
        ax.set(xlabel="sentences labeled", ylabel=title, title=f"{title} on the held-out articles")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path


def log_mlflow(rows: list[dict], table: list[dict], summary: dict, files: list[Path]) -> str:
    """One MLflow run in the simulation experiment: settings, the curves as stepped metrics, the files."""
    from training import tracking

    experiment_id = tracking.setup(EXPERIMENT)
    import mlflow

    with mlflow.start_run(experiment_id=experiment_id, run_name="labeling-simulation") as run:
        mlflow.log_params({k: str(v) for k, v in summary["settings"].items()})
        mlflow.set_tags({"data_version": summary["data_version"], "code_version": tracking.code_version()})
        for r in table:
            for m in CURVE_METRICS:
                mlflow.log_metric(f"{r['strategy']}.{m}", r[f"{m}_mean"], step=r["labeled"])
        for s, v in summary["to_target"].items():
            if v["labels"] is not None:
                mlflow.log_metric(f"{s}.labels_to_target", v["labels"])
        for f in files:
            mlflow.log_artifact(str(f))
        return run.info.run_id


def target_line(strategy: str, to_target: dict, target: float) -> str:
    """One strategy's line: the labels it took to ``target``, and how many fewer than random."""
    labels, saved = to_target["labels"], to_target["saved_vs_random"]
    need = "not reached" if labels is None else f"reached at {labels:.0f} labels"
    vs = ""  # "-22 vs random" read as 22 fewer labels, where it was 22 more
    if saved is not None and strategy != "random":
        n = round(saved)
        vs = f", {abs(n)} {'fewer' if n > 0 else 'more'} than random" if n else ", as many as random"
    return f"{strategy}: stance macro-F1 {target:.3f} {need}{vs}"


def cli(
    strategies: Annotated[str, typer.Option(help="Comma-separated: random, uncertainty, diverse.")] = (
        "random,uncertainty,diverse"
    ),
    batch: Annotated[int, typer.Option(help="Sentences labeled per round.")] = 100,
    seeds: Annotated[int, typer.Option(help="Repeats with different seed sets (mean and spread).")] = 3,
    start: Annotated[int, typer.Option(help="Size of the random seed set every strategy starts from.")] = 50,
    quota: Annotated[int, typer.Option(help="diverse: at most this many sentences per article a batch.")] = 3,
    max_labels: Annotated[
        int | None, typer.Option(help="Stop at this many [default: the whole pool].")
    ] = None,
    target: Annotated[
        float | None,
        typer.Option(
            help="Stance macro-F1 to reach [default: 95% of the best at the last point, --max-labels or the whole pool]."
        ),
    ] = None,
    snapshot: Annotated[Path | None, typer.Option(help="Annotation snapshot [default: the latest].")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for the curves [default: .stance/simulate].")
    ] = None,
    stand_in: Annotated[
        str,
        typer.Option(
            help="baseline (fast), or hybrid: the champion recipe's features, to check the ranking."
        ),
    ] = "baseline",
    no_mlflow: Annotated[bool, typer.Option("--no-mlflow", help="Do not log a run.")] = False,
) -> None:
    """Replay the labeled data batch by batch per strategy; learning curves and labels saved."""
    from labeling.snapshot import data_version, latest_snapshot
    from stance import paths
    from stance.scheme import Scheme
    from training.simulate import Settings, load_splits, simulate

    settings = Settings(tuple(s.strip() for s in strategies.split(",") if s.strip()), start, batch, seeds,
                        quota, max_labels, stand_in)  # fmt: skip
    if target is not None and not 0 < target <= 1:  # before the minutes of simulating, not after
        raise StanceError(f"--target must be a macro-F1 in (0, 1] (got {target})")
    if out:  # a file or a read-only place was "File exists" once every seed had been simulated
        from training.report import check_writable

        check_writable(out)
    scheme = Scheme.load()
    snapshot = snapshot or latest_snapshot()
    pool, test = load_splits(scheme, snapshot)
    print(f"pool {len(pool)} sentences ({len(set(pool.articles))} articles), held-out test {len(test)} "
          f"({len(set(test.articles))} articles)")  # fmt: skip
    rows = simulate(pool, test, scheme, settings)
    table = curves(rows)
    target = default_target(table) if target is None else target
    summary = {
        "data_version": data_version(snapshot),
        "settings": settings.__dict__ | {"strategies": ",".join(settings.strategies)},
        "pool": len(pool),
        "test": len(test),
        "target_stance_macro_f1": target,
        "to_target": savings(table, target),
        "curves": table,
    }
    folder = out or paths.state() / "simulate"
    folder.mkdir(parents=True, exist_ok=True)
    files = [folder / "curves.csv", folder / "summary.json", folder / "runs.jsonl", folder / "curves.png"]
    write_atomic(files[0], to_csv(table))
    write_atomic(files[1], json.dumps(summary, indent=2) + "\n")
    write_atomic(files[2], "".join(json.dumps(r) + "\n" for r in rows))
    plot(table, target, files[3])
    for s, v in summary["to_target"].items():
        print(target_line(s, v, target))
    if not no_mlflow:
        print(f"MLflow run {log_mlflow(rows, table, summary, files)} in experiment {EXPERIMENT}")
    print(f"curves: {files[0]}, {files[3]}")
