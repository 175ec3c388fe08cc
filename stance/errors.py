"""The one exception type a user sees as a single clear line (several problems of one kind: a line
each, under one header), and the one for an interruption."""

from __future__ import annotations

import re

# scheme://user:password@host -> scheme://user:***@host (a token in a URL is a password too)
_URL_SECRET = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^\s:/@]*):[^\s/@]*@", re.I)


def redact(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@host`` URL in it replaced by ``***``."""
    return _URL_SECRET.sub(r"\g<scheme>\g<user>:***@", text)


def one_or_several(problems: list[str], several: str, show: int = 5, alone: str = "") -> str:
    """An error message for ``problems``: the one problem as its line (with ``alone`` after it), or
    the ``several`` header with the first ``show`` problems indented under it and a count of the
    rest, so the user fixes them in one go rather than one per run."""
    if len(problems) == 1:
        return problems[0] + alone
    rest = [f"… and {len(problems) - show} more"] if len(problems) > show else []
    return "\n  ".join([several, *problems[:show], *rest])


class StanceError(Exception):
    """An error the user can act on: bad input, a missing prerequisite, a server that is down.

    Commands print ``error: <message>`` and exit non-zero; no traceback. A password
    inside a URL in the message (``LABEL_STUDIO_URL=http://me:secret@host``) is
    replaced by ``***`` here, so no caller can echo it.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(redact(str(message)))


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM. A BaseException so that no ``except Exception`` swallows it, and not a
    KeyboardInterrupt so that typer (which turns that into a *return value* of 130) does not either."""

    def __init__(self, signum: int) -> None:
        import signal

        self.signum = signum
        super().__init__(signal.Signals(signum).name)


def script_main(main) -> None:
    """Run a study script's ``main`` as the commands run theirs: a :class:`StanceError` prints
    ``error: <message>`` on stderr and exits 2, with no traceback."""
    import sys

    try:
        main()
    except StanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
