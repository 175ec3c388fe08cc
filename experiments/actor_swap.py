"""Does the actor head learn who holds a stance better from name-swapped copies? (issue 11)

The actor head's largest errors on the rolling origin give a Pakistani holder to a sentence held by
the Afghan Taliban or by a third party: the sentence names Pakistan, most holders in this coverage
are Pakistani, and the head's n-grams learn that a sentence naming Pakistan is Pakistan's. A
standard remedy is **counterfactual name swapping**: each stance-bearing training sentence again,
with the two sides' names exchanged (Pakistan ↔ Afghanistan, Islamabad ↔ Kabul, the Taliban ↔ the
Pakistani government, each side's office-holders from configs/gazetteer.yaml for the other's) and
its label exchanged with them (pakistan ↔ afghan_taliban; a mediator's or another party's sentence
keeps its label). "Mujahid accused Pakistan of …" (afghan_taliban) gains "Khawaja Asif accused
Afghanistan of …" (pakistan), so what decides is the sentence's structure, not which country it
names. Spans naming the TTP ("Pakistani Taliban", "Tehreek-e-Taliban Pakistan") are never touched;
the sentence's context (the sentences before it, which the holder features read for "He said") is
swapped the same way.

Only the actor head reads the swapped rows, at ``--weight`` (the model fitted as before, then its
actor head again on its stance-bearing sentences plus their swapped copies; the n-grams'
vocabulary stays as the sentences alone made it). Stances are untouched.

Scored on the rolling origin (experiments/rolling_origin.py: three blocks, each fitted only on its
past, pooled), paired by article against ``make demo``'s recipe, by the champion rule; the
reference's rows come from the rolling-origin cache when they are there.

    .venv/bin/python experiments/actor_swap.py [--weight 0.5 --weight 1]

Writes experiments/actor-swap/result.md and result.json, or under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "experiments"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rolling_origin import cached_rows, ci, judged, labeled_blocks, record, refit_changed, score  # noqa: E402

from stance.errors import script_main  # noqa: E402
from stance.io import write_atomic  # noqa: E402
from stance.scheme import Scheme  # noqa: E402
from training.models import cues  # noqa: E402
from training.models import gazetteer as gaz  # noqa: E402
from training.recipes import load_recipe  # noqa: E402

RECIPE = "configs/hybrid-mpnet-broker-mean-parse.yaml"
OUT = ROOT / "experiments" / "actor-swap"

# the two sides' names, each for the other's (longest first within a side, so "Afghan Taliban"
# is swapped whole before "Afghan" or "Taliban" could be)
PAKISTAN_SIDE = [
    ("Pakistani government", "Taliban government"),
    ("Government of Pakistan", "Islamic Emirate"),
    ("Pakistanis", "Afghans"),
    ("Pakistani", "Afghan"),
    ("Pakistan", "Afghanistan"),
    ("Islamabad", "Kabul"),
    ("Rawalpindi", "Kandahar"),
    ("Foreign Office", "Islamic Emirate"),
]
AFGHAN_SIDE = [
    ("Afghan Taliban", "Pakistani government"),
    ("Islamic Emirate of Afghanistan", "Government of Pakistan"),
    ("Islamic Emirate", "Government of Pakistan"),
    ("Taliban government", "Pakistani government"),
    ("Taliban", "Pakistani government"),
    ("Afghanistan", "Pakistan"),
    ("Afghans", "Pakistanis"),
    ("Afghan", "Pakistani"),
    ("Kabul", "Islamabad"),
    ("Kandahar", "Rawalpindi"),
    ("IEA", "Government of Pakistan"),
]
# the surnames the actors' cues read alone (training/models/cues.py), each for the other side's
SURNAMES = [("Mujahid", "Asif"), ("Muttaqi", "Dar"), ("Asif", "Mujahid"), ("Dar", "Muttaqi")]
SWAPPED = {"pakistan": "afghan_taliban", "afghan_taliban": "pakistan"}


def people_pairs(gazetteer: dict) -> list[tuple[str, str]]:
    """Each side's people for the other's: names of one word for names of one word, longer names
    for longer names, in the gazetteer's order (cycled where one side lists fewer)."""
    out = []
    for a, b in (("pakistan", "afghan_taliban"), ("afghan_taliban", "pakistan")):
        mine, theirs = gazetteer[a]["people"], gazetteer[b]["people"]
        for short in (True, False):
            src = [p for p in mine if (" " not in p) == short]
            dst = [p for p in theirs if (" " not in p) == short]
            out += [(p, dst[i % len(dst)]) for i, p in enumerate(src)] if dst else []
    return out


class Swapper:
    """Exchanges the two sides' names in a text (one pass, so nothing is swapped twice), leaving
    the TTP's names as they are; keeps an all-lower-case match lower case."""

    def __init__(self, gazetteer: dict):
        table = dict(people_pairs(gazetteer) + PAKISTAN_SIDE + AFGHAN_SIDE + SURNAMES)
        self.table = {k.lower(): v for k, v in table.items()}
        names = sorted(self.table, key=len, reverse=True)
        self.pattern = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b", re.IGNORECASE)
        self.ttp = re.compile("|".join(cues.DEFAULT_ACTOR_CUES["ttp"]), re.IGNORECASE)

    def _swap(self, text: str) -> str:
        def one(m):
            new = self.table[m.group(0).lower()]
            return new.lower() if m.group(0).islower() else new

        return self.pattern.sub(one, text)

    def __call__(self, text: str) -> str:
        out, at = [], 0
        for m in self.ttp.finditer(text):
            out += [self._swap(text[at : m.start()]), m.group(0)]
            at = m.end()
        return "".join([*out, self._swap(text[at:])])


def copies(train, scheme: Scheme, swap: Swapper, resolver):
    """The stance-bearing sentences of ``train`` a swap changes, swapped: (row index, text,
    context, actor id). A copy whose parse still reads the original side as its holder (a name the
    swap does not know: "Sanaullah said") would teach the opposite of the point and is left out."""
    from training.models import holder

    names = scheme.actor_labels  # the dataset's actor ids index these; "none" last
    out = []
    for i, (text, c, a, s) in enumerate(
        zip(train["text"], train["context"], train["actor"], train["stance"], strict=True)
    ):
        if names[a] == scheme.none or scheme.stance_labels[s] == scheme.none:
            continue
        new = swap(text)
        if new != text:
            out.append((i, new, swap(c) if c else c, names.index(SWAPPED.get(names[a], names[a]))))
    found = holder.explain([x[1] for x in out], [x[2] for x in out], resolver)
    return [
        x
        for x, h in zip(out, found, strict=True)
        if not (h and names[x[3]] in SWAPPED and h.actor == SWAPPED[names[x[3]]])
    ]


def with_copies(train, added):
    """``train`` with the swapped copies as more rows (text, context and actor replaced)."""
    from datasets import concatenate_datasets

    rows = train.select([i for i, *_ in added]).remove_columns(["text", "context", "actor"])
    rows = rows.add_column("text", [t for _, t, _, _ in added])
    rows = rows.add_column("context", [c for _, _, c, _ in added])
    rows = rows.add_column("actor", [a for *_, a in added])
    return concatenate_datasets([train, rows.cast(train.features)])


def refit_actor_head(model, train, added, weight: float) -> None:
    """The fitted ``model``'s actor head fitted again on its stance-bearing sentences plus their
    swapped copies at ``weight``."""
    from scipy.sparse import vstack

    from training.evaluate import contexts_of
    from training.models.base import labels_of

    texts, contexts = list(train["text"]), contexts_of(train)
    own = model.actor_rows(texts, contexts)
    actors = np.array(train["actor"])
    bearing = actors != labels_of(model).none_actor_id
    x = vstack([own[bearing], model.actor_rows([t for _, t, _, _ in added], [c for _, _, c, _ in added])])
    y = np.concatenate([actors[bearing], np.array([a for *_, a in added], dtype=actors.dtype)])
    w = np.concatenate([np.ones(int(bearing.sum())), np.full(len(added), weight)])
    model.actor_ = model._head().fit(x.tocsr(), y, sample_weight=w)


def fit_blocks(recipe, scheme, data, cuts, index, swap, resolver, weight, heads):
    """Every block's prediction rows, each fitted on its past with the swapped copies at ``weight``
    (``heads`` "actor": the actor head alone reads them; "both": every head, the copies as more
    training rows); and how many copies block 1 added."""
    counts = []

    def prepare(part):
        added = copies(part, scheme, swap, resolver)
        counts.append(len(added))
        if heads == "actor":
            return part, None, lambda model: refit_actor_head(model, part, added, weight)
        w = np.concatenate([np.ones(len(part)), np.full(len(added), weight)])
        return with_copies(part, added), w, None

    rows = refit_changed(recipe, scheme, data, cuts, index, prepare, f"{heads} {weight}")
    return rows, counts[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weight", type=float, action="append", help="the swapped rows' weight (repeatable)")
    ap.add_argument(
        "--heads", choices=["actor", "both"], action="append", help="which heads read the copies (repeatable)"
    )
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    scheme = Scheme.load()
    data, meta, cuts, index = labeled_blocks(scheme)
    recipe = load_recipe(ROOT / RECIPE)
    reference = cached_rows(RECIPE, recipe, scheme, meta["data_version"], len(cuts))
    if not reference:
        raise SystemExit("run experiments/rolling_origin.py on the reference recipe first")
    from training.models import holder

    real = list(scheme.actors)
    gazetteer = gaz.load(real)  # read once: the swap's names and the filter's holders
    swap, resolver = Swapper(gazetteer), holder.Resolver(recipe.actor_cues, gazetteer, real)
    pairs = ((t, swap(t)) for t in data["text"] if "Taliban" in t or "Asif" in t)
    examples = [(t, new) for t, new in pairs if new != t][:4]
    result = {
        "data_version": meta["data_version"],
        "recipe": RECIPE,
        "examples": examples,
        "reference": score(reference, scheme),
        "runs": [],
    }
    out_json = args.out / "result.json"
    if out_json.is_file():  # the runs already made, kept (a run is keyed by its heads and weight)
        result["runs"] = json.loads(out_json.read_text())["runs"]
    for heads, weight in [(h, w) for h in args.heads or ["actor"] for w in args.weight or [0.5, 1.0]]:
        result["runs"] = [x for x in result["runs"] if (x["heads"], x["weight"]) != (heads, weight)]
        rows, added = fit_blocks(recipe, scheme, data, cuts, index, swap, resolver, weight, heads)
        figures, why = judged(rows, reference, scheme)
        setting = {"heads": heads, "weight": weight}
        record("actor_swap", setting, figures, why, meta["data_version"], RECIPE)
        run = setting | {"added_rows_block1": added}
        result["runs"].append(run | figures | {"champion_rule": why})
        args.out.mkdir(parents=True, exist_ok=True)
        write_atomic(args.out / "result.json", json.dumps(result, indent=2) + "\n")
        write_atomic(args.out / "result.md", markdown(result))
    print(markdown(result))


def markdown(r: dict) -> str:
    ref = r["reference"]

    lines = [
        f"# Name-swapped copies for the actor head (data {r['data_version']}, `{r['recipe']}`)",
        "",
        "Rolling origin, three blocks pooled; 90 % intervals by article, paired against the recipe "
        "fitted on the sentences alone. Examples of the swap:",
        "",
        *(f"* {a}\n  → {b}" for a, b in r["examples"]),
        "",
        "| heads reading the copies | copies' weight | copies (block 1) | pooled stance macro-F1 | pooled actor e2e | "
        "stance − reference | actor e2e − reference | older blocks: actor | actor precision − reference | champion rule |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| none (reference) | | | {ref['rolling_stance_macro_f1']:.3f} | {ref['rolling_actor_accuracy_e2e']:.3f} | | | | | |",
    ]
    for x in sorted(r["runs"], key=lambda x: (x["heads"], x["weight"])):
        lines.append(
            f"| {x['heads']} | {x['weight']} | {x['added_rows_block1']} | {x['rolling_stance_macro_f1']:.3f} "
            f"| {x['rolling_actor_accuracy_e2e']:.3f} | {ci(x['diff_stance_macro_f1'])} | {ci(x['diff_actor_accuracy_e2e'])} "
            f"| {ci(x['older_diff_actor_accuracy_e2e'])} | {ci(x['diff_actor_precision_e2e'])} "
            f"| {x['champion_rule']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from training.models import encoding_cache

    with encoding_cache.enabled():  # the frozen encoder's pass, as the rolling-origin studies keep it
        script_main(main)
