"""Finding a registered model on a tracking server that takes a user and password in its URL."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import free_port
from training import loading

USER, SECRET = "alice", "s3cret-pw"


@pytest.fixture
def alias_server():
    """A loopback stand-in for an MLflow server's alias endpoint that wants Basic credentials."""
    wanted = "Basic " + base64.b64encode(f"{USER}:{SECRET}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.headers.get("Authorization") != wanted:
                self.send_response(401)
                self.end_headers()
                return
            body = json.dumps({"model_version": {"version": "3"}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_credentials_in_the_tracking_url_reach_the_server(alias_server, monkeypatch):
    """MLflow's own client sends a URL's user:password as Basic credentials; the alias lookup does too
    (it used to send the URL as it was, and urllib read 'alice:s3cret-pw@127.0.0.1' as a host name:
    'not reachable' while the server ran)."""
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    uri = f"http://{USER}:{SECRET}@127.0.0.1:{alias_server}"
    uri_model = "models:/stance-classifier@champion"
    assert loading._store_version(uri, "stance-classifier", "champion", None, uri_model) == ("3", None)


def test_the_cached_copy_note_hides_the_password(monkeypatch):
    """With the server down, predict scores with its cached copy and says which store did not answer:
    as the error lines do, with the password as ***."""
    uri = f"http://{USER}:{SECRET}@127.0.0.1:{free_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    folder = loading.cache_root(uri) / "stance-classifier"
    (folder / "1").mkdir(parents=True)
    (folder / "1" / "MLmodel").write_text("flavors: {}\n")
    (folder / "aliases.json").write_text(json.dumps({"champion": "1"}))
    path, (what, note) = loading.local_copy("models:/stance-classifier@champion")
    assert path == folder / "1"
    assert what == "models:/stance-classifier/1 (@champion)"
    assert (
        note
        == f"; the cached copy: tracking store http://{USER}:***@127.0.0.1:{uri.rsplit(':', 1)[1]} not reachable"
    )
