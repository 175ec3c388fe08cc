"""The gazetteer (configs/gazetteer.yaml): office-holders, offices and spokespeople per actor.

A news sentence names its stance-holder by person ("Khawaja Asif"), by office ("the
interior minister") or by body ("the Foreign Office"); the country it also names is often
the *other* side. The gazetteer says which actor each of these speaks for. Users extend
the YAML without touching code; a name under an actor outside the label scheme, or a
key the file does not know, is refused with one line.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from pydantic import Field, field_validator

from stance import paths
from stance.config import Config, read_yaml
from stance.errors import StanceError


class ActorEntries(Config):
    people: list[str] = Field(default_factory=list, description="Persons (and surnames used alone).")
    offices: list[str] = Field(default_factory=list, description="Posts and bodies; they decide last.")

    @field_validator("people", "offices")
    @classmethod
    def _no_blank(cls, names: list[str]) -> list[str]:
        if any(not n.strip() for n in names):
            raise ValueError("names must not be blank")
        return [n.strip() for n in names]


class GazetteerConfig(Config):
    actors: dict[str, ActorEntries]


def file() -> Path:
    return paths.configs() / "gazetteer.yaml"


def load(actors: list[str], path: Path | None = None) -> dict[str, dict[str, list[str]]]:
    """The gazetteer as {actor: {"people": [...], "offices": [...]}}, checked against ``actors``.

    ``actors`` are the scheme's real actors (not the no-stance label).
    """
    path = path or file()
    cfg = GazetteerConfig.from_dict(read_yaml(path), source=str(path))
    unknown = [a for a in cfg.actors if a not in actors]
    if unknown:
        raise StanceError(
            f"{path}: '{unknown[0]}' is not an actor of the label scheme (actors: {', '.join(actors)})"
        )
    seen: dict[str, str] = {}
    for actor, entries in cfg.actors.items():
        for name in entries.people + entries.offices:
            other = seen.setdefault(name.lower(), actor)
            if other != actor:
                raise StanceError(f"{path}: '{name}' is listed under both {other} and {actor}")
    return {a: {"people": e.people, "offices": e.offices} for a, e in cfg.actors.items()}


def digest(gazetteer: dict) -> str:
    """Content hash of a loaded gazetteer: runs record it, so a changed file is a new run."""
    return hashlib.sha256(json.dumps(gazetteer, sort_keys=True).encode()).hexdigest()[:12]


def patterns(gazetteer: dict, kind: str) -> list[tuple[str, str]]:
    """(actor, regex) of every ``kind`` ("people" or "offices") entry, longest first.

    Longest first, so "acting foreign minister" (Afghan Taliban) is read before
    "foreign minister" (Pakistan) masks part of it (see cues.mentions).
    """
    pairs = [(actor, name) for actor, e in gazetteer.items() for name in e[kind]]
    pairs.sort(key=lambda p: -len(p[1]))
    return [(actor, _phrase(name)) for actor, name in pairs]


def _phrase(name: str) -> str:
    """A whole-word, case-insensitive regex for a name; a possessive or plural 's' may follow."""
    body = r"\s+".join(re.escape(w) for w in name.lower().split())
    return rf"(?<![\w-]){body}(?:'s|’s|s)?(?![\w-])"
