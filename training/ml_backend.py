"""The champion behind Label Studio's ML backend protocol: what the routes do, without the web app.

Label Studio (Settings → Model → Connect model) calls ``/health`` and ``/setup`` when it
connects and before it asks for predictions, ``/predict`` with the tasks that lack a
prediction from the current model version, and ``/webhook`` for every project event.
The web app is ``training/ml_backend_app.py``; here are the parts it calls:

* :class:`Backend` loads the model once, refusing one whose label scheme differs from
  configs/scheme.yaml (the check predict makes), and answers a batch of tasks with the
  very pre-annotations ``stance labeling push`` sends (``labeling.loop.prediction``: the
  same result, the pair confidence as score, the registered version as model_version).
* :class:`Retrainer` runs one retrain at a time in a background thread; events that arrive
  while one runs are folded into a single follow-up retrain, never queued one by one.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from labeling.annotations import find_article
from labeling.articles import read_article
from labeling.loop import DEFAULT_MODEL, prediction
from labeling.segment import Sentence, segment
from labeling.studio import ACTOR, STANCE, TEXT
from labeling.studio import project_title as studio_project_title
from stance.errors import StanceError
from stance.scheme import Scheme
from training.inputs import check_sentence_size
from training.prelabel import resolve_model

# Label Studio's events that carry new labels; START_TRAINING is its "Start Training" button
RETRAIN_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_CREATED", "START_TRAINING")
RETRAIN_OFF = "retraining is off: start the backend with --retrain-recipe configs/RECIPE.yaml to turn it on"


class Backend:
    """A loaded model and the answers Label Studio expects from it. Load once, call from any thread."""

    def __init__(self, model_uri: str = DEFAULT_MODEL, scheme: Scheme | None = None):
        from training.predict import Predictor

        self.scheme = scheme or Scheme.load()
        self.model_uri = model_uri
        self._lock = threading.Lock()
        self._load(Predictor(model_uri, self.scheme))  # refuses another label scheme: one StanceError line

    def _load(self, predictor) -> None:
        version = resolve_model(self.model_uri) if self.model_uri.startswith("models:/") else None
        with self._lock:
            self.predictor = predictor
            self.model_version = version or self.model_uri  # 'stance-classifier/3', as push names it

    def reload_if_moved(self) -> bool:
        """Load the version an alias now names when it moved (a retrain crowned a new champion)."""
        from training.predict import Predictor

        if "@" not in self.model_uri or resolve_model(self.model_uri) in (None, self.model_version):
            return False
        self._load(Predictor(self.model_uri, self.scheme))
        return True

    def predict(self, tasks: list[dict]) -> list[dict]:
        """One prediction per task, in the tasks' order, as push sends them.

        Tasks are scored in one batch, each article's in reading order, so a sentence's
        context (where the holder of "He said ..." is found) is the sentences of its
        article in the same request before it, as push gives the sentences it scores.
        A task that cannot be scored (no text, too long) gets no prediction (``[]``) and
        the others are scored; a request none of whose tasks can be scored is refused.
        """
        sentences, problems = {}, []
        for i, task in enumerate(tasks):  # every task checked before the model runs
            try:
                sentences[i] = task_sentence(task)
            except StanceError as exc:
                problems.append(str(exc))
        if problems and not sentences:
            raise StanceError(
                problems[0] + (f" (and {len(problems) - 1} more tasks)" if len(problems) > 1 else "")
            )
        if problems:  # Label Studio logs nothing for a task left without a prediction: say why here
            print(
                f"predict: {len(problems)} of {len(tasks)} tasks not scored: {problems[0]}", file=sys.stderr
            )
        order = sorted(sentences, key=lambda i: (sentences[i].article, sentences[i].start or 0, i))
        with self._lock:
            predictor, version = self.predictor, self.model_version
        batch = [sentences[i] for i in order]
        preds = predictor.predict_sentences(batch, known=[article_context(s) for s in batch])
        out: list = [[] for _ in tasks]  # Label Studio reads [] as "no prediction for this task"
        for i, p in zip(order, preds, strict=True):
            out[i] = prediction(p, self.scheme, version)
        return out

    def check_label_config(self, config: str | None) -> None:
        """The project's labeling interface must offer exactly the scheme's actors and stances."""
        expected = {ACTOR: self.scheme.actor_labels, STANCE: self.scheme.stance_labels}
        if not isinstance(config, str) or not config.strip():
            raise StanceError(
                "Label Studio sent no labeling interface; create the project with `stance labeling init`"
            )
        try:
            root = ET.fromstring(config)
        except ET.ParseError as exc:
            raise StanceError(f"the project's labeling interface is not valid XML ({exc})") from None
        for name, labels in expected.items():
            tag = root.find(f".//Choices[@name='{name}']")
            found = [c.get("value", "") for c in tag.iter("Choice")] if tag is not None else None
            if found is None or tag.get("toName") != TEXT:
                raise StanceError(
                    f"the project's labeling interface has no '{name}' choices on '{TEXT}': it is not a stance "
                    "project (create one with `stance labeling init`)"
                )
            if found != labels:
                raise StanceError(
                    f"the project's {name} choices ({', '.join(found)}) differ from configs/scheme.yaml "
                    f"({', '.join(labels)}; scheme {self.scheme.hash}) that model {self.model_version} was trained "
                    "with: update the project with `stance labeling init`, or serve a matching model"
                )


def task_sentence(task: dict) -> Sentence:
    """A Label Studio task as a sentence; a task imported without push's fields is its own article."""
    data = task.get("data") if isinstance(task.get("data"), dict) else {}
    text = data.get(TEXT)
    if not isinstance(text, str) or not text.strip():
        raise StanceError(
            f"task {task.get('id', '?')} has no '{TEXT}' to score: the labeling interface reads $text"
        )
    check_sentence_size(text, f"task {task.get('id', '?')}")  # predict's limit for one sentence
    own = f"task-{task.get('id', '?')}"
    return Sentence(
        str(data.get("article") or own),
        str(data.get("sentence_id") or own),
        _offset(data.get("start")),
        _offset(data.get("end")),
        text,
    )


def article_context(sentence: Sentence) -> str | None:
    """The context predict gives a sentence of an article the project holds (a task pushed from
    seeds, corpus or coverage): its article's sentences before it. Label Studio asks for one task
    at a time as an annotator opens it, and "He said ..." alone had lost its holder. None for a
    sentence of another article: its context is then the request's earlier sentences."""
    return _project_contexts(sentence.article).get(sentence.sentence_id)


@lru_cache(maxsize=256)
def _project_contexts(article: str) -> dict[str, str]:
    from training.context import contexts

    try:
        sentences = segment(read_article(find_article(article)))
    except StanceError:  # not one of the project's articles
        return {}
    texts = [s.text for s in sentences]
    return dict(zip([s.sentence_id for s in sentences], contexts([article] * len(texts), texts), strict=True))


def _offset(value) -> int | None:
    """An offset as push writes it (a whole number), else none: a task imported with "12" or 3.5 is not an error."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


@dataclass
class RetrainState:
    recipe: str | None
    running: bool = False
    pending: bool = False  # events that came in while a retrain ran: one more retrain after it
    started: int = 0
    last: dict = field(default_factory=dict)


class Retrainer:
    """Retrain a recipe in the background when labels arrive: one at a time, later events coalesced."""

    def __init__(self, recipe: Path | None, job: Callable[[Path, str | None], dict] | None = None):
        self.recipe = recipe
        self.job = job or retrain
        self.state = RetrainState(str(recipe) if recipe else None)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._project: str | None = None

    def request(self, project: str | None = None) -> str:
        """Ask for a retrain: 'off', 'started', or 'coalesced' (one is running; one more follows it)."""
        if self.recipe is None:
            return "off"
        with self._lock:
            if self.state.running:
                self.state.pending = True
                self._project = project or self._project  # the latest event's, for the follow-up
                return "coalesced"
            self.state.running = True
            self._thread = threading.Thread(
                target=self._loop, args=(project,), name="stance-retrain", daemon=True
            )
            self._thread.start()
            return "started"

    def _loop(self, project: str | None) -> None:
        while True:
            with self._lock:
                self.state.started += 1
            t0 = time.monotonic()
            try:
                last = {"ok": True, **self.job(self.recipe, project)}
            except Exception as exc:  # a failed retrain is reported on /health; the backend keeps serving
                last = {
                    "ok": False,
                    "error": str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__,
                }
            last["seconds"] = round(time.monotonic() - t0, 1)
            print(f"retrain: {last}", file=sys.stderr, flush=True)
            with self._lock:
                self.state.last = last
                if not self.state.pending:  # events that came while it ran: exactly one more retrain
                    self.state.running = False
                    return
                self.state.pending, project, self._project = False, self._project, None

    def wait(self, timeout: float | None = None) -> bool:
        """Until no retrain runs (tests, shutdown); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                thread = self._thread if self.state.running else None
            if thread is None:
                return True
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if deadline is not None and time.monotonic() >= deadline and thread.is_alive():
                return False


def retrain(recipe: Path, project: str | None) -> dict:
    """Pull the project's annotations (when Label Studio is configured), rebuild the dataset, train.

    The run is recorded in MLflow by the project's own ``train()``, as ``stance train`` records
    it; unchanged data and recipe find the identical run and train nothing (as ``stance train``).
    """
    from labeling.snapshot import latest_snapshot
    from stance.env import load_env
    from training import dataset
    from training.train import train

    scheme = Scheme.load()
    load_env()
    out: dict = {"recipe": str(recipe)}
    if project and os.environ.get("LABEL_STUDIO_API_KEY"):
        from labeling.studio import Studio
        from labeling.sync import pull

        pulled = pull(Studio.connect(), scheme, project)
        out["pulled"] = {"project": project, "sentences": pulled["snapshot_sentences"]}
    version, _, _ = dataset.save(latest_snapshot(), scheme)
    result = train(recipe, version, quiet=True)
    out |= {"data_version": version, "run_id": result["run_id"], "skipped": result["skipped"]}
    if not result["skipped"]:
        out |= {"model_uri": result.get("model_uri"), "decision": result.get("decision")}
    return out


def project_title(payload: dict) -> str | None:
    """The project a webhook names (its title), else the one the loop commands default to."""
    project = payload.get("project")
    if isinstance(project, dict) and project.get("title"):
        return str(project["title"])
    return studio_project_title()
