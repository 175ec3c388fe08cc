"""The one exception type a user sees as a single clear line."""


class StanceError(Exception):
    """An error the user can act on: bad input, a missing prerequisite, a server that is down.

    Commands print ``error: <message>`` and exit non-zero; no traceback.
    """
