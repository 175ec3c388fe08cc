"""How every command runs: the ``stance`` console script and each module's ``python -m`` entry.

A StanceError or a usage error is one ``error: ...`` line, an interruption one line with the
signal's exit status. The CLI (stance/cli.py) and the modules' ``__main__`` blocks share this,
so no module has to import the CLI to run as a command.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import PurePath
from typing import get_args

import typer
from typer.core import TyperArgument, TyperOption

from stance.errors import Interrupted, StanceError, redact

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def guard(app: typer.Typer) -> None:
    """Run a Typer app: a StanceError or a usage error is one ``error: ...`` line and exit status 2;
    Ctrl-C or SIGTERM is one line and exit status 128 + the signal (130 for Ctrl-C)."""
    _interrupt_on_signals()
    try:
        code = command_of(app)(standalone_mode=False)
    except StanceError as exc:
        _fail(str(exc))
    except Interrupted as exc:
        _end_active_runs()
        _fail(f"interrupted by {exc} (nothing more was done)", 128 + exc.signum)
    except KeyboardInterrupt:  # before our handler was in place
        _end_active_runs()
        _fail("interrupted by SIGINT (nothing more was done)", 130)
    except (typer.Exit, *_click_classes("Exit")) as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, *_click_classes("Abort")):
        _fail("aborted", 1)
    except _click_classes("ClickException") as exc:
        _usage_error(exc)
    except OSError as exc:  # a file the command did not expect to fail on: still one line
        if exc.filename is None:
            raise
        _fail(f"{exc.filename}: {exc.strerror or exc.__class__.__name__}")
    # typer answers Ctrl-C by *returning* 130 when not in standalone mode; never report it as success
    sys.exit(code if isinstance(code, int) and not isinstance(code, bool) else 0)


def command_of(app: typer.Typer):
    """The app as click runs it, each parameter that takes several values shown as one value
    is: `articles... <path>` and `--articles <str>`, where typer writes `<list[Path]>`, `<list[str]>`."""
    import typer.main

    command = typer.main.get_command(app)
    for one in _leaves(command):
        for param in one.params:
            if param.param_type_name == "argument" and param.nargs == -1:
                param.__class__ = _SeveralValues
            elif param.param_type_name == "option" and param.multiple and param.metavar is None:
                param.__class__ = _RepeatedOption
    return command


def _leaves(command):
    """A command's subcommands, at every depth (a command without any: itself)."""
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        return [command]
    return [leaf for sub in subcommands.values() for leaf in _leaves(sub)]


def _one_value_type(param, ctx) -> str:
    """One value's type, as a parameter of one value shows it (`<path>`, `<str>`)."""
    (element,) = get_args(param.type_descriptor.annotation)
    if isinstance(element, type) and issubclass(element, PurePath):
        return f"<{param.type_descriptor.path_type}>"
    return f"<{getattr(element, '__name__', element)}>"


class _SeveralValues(TyperArgument):
    """An argument that takes several values (typer adds the "..." after its name)."""

    display_type = _one_value_type


class _RepeatedOption(TyperOption):
    """An option given again for each more value."""

    display_type = _one_value_type


def _end_active_runs() -> None:
    """An MLflow run the signal caught outside its ``with`` block (inside ``mlflow.start_run`` itself)
    still ends as KILLED, never left RUNNING; runs inside their block were ended by it already."""
    mlflow = sys.modules.get("mlflow")  # imported only if the command used it
    if mlflow is None:
        return
    try:
        while mlflow.active_run() is not None:
            mlflow.end_run("KILLED")
    except Exception:  # the store may be what failed: the error line matters more
        return


def _fail(message: str, status: int = 2) -> None:
    print(f"error: {redact(message)}", file=sys.stderr)
    sys.exit(status)


def _click_classes(name: str) -> tuple[type[BaseException], ...]:
    """``name`` from typer's bundled click (what typer raises) and from click itself, if installed."""
    import importlib

    found = []
    for module in ("typer._click.exceptions", "click.exceptions"):
        try:
            found.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def _usage_error(exc) -> None:
    """A usage error (bad option value, unknown option or command) as one line naming the help."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # a bare `stance` or `stance labeling`: the help
        exc.show()
        sys.exit(exc.exit_code)
    message = " ".join(exc.format_message().replace("Value error, ", "").split())
    ctx = getattr(exc, "ctx", None)
    hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
    _fail(message + hint, exc.exit_code if exc.exit_code else 2)


# how long a signal that arrived inside a finalizer waits before it is raised again
DEFER_SECONDS = 0.05


def _in_finalizer(frame) -> bool:
    """Whether the interrupted code runs inside an object's ``__del__`` (or a weakref finalizer),
    where Python prints an exception raised and then swallows it ("Exception ignored in ...")."""
    while frame is not None:
        code = frame.f_code
        if code.co_name == "__del__" or (
            code.co_name == "__call__" and code.co_filename.endswith("weakref.py")
        ):
            return True
        frame = frame.f_back
    return False


def _interrupt_on_signals() -> None:
    """Ctrl-C and SIGTERM raise Interrupted wherever the command is, so runs end as KILLED.

    A signal that lands while a finalizer runs (GitPython's ``Repo.__del__``, which MLflow's run
    start triggers, is one) would have its exception swallowed there, and the command would carry
    on to the end: a SIGTERM'd ``stance train`` registered its model. Such a signal is held and
    raised again, by a timer, once the finalizer has returned."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    pending: list[int] = []

    def interrupt(signum, frame):
        if _in_finalizer(frame):
            pending.append(signum)
            signal.setitimer(signal.ITIMER_REAL, DEFER_SECONDS)
            return
        _quiet_teardown()
        raise Interrupted(signum)

    def deferred(_signum, frame):
        if not pending:
            return
        if _in_finalizer(frame):  # still inside one: wait again
            signal.setitimer(signal.ITIMER_REAL, DEFER_SECONDS)
            return
        _quiet_teardown()
        raise Interrupted(pending.pop(0))

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, interrupt)
    signal.signal(signal.SIGALRM, deferred)


def _quiet_teardown() -> None:
    """Once interrupted, the store's connections are torn down mid-statement: SQLAlchemy logs each
    cursor it cannot close ("Error closing cursor ... Cannot operate on a closed database", ~30 lines
    of traceback) through Python's last-resort handler. The one ``interrupted`` line says what
    happened; keep those off the screen."""
    import logging

    logging.getLogger("sqlalchemy").setLevel(logging.CRITICAL + 1)


def run(command: Callable) -> None:
    """Entry point for ``python -m package.module``: one command, guarded."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
    app.command()(command)
    guard(app)
