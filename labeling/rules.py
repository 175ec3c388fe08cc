"""Codebook consistency checks: the labeling guide's rules as data (``configs/rules.yaml``).

A rule is an instance of one of a few kinds, so users add rules by editing YAML:

* ``none_together``: the actor is ``none`` exactly when the stance is ``none``;
* ``unique_pairs``: a pair is never repeated within a sentence;
* ``holder_stance``: a pair whose actor is one of ``actors`` and stance one of ``stances``
  (for example a side of the talks holding ``mediation``) is flagged for review.

Rules run on labels (``stance labeling check``, ``pull``, ``import-annotations``) and on
predictions (the report's checks). A violation names its rule and the sentence (and the
annotator or task); only a rule with ``blocking: true`` stops an import.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field

from stance import paths
from stance.config import Config
from stance.errors import StanceError
from stance.scheme import Scheme


class Rule(Config):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    kind: Literal["none_together", "unique_pairs", "holder_stance"]
    description: str
    blocking: bool = False
    actors: list[str] = []  # holder_stance only
    stances: list[str] = []  # holder_stance only


class RulesConfig(Config):
    rules: list[Rule]


@dataclass(frozen=True)
class Violation:
    rule: str
    blocking: bool
    where: str  # sentence id, with the annotator or task when there is one
    detail: str

    def line(self) -> str:
        return f"{self.where}: {self.rule}: {self.detail}"


def load_rules(scheme: Scheme, path: Path | None = None) -> list[Rule]:
    path = path or paths.configs() / "rules.yaml"
    cfg = RulesConfig.from_yaml(path)
    ids = Counter(r.id for r in cfg.rules)
    if dup := [i for i, n in ids.items() if n > 1]:
        raise StanceError(f"{path}: rule id '{dup[0]}' is used twice")
    for r in cfg.rules:
        if r.kind == "holder_stance":
            if not r.actors or not r.stances:
                raise StanceError(f"{path}: rule '{r.id}' (holder_stance) needs 'actors' and 'stances'")
            for a in r.actors:
                if a not in scheme.actors:
                    raise StanceError(f"{path}: rule '{r.id}': actor '{a}' is not in the label scheme")
            for s in r.stances:
                if s not in scheme.stances:
                    raise StanceError(f"{path}: rule '{r.id}': stance '{s}' is not in the label scheme")
        elif r.actors or r.stances:
            raise StanceError(f"{path}: rule '{r.id}' ({r.kind}) takes no 'actors' or 'stances'")
    return cfg.rules


def check_pairs(rules: list[Rule], pairs: list[dict], where: str, none: str) -> list[Violation]:
    """Violations of one sentence's pairs: ``[{"actor", "stance"}, ...]`` as labeled or predicted."""
    out = []
    for rule in rules:

        def hit(detail: str, rule=rule) -> None:
            out.append(Violation(rule.id, rule.blocking, where, detail))

        if rule.kind == "none_together":
            for p in pairs:
                if (p.get("actor") == none) != (p.get("stance") == none):
                    hit(f"actor '{p.get('actor')}' with stance '{p.get('stance')}'")
        elif rule.kind == "unique_pairs":
            seen = Counter((p.get("actor"), p.get("stance")) for p in pairs)
            for (a, s), n in seen.items():
                if n > 1:
                    hit(f"pair {a}/{s} given {n} times")
        elif rule.kind == "holder_stance":
            for p in pairs:
                if p.get("actor") in rule.actors and p.get("stance") in rule.stances:
                    hit(f"{p['actor']}/{p['stance']}: {rule.description}")
    return out


def check_rows(rules: list[Rule], rows: Iterable[dict], none: str) -> list[Violation]:
    """Violations in snapshot rows (resolved pairs and every annotator's) or raw annotation lines."""
    out = []
    for row in rows:
        sid = row.get("sentence_id") or f"{row.get('article')}:{row.get('start')}-{row.get('end')}"
        if isinstance(row.get("pairs"), list):
            who = f" ({row['annotator']})" if "annotator" in row else ""
            out += check_pairs(rules, row["pairs"], f"{sid}{who}", none)
        for a in row.get("annotations") or []:
            if isinstance(a, dict) and isinstance(a.get("pairs"), list):
                out += check_pairs(rules, a["pairs"], f"{sid} ({a.get('annotator')})", none)
    return out


def blocking_error(violations: list[Violation], source: str) -> StanceError | None:
    blocking = [v for v in violations if v.blocking]
    if not blocking:
        return None
    more = f" (and {len(blocking) - 1} more)" if len(blocking) > 1 else ""
    return StanceError(
        f"{source}: {blocking[0].line()}{more}; fix the labels (configs/rules.yaml makes it blocking)"
    )
