"""Experiment specs: named runs (a recipe + overrides, each with a reason) on a stated data version.

A spec in ``experiments/*.yaml`` is checked whole before any training: the recipes
exist, every override is a key of that recipe's kind with a valid value and a
one-line reason, and the data version is known. Running it trains each run with
``training.train.train`` into one MLflow experiment named after the spec; a run that
already exists for the same entry, code and data is skipped unless forced.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import Field, field_validator, model_validator

from stance import paths
from stance.config import Config, read_yaml
from stance.errors import StanceError
from training import registry, tracking
from training.models.base import RecipeBase
from training.recipes import load_recipe, recipe_hash

LATEST = "latest"


class Override(Config):
    """One recipe key changed for one run, and why."""

    value: Any = Field(description="The recipe key's new value.")
    reason: str = Field(min_length=1, description="One line: why this run changes the key.")

    @model_validator(mode="before")
    @classmethod
    def _needs_a_reason(cls, data):
        if not isinstance(data, dict):
            raise ValueError(
                "an override is {value: ..., reason: ...}; every override needs a one-line reason"
            )
        return data

    @field_validator("reason")
    @classmethod
    def _one_line(cls, reason: str) -> str:
        if "\n" in reason.strip() or not reason.strip():
            raise ValueError("the reason must be one non-empty line")
        return reason.strip()


class RunSpec(Config):
    """One run of an experiment: a recipe from configs/ plus overrides."""

    recipe: str = Field(description="A recipe in configs/, by name (`baseline` for configs/baseline.yaml).")
    name: str | None = Field(None, description="The run's name in the experiment [default: the recipe's].")
    overrides: dict[str, Override] = Field(
        default_factory=dict, description="Recipe key -> value and reason."
    )


class LearningCurve(Config):
    """Every run repeated on a share of each fold's training articles."""

    train_shares: list[float] = Field(
        min_length=2, description="Shares of training articles, e.g. 0.2 ... 1."
    )

    @field_validator("train_shares")
    @classmethod
    def _shares(cls, shares: list[float]) -> list[float]:
        if any(not 0 < s <= 1 for s in shares):
            raise ValueError("every share must be in (0, 1]")
        if len(set(shares)) < 2:  # a share given twice is one point: no curve
            raise ValueError("a curve needs at least two different shares")
        return sorted(set(shares))


class ExperimentSpec(Config):
    """An experiment: its name (the MLflow experiment), data version and runs."""

    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]*$", description="MLflow experiment and report folder name."
    )
    description: str = Field(description="What the experiment asks, in a sentence.")
    data_version: str = Field(LATEST, description="A dataset version, or `latest` (resolved and recorded).")
    registered_model: str = Field(tracking.REGISTERED_MODEL, description="Where run models are registered.")
    learning_curve: LearningCurve | None = Field(None, description="Repeat each run on shares of the data.")
    runs: list[RunSpec] = Field(min_length=1, description="The runs, each a recipe plus overrides.")


@dataclass(frozen=True)
class PlannedRun:
    """A spec entry resolved: its recipe file, typed recipe and the share of training data."""

    entry: str
    recipe_path: Path
    recipe: RecipeBase
    overrides: dict[str, Override]
    train_share: float = 1.0

    @property
    def label(self) -> str:
        return self.entry if self.train_share >= 1 else f"{self.entry} ({self.train_share:.0%} of articles)"


@dataclass(frozen=True)
class Plan:
    spec: ExperimentSpec
    path: Path
    data_version: str
    runs: list[PlannedRun]


# -- checking a spec ------------------------------------------------------------------
def load_plan(path: Path, build: bool = True) -> Plan:
    """Read and check a spec completely (recipes, overrides, data version); nothing is trained.
    ``build=False`` (a dry run) builds no dataset and leaves the one `stance train` uses alone."""
    path = Path(path)
    spec = ExperimentSpec.from_dict(read_yaml(path), source=str(path))
    try:
        registry.check_model_name(spec.registered_model)
    except StanceError as exc:
        raise StanceError(f"{path}: {exc}") from None
    names = [run.name or run.recipe for run in spec.runs]
    if dup := sorted({n for n in names if names.count(n) > 1}):
        raise StanceError(f"{path}: run name '{dup[0]}' is used twice; give each run its own `name`")
    planned = [_plan_run(path, run, name) for run, name in zip(spec.runs, names, strict=True)]
    shares = spec.learning_curve.train_shares if spec.learning_curve else [1.0]
    runs = [
        PlannedRun(p.entry, p.recipe_path, p.recipe, p.overrides, share) for p in planned for share in shares
    ]
    return Plan(spec, path, resolve_data_version(spec.data_version, path, build), runs)


def _plan_run(path: Path, run: RunSpec, name: str) -> PlannedRun:
    recipe_path = recipe_file(run.recipe, f"{path}: run '{name}'")
    values = {key: o.value for key, o in run.overrides.items()}
    recipe = load_recipe(
        recipe_path, values, source=f"{path}: run '{name}' (configs/{recipe_path.name} + overrides)"
    )
    return PlannedRun(name, recipe_path, recipe, run.overrides)


def recipe_file(name: str, where: str) -> Path:
    folder = paths.configs()
    recipe = folder / f"{name.removesuffix('.yaml')}.yaml"
    if not re.fullmatch(r"[\w.-]+", name) or not recipe.is_file() or recipe.name == "scheme.yaml":
        known = ", ".join(sorted(p.stem for p in folder.glob("*.yaml") if p.name != "scheme.yaml"))
        raise StanceError(f"{where}: recipe '{name}' does not exist in configs/ (recipes: {known})")
    return recipe


def resolve_data_version(wanted: str, path: Path, build: bool = True) -> str:
    """``latest`` -> the latest annotation snapshot's version; either way the dataset gets built
    (with ``build``)."""
    from labeling.snapshot import data_version, latest_snapshot
    from stance.scheme import Scheme
    from training import dataset

    snapshot = latest_snapshot() if wanted == LATEST else paths.snapshots() / f"annotations-{wanted}.jsonl"
    if not dataset.dataset_dir(wanted).joinpath("meta.json").is_file() and not snapshot.is_file():
        known = ", ".join(
            sorted(p.stem.removeprefix("annotations-") for p in paths.snapshots().glob("*.jsonl"))
        )
        raise StanceError(
            f"{path}: data version '{wanted}' is neither built nor a snapshot (snapshots: {known})"
        )
    if snapshot.is_file() and not build:
        return data_version(snapshot)
    if snapshot.is_file():
        version, _, _ = dataset.save(snapshot, Scheme.load(), latest=wanted == LATEST)
        return version
    return wanted


# -- running a spec ------------------------------------------------------------------
def run_plan(plan: Plan, force: bool = False, quiet: bool = False) -> list[dict]:
    """Train every planned run (skipping ones already done); a summary per run, in order."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

    from stance.console import progress
    from training.train import train

    _check_data(plan)  # every run's recipe against the data's size, before the first run starts
    results = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with progress(*columns, quiet=quiet) as bar:
        overall = bar.add_task(f"experiment {plan.spec.name}", total=len(plan.runs))
        for run in plan.runs:
            bar.update(overall, description=f"experiment {plan.spec.name}: {run.label}")
            out = train(
                run.recipe_path, plan.data_version, plan.spec.name, plan.spec.registered_model, force, quiet,
                overrides={k: o.value for k, o in run.overrides.items()}, tags=_tags(plan, run),
                train_share=run.train_share, final_fit=plan.spec.learning_curve is None, crown=False,
                progress=bar,
            )  # fmt: skip
            results.append(out | {"entry": run.entry, "label": run.label})
            bar.advance(overall)
    return results


def _check_data(plan: Plan) -> None:
    from stance.scheme import Scheme
    from training import dataset

    dd, _ = dataset.load(plan.data_version, Scheme.load())
    sentences = len(dd["train"]) + len(dd["test"])
    articles = len(set(dd["train"]["article"]) | set(dd["test"]["article"]))
    for run in plan.runs:
        try:
            run.recipe.check_data(sentences, articles, run.train_share)
        except StanceError as exc:
            raise StanceError(f"{plan.path}: run '{run.label}': {exc}") from None


def _tags(plan: Plan, run: PlannedRun) -> dict[str, str]:
    return {
        "spec": str(_relative(plan.path)),
        "spec_hash": spec_hash(plan.path),
        "spec_entry": f"{plan.spec.name}/{run.entry}",
        "entry": run.entry,
        "data_version_requested": plan.spec.data_version,
        "overrides": json.dumps({k: o.value for k, o in run.overrides.items()}, sort_keys=True),
        "override_reasons": json.dumps({k: o.reason for k, o in run.overrides.items()}, sort_keys=True),
        "mlflow.note.content": _note(plan, run),
    }


def _note(plan: Plan, run: PlannedRun) -> str:
    lines = [f"{plan.spec.description}", "", f"Run `{run.label}`: configs/{run.recipe_path.name}"]
    lines += [f"- `{k}: {o.value!r}`: {o.reason}" for k, o in run.overrides.items()]
    return "\n".join(lines)


def spec_hash(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def _relative(path: Path) -> Path:
    try:
        return Path(path).resolve().relative_to(paths.root().resolve())
    except ValueError:
        return Path(path)


SELECTED = {"rolling_stance_macro_f1": "rolling-origin", "time_stance_macro_f1": "time-split"}


def figures(m: dict[str, float]) -> str:
    """A run's stance macro-F1 in words: the figure compare ranks by (the rolling origin's, else the
    time split's), then grouped CV's fold mean; a learning-curve point has grouped CV's alone."""
    cv = f"grouped-CV stance macro-F1 {m['stance_macro_f1']:.3f} ± {m['stance_macro_f1_std']:.3f}"
    if (chosen := tracking.selection(m)) is None:
        return cv
    _, name, value = chosen
    return f"{SELECTED[name]} stance macro-F1 {value:.3f}, {cv}"


def cli(
    spec: Annotated[Path, typer.Argument(help="Experiment spec YAML (e.g. experiments/recipes.yaml).")],
    force: Annotated[bool, typer.Option(help="Train runs again even if an identical run exists.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Check the spec and list its runs; train nothing.")] = False,
) -> None:
    """Run every run of an experiment spec into one MLflow experiment (done runs are skipped)."""
    if not spec.is_absolute() and not spec.exists() and (paths.root() / spec).exists():
        spec = paths.root() / spec  # a spec named from the project root works from any folder
    plan = load_plan(spec, build=not dry_run)
    runs = f"{len(plan.runs)} run{'s' if len(plan.runs) != 1 else ''}"
    print(f"experiment {plan.spec.name}: {runs} on data version {plan.data_version}")
    if dry_run:
        for run in plan.runs:
            print(f"  {run.label}: configs/{run.recipe_path.name} recipe {recipe_hash(run.recipe)}")
        return
    for out in run_plan(plan, force):
        state = "exists, skipped: " if out["skipped"] else ""
        print(f"  {out['label']}: {state}{figures(out['metrics'])} (run {out['run_id']})")
    print(f"compare them with: stance compare {plan.spec.name}")
    print(f"tracking: {tracking.shown_uri()}")


if __name__ == "__main__":
    from stance.runner import run

    run(cli)
