"""The ``stance`` console script: every stage as a subcommand, errors as one line."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import typer

from stance.errors import StanceError

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def _guard(app: typer.Typer) -> None:
    """Run a Typer app, turning a StanceError into ``error: ...`` and exit status 2."""
    try:
        app(standalone_mode=False)
    except StanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # click usage errors carry their own message and exit code
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


def run(command: Callable) -> None:
    """Entry point for ``python -m package.module``: one command, guarded."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(command)
    _guard(app)


def build_app() -> typer.Typer:
    from labeling import annotations, loop, segment
    from training import compare, dataset, experiments, predict, promote, report, tracking, train

    app = typer.Typer(
        add_completion=False,
        pretty_exceptions_enable=False,
        no_args_is_help=True,
        help="Who takes which stance in coverage of the Pakistan / Afghan Taliban talks.",
    )
    app.command("segment")(segment.cli)
    app.command("import-annotations")(annotations.cli)
    app.command("build-dataset")(dataset.cli)
    app.command("train")(train.cli)
    app.command("predict")(predict.cli)
    app.add_typer(loop.app, name="labeling")
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
    _guard(build_app())
