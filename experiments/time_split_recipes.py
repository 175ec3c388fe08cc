"""The costly recipes on the time split alone, judged against the champion by its own rule.

`finetune` and `fewshot` train a transformer end to end; on the coverage labels (about
2,000 training sentences) one fit takes minutes on 2 cores, so `stance train`'s five CV
folds plus the time split would take hours each. This study fits each recipe once, on the
time split's training articles (the older ones), scores the newest articles, and asks the
champion rule (training/champion.py) whether it would take the champion's place: the
paired 90 % bootstrap intervals by article of time-split stance macro-F1 and actor
accuracy end to end. Each recipe is logged as an MLflow run (experiment
``time-split-only``: the ``time_*`` figures, the predictions, no model, no CV).

    .venv/bin/python experiments/time_split_recipes.py configs/finetune.yaml configs/fewshot.yaml
    .venv/bin/python experiments/time_split_recipes.py   # no recipe: the ensembles again, no fit

Each run's stance probabilities are also averaged with the champion's (arithmetic mean at
weights 0.5 and 0.3 for the run, geometric mean at 0.5; the champion's holders kept), the
ensemble the issue allows "only if it wins beyond the interval": its paired difference in
time-split stance macro-F1 against the champion alone is reported beside each run. The
weights were not tuned; three ways were tried, on the test articles, so read them as a ceiling.

Writes experiments/time-split-recipes/result.json and result.md (the README cites them), or
under ``--out`` (experiments/time-split-partial: the top-layers fine-tune, judged against the
champion of session 11). ``--defender RECIPE`` refits that recipe on the split first and
judges the others against it, for a store that lacks the registered champion's run
(experiments/time-split-blend-top4, session 19); ``--against RUN_ID`` judges them against such a
refit's predictions already in the store (experiments/time-split-third-voice, session 20).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from stance.scheme import Scheme  # noqa: E402
from training import champion, dataset, timesplit, tracking  # noqa: E402
from training.recipes import load_recipe, make_classifier  # noqa: E402

OUT = ROOT / "experiments" / "time-split-recipes"
EXPERIMENT = "time-split-only"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("recipes", nargs="*", help="recipe YAML files (none: recompute the ensembles)")
    ap.add_argument("--registered-model", default="stance-classifier")
    ap.add_argument("--out", type=Path, default=OUT, help=f"result folder (default {OUT.relative_to(ROOT)})")
    judge = ap.add_mutually_exclusive_group()
    judge.add_argument(
        "--defender",
        metavar="RECIPE",
        help="fit this recipe on the split first and judge the others against it, in place of the "
        "registered champion (a store without the champion's run: its recipe refit, same split)",
    )
    judge.add_argument(
        "--against",
        metavar="RUN_ID",
        help="judge the recipes against this MLflow run's time-split predictions (a refit of the "
        "champion's recipe in this store, e.g. by --defender earlier) in place of the registered champion",
    )
    args = ap.parse_args()
    import mlflow

    scheme = Scheme.load()
    dd, meta = dataset.load(None, scheme)
    experiment_id = tracking.setup(EXPERIMENT)
    result = {
        "data_version": meta["data_version"],
        "train_sentences": len(dd["train"]),
        "test_sentences": len(dd["test"]),
        "test_articles": len(set(dd["test"]["article"])),
        "runs": [],
    }
    recipes = list(args.recipes)
    if args.defender:  # refit first; its predictions stand for the champion's
        recipes = [args.defender] + [r for r in recipes if r != args.defender]
        champion_jsonl = defender = None
    elif args.against:  # an earlier refit's predictions stand for the champion's
        champion_jsonl = champion.predictions_jsonl(args.against)
        if champion_jsonl is None:
            sys.exit(f"run {args.against} has no time-split predictions in this MLflow store")
        defender = champion.Predictions.from_jsonl(champion_jsonl)
        run = mlflow.get_run(args.against)
        result["champion"] = {
            "version": "refit earlier",
            "run_id": args.against,
            "recipe": run.data.tags.get("recipe", ""),
        }
    else:
        held = mlflow.MlflowClient().get_model_version_by_alias(args.registered_model, "champion")
        champion_jsonl = champion.predictions_jsonl(held.run_id)  # read once: the rule and the ensembles
        defender = None if champion_jsonl is None else champion.Predictions.from_jsonl(champion_jsonl)
        result["champion"] = {
            "version": held.version,
            "run_id": held.run_id,
            "recipe": held.tags.get("recipe", ""),
        }
    previous = args.out / "result.json"
    if previous.is_file():  # one recipe at a time keeps the others' rows
        old = json.loads(previous.read_text())
        if old.get("data_version") == meta["data_version"]:
            result["runs"] = [r for r in old["runs"] if r["recipe"] not in recipes]
    for path in recipes:
        recipe = load_recipe(ROOT / path)
        t0 = time.perf_counter()
        figures, rows = timesplit.evaluate(make_classifier(recipe, scheme), dd, scheme)
        seconds = time.perf_counter() - t0
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        if args.defender and defender is None:  # the refit defender: judged against itself below
            champion_jsonl, defender = text, champion.Predictions.from_jsonl(text)
        verdict = champion.rule(champion.Predictions.from_jsonl(text), defender, scheme.stance_labels)
        tags = {"recipe": path, "kind": recipe.kind, "data_version": meta["data_version"],
                "registry_decision": f"time split only, no model: {verdict.why}"}  # fmt: skip
        # a re-run updates the recipe's run: one run per (recipe, data version, params)
        match = {"tags.recipe": path, "tags.data_version": meta["data_version"]}
        run_name = f"{Path(path).stem}-time-split"
        with tracking.study_run(experiment_id, run_name, match, tags, recipe.model_dump()) as run:
            mlflow.log_metrics(figures | {"time_fit_seconds": seconds})
            mlflow.log_text(text, timesplit.PREDICTIONS)
        row = {"recipe": path, "run_id": run.info.run_id, "fit_and_score_seconds": round(seconds)}
        row |= {k: round(v, 4) for k, v in figures.items() if k.startswith("time_")}
        row["champion_rule"] = verdict.why
        row["would_take_champion"] = verdict.promote
        result["runs"].append(row)
        if path == args.defender:
            result["champion"] = {"version": "refit here", "run_id": run.info.run_id, "recipe": path}
        print(f"{path}: {seconds:.0f} s; {verdict.why}", flush=True)
        write(result, args.out)  # after each fit: an hour's run is not lost to a later one
    theirs = _rows(champion_jsonl or "")
    for row in result["runs"]:
        ours = _rows(champion.predictions_jsonl(row["run_id"]) or "")
        row["ensemble_with_champion"] = ensembles(ours, theirs, scheme.stance_labels)
    write(result, args.out)
    print(markdown(result))


def write(result: dict, out: Path) -> None:
    out.mkdir(exist_ok=True)
    (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "result.md").write_text(markdown(result))


def _rows(jsonl: str) -> dict[str, dict]:
    """A predictions file's rows by sentence id (the stance probabilities included)."""
    return {r["sentence_id"]: r for r in map(json.loads, filter(str.strip, jsonl.splitlines()))}


def ensembles(ours: dict[str, dict], theirs: dict[str, dict], labels: list[str]) -> dict[str, list[float]]:
    """Stance probabilities of a run (``ours``) averaged with the champion's (``theirs``): paired difference
    against the champion alone in time-split stance macro-F1, (point, lo, hi) per way of averaging."""
    import numpy as np

    from training import intervals

    ids = sorted(theirs)
    index = {label: i for i, label in enumerate(labels)}
    articles = [theirs[i]["article"] for i in ids]
    truth = [index[theirs[i]["true"][1]] for i in ids]
    p_champ = np.array([[theirs[i]["stance_p"][x] for x in labels] for i in ids])
    p_run = np.array([[ours[i]["stance_p"][x] for x in labels] for i in ids])
    ways = {
        "mean 0.5": 0.5 * p_champ + 0.5 * p_run,
        "mean 0.3": 0.7 * p_champ + 0.3 * p_run,
        "geometric 0.5": np.log(p_champ + 1e-9) + np.log(p_run + 1e-9),
    }
    alone = p_champ.argmax(1)
    return {
        way: [
            round(v, 4) for v in intervals.paired_difference(articles, truth, alone, p.argmax(1), len(labels))
        ]
        for way, p in ways.items()
    }


def markdown(r: dict) -> str:
    def cell(row, key):
        return f"{row[f'time_{key}']:.3f} [{row[f'time_{key}_lo']:.3f}, {row[f'time_{key}_hi']:.3f}]"

    rows = "\n".join(
        f"| {x['recipe']} | {cell(x, 'stance_macro_f1')} | {cell(x, 'actor_accuracy_e2e')} | "
        f"{x['fit_and_score_seconds']} s | {'yes' if x['would_take_champion'] else 'no'}: {x['champion_rule']} |"
        for x in r["runs"]
    )
    c = r["champion"]
    return (
        f"# Costly recipes on the time split alone (data {r['data_version']})\n\n"
        f"Trained once on {r['train_sentences']} sentences of the older articles, scored on "
        f"{r['test_sentences']} sentences of the {r['test_articles']} newest; 90 % bootstrap intervals "
        f"by article; no grouped CV (hours on 2 cores). Judged by the champion rule against "
        + (
            f"the champion's recipe ({c['recipe']}) {c['version']} on the same split, run {c['run_id'][:8]}"
            if c["version"] in ("refit here", "refit earlier")
            else f"version {c['version']} ({c['recipe']}, run {c['run_id'][:8]})"
        )
        + ".\n\n"
        "| recipe | stance macro-F1 | actor accuracy end to end | fit + score | would take champion |\n"
        f"|---|---|---|---|---|\n{rows}\n\n"
        "Stance probabilities averaged with the champion's (its holders kept): time-split stance "
        "macro-F1 minus the champion's alone, paired 90 % interval by article (weights not tuned; "
        "tried on the test articles):\n\n"
        "| recipe | mean 0.5 | mean 0.3 | geometric 0.5 |\n|---|---|---|---|\n"
        + "\n".join(
            f"| {x['recipe']} | "
            + " | ".join(
                f"{p:+.3f} [{lo:+.3f}, {hi:+.3f}]" for p, lo, hi in x["ensemble_with_champion"].values()
            )
            + " |"
            for x in r["runs"]
            if "ensemble_with_champion" in x
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
