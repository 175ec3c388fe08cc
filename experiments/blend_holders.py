"""Whose holders should a blend keep? One fit, several ``holder_weights``, on the time split.

`configs/blend-finetune-broker-cached.yaml` keeps member 0's p(actor | a stance) (the hybrid
recipe's holder features). The fine-tuned member has its own actor head; this study fits the
blend once on the time split's older articles and scores the newest with the members'
p(actor | a stance) mixed at weights set before the run (the stances are the blend's in every
variant, so only the holders move), each judged against the blend as shipped by the champion
rule's paired test (holders: actor accuracy end to end).

    .venv/bin/python experiments/blend_holders.py
    .venv/bin/python experiments/blend_holders.py --recipe R.yaml --out DIR --against RUN_ID

Writes experiments/blend-holders/result.json and result.md (or under ``--out``). ``--against``
judges every variant against another run's time-split predictions too (an MLflow run in this
store, e.g. the champion recipe's refit by time_split_recipes.py): a changed recipe's holders
and stances against the champion's (experiments/context-finetune, session 20).
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
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--recipe", default=RECIPE, help=f"a blend recipe (default {RECIPE})")
    ap.add_argument("--out", type=Path, default=OUT, help="result folder")
    ap.add_argument(
        "--against", metavar="RUN_ID", help="also judge each variant against this run's predictions"
    )
    args = ap.parse_args()
    scheme = Scheme.load()
    dd, meta = dataset.load(None, scheme)
    other = None
    if args.against:
        text = champion.predictions_jsonl(args.against)
        if text is None:
            sys.exit(f"run {args.against} has no time-split predictions in this MLflow store")
        other = champion.Predictions.from_jsonl(text)
    recipe = load_recipe(ROOT / args.recipe)
    blend = make_classifier(recipe, scheme)
    t0 = time.perf_counter()
    timesplit.evaluate(blend, dd, scheme)  # the one fit
    fit_seconds = time.perf_counter() - t0
    result = {
        "data_version": meta["data_version"],
        "recipe": args.recipe,
        "against": args.against,
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
        row |= {k: round(v, 4) for k, v in figures.items() if k.startswith("time_stance_macro_f1")}
        row["against_shipped"] = (
            None if preds is shipped else champion.rule(preds, shipped, scheme.stance_labels).why
        )
        if other is not None:
            row["against_run"] = champion.rule(preds, other, scheme.stance_labels).why
        result["variants"].append(row)
        print(row, flush=True)
    out = args.out
    out.mkdir(exist_ok=True)
    (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    against = f" | against run {args.against[:8]} (champion rule)" if other is not None else ""
    lines = [
        f"# Whose holders a blend keeps (data {result['data_version']}, {args.recipe}, one fit: {result['fit_seconds']} s)",
        "",
        f"| holders | time split: actor acc. end to end | stance macro-F1 | against member 0's holders (champion rule){against} |",
        "|---|---|---|---|" + ("---|" if other is not None else ""),
    ]
    for v in result["variants"]:
        e2e = f"{v['time_actor_accuracy_e2e']:.3f} [{v['time_actor_accuracy_e2e_lo']:.3f}, {v['time_actor_accuracy_e2e_hi']:.3f}]"
        tail = f" | {v['against_run']}" if other is not None else ""
        lines.append(
            f"| {v['variant']} | {e2e} | {v['time_stance_macro_f1']:.3f} | {v['against_shipped'] or ''}{tail} |"
        )
    (out / "result.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
