"""Who a sentence names: the actors' usual names as features for the actor head.

The actor is who *holds* the stance, and news sentences name that holder in a few
dozen ways ("Islamabad", "the Foreign Office", "Mujahid", "the hosts"). A linear head
on n-grams learns each spelling separately from ~200 stance-bearing sentences; telling
it which actor the sentence names first, second and third lets it generalise across
spellings. The lists follow the labeling guide's actor table plus the office-holders
the coverage quotes most; a recipe can replace them.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

# Checked in this order, and a matched span is masked before the next actor's patterns
# run: "Tehrik-i-Taliban Pakistan" is the TTP, never Pakistan nor the Afghan Taliban.
DEFAULT_ACTOR_CUES: dict[str, list[str]] = {
    # the coverage spells the name a dozen ways: Tehrik-i-, Tehreek-e-, Tahrik-e-, Tehreek e, en dashes
    "ttp": [r"\bt[ae]h?r[ie]{1,2}k\w?\W{0,3}(?:[ei]\W{1,3})?taliban(?:\W{1,3}pakistan)?", r"\bttp\b", r"pakistani? taliban"],
    "mediator": [
        r"turkey", r"t[üu]rkiye", r"turkish", r"qatar\w*", r"saudi", r"\biran\w*", r"china", r"chinese",
        r"mediat\w*", r"\bhosts?\b", r"doha", r"istanbul", r"ankara", r"riyadh", r"tehran", r"beijing",
    ],
    "pakistan": [
        r"pakistan\w*", r"islamabad", r"rawalpindi", r"\bispr\b", r"foreign office", r"\bdar\b",
        r"khawaja asif", r"sharif", r"munir",
    ],
    "afghan_taliban": [
        r"taliban", r"\bkabul\b", r"kandahar", r"islamic emirate", r"\biea\b", r"mujahid", r"muttaqi",
        r"afghan\w*",
    ],
}  # fmt: skip

RANKS = 3  # the first three distinct actors named


Cues = dict[str, list[str]] | list[tuple[str, str]]


def pairs(cues: Cues) -> list[tuple[str, str]]:
    """(actor, pattern) in checking order, from a per-actor mapping or already as pairs."""
    if isinstance(cues, dict):
        return [(actor, pattern) for actor, patterns in cues.items() for pattern in patterns]
    return list(cues)


def mentions(text: str, cues: Cues) -> list[str]:
    """The distinct actors a sentence names, in reading order.

    ``cues`` maps each actor to its patterns, or lists (actor, pattern) pairs when
    actors' patterns must interleave (the gazetteer's names, longest first, before
    the actors' own cues).
    """
    return list(_mentions(text, tuple(pairs(cues))))


@lru_cache(maxsize=1 << 16)
def _mentions(text: str, table: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    # cached: grouped CV asks about the same sentences in every fold, with the same table
    masked, hits = text.lower(), []
    for actor, pattern in table:
        for m in re.finditer(pattern, masked):
            hits.append((m.start(), actor))
            masked = masked[: m.start()] + "#" * (m.end() - m.start()) + masked[m.end() :]
    return tuple(dict.fromkeys(actor for _, actor in sorted(hits)))


def features(texts: list[str], cues: Cues, actors: list[str] | None = None) -> np.ndarray:
    """One-hot of the actor named first, second and third, and a 'names nobody' flag.

    ``actors`` gives the columns' order (default: the order of ``cues``).
    """
    actors = actors or list(dict.fromkeys(actor for actor, _ in pairs(cues)))
    out = np.zeros((len(texts), RANKS * len(actors) + 1))
    for i, text in enumerate(texts):
        named = mentions(text, cues)
        for rank, actor in enumerate(named[:RANKS]):
            out[i, rank * len(actors) + actors.index(actor)] = 1.0
        out[i, -1] = 0.0 if named else 1.0
    return out
