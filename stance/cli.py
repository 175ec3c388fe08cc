"""The ``stance`` console script: every stage as a subcommand, errors as one line."""

from __future__ import annotations

import typer

from stance.runner import guard  # first: it sets the environment (telemetry off, hub offline)


def build_app() -> typer.Typer:
    from labeling import annotations, commands, segment
    from training import (
        compare,
        dataset,
        experiments,
        plan,
        predict_cli,
        prelabel,
        promote,
        report,
        simulate_report,
        tracking,
        train,
    )

    app = typer.Typer(
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,  # plain help: no "<bool>" after flags, "[default: ...]" in help text kept
        no_args_is_help=True,
        help="Who takes which stance in coverage of the Pakistan / Afghan Taliban talks.",
    )
    app.command("segment")(segment.cli)
    app.command("import-annotations")(annotations.cli)
    app.command("build-dataset")(dataset.cli)
    app.command("train")(train.cli)
    app.command("predict")(predict_cli.cli)
    labeling = commands.build_app(scorer=prelabel.ModelScorer)  # push pre-annotates with training's model
    labeling.command("simulate")(simulate_report.cli)
    labeling.command("plan")(plan.cli)
    from training import ml_backend_app

    labeling.command("backend")(ml_backend_app.cli)
    app.add_typer(labeling, name="labeling")
    experiment = typer.Typer(no_args_is_help=True, help="Experiment specs in experiments/: run them.")
    experiment.command("run")(experiments.cli)
    app.add_typer(experiment, name="experiment")
    app.command("compare")(compare.cli)
    app.command("promote")(promote.cli)
    app.command("mlflow-ui")(tracking.ui_cli)
    app.command("report")(report.cli)
    from stance import stack
    from training import score_batch

    app.add_typer(stack.app, name="stack")
    app.command("score-batch")(score_batch.cli)
    return app


def main() -> None:
    guard(build_app())
