"""A sentence's annotations and its resolved record; the resolution rule.

Resolution, per sentence: a ground-truth (reviewer) annotation wins; else the
annotators' agreement on the primary pair; else a strict majority; else the
sentence is *unresolved* (kept, listed, never guessed).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from labeling.segment import Sentence
from stance.errors import StanceError
from stance.scheme import Pair, Scheme


# -- records -----------------------------------------------------------------------
@dataclass(frozen=True)
class Annotation:
    annotator: str
    pairs: tuple[Pair, ...]
    ground_truth: bool = False

    def to_dict(self) -> dict:
        return {
            "annotator": self.annotator,
            "pairs": [p.to_dict() for p in self.pairs],
            "ground_truth": self.ground_truth,
        }


@dataclass
class Record:
    """One sentence with all its annotations and the resolved pairs."""

    sentence: Sentence
    annotations: list[Annotation] = field(default_factory=list)
    pairs: tuple[Pair, ...] | None = None  # None: unresolved
    resolved_by: str = "unresolved"

    def to_dict(self) -> dict:
        return {
            **self.sentence.to_dict(),
            "pairs": None if self.pairs is None else [p.to_dict() for p in self.pairs],
            "resolved_by": self.resolved_by,
            "annotations": [a.to_dict() for a in self.annotations],
        }


def parse_pairs(raw, scheme: Scheme, where: str) -> tuple[Pair, ...]:
    if not isinstance(raw, list):
        raise StanceError(f"{where}: 'pairs' must be a list of {{actor, stance}} objects")
    out = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"actor", "stance"}:
            raise StanceError(f"{where}: each pair needs exactly 'actor' and 'stance', got {item!r}")
        out.append(scheme.check_pair(item["actor"], item["stance"], where))
    return tuple(dict.fromkeys(out))  # drop repeats, keep order


# -- resolution ----------------------------------------------------------------------
# how a sentence's pairs were settled (resolve's second value, the snapshot's resolved_by), in the
# words the commands print: a lead read "single 7, ground_truth 1" as field names
RESOLVED_WORDS = {
    "agreement": "annotators agreeing",
    "majority": "a majority",
    "single": "one annotator",
    "ground_truth": "a reviewer",
}


def resolved_in_words(counts: dict[str, int]) -> str:
    """``{"single": 7, "ground_truth": 1}`` -> "one annotator 7, a reviewer 1" ("none" for none)."""
    return ", ".join(f"{RESOLVED_WORDS.get(how, how)} {n}" for how, n in counts.items()) or "none"


def resolve(annotations: list[Annotation]) -> tuple[tuple[Pair, ...] | None, str]:
    """The resolved pairs and how they were decided."""
    truth = [a for a in annotations if a.ground_truth]
    if truth:
        return truth[-1].pairs, "ground_truth"
    if not annotations:
        return None, "unresolved"
    if len(annotations) == 1:
        return annotations[0].pairs, "single"
    primaries = Counter(a.pairs[0] if a.pairs else None for a in annotations)
    primary, votes = primaries.most_common(1)[0]
    if votes * 2 <= len(annotations):
        return None, "unresolved"
    how = "agreement" if votes == len(annotations) else "majority"
    if primary is None:
        return (), how
    # secondary pairs: those a majority of annotators gave, in first-seen order
    seen = Counter(p for a in annotations for p in set(a.pairs) if p != primary)
    order = dict.fromkeys(p for a in annotations for p in a.pairs if p != primary)
    secondary = [p for p in order if seen[p] * 2 > len(annotations)]
    return (primary, *secondary), how
