"""The console script and the Makefile as a new user meets them: help that lists everything."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli


def test_a_long_task_written_to_a_log_says_how_far_it_got(monkeypatch, capsys):
    """`make demo > demo.log` and CI's log showed nothing for the minutes a grouped CV takes: the
    progress bar is drawn in a terminal alone. Into a log, a task that runs long says how far it
    got on standard error; a quick one says nothing."""
    from stance import console

    with console.progress() as bar:  # pytest's output is no terminal
        quick = bar.add_task("grouped 5-fold CV (baseline)", total=5)
        for _ in range(5):
            bar.advance(quick)
    assert capsys.readouterr() == ("", "")
    monkeypatch.setattr(console, "PLAIN_EVERY", 0.0)  # every step "runs long"
    with console.progress() as bar:
        folds = bar.add_task("grouped 5-fold CV (hybrid)", total=5)
        bar.advance(folds)
        bar.update(folds, description="grouped 5-fold CV (hybrid, refit)", advance=1)
        bar.update(folds, description="not a step")  # no advance: nothing to say
    said = capsys.readouterr()
    assert said.out == ""
    assert re.fullmatch(
        r"grouped 5-fold CV \(hybrid\): 1 of 5 \(0 s\)\ngrouped 5-fold CV \(hybrid, refit\): 2 of 5 \(0 s\)\n",
        said.err,
    )
    with console.progress(quiet=True) as bar:  # --quiet: nothing, a log or not
        bar.advance(bar.add_task("x", total=1))
    assert capsys.readouterr() == ("", "")


def test_make_help_lists_every_target():
    makefile = (REPO / "Makefile").read_text()
    phony = {t for line in re.findall(r"^\.PHONY:(.*)$", makefile, re.M) for t in line.split()}
    out = subprocess.run(["make", "-s", "help"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    listed = set(re.findall(r"^  make ([\w-]+):", out, re.M))
    assert phony - {"help"} <= listed, sorted(phony - listed)


def test_help_shows_flags_and_defaults_plainly():
    out = run_cli("train", "--help")
    text = out.stdout.decode()
    assert out.returncode == 0
    assert "<bool>" not in text and "<bool>" not in run_cli("--help").stdout.decode()
    assert "--force / --no-force" in text
    assert "[default: the latest" in " ".join(text.split())  # not eaten as markup


# the module behind each stage of the README's pipeline table (`stance X` is also `python -m MODULE`)
STAGE_MODULES = [
    "labeling.segment", "labeling.annotations", "training.dataset", "training.train", "training.predict",
    "training.experiments", "training.compare", "training.promote", "training.report", "training.score_batch",
    "training.tracking",
]  # fmt: skip


@pytest.mark.parametrize("module", STAGE_MODULES)
def test_every_stage_runs_as_python_m(module):
    # a module without its entry imported, did nothing and exited 0: `python -m training.report DIR` wrote no report
    out = subprocess.run(
        [sys.executable, "-m", module, "--help"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"Usage: python -m {module} "), out.stdout


def test_every_option_says_what_it_is():
    """`--help` of every `stance` command describes each option, not only its default."""
    import typer

    from stance.cli import build_app

    bare = [
        f"stance {path} {'/'.join(p.opts)}"
        for path, command in _commands(typer.main.get_command(build_app()), [])
        for p in command.params
        if p.param_type_name == "option" and not p.hidden and "--help" not in p.opts
        and not re.sub(r"\[[^\]]*\]", "", p.help or "").strip()
    ]  # fmt: skip
    assert not bare, bare


def test_make_demo_never_prints_a_password_in_the_tracking_uri():
    """`make demo` ends by naming the store its runs went to: a password in MLFLOW_TRACKING_URI
    (`http://me:secret@host`) was echoed as it stands, into whatever log keeps the output, right
    under `stance train`'s own line that shows it as ***."""
    # the demo's last lines alone: its stages (`stance ...`) are `true`, its prerequisites not remade
    old = ["-o", "env", "-o", "annotations", "-o", "dataset"]
    steps = [*old, "STANCE=true", f"BIN={Path(sys.executable).parent}"]
    out = subprocess.run(
        ["make", "-s", *steps, "demo"], cwd=REPO, capture_output=True, text=True, timeout=60,
        env=os.environ | {"MLFLOW_TRACKING_URI": "http://me:secret@127.0.0.1:5055"},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert (
        out.stdout.splitlines()[-1]
        == "Runs are in MLflow at http://me:***@127.0.0.1:5055 (MLFLOW_TRACKING_URI)"
    )
    assert "secret" not in out.stdout + out.stderr


def test_arguments_that_take_several_paths_read_as_the_options_do():
    """`stance predict --help` showed `articles... <list[Path]>` (typer's type) where every option
    shows a plain `<path>`; so did segment, import-annotations, labeling check and labeling push,
    and `--articles <list[str]>` of labeling next and disagreements."""
    import typer

    from stance.cli import build_app
    from stance.runner import command_of

    root = command_of(build_app())
    shown = {}
    for path, command in _commands(root, []):
        with typer.Context(command, info_name=f"stance {path}") as ctx:
            shown[path] = command.get_help(ctx)
    several = [path for path, text in shown.items() if "... <path>" in text]
    assert sorted(several) == ["import-annotations", "labeling check", "labeling push", "predict", "segment"]
    assert not [path for path, text in shown.items() if "list[" in text]
    out = run_cli("predict", "--help")  # the console script shows the same
    assert out.returncode == 0 and "articles... <path>  Article files" in out.stdout.decode()


def _commands(group, path):
    """(its words, the command) of every command under ``group``."""
    for name, command in getattr(group, "commands", {}).items():
        yield from _commands(command, [*path, name])
    if not getattr(group, "commands", None):
        yield " ".join(path), group
