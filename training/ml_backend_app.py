"""``stance labeling backend``: the champion as a Label Studio ML backend over HTTP.

A small FastAPI app served by uvicorn (both already installed with MLflow, whose scoring
server uses them); the ``label-studio-ml`` package on PyPI (1.0.9) pins Flask 1.1.2 and
Werkzeug 2.0.2, which would downgrade MLflow's Flask 3. Routes, as Label Studio 1.23 calls them:

* ``GET /health``: up, the model version, and the retrainer's state;
* ``POST /setup``: the project's labeling interface checked against the scheme; the model version;
* ``POST /predict``: ``{"tasks": [...]}`` -> ``{"results": [one prediction per task]}``;
* ``POST /webhook`` (every project event) and ``POST /train`` (the "Start Training" button):
  a background retrain when ``--retrain-recipe`` is given, else an answer saying it is off.
"""

# no `from __future__ import annotations` here: FastAPI reads the routes' annotations
# (`request: Request`, imported inside create_app so the CLI starts without FastAPI) as objects
import sys
from pathlib import Path
from typing import Annotated

import typer

from labeling.loop import DEFAULT_MODEL
from stance.errors import StanceError
from training.ml_backend import RETRAIN_ACTIONS, RETRAIN_OFF, Backend, Retrainer, project_title, retrain

DEFAULT_PORT = 9090  # Label Studio's examples connect to :9090


def create_app(backend: Backend, retrainer: Retrainer):
    """The web app over a loaded backend; every failure is a JSON ``{"error": "..."}`` answer."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    app = FastAPI(title="stance ML backend", docs_url=None, redoc_url=None, openapi_url=None)

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    async def body(request: Request) -> dict:
        try:
            payload = await request.json()
        except ValueError:
            raise StanceError("the request body is not JSON") from None
        if not isinstance(payload, dict):
            raise StanceError("the request body is not a JSON object")
        return payload

    @app.exception_handler(StanceError)
    async def stance_error(_request, exc: StanceError):
        return error(400, str(exc))

    @app.get("/")
    @app.get("/health")
    def health():
        return {
            "status": "UP",
            "model_class": "stance",
            "model_version": backend.model_version,
            "retrain": vars(retrainer.state),
        }

    @app.post("/setup")
    async def setup(request: Request):
        backend.check_label_config((await body(request)).get("schema"))
        from starlette.concurrency import run_in_threadpool

        # Label Studio calls /setup before it asks for predictions: a champion `stance promote`
        # moved since is loaded here (it was served until the backend restarted)
        await run_in_threadpool(backend.reload_if_moved)
        return {"model_version": backend.model_version}

    @app.get("/versions")
    def versions():
        return {"versions": [backend.model_version]}

    @app.post("/predict")
    async def predict(request: Request):
        tasks = (await body(request)).get("tasks")
        if not isinstance(tasks, list) or not all(isinstance(t, dict) for t in tasks):
            raise StanceError("'tasks' must be a list of Label Studio tasks")
        from starlette.concurrency import run_in_threadpool

        # the model runs in a worker thread: health checks and webhooks are answered meanwhile
        results = await run_in_threadpool(backend.predict, tasks)
        return {"results": results, "model_version": backend.model_version}

    @app.post("/webhook")
    async def webhook(request: Request):
        payload = await body(request)
        action = payload.get("action")
        if action not in RETRAIN_ACTIONS:
            return {"status": "ignored", "action": action}
        return retrain_answer(retrainer.request(project_title(payload)), action)

    @app.post("/train")
    async def train(request: Request):
        payload = await body(request)
        return retrain_answer(retrainer.request(project_title(payload)), "train")

    return app


def retrain_answer(outcome: str, action) -> dict:
    status = {
        "off": RETRAIN_OFF,
        "started": "retraining started in the background",
        "coalesced": "a retrain is running; one more will follow it with these labels",
    }[outcome]
    return {"status": status, "retrain": outcome, "action": action}


def build(model_uri: str, retrain_recipe: Path | None) -> tuple[Backend, Retrainer]:
    """The loaded backend and its retrainer, every input checked before anything is served."""
    if retrain_recipe is not None:
        from training.recipes import load_recipe

        load_recipe(retrain_recipe)  # a bad recipe is an error now, not at the first annotation
    backend = Backend(model_uri)

    def job(recipe: Path, project: str | None) -> dict:
        out = retrain(recipe, project)
        if backend.reload_if_moved():
            out["serving"] = backend.model_version
        return out

    return backend, Retrainer(retrain_recipe, job)


def check_address(host: str, port: int) -> None:
    """One line when the backend cannot listen on ``host:port`` (a port taken, an address not of this machine)."""
    import errno
    import socket

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            s.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise StanceError(
                f"port {port} on {host} is already taken by another program: free it, or choose another with --port"
            ) from None
        raise StanceError(f"cannot listen on {host}:{port} ({exc.strerror or exc}): check --host") from None


def cli(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = DEFAULT_PORT,
    model: Annotated[str, typer.Option(help="MLflow model URI to serve.")] = DEFAULT_MODEL,
    retrain_recipe: Annotated[
        Path | None,
        typer.Option(help="Retrain this recipe in the background when annotations arrive [default: off]."),
    ] = None,
) -> None:
    """Serve the model as a Label Studio ML backend (Settings → Model → Connect model)."""
    import uvicorn

    from stance import paths

    # before the model loads: uvicorn logged a bind error after our "serving" line, and exited 1
    check_address(host, port)
    if retrain_recipe is not None and not retrain_recipe.is_absolute() and not retrain_recipe.exists():
        retrain_recipe = paths.root() / retrain_recipe
    backend, retrainer = build(model, retrain_recipe)
    print(
        f"serving {backend.model_version} as a Label Studio ML backend at http://{host}:{port} "
        f"(Label Studio: Settings → Model → Connect model); retraining: "
        + (f"on, recipe {retrain_recipe}" if retrain_recipe else "off"),
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(create_app(backend, retrainer), host=host, port=port, log_level="warning")


if __name__ == "__main__":
    from stance.runner import run

    run(cli)
