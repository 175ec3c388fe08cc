"""The MLflow UI, started by `stance mlflow-ui` on the store, shows an experiment's runs and metrics."""

import mlflow
import pytest

from tests.browser import browser_page
from tests.mlflow_ui import COLUMNS, column_headers, mlflow_ui, show_runs

pytestmark = pytest.mark.slow


def test_the_ui_lists_the_experiments_runs_with_their_metric_columns(tiny_experiment, tmp_path):
    _, results = tiny_experiment
    exp = mlflow.get_experiment_by_name("tiny")
    with mlflow_ui() as url, browser_page(1600, 900) as page:
        assert url.startswith("http://127.0.0.1:")
        text = show_runs(page, url, exp.experiment_id)
        headers = column_headers(page)
        page.screenshot(path=str(tmp_path / "mlflow-ui.png"))
    for res in results:
        run = mlflow.get_run(res["run_id"])
        assert run.info.run_name in text  # e.g. tiny/baseline@b18cd89cc529
        assert str(res["metrics"]["stance_macro_f1"])[:6] in text  # its macro-F1 in the table
    assert set(COLUMNS) <= set(headers), headers
    assert (tmp_path / "mlflow-ui.png").stat().st_size > 20_000


def test_the_ui_command_refuses_a_remote_tracking_server(monkeypatch):
    from tests.conftest import run_cli

    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    out = run_cli("mlflow-ui", "--port", "5999")
    assert out.returncode == 2
    assert out.stderr.decode().strip() == (
        "error: MLFLOW_TRACKING_URI is http://127.0.0.1:9: that server has its own UI; open it there"
    )


def test_the_ui_command_refuses_a_port_another_program_holds(monkeypatch, tmp_path):
    """MLflow's server logged the bind error among its start-up lines and exited 0, under our URL."""
    import socket

    from tests.conftest import run_cli

    store = tmp_path / "mlflow.db"
    store.touch()  # an empty store: SQLite's own empty database
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}")
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        out = run_cli("mlflow-ui", "--port", str(port))
    assert out.returncode == 2 and out.stdout == b""
    assert out.stderr.decode().strip() == (
        f"error: port {port} on 127.0.0.1 is already taken by another program: free it, or choose "
        "another with --port"
    )
    bad = run_cli("mlflow-ui", "--port", "99999")  # was a traceback from the server's bind()
    assert bad.returncode == 2 and len(bad.stderr.decode().strip().splitlines()) == 1
    assert bad.stderr.decode().startswith("error: Invalid value for '--port'")


def test_the_ui_command_refuses_a_store_that_does_not_exist(monkeypatch, tmp_path):
    """A mistyped store path made the server create its folders and an empty store, and show it."""
    from tests.conftest import run_cli

    missing = tmp_path / "typo" / "mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{missing}")
    out = run_cli("mlflow-ui", "--port", "5999")
    assert out.returncode == 2 and out.stdout == b""
    assert out.stderr.decode().strip() == (
        f"error: no MLflow store at {missing}: train a model first (`stance train`), or check "
        "MLFLOW_TRACKING_URI"
    )
    assert not (tmp_path / "typo").exists()
