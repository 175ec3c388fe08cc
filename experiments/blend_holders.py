"""Whose holders should a blend keep? One fit, several ``holder_weights``, on the time split.

`configs/blend-finetune-broker-cached.yaml` keeps member 0's p(actor | a stance) (the hybrid
recipe's holder features). The fine-tuned member has its own actor head; this study fits the
blend once on the time split's older articles and scores the newest with the members'
p(actor | a stance) mixed at weights set before the run (the stances are the blend's in every
variant, so only the holders move), each judged against the blend as shipped by the champion
rule's paired test (holders: actor accuracy end to end).

    .venv/bin/python experiments/blend_holders.py

Writes experiments/blend-holders/result.json and result.md.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from stance.scheme import Scheme  # noqa: E402
from training import champion, dataset, timesplit  # noqa: E402
from training.recipes import load_recipe, make_classifier  # noqa: E402

RECIPE = "configs/blend-finetune-broker-cached.yaml"
VARIANTS = {
    "member 0 (shipped)": None,
    "0.7 / 0.3": (0.7, 0.3),
    "0.5 / 0.5": (0.5, 0.5),
    "member 1": (0.0, 1.0),
}
OUT = ROOT / "experiments" / "blend-holders"


class Fitted:
    """A fitted model whose ``fit`` does nothing: timesplit.evaluate scores it again."""

    def __init__(self, model):
        self.model = model

    def fit(self, *args, **kwargs):
        return self

    def predict_proba(self, texts, contexts=None):
        return self.model.predict_proba(texts, contexts)


def main() -> None:
    scheme = Scheme.load()
    dd, meta = dataset.load(None, scheme)
    recipe = load_recipe(ROOT / RECIPE)
    blend = make_classifier(recipe, scheme)
    t0 = time.perf_counter()
    timesplit.evaluate(blend, dd, scheme)  # the one fit
    fit_seconds = time.perf_counter() - t0
    result = {
        "data_version": meta["data_version"],
        "recipe": RECIPE,
        "fit_seconds": round(fit_seconds),
        "variants": [],
    }
    shipped = None
    for name, weights in VARIANTS.items():
        blend.recipe = recipe.model_copy(update={"holder_weights": weights})
        figures, rows = timesplit.evaluate(Fitted(blend), dd, scheme)
        preds = champion.Predictions.from_jsonl("".join(json.dumps(r) + "\n" for r in rows))
        shipped = shipped or preds
        row = {"variant": name, "holder_weights": weights}
        row |= {k: round(v, 4) for k, v in figures.items() if k.startswith("time_actor_accuracy_e2e")}
        row["time_stance_macro_f1"] = round(figures["time_stance_macro_f1"], 4)
        row["against_shipped"] = (
            None if preds is shipped else champion.rule(preds, shipped, scheme.stance_labels).why
        )
        result["variants"].append(row)
        print(row, flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        f"# Whose holders a blend keeps (data {result['data_version']}, {RECIPE}, one fit: {result['fit_seconds']} s)",
        "",
        "| holders | time split: actor acc. end to end | stance macro-F1 | against member 0's holders (champion rule) |",
        "|---|---|---|---|",
    ]
    for v in result["variants"]:
        e2e = f"{v['time_actor_accuracy_e2e']:.3f} [{v['time_actor_accuracy_e2e_lo']:.3f}, {v['time_actor_accuracy_e2e_hi']:.3f}]"
        lines.append(
            f"| {v['variant']} | {e2e} | {v['time_stance_macro_f1']:.3f} | {v['against_shipped'] or ''} |"
        )
    (OUT / "result.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
