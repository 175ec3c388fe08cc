"""The label scheme (configs/scheme.yaml) and everything derived from it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pydantic import field_validator

from stance import paths
from stance.config import Config
from stance.errors import StanceError


class SchemeConfig(Config):
    none: str
    actors: dict[str, str]
    stances: dict[str, str]

    @field_validator("actors", "stances")
    @classmethod
    def _not_empty(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) < 2:
            raise ValueError("needs at least two labels")
        return value


@dataclass(frozen=True)
class Pair:
    """One (actor, stance) pair: who takes which stance."""

    actor: str
    stance: str

    def to_dict(self) -> dict[str, str]:
        return {"actor": self.actor, "stance": self.stance}


@dataclass(frozen=True)
class Labels:
    """The actor and stance label names in a model's column order, and where "none" sits in them.

    The one place that knows the scheme's structure: the actor facet is the scheme's actors
    followed by the no-stance label (:attr:`Scheme.actor_labels` puts it last), and that label
    is also one of the stances. Models keep their label lists; ``Labels.of`` reads them.
    """

    actors: tuple[str, ...]
    stances: tuple[str, ...]

    @classmethod
    def of(cls, actor_labels, stance_labels) -> Labels:
        return cls(tuple(actor_labels), tuple(stance_labels))

    @property
    def none(self) -> str:
        """The no-stance label: the actor of a sentence with no stance, and a stance."""
        return self.actors[-1]

    @property
    def none_actor_id(self) -> int:
        return len(self.actors) - 1

    @property
    def none_stance_id(self) -> int:
        return self.stances.index(self.none)

    @property
    def real_actors(self) -> list[str]:
        """The actors that hold stances (every actor label but "none"), in column order."""
        return list(self.actors[: self.none_actor_id])

    @property
    def real_actor_ids(self) -> list[int]:
        return list(range(self.none_actor_id))

    @property
    def real_stance_ids(self) -> list[int]:
        """The stances' column ids but "none"'s, in column order."""
        return [i for i in range(len(self.stances)) if i != self.none_stance_id]


@dataclass(frozen=True)
class Scheme:
    """Actors and stances, in the order the YAML lists them.

    The actor facet has one more class than the scheme's actors: ``none``, the
    actor of a sentence whose stance is ``none``.
    """

    actors: dict[str, str]
    stances: dict[str, str]
    none: str

    @classmethod
    def load(cls, path: Path | None = None) -> Scheme:
        cfg = SchemeConfig.from_yaml(path or paths.scheme_file())
        if cfg.none not in cfg.stances:
            raise StanceError(f"scheme: the no-stance label '{cfg.none}' must be one of the stances")
        if cfg.none in cfg.actors:
            raise StanceError(f"scheme: '{cfg.none}' is the no-stance label; it cannot be an actor")
        return cls(actors=dict(cfg.actors), stances=dict(cfg.stances), none=cfg.none)

    @cached_property
    def actor_labels(self) -> list[str]:
        return [*self.actors, self.none]

    @cached_property
    def stance_labels(self) -> list[str]:
        return list(self.stances)

    @cached_property
    def pairs(self) -> list[tuple[str, str]]:
        """Every (actor, stance) pair a sentence may hold: the scheme's actors by its stances, none aside."""
        return [(a, s) for a in self.actors for s in self.stance_labels if s != self.none]

    @cached_property
    def labels(self) -> Labels:
        return Labels.of(self.actor_labels, self.stance_labels)

    @cached_property
    def hash(self) -> str:
        """Hash of the label names and their order: what a model's heads depend on."""
        blob = json.dumps({"actors": self.actor_labels, "stances": self.stance_labels}, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        return {"none": self.none, "actors": self.actors, "stances": self.stances}

    def check_pair(self, actor: str, stance: str, where: str = "") -> Pair:
        """A validated pair; a label outside the scheme is a StanceError naming it."""
        prefix = f"{where}: " if where else ""
        if actor not in self.actors:
            raise StanceError(
                f"{prefix}actor '{actor}' is not in the label scheme (actors: {', '.join(self.actors)})"
            )
        if stance not in self.stances or stance == self.none:
            raise StanceError(
                f"{prefix}stance '{stance}' is not a stance of a pair "
                f"(stances: {', '.join(s for s in self.stances if s != self.none)}; "
                f"a sentence with no pair has stance '{self.none}')"
            )
        return Pair(actor, stance)

    def primary(self, pairs: list[Pair]) -> Pair:
        """The single-label target: the primary pair, or (none, none) for no pair."""
        return pairs[0] if pairs else Pair(self.none, self.none)
