"""The team's members: Label Studio users ``NAME@stance.local``, added, signed up, and found.

An annotator or reviewer is a user of their own, so each label says who gave it. With a password
(from the environment) they sign up through the organization's invite link and log in to the UI;
without one they label through the batch path (``labeling/team.py``: `next` / `submit`).
``--as NAME`` is resolved here to the user id their annotations are posted under.
"""

from __future__ import annotations

from labeling.studio import ANNOTATOR_DOMAIN, Studio
from stance.errors import StanceError


def user_ids(studio: Studio) -> dict[str, int]:
    return {name: uid for uid, name in studio.users().items()}


def add_annotator(studio: Studio, name: str, password: str | None = None) -> tuple[int, bool]:
    """(user id, whether it was created): user ``NAME@stance.local`` in the admin's organization.

    With a password (from the environment, never printed) the annotator signs up through the
    organization's invite link, as a person invited by the admin would, so they can log in to the
    UI: Label Studio's users API stores no password. Without one, the user is made through the API
    and labels through the batch path (`next` / `submit`). An existing user is left as it is; a
    password given for one must already be theirs (checked by logging in), since no API sets it.
    """
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise StanceError(f"annotator name '{name}': use letters, digits, '-' and '_' only")
    if name != name.lower():  # sign-up stored Ann@… as ann@…: created, then reported missing, then refused
        raise StanceError(
            f"annotator name '{name}': use lowercase letters: Label Studio's sign-up stores an e-mail address in "
            f"lowercase, so '{name}' would become the user '{name.lower()}' (add-annotator {name.lower()})"
        )
    email = f"{name}@{ANNOTATOR_DOMAIN}"
    ids = user_ids(studio)
    if name in ids:
        if password and not can_log_in(studio.url, email, password):
            raise StanceError(
                f"annotator {name} is already a user of Label Studio at {studio.url}, and its password is not "
                f"the one given: Label Studio's API sets no password; on the server's host run `label-studio "
                f"reset_password --username {email}` (for `make label-studio`: LABEL_STUDIO_BASE_DATA_DIR="
                f".stance/label-studio .ls-venv/bin/label-studio reset_password --username {email}), which asks for it"
            )
        return ids[name], False
    if password:
        _sign_up(studio, email, password)
        ids = user_ids(studio)
        if name not in ids:
            raise StanceError(f"Label Studio at {studio.url} signed up {email} but lists no user '{name}'")
        return ids[name], True
    with studio.calls(f"creating user {name}"):
        user = studio.client.users.create(username=name, email=email, first_name=name)
    return user.id, True


def _form(studio_url: str, path: str, fields: dict[str, str]):
    """POST a Label Studio page's form as a browser does (its CSRF cookie and token first); the
    response, redirects not followed (a redirect is the form accepted)."""
    import httpx

    url = studio_url.rstrip("/") + path
    with httpx.Client(timeout=60, follow_redirects=False) as http:
        http.get(url).raise_for_status()
        token = http.cookies.get("csrftoken", "")
        return http.post(url, data={**fields, "csrfmiddlewaretoken": token}, headers={"Referer": url})


def can_log_in(studio_url: str, email: str, password: str) -> bool:
    """Whether the UI's login form accepts this e-mail and password."""
    import httpx

    try:
        return _form(studio_url, "/user/login/", {"email": email, "password": password}).status_code == 302
    except httpx.HTTPError as exc:
        raise StanceError(
            f"cannot reach Label Studio at {studio_url} to check a login ({type(exc).__name__})"
        ) from None


def _sign_up(studio: Studio, email: str, password: str) -> None:
    """Sign ``email`` up with ``password`` through the organization's invite link."""
    import html
    import re

    import httpx

    with studio.calls("reading the organization's invite link"):
        token = studio.client.organizations.invites.get_invite_link().token
    try:
        answer = _form(studio.url, f"/user/signup/?token={token}", {"email": email, "password": password})
    except httpx.HTTPError as exc:
        raise StanceError(
            f"cannot reach Label Studio at {studio.url} to sign up {email} ({type(exc).__name__})"
        ) from None
    if answer.status_code != 302:  # the form again, with its errors
        found = re.findall(r'class="[^"]*error[^"]*"[^>]*>\s*(?:<li>)?([^<]+)', answer.text)
        why = (
            "; ".join(dict.fromkeys(html.unescape(f.strip()) for f in found if f.strip()))
            or f"HTTP {answer.status_code}"
        )
        raise StanceError(f"Label Studio at {studio.url} refused to sign up {email}: {why}")


def annotator_id(studio: Studio, name: str) -> int:
    """The user id of ``--as NAME``: an annotator's name, or the e-mail they log in to the UI with
    (`--as ann1@stance.local` was "no annotator", with the advice to add that e-mail as a name,
    which add-annotator refuses)."""
    ids = user_ids(studio)
    if name in ids:
        return ids[name]
    by_login = {login.lower(): uid for uid, login in studio.logins().items()}
    if name.lower() in by_login:
        return by_login[name.lower()]
    add = (
        f"name an annotator by the part before '@', added with `stance labeling add-annotator NAME` "
        f"(user NAME@{ANNOTATOR_DOMAIN})"
        if "@" in name
        else f"add it with `stance labeling add-annotator {name}`"
    )
    raise StanceError(f"no annotator '{name}' in Label Studio at {studio.url}: {add}")
