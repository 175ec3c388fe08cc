"""The MLflow UI started by `stance mlflow-ui` and read in headless Chromium.

Used by tests/test_mlflow_ui.py, and to take the README's screenshot of the project's store:

    .venv/bin/python -m tests.mlflow_ui recipes docs/mlflow-ui.png
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

COLUMNS = ("stance_macro_f1", "stance_macro_f1_std", "actor_accuracy", "stance_ece")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def mlflow_ui(env: dict[str, str] | None = None, timeout: float = 90) -> Iterator[str]:
    """`stance mlflow-ui` on a free port until the block ends; yields the URL it printed."""
    port = free_port()
    stance = str(Path(sys.executable).with_name("stance"))
    proc = subprocess.Popen(
        [stance, "mlflow-ui", "--port", str(port)], env=env or os.environ.copy(), start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        first = proc.stdout.readline()
        assert first.startswith(f"MLflow UI: http://127.0.0.1:{port}"), first
        url = first.split()[2]
        _wait_healthy(url, proc, timeout)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and its worker, which we started
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the MLflow server exited ({proc.returncode}): {proc.stdout.read()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the MLflow server at {url} did not answer within {timeout:.0f} s")


def show_runs(page, url: str, experiment_id: str, columns=COLUMNS) -> str:
    """Open an experiment's runs table with the given metric columns; the page's text."""
    page.goto(f"{url}/#/experiments/{experiment_id}/runs?workflowType=machine_learning")
    page.get_by_text("Run Name", exact=True).first.wait_for(timeout=30_000)
    assistant = page.get_by_role("button", name="Close")
    if assistant.count():
        assistant.first.click()  # MLflow's assistant side panel hides the table's right half
    for name in columns:  # the Columns menu closes after each choice
        page.get_by_role("button", name="Columns").click()
        page.get_by_text(name, exact=True).first.click()
        page.keyboard.press("Escape")
        page.wait_for_timeout(600)  # let the menu close before it is opened again
        page.wait_for_function(
            "name => [...document.querySelectorAll('[role=columnheader]')].some(h => h.innerText.trim() === name)",
            arg=name, timeout=15_000,
        )  # fmt: skip
    return page.inner_text("body")


def column_headers(page) -> list[str]:
    return [t.strip() for t in page.locator("[role=columnheader]").all_inner_texts()]


def main(experiment: str, out: Path) -> None:
    import mlflow

    from tests.browser import browser_page
    from training import tracking

    tracking.setup_uri()
    exp = mlflow.get_experiment_by_name(experiment)
    with mlflow_ui() as url, browser_page(1600, 900) as page:
        show_runs(page, url, exp.experiment_id)
        page.set_viewport_size({"width": 1920, "height": 430})  # wide enough for every metric column
        page.wait_for_timeout(1000)
        page.screenshot(path=str(out))
    print(f"screenshot of {url} -> {out}")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
