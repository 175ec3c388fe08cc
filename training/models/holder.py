"""Who holds the stance: the speaker or subject of the stance verb, and the side it speaks for.

The actor head used to learn which country a sentence *names*; in "Pakistan's defence
minister accused Kabul of ..." the holder is the subject of "accused", and the
gazetteer (configs/gazetteer.yaml) says whom a minister, a spokesman or a name speaks
for. A dependency parse (spaCy's small English pipeline) finds that subject, the
"according to X" source, and whether the holder is only a pronoun or a bare role
("He said", "the minister added"); for those, the holder is looked for in the
preceding sentences of the article (the ``context``).

The parse of a sentence never depends on anything learned, so analyses are cached by
text: a sentence is parsed once per process however many folds or contexts it is in
(training/models/holder_parse.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from training.context import CONTEXT_SENTENCES
from training.models import cues as cue_lib
from training.models import gazetteer as gaz
from training.models.holder_parse import Analysis, analyze

# feature blocks a recipe picks (the gazetteer is in the cues, not here)
LEVERS = ("subject", "according_to", "context", "reported", "broker", "unresolved")

# The third party of a mediation phrase (the labeling guide: "mediated by, hosted by, brokered",
# "under the Türkiye–Qatar initiative"): "under the joint mediation of Turkey and Qatar", "hosted by
# Qatar", "a ceasefire brokered in Qatar", "Qatari mediation", "the Qatar-brokered ceasefire". The
# phrase after the noun or participle stops at a preposition or clause word, and one that starts
# with what is mediated ("mediation of talks between ...") names no broker.
_MEDIATION = (
    r"mediat(?:ed|ion|ing|or|ors)|hosted|hosting|brokered|brokering|facilitat(?:ed|ion)|auspices|good offices"
)
_BROKER_AFTER = re.compile(
    rf"\b(?:{_MEDIATION})(?:\s+(?:efforts?|offer|bid|role))?\s+(?:by|of|in|from)\s+((?:[^,.;:()\"“”](?!\b(?:between|with|on|to|for|that|which|who|"
    r"after|at|over|since|during|amid|as|in)\b))*[^,.;:()\"“”]?)",
    re.IGNORECASE,
)
_BROKER_BEFORE = re.compile(
    r"((?:[\w’'–-]+\s+){0,2}[\w’'–-]+?)(?:[-–]|’s\s+|'s\s+|\s+)(?:mediated|brokered|hosted|mediation|facilitation|(?:offer|bid|proposal)\s+to\s+(?:mediate|host|broker))\b",
    re.IGNORECASE,
)
_NOT_A_BROKER = re.compile(
    r"^(?:the\s+|a\s+|an\s+)?(?:talks|negotiations|dialogue|ceasefire|peace|truce|meeting)\b", re.I
)


class Resolver:
    """Holder phrase -> actor: a person named, else an actor's cue, else an office."""

    def __init__(self, actor_cues: dict[str, list[str]], gazetteer: dict, actors: list[str]):
        self.actors = actors
        self.people = gaz.patterns(gazetteer, "people")
        self.cues = cue_lib.pairs(actor_cues)
        self.offices = gaz.patterns(gazetteer, "offices")

    def actor(self, phrase: str) -> str | None:
        if not phrase:
            return None
        for table in (self.people, self.cues, self.offices):
            named = cue_lib.mentions(phrase, table)
            if named:
                return named[0]
        return None

    def from_context(self, context: list[str], analyses: list[Analysis], person: bool = False) -> str | None:
        """The nearest preceding holder (a person's, for "he"/"she"), else the last person named.

        An unknown person speaking last ("Baqir Sajjad Syed, a fellow, said ...") stops the
        search: "He added ..." is theirs, not an earlier official's.
        """
        pairs = list(zip(reversed(context), reversed(analyses), strict=True))
        for i, (text, a) in enumerate(pairs):
            if a.holder and (a.person or not person):
                found = self.actor(a.holder)
                if found:
                    return found
                if a.kind == "named" and a.person:  # "Khan said": Mohammad Sadiq Khan, named earlier?
                    surname = a.holder.split()[-1].lower()
                    earlier = (self.actor(b.holder) for _, b in pairs[i + 1 :] if surname in b.holder.lower())
                    return next((e for e in earlier if e), None)
            named = cue_lib.mentions(text, self.people)
            if named:
                return named[-1]
        return None


def split_context(context: str | None) -> list[str]:
    """The preceding sentences a context string holds (one per line, nearest last)."""
    lines = [line for line in (context or "").split("\n") if line.strip()]
    return lines[-CONTEXT_SENTENCES:]


def _parsed(texts: list[str], contexts: list[str] | None):
    """(each sentence's analysis, its preceding sentences, their analyses): every sentence and
    context sentence parsed in one call each."""
    ctx = [split_context(c) for c in contexts] if contexts is not None else [[] for _ in texts]
    own = analyze(list(texts))
    flat, before, at = analyze([s for c in ctx for s in c]), [], 0
    for c in ctx:
        before.append(flat[at : at + len(c)])
        at += len(c)
    return own, ctx, before


def features(
    texts: list[str], contexts: list[str] | None, resolver: Resolver, levers: list[str]
) -> np.ndarray:
    """One-hot blocks over the actors: the subject's actor (+ pronoun/role/none flags),
    the "according to" source's actor, the reported stance verb's subject's actor, the
    third party of a mediation phrase (+ a flag that there is one), a flag that the subject is
    named but resolves to no actor, and the context's holder for pronoun or role subjects."""
    n, k = len(texts), len(resolver.actors)
    own, ctx, parsed = _parsed(texts, contexts)
    blocks = []
    if "subject" in levers:
        x = np.zeros((n, k + 3))
        for i, a in enumerate(own):
            _mark(x, i, resolver.actor(a.holder), resolver.actors)
            if a.kind in ("pronoun", "role", "none"):
                x[i, k + ("pronoun", "role", "none").index(a.kind)] = 1.0
        blocks.append(x)
    if "according_to" in levers:
        x = np.zeros((n, k))
        for i, a in enumerate(own):
            _mark(x, i, resolver.actor(a.according), resolver.actors)
        blocks.append(x)
    if "reported" in levers:
        x = np.zeros((n, k))
        for i, a in enumerate(own):
            _mark(x, i, resolver.actor(a.reported), resolver.actors)
        blocks.append(x)
    if "broker" in levers:
        # the broker's actor, and a flag: the sentence has a mediation phrase at all
        x = np.zeros((n, k + 1))
        for i, text in enumerate(texts):
            found, actor = broker(text, resolver)
            _mark(x, i, actor, resolver.actors)
            x[i, k] = float(found)
        blocks.append(x)
    if "unresolved" in levers:
        # the holder is named ("New Delhi rejected it", "the report said") but no cue says whose
        # side it is: with every actor's column at zero the head cannot tell it from a sentence
        # whose subject was not found; the guide's `other` is mostly such holders
        x = np.zeros((n, 1))
        for i, a in enumerate(own):
            x[i, 0] = float(a.kind == "named" and resolver.actor(a.holder) is None)
        blocks.append(x)
    if "context" in levers:
        # a block of its own: sharing the subject's columns measured lower (README, holder attribution)
        x = np.zeros((n, k))
        for i, a in enumerate(own):
            if a.kind in ("pronoun", "role") and resolver.actor(a.holder) is None:
                _mark(x, i, resolver.from_context(ctx[i], parsed[i], a.person), resolver.actors)
        blocks.append(x)
    return np.hstack(blocks) if blocks else np.zeros((n, 0))


def broker(text: str, resolver: Resolver) -> tuple[bool, str | None]:
    """(whether the sentence has a mediation phrase, the actor named as its third party or None)."""
    found, actor, _ = _broker(text, resolver)
    return found, actor


def _broker(text: str, resolver: Resolver) -> tuple[bool, str | None, str]:
    """:func:`broker`, and the words that named the third party ("" when none did)."""
    found = False
    for m in _BROKER_AFTER.finditer(text):
        found = True
        phrase = m.group(1).strip()
        if phrase and not _NOT_A_BROKER.match(phrase):
            actor = resolver.actor(phrase)
            if actor:
                return True, actor, phrase
    for m in _BROKER_BEFORE.finditer(text):
        found = True
        words = m.group(1).split()
        # the nearest words first: "Saudi Arabia's mediation", never the subject three words back
        for n in range(1, len(words) + 1):
            actor = resolver.actor(" ".join(words[-n:]))
            if actor:
                return True, actor, " ".join(words[-n:])
    return found, None, ""


@dataclass(frozen=True)
class Holder:
    """Who the parse reads as the stance's holder, for a reader of predict's output (not a decision:
    the actor head weighs this beside everything else it reads)."""

    phrase: str  # the words ("the defence minister", "He", "Qatar")
    actor: str | None  # whose side they speak for, when a cue or the gazetteer says
    source: str  # where: "subject", "earlier sentence", "according to" or "mediation phrase"


def explain(texts: list[str], contexts: list[str] | None, resolver: Resolver) -> list[Holder | None]:
    """The holder the parse reads in each sentence: the stance verb's subject when a cue or the
    gazetteer resolves it; for "He said" or "the minister added", the holder of the sentences
    before; else the "according to" source, else a mediation phrase's third party; else the
    subject's words with no actor; None when the parse finds no holder at all."""
    own, ctx, parsed = _parsed(texts, contexts)
    return [_explain(text, a, c, p, resolver) for text, a, c, p in zip(texts, own, ctx, parsed, strict=True)]


def _explain(text: str, a: Analysis, before: list[str], parsed: list[Analysis], resolver: Resolver):
    found = resolver.actor(a.holder)
    if found:
        return Holder(a.holder, found, "subject")
    if a.kind in ("pronoun", "role") and before:
        earlier = resolver.from_context(before, parsed, a.person)
        if earlier:
            return Holder(a.holder, earlier, "earlier sentence")
    source = resolver.actor(a.according)
    if source:
        return Holder(a.according, source, "according to")
    _, brokered, words = _broker(text, resolver)
    if brokered:
        return Holder(words, brokered, "mediation phrase")
    return Holder(a.holder, None, "subject") if a.holder else None


def _mark(x: np.ndarray, row: int, actor: str | None, actors: list[str]) -> None:
    if actor in actors:
        x[row, actors.index(actor)] = 1.0
