"""Does a sentence's place in its article tell the stance head something? (issue 11)

A news report states its news first: the headline and the lede carry the stance the story is
about ("Pakistan demands the Taliban act against TTP"), later paragraphs background and
reaction. Neither the n-grams nor the encoder's vector sees where a sentence stands. The model's
``context`` input (the article's preceding sentences, at most ``CONTEXT_SENTENCES``) already says
it: a sentence with no context is the article's first (the headline in most coverage), one with a
full context is the sixth or later. This study gives the stance heads that place as one-hot
columns (0, 1, …, 5 or more sentences before), weighted ``--weight``:

* ``logistic``: read by the stance head's logistic regression only;
* ``both``: read by the attention head too, beside its name cues and holder features.

The actor head is untouched. Derived from ``context`` alone, it would need no new input at
predict time. Scored on the rolling origin (experiments/rolling_origin.py: three blocks, each
fitted only on its past, pooled), paired by article against ``make demo``'s recipe refitted in
the same process (checked against its cached rolling-origin rows), by the champion rule.

    .venv/bin/python experiments/position.py [--weight 0.5 --weight 1]

Writes experiments/position/result.md and result.json, or under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "experiments"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rolling_origin import ci, decide, judged, record, refit_rolling, score  # noqa: E402

from stance.errors import script_main  # noqa: E402
from stance.io import write_atomic  # noqa: E402
from stance.scheme import Scheme  # noqa: E402
from training.context import CONTEXT_SENTENCES  # noqa: E402
from training.models.hybrid import HybridClassifier  # noqa: E402
from training.recipes import load_recipe, make_classifier  # noqa: E402

RECIPE = "configs/hybrid-mpnet-broker-mean-parse.yaml"
OUT = ROOT / "experiments" / "position"


def position_rows(contexts: list[str] | None, n: int) -> np.ndarray:
    """(n, CONTEXT_SENTENCES + 1) one-hot: how many sentences precede each one (the last column:
    that many or more). No context at all reads as the first sentence."""
    out = np.zeros((n, CONTEXT_SENTENCES + 1), dtype=np.float32)
    for i in range(n):
        c = contexts[i] if contexts is not None else ""
        before = len([line for line in (c or "").split("\n") if line.strip()])
        out[i, min(before, CONTEXT_SENTENCES)] = 1.0
    return out


class PositionHybrid(HybridClassifier):
    """The recipe's model with the sentence's place appended to the stance heads' inputs."""

    position_weight = 1.0
    position_attention = False

    def _inputs(self, texts, contexts=None):
        from scipy.sparse import csr_matrix, hstack

        actor_x, stance_x, tokens, extra = super()._inputs(texts, contexts)
        place = self.position_weight * position_rows(contexts, len(texts))
        stance_x = hstack([stance_x, csr_matrix(place)]).tocsr()
        if self.position_attention:
            extra = np.hstack([extra, place]).astype(np.float32)
        return actor_x, stance_x, tokens, extra


def fit_block(recipe, scheme, train, test, settings):
    from training.evaluate import contexts_of, dates_of
    from training.models.base import full_proba, labels_of

    texts, ctx = list(train["text"]), contexts_of(train)
    actors, stances = np.array(train["actor"]), np.array(train["stance"])
    t_texts, t_ctx = list(test["text"]), contexts_of(test)
    places = position_rows(t_ctx, len(t_texts)).argmax(axis=1)
    out = {}
    for key in [("none", 0.0), *settings]:
        if key[1] == 0:
            model = make_classifier(recipe, scheme)
        else:
            model = PositionHybrid(recipe, scheme.actor_labels, scheme.stance_labels)
            model.position_attention = key[0] == "both"
            model.position_weight = key[1]
        model.fit(texts, actors, stances, groups=list(train["article"]), contexts=ctx, dates=dates_of(train))
        _, stance_p = model.predict_proba(t_texts, t_ctx)
        given = full_proba(model.actor_, model.actor_rows(t_texts, t_ctx), len(labels_of(model).real_actors))
        out[key] = decide(model, stance_p, given, t_texts, t_ctx, scheme)
    none = scheme.stance_labels.index("none")
    t_stances = np.array(test["stance"])
    kept = {  # how stance-bearing each place is in this block's test articles
        str(p): [int((places == p).sum()), int(((places == p) & (t_stances != none)).sum())]
        for p in range(CONTEXT_SENTENCES + 1)
    }
    return out, kept


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weight", type=float, action="append", help="the place columns' weight [0.5, 1]")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    weights = args.weight or [0.5, 1.0]
    settings = [(mode, w) for w in weights for mode in ("logistic", "both")]
    scheme = Scheme.load()
    recipe = load_recipe(ROOT / RECIPE)
    rows, meta, seconds, places = refit_rolling(
        RECIPE, scheme, lambda train, test: fit_block(recipe, scheme, train, test, settings)
    )
    reference = rows[("none", 0.0)]
    result = {
        "data_version": meta["data_version"],
        "recipe": RECIPE,
        "fit_seconds": seconds,
        "places": places,
        "reference_against_cache": meta.get("reference_apart"),
        "reference": score(reference, scheme),
        "runs": [],
    }
    for (mode, w), mine in rows.items():
        if w == 0:
            continue
        figures, why = judged(mine, reference, scheme)
        record("position", {"mode": mode, "weight": w}, figures, why, meta["data_version"], RECIPE)
        result["runs"].append({"mode": mode, "weight": w} | figures | {"against_reference": why})
    write(result, args.out)


def write(result: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "result.json", json.dumps(result, indent=2) + "\n")
    write_atomic(out / "result.md", markdown(result))
    print(markdown(result))


def markdown(r: dict) -> str:
    ref = r["reference"]
    apart = r["reference_against_cache"]
    checked = (
        "no cached rolling-origin rows to check it against"
        if apart is None
        else f"{apart} rows apart from its cached rolling-origin rows"
    )
    place_line = ", ".join(
        f"{'≥' if int(p) == CONTEXT_SENTENCES else ''}{int(p) + 1}: "
        f"{sum(b[p][1] for b in r['places'])} of {sum(b[p][0] for b in r['places'])}"
        for p in r["places"][0]
    )
    lines = [
        f"# A sentence's place in its article for the stance heads, on the rolling origin (data {r['data_version']})\n",
        f"Reference: `{r['recipe']}` refitted here ({checked}): pooled stance macro-F1 {ref['rolling_stance_macro_f1']:.3f}, actor accuracy end "
        f"to end {ref['rolling_actor_accuracy_e2e']:.3f}. Fits: {r['fit_seconds']} s a block (every setting). "
        "90 % paired intervals by article.\n",
        f"Stance-bearing test sentences by place (sentence n of its article): {place_line}.\n",
        "| read by | weight | stance − reference | actor e2e − reference | older blocks: stance | "
        "actor precision e2e − reference | champion rule |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in r["runs"]:
        lines.append(
            f"| {run['mode']} | {run['weight']} | {ci(run['diff_stance_macro_f1'])} | "
            f"{ci(run['diff_actor_accuracy_e2e'])} | {ci(run['older_diff_stance_macro_f1'])} | "
            f"{ci(run['diff_actor_precision_e2e'])} | {run['against_reference']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    script_main(main)
