"""Label Studio over HTTP: the connection, clear errors, and the labeling interface from the scheme.

The server is reached with ``label-studio-sdk`` (``LabelStudio``) at
``LABEL_STUDIO_URL`` with ``LABEL_STUDIO_API_KEY`` (a legacy token or a personal
access token). Every failure to reach or use it is one StanceError line saying
which and what to do; the token is never printed.

The labeling interface is generated from ``configs/scheme.yaml``: the sentence
between its neighbours, the primary actor and stance as single choices (with the
guide's definitions as hints), and a taxonomy for additional (actor, stance) pairs.
"""

from __future__ import annotations

import html
import ipaddress
import json
import os
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from stance import paths
from stance.env import load_env
from stance.errors import StanceError, one_or_several, redact
from stance.io import read_text
from stance.scheme import Pair, Scheme
from stance.server import DEFAULT_URL

DEFAULT_PROJECT = "stance"
ACTOR, STANCE, MORE, TEXT = "actor", "stance", "more_pairs", "text"
ANNOTATOR_DOMAIN = "stance.local"  # e-mail domain of annotators created by `labeling import`
HOW_TO_FIX = {
    "down": "start it with `make label-studio`, or set LABEL_STUDIO_URL to your server",
    "token": "set LABEL_STUDIO_API_KEY to your token (Label Studio: Account & Settings → Access Token)",
}


def project_title(given: str | None = None) -> str:
    """The project a command works on: ``--project``, else ``LABEL_STUDIO_PROJECT``, else "stance"."""
    return given or os.environ.get("LABEL_STUDIO_PROJECT") or DEFAULT_PROJECT


# -- the labeling interface --------------------------------------------------------------


def label_config(scheme: Scheme) -> str:
    """The Label Studio XML for the scheme; the same scheme always gives the same text."""
    view = ET.Element("View")
    ET.SubElement(view, "Style").text = (
        ".stance-context { color: #666; font-size: 0.9em; }"
        " .stance-sentence { font-size: 1.15em; font-weight: 600; border-left: 4px solid #1f77b4;"
        " padding: 6px 10px; margin: 6px 0; }"
    )
    ET.SubElement(view, "Header", value="$origin", size="6")  # headline · outlet, date · article id
    for name, css in (
        ("context_before", "stance-context"),
        (TEXT, "stance-sentence"),
        ("context_after", "stance-context"),
    ):
        ET.SubElement(ET.SubElement(view, "View", className=css), "Text", name=name, value=f"${name}")
    ET.SubElement(view, "Header", value="Primary pair: who takes which stance in the main clause", size="5")
    for facet, labels in ((ACTOR, scheme.actor_labels), (STANCE, scheme.stance_labels)):
        ET.SubElement(view, "Header", value=facet, size="6")
        choices = ET.SubElement(
            view,
            "Choices",
            name=facet,
            toName=TEXT,
            choice="single-radio",
            showInline="true",
            required="true",
        )
        for label in labels:
            ET.SubElement(choices, "Choice", value=label, hint=_hint(scheme, facet, label))
    ET.SubElement(
        view, "Header", value="Additional pairs (other clauses), if any: actor, then stance", size="6"
    )
    more = ET.SubElement(view, "Taxonomy", name=MORE, toName=TEXT, leafsOnly="true", placeholder="add a pair")
    for actor in scheme.actors:
        node = ET.SubElement(more, "Choice", value=actor, hint=scheme.actors[actor])
        for stance in scheme.stances:
            if stance != scheme.none:
                ET.SubElement(node, "Choice", value=stance, hint=scheme.stances[stance])
    ET.indent(view)
    return ET.tostring(view, encoding="unicode")


def _hint(scheme: Scheme, facet: str, label: str) -> str:
    if facet == ACTOR:
        return scheme.actors.get(label, f"no stance in this sentence (stance '{scheme.none}')")
    return scheme.stances[label]


def instructions(scheme: Scheme) -> str:
    """The project's instructions (HTML), shown before labeling: the labeling guide itself, its
    rulings on hard cases too, where it is beside the project; else the scheme's definitions."""

    def table(title: str, labels: dict[str, str]) -> str:
        # written as Label Studio's sanitizer stores it (tbody, bare quotes), so re-running init compares equal
        rows = "".join(
            f"<tr><td><b>{html.escape(k, quote=False)}</b></td><td>{html.escape(v, quote=False)}</td></tr>"
            for k, v in labels.items()
        )
        return f"<h4>{title}</h4><table><tbody>{rows}</tbody></table>"

    intro = (
        "<p>Label who takes which stance in this sentence. The <b>primary pair</b> is the one carried by"
        " the main clause (when two clauses are equal, the first in reading order). Add other pairs under"
        f" <i>Additional pairs</i>. With no pair, choose actor <b>{scheme.none}</b> and stance"
        f" <b>{scheme.none}</b>. The actor is who holds the stance, never the role.</p>"
    )
    guide = paths.labeling_guide()
    if guide.is_file():
        from markdown_it import MarkdownIt  # rich's Markdown renderer; Label Studio stores its HTML as is

        # HTML written in the guide (a <script>, an onerror=) is shown as text, never run in the UI
        markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
        return intro + markdown.render(read_text(guide, "the labeling guide"))
    return intro + table("Stances", scheme.stances) + table("Actors", scheme.actors)


# -- results <-> pairs --------------------------------------------------------------------
def pairs_to_result(pairs: tuple[Pair, ...] | list[Pair], scheme: Scheme) -> list[dict]:
    """An annotation's result for these pairs (primary first; none = no pair)."""
    primary = scheme.primary(list(pairs))
    result = [choice(ACTOR, primary.actor), choice(STANCE, primary.stance)]
    if len(pairs) > 1:
        value = {"taxonomy": [[p.actor, p.stance] for p in pairs[1:]]}
        result.append({"from_name": MORE, "to_name": TEXT, "type": "taxonomy", "value": value})
    return result


def choice(name: str, label: str, score: float | None = None) -> dict:
    item = {"from_name": name, "to_name": TEXT, "type": "choices", "value": {"choices": [label]}}
    if score is not None:
        item["score"] = score
    return item


def result_to_pairs(result: list[dict], scheme: Scheme, where: str) -> tuple[Pair, ...]:
    """The pairs of an annotation's result, every label checked against the scheme."""
    by_name: dict[str, list] = {}
    for item in result:
        value = item.get("value", {})
        by_name[item.get("from_name")] = value.get("taxonomy") or value.get("choices") or []
    for facet in (ACTOR, STANCE):
        if len(by_name.get(facet, [])) != 1:
            raise StanceError(f"{where}: the annotation has no single {facet} choice")
    actor, stance = by_name[ACTOR][0], by_name[STANCE][0]
    if actor not in scheme.actor_labels:
        raise StanceError(
            f"{where}: actor '{actor}' is not in the label scheme (actors: {', '.join(scheme.actor_labels)})"
        )
    if stance not in scheme.stance_labels:
        raise StanceError(
            f"{where}: stance '{stance}' is not in the label scheme (stances: {', '.join(scheme.stance_labels)})"
        )
    more = by_name.get(MORE, [])
    if (actor == scheme.none) != (stance == scheme.none) or (stance == scheme.none and more):
        raise StanceError(
            f"{where}: actor '{actor}' with stance '{stance}'"
            + (" and additional pairs" if more else "")
            + f": '{scheme.none}' goes with '{scheme.none}' and no other pair"
        )
    if stance == scheme.none:
        return ()
    pairs = [scheme.check_pair(actor, stance, where)]
    for path in more:
        if len(path) != 2:
            raise StanceError(f"{where}: additional pair {path!r} is not an (actor, stance) pair")
        pairs.append(scheme.check_pair(*path, where))
    return tuple(dict.fromkeys(pairs))


# -- the connection -----------------------------------------------------------------------
@dataclass
class Studio:
    """A checked connection to a Label Studio server."""

    url: str
    client: object  # label_studio_sdk.LabelStudio

    @classmethod
    def connect(cls, url: str | None = None, api_key: str | None = None) -> Studio:
        """Connect and check that the server is Label Studio and accepts the token."""
        load_env()
        url = (url or os.environ.get("LABEL_STUDIO_URL") or DEFAULT_URL).rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise StanceError(f"LABEL_STUDIO_URL={url}: give the scheme too, e.g. http://{url}")
        api_key = api_key or os.environ.get("LABEL_STUDIO_API_KEY")
        if not api_key:
            raise StanceError(f"no API token for Label Studio at {url}: {HOW_TO_FIX['token']}")
        _warn_if_unencrypted(url)
        _check_is_label_studio(url)
        from label_studio_sdk import LabelStudio

        studio = cls(url, LabelStudio(base_url=url, api_key=api_key, timeout=120))
        with studio.calls(
            "checking the API token", not_found=not_label_studio(url, 404, "/api/current-user/whoami")
        ):
            studio.client.users.whoami()
        return studio

    @contextmanager
    def calls(self, doing: str, not_found: str | None = None) -> Iterator[None]:
        """Turn the SDK's and httpx's failures into one line naming the server and what was being done."""
        import httpx
        from label_studio_sdk.core.api_error import ApiError

        try:
            yield
        except ApiError as exc:
            if exc.status_code == 404 and not_found:
                raise StanceError(not_found) from None
            if exc.status_code in (401, 403):
                raise StanceError(
                    f"Label Studio at {self.url} refused the API token (HTTP {exc.status_code}) while {doing}: "
                    f"{HOW_TO_FIX['token']}"
                ) from None
            raise StanceError(
                f"Label Studio at {self.url} answered HTTP {exc.status_code} while {doing}: {_body_line(exc.body)}"
            ) from None
        except httpx.TransportError as exc:
            raise StanceError(
                f"cannot reach Label Studio at {self.url} while {doing} ({exc.__class__.__name__}): {HOW_TO_FIX['down']}"
            ) from None

    # -- projects
    def find_project(self, title: str):
        with self.calls(f"looking up project '{title}'"):
            found = [p for p in self.client.projects.list() if p.title == title]
        if len(found) > 1:
            raise StanceError(
                f"Label Studio at {self.url} has {len(found)} projects titled '{title}'; rename all but one"
            )
        return found[0] if found else None

    def project(self, title: str):
        project = self.find_project(title)
        if project is None:
            raise StanceError(
                f"no project '{title}' in Label Studio at {self.url}: create it with `stance labeling init"
                + (f" --project '{title}'" if title != DEFAULT_PROJECT else "")
                + "`"
            )
        return project

    def export(self, project_id: int) -> list[dict]:
        """Every task of the project with its annotations: the full JSON export.

        An export cut short (seen while annotators were submitting at the same moment) is
        asked for again, up to three times, before it is an error.
        """
        for attempt in range(3):
            with self.calls("exporting the project"):
                data = b"".join(
                    self.client.projects.exports.download_sync(
                        project_id, export_type="JSON", download_all_tasks=True
                    )
                )
            try:
                return json.loads(data)
            except json.JSONDecodeError as exc:
                if attempt == 2:
                    raise StanceError(
                        f"Label Studio at {self.url} sent an incomplete export three times ({exc.msg} at byte "
                        f"{exc.pos} of {len(data)}); try again when the server is less busy"
                    ) from None
        raise AssertionError("unreachable")

    def predictions(self, project_id: int) -> list:
        with self.calls("listing predictions"):
            return self.client.predictions.list(project=project_id)

    def users(self) -> dict[int, str]:
        """User id -> annotator name: the e-mail's local part, or the whole e-mail where two users share
        one (ann@a.org and ann@b.org were one annotator, and a pull kept only one of their labels). An
        annotator this project made (NAME@stance.local) keeps NAME, so `--as NAME` still finds them."""
        with self.calls("listing users"):
            emails = {u.id: u.email or str(u.id) for u in self.client.users.list()}
        shared = Counter(annotator_name(e) for e in emails.values())

        def name(email: str) -> str:
            alone = shared[annotator_name(email)] == 1 or email.endswith(f"@{ANNOTATOR_DOMAIN}")
            return annotator_name(email) if alone else email

        return {uid: name(e) for uid, e in emails.items()}

    def logins(self) -> dict[int, str]:
        """User id -> the e-mail (or user name) they log in to Label Studio with."""
        with self.calls("listing users"):
            return {u.id: u.email or u.username or f"user {u.id}" for u in self.client.users.list()}

    def task_url(self, project_id: int, task_id: int) -> str:
        """The task's page in the Label Studio UI (its annotations, to fix or delete)."""
        return f"{self.url}/projects/{project_id}/data?task={task_id}"

    def check_labels(self, project_id: int, tasks: list[dict], scheme: Scheme) -> None:
        """Every annotation of an export (cancelled ones aside) read against the scheme: one error
        naming each that does not fit (task, annotator, value) with the task's page, where it is
        fixed or deleted, so a label stored by another tool or an old config is found in one go."""
        bad = []
        for task in tasks:
            for ann in task.get("annotations", []):
                if ann.get("was_cancelled"):
                    continue
                try:
                    result_to_pairs(ann.get("result", []), scheme, "")
                except StanceError as exc:
                    bad.append((task, ann.get("completed_by"), str(exc).removeprefix(": ")))
        if not bad:
            return
        bad.sort(key=lambda x: x[0]["id"])
        logins = self.logins()

        def line(task: dict, by, why: str) -> str:
            uid = by.get("id") if isinstance(by, dict) else by
            sid = task.get("data", {}).get("sentence_id") or "no sentence id"
            who = logins.get(uid, f"user {uid}")
            return f"task {task['id']} ({sid}) by {who}: {why}"

        if len(bad) == 1:
            (task, by, why), url = bad[0], self.task_url(project_id, bad[0][0]["id"])
            raise StanceError(
                f"{line(task, by, why)}; fix or delete this annotation in Label Studio at {url}"
            )
        raise StanceError(
            one_or_several(
                [f"{line(t, by, why)}; {self.task_url(project_id, t['id'])}" for t, by, why in bad],
                f"{len(bad)} annotations on the server do not fit the label scheme; fix or delete each in "
                "Label Studio at its task's page:",
            )
        )


def annotator_name(email: str) -> str:
    return email.split("@", 1)[0]


def _warn_if_unencrypted(url: str) -> None:
    """One warning line when the token would cross a network in clear: an http:// URL to a host that
    is not this machine. Only https:// silences it; the token is never part of the line."""
    if not url.startswith("http://") or _is_loopback(urlsplit(url).hostname or ""):
        return
    print(
        f"warning: Label Studio at {redact(url)} is plain http on another machine: the API token crosses "
        "the network unencrypted; use an https:// LABEL_STUDIO_URL",
        file=sys.stderr,
    )


def _is_loopback(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1: the host this command runs on."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: another machine, whatever it resolves to
        return False


def _check_is_label_studio(url: str) -> None:
    import httpx

    try:
        response = httpx.get(f"{url}/api/version", timeout=10)
    except httpx.TransportError as exc:
        raise StanceError(
            f"cannot reach Label Studio at {url} ({exc.__class__.__name__}): {HOW_TO_FIX['down']}"
        ) from None
    try:
        is_ls = response.status_code == 200 and "release" in response.json()
    except ValueError:
        is_ls = False
    if not is_ls:
        raise StanceError(not_label_studio(url, response.status_code, "/api/version"))


def not_label_studio(url: str, status: int, path: str) -> str:
    return f"{url} is not a Label Studio server (HTTP {status} on {path}): check LABEL_STUDIO_URL (scheme, host, port, no path)"


def _body_line(body) -> str:
    if isinstance(body, dict):
        body = body.get("validation_errors") or body.get("detail") or body
    text = str(body).strip().splitlines()
    return text[0][:300] if text else "(no message)"
