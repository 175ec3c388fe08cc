"""Rolling-origin evaluation: the time split asked three times, at three points in time (issue 11).

The time split (training/timesplit.py) fits on the older articles and scores the newest 44:
one question, one era, wide intervals. Its test articles are mostly the autumn-2025 talks,
where a third state's mediation dominates; a reader cannot tell from it alone whether a
recipe's lead is about that era or about new coverage in general. This study asks the same
question at three origins. The labeled articles are cut by date into blocks of at least the
time split's share each, newest first:

* block 1 is the time split itself (the newest dates, trained on everything older and the
  undated articles, exactly as ``stance train`` does, so its figures reproduce the run's);
* block 2 is the next-newest dates, trained on the dated articles older than it;
* block 3 the dates before those, trained on what is older still.

Blocks 2 and 3 leave the undated articles out of training: an article without a date may be
newer than the block, and the point is that nothing from the block's future is seen. Every
test sentence is predicted by a model that saw only its past, so the blocks' predictions pool
into one set of about 130 articles: a figure for new coverage three times as wide in time as
the time split, with intervals by article (resampling whole articles across all blocks). Older
origins train on less, so the pooled figure is a floor for a model refit on everything.

Each recipe's pooled predictions are compared with the first recipe's (the reference, the
champion's recipe) by the champion rule (training/champion.py): the paired 90 % interval by
article and the permutation test, on stance macro-F1 and actor accuracy end to end.

    .venv/bin/python experiments/rolling_origin.py configs/blend-finetune-broker-cached.yaml \\
        configs/hybrid-mpnet-attn.yaml configs/hybrid-attn.yaml configs/baseline.yaml

A recipe's blocks are written as they finish (``<recipe>.jsonl``: sentence, article, block, true
and predicted labels) to the git-ignored ``.stance/cache/rolling-origin/<data version>/``, and a
re-run fits only the blocks missing there, so an interrupted run loses one fit at most and
nothing is fitted twice; ``--chain`` or another reference re-reads them without a fit. The file
is keyed by the recipe's content, the gazetteer it reads and the fitting code's digest, so a change
to the code refits (and old files stay until the cache folder is deleted). Each
recipe is one MLflow run (experiment ``rolling-origin``; a re-run updates it): the pooled and
per-block figures, and the predictions. Writes experiments/rolling-origin/result.json and
result.md, or under ``--out``.
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

from stance.errors import StanceError, script_main  # noqa: E402
from stance.io import dumps_jsonl, write_atomic  # noqa: E402
from stance.scheme import Scheme  # noqa: E402
from training import champion, dataset, intervals, timesplit, tracking  # noqa: E402
from training.models.hybrid import FITTED_TEMPERATURE  # noqa: E402
from training.recipes import load_recipe, make_classifier, reads_gazetteer, recipe_hash  # noqa: E402

OUT = ROOT / "experiments" / "rolling-origin"
EXPERIMENT = "rolling-origin"
BLOCKS = timesplit.ROLLING_BLOCKS


def blocks(articles, dates: dict[str, str | None], n: int = BLOCKS, share: float = timesplit.TEST_SHARE):
    """``n`` (train, test) article sets, newest block first: ``timesplit.split``'s time split, then
    ``timesplit.rolling_blocks``' older blocks (what ``stance train`` logs); an error when the
    dated articles cannot make ``n`` blocks."""
    first = timesplit.split(sorted(set(articles)), dates, share)
    out = timesplit.rolling_blocks(first.train, first.test, dates, n)
    if len(out) < n:
        raise StanceError(f"too few dated articles for {n} blocks of {len(first.test)}")
    return out


def labeled_blocks(scheme: Scheme, n: int = BLOCKS):
    """The labeled sentences, train and test together (a ``datasets.Dataset``), the dataset's
    meta, the ``n`` blocks' (train, test) article sets (:func:`blocks`) and each article's rows."""
    from datasets import concatenate_datasets

    dd, meta = dataset.load(None, scheme)
    data = concatenate_datasets([dd["train"], dd["test"]])
    dates = {
        a: d or None for a, d in zip(data["article"], data["date"], strict=True)
    }  # as stance train reads them
    cuts = blocks(data["article"], dates, n)
    assert cuts[0][1] == set(dd["test"]["article"]), "block 1 must be the dataset's time split"
    index: dict[str, list[int]] = {}
    for i, a in enumerate(data["article"]):
        index.setdefault(a, []).append(i)
    return data, meta, cuts, index


# The code a fit and its predictions run through: a change to any of these files is a new key, so
# a study never pools or compares predictions that older code made. (To measure a code change,
# fit the reference before it under its own recipe file, as the sessions' levers were measured.)
FIT_CODE = ("training/models/*.py", "training/timesplit.py", "training/evaluate.py", "training/outputs.py",
            "training/recipes.py", "training/dataset.py", "training/context.py", "stance/scheme.py")  # fmt: skip


def code_digest(patterns=FIT_CODE) -> str:
    """A digest of the fitting code's source files (their paths and contents)."""
    return tracking.source_digest(patterns, ROOT)


def cache_key(recipe, scheme: Scheme) -> str:
    """What a recipe's cached predictions depend on besides the data: its content, the gazetteer
    it (or a blend's member) reads, and the fitting code (:func:`code_digest`)."""
    key = recipe_hash(recipe)
    if reads_gazetteer(recipe):
        from training.models import gazetteer

        key += "-" + gazetteer.digest(gazetteer.load(list(scheme.actors)))[:8]
    return key + "-" + code_digest()[:8]


def cache_file(path: str, recipe, scheme: Scheme, data_version: str, blocks: int = BLOCKS) -> Path:
    """Where a recipe file's rolling-origin prediction rows are cached (git-ignored, one folder a
    data version and block count), keyed by :func:`cache_key`."""
    folder = ROOT / ".stance" / "cache" / "rolling-origin" / data_version / f"{blocks}-blocks"
    return folder / f"{Path(path).stem}-{cache_key(recipe, scheme)}.jsonl"


def cached_rows(path: str, recipe, scheme: Scheme, data_version: str, blocks: int = BLOCKS) -> list[dict]:
    """A recipe file's cached rolling-origin rows when every block is there, else []."""
    file = cache_file(path, recipe, scheme, data_version, blocks)
    rows = [json.loads(x) for x in file.read_text().splitlines() if x.strip()] if file.is_file() else []
    return rows if {r["block"] for r in rows} == set(range(1, blocks + 1)) else []


def compact(rows: list[dict], block: int) -> list[dict]:
    keep = ("sentence_id", "article", "true", "predicted")
    return [{k: r[k] for k in keep} | {"block": block} for r in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("recipes", nargs="+", help="recipe YAML files; the first is the reference")
    ap.add_argument("--blocks", type=int, default=BLOCKS)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument(
        "--chain",
        action="store_true",
        help="compare each recipe with the one before it (a lineage of kept levers), not with the first",
    )
    args = ap.parse_args()
    import mlflow
    from datasets import DatasetDict

    scheme = Scheme.load()
    data, meta, cuts, index = labeled_blocks(scheme, args.blocks)
    dates = {a: d or None for a, d in zip(data["article"], data["date"], strict=True)}

    def subset(names):
        return data.select(sorted(i for a in names for i in index[a]))

    # the predictions are built, not committed: the project's git-ignored cache, one folder a data version
    result = {
        "data_version": meta["data_version"],
        "blocks": [
            {
                "block": b + 1,
                "train_articles": len(train),
                "test_articles": len(test),
                "test_sentences": sum(len(index[a]) for a in test),
                "test_dates": [min(dates[a] or "" for a in test), max(dates[a] or "" for a in test)],
                "train_newest": max((dates[a] for a in train if dates.get(a)), default=None),
            }
            for b, (train, test) in enumerate(cuts)
        ],
        "runs": [],
    }
    experiment_id = tracking.setup(EXPERIMENT)
    pooled: dict[str, str] = {}
    for path in args.recipes:
        recipe = load_recipe(ROOT / path)
        stem = Path(path).stem
        file = cache_file(path, recipe, scheme, meta["data_version"], args.blocks)
        file.parent.mkdir(parents=True, exist_ok=True)
        have = [json.loads(x) for x in file.read_text().splitlines() if x.strip()] if file.is_file() else []
        done = {r["block"] for r in have}
        # what each block's fit chose (a fitted scale or exponent), beside the predictions
        fitted_file = file.with_suffix(".fit.json")
        fitted = json.loads(fitted_file.read_text()) if fitted_file.is_file() else {}
        seconds = {}
        for b, (train, test) in enumerate(cuts, 1):
            if b in done:
                continue
            t0 = time.perf_counter()
            model = make_classifier(recipe, scheme)
            _, rows = timesplit.evaluate(model, DatasetDict(train=subset(train), test=subset(test)), scheme)
            seconds[b] = round(time.perf_counter() - t0)
            have += compact(rows, b)
            fitted[str(b)] = getattr(model, "fit_metrics", dict)()
            write_atomic(fitted_file, json.dumps(fitted, indent=1, sort_keys=True) + "\n")
            write_atomic(file, dumps_jsonl(have))  # a block is either written whole or not at all
            print(f"{path}: block {b} ({len(test)} articles) in {seconds[b]} s", flush=True)
        pooled[path] = file.read_text()
        row = {"recipe": path, "fit_seconds": seconds} | score(have, scheme)
        if any(fitted.values()):
            row["fit_metrics"] = fitted
        position = args.recipes.index(path)
        if position:
            reference = args.recipes[position - 1 if args.chain else 0]
            verdict = champion.rule(
                champion.Predictions.from_jsonl(pooled[path]),
                champion.Predictions.from_jsonl(pooled[reference]),
                scheme.stance_labels,
                where="rolling-origin",
            )
            row["reference"] = reference
            row["against_reference"] = verdict.why
            row |= paired(have, [json.loads(x) for x in pooled[reference].splitlines() if x], scheme)
        tags = {"recipe": path, "kind": recipe.kind, "data_version": meta["data_version"]}
        # a re-run updates the recipe's run: one run per (recipe, data version, blocks)
        match = {"tags.recipe": path, "tags.data_version": meta["data_version"], "params.blocks": args.blocks}
        with tracking.study_run(
            experiment_id,
            f"{stem}-rolling-origin",
            match,
            tags,
            recipe.model_dump() | {"blocks": args.blocks},
        ) as run:
            mlflow.log_metrics({k: v for k, v in row.items() if isinstance(v, float)})
            mlflow.log_text(pooled[path], timesplit.ROLLING)
        row["run_id"] = run.info.run_id
        result["runs"] = [r for r in result["runs"] if r["recipe"] != path] + [row]
        write(result, args.out)
    print(markdown(result))


def score(rows: list[dict], scheme: Scheme) -> dict:
    """Pooled figures over every block, and each block's, with 90 % intervals by article."""
    out = timesplit.row_figures("rolling", rows, scheme)
    for b in sorted({r["block"] for r in rows}):
        out |= timesplit.row_figures(f"block{b}", [r for r in rows if r["block"] == b], scheme)
    return {k: round(v, 4) for k, v in out.items()}


def paired(rows: list[dict], reference: list[dict], scheme: Scheme) -> dict:
    """Paired differences against the reference recipe's predictions, sentence by sentence: over
    every block (``diff_*``), and over the blocks after the first (``older_diff_*``). The sessions
    that chose the levers read their time-split figures on block 1; the older blocks' articles sat
    in the grouped CV that picked among variants, but no choice saw them scored by a model trained
    only on their past."""
    ref = {r["sentence_id"]: r for r in reference}
    rows = sorted((r for r in rows if r["sentence_id"] in ref), key=lambda r: r["sentence_id"])
    none, n = scheme.labels.none_stance_id, len(scheme.stance_labels)
    out = {}
    for prefix, part in (("", rows), ("older_", [r for r in rows if r["block"] > 1])):
        mine = timesplit.row_ids(part, scheme)
        theirs = timesplit.row_ids([ref[r["sentence_id"]] for r in part], scheme)
        d_stance = intervals.paired_difference(mine[0], mine[2], theirs[4], mine[4], n)
        d_actor = intervals.paired_e2e_difference(mine[0], mine[1], mine[2], theirs[3], mine[3], none)
        out[f"{prefix}diff_stance_macro_f1"] = [round(x, 4) for x in d_stance]
        out[f"{prefix}diff_actor_accuracy_e2e"] = [round(x, 4) for x in d_actor]
        d_called = intervals.paired_precision_difference(
            mine[0], mine[1], mine[2], theirs[4], theirs[3], mine[4], mine[3], n, none
        )
        out[f"{prefix}diff_actor_precision_e2e"] = [round(x, 4) for x in d_called]
    return out


def decide(model, stance_p, given, texts, contexts, scheme):
    """(actor ids, stance ids) as the recipe decides them from p(stance) and p(actor | a stance):
    the parse's holder applied, factorized, decoded."""
    from training.evaluate import predicted_ids
    from training.models.base import factorized_actor_proba

    if model.recipe.parse_holder_weight:
        given = model._with_parsed_holders(given, texts, contexts)
    actor_p = factorized_actor_proba(stance_p, given, model.actor_labels, model.stance_labels)
    return predicted_ids(actor_p, stance_p, scheme)


def refit_rolling(path: str, scheme, fit_block, reference=("none", 0.0)):
    """The rolling origin's three blocks, each fitted on its past by ``fit_block(train, test)``,
    which returns ({setting: (actor ids, stance ids)}, anything to keep); as ({setting: rows},
    the dataset's meta, seconds a block, what each block kept). The ``reference`` setting is the
    recipe at ``path`` itself: its rows are checked against its cached rolling-origin rows."""
    recipe = load_recipe(ROOT / path)
    data, meta, cuts, index = labeled_blocks(scheme)

    def subset(names):
        return data.select(sorted(i for a in names for i in index[a]))

    rows: dict[tuple, list[dict]] = {}
    seconds, kept = [], []
    for b, (train, test) in enumerate(cuts, 1):
        t0 = time.perf_counter()
        part = subset(test)
        got, extra = fit_block(subset(train), part)
        kept.append(extra)
        for key, (a_pred, s_pred) in got.items():
            rows.setdefault(key, []).extend(
                {
                    "sentence_id": part["sentence_id"][i],
                    "article": part["article"][i],
                    "block": b,
                    "true": [scheme.actor_labels[part["actor"][i]], scheme.stance_labels[part["stance"][i]]],
                    "predicted": [scheme.actor_labels[a_pred[i]], scheme.stance_labels[s_pred[i]]],
                }
                for i in range(len(part))
            )
        seconds.append(round(time.perf_counter() - t0))
        print(f"block {b}: {seconds[-1]} s", flush=True)
    cached = cached_rows(path, recipe, scheme, meta["data_version"], len(cuts))
    if cached:  # the reference setting must be the recipe as the rolling origin scores it
        theirs = {r["sentence_id"]: r["predicted"] for r in cached}
        apart = sum(theirs.get(r["sentence_id"]) != r["predicted"] for r in rows[reference])
        print(
            f"the reference against the cached rolling-origin rows: {apart} of {len(rows[reference])} differ"
        )
        meta = meta | {"reference_apart": apart}
    return rows, meta, seconds, kept


def refit_changed(recipe, scheme: Scheme, data, cuts, index, prepare, label: str) -> list[dict]:
    """The rolling origin's blocks, each fitted on its past the way ``stance train`` fits
    (timesplit.evaluate), with what a study changes in training: ``prepare(train)`` returns the
    training rows to fit on, their per-row weights (or None: the recipe's own), and a hook run on
    the fitted model before it predicts (or None). The blocks' compact prediction rows."""
    from datasets import DatasetDict

    from training.models import recency
    from training.models.hybrid import HybridClassifier

    def subset(names):
        return data.select(sorted(i for a in names for i in index[a]))

    rows, fit, weights = [], HybridClassifier.fit, recency.weights
    try:
        for b, (train, test) in enumerate(cuts, 1):
            t0 = time.perf_counter()
            part, w, after = prepare(subset(train))
            if w is not None:  # the heads take per-row weights from recency.weights; the study's stand in
                recency.weights = lambda dates, half_life, w=w: w
            if after is not None:

                def fit_then(self, *a, after=after, **k):
                    fit(self, *a, **k)
                    after(self)
                    return self

                HybridClassifier.fit = fit_then
            model = make_classifier(recipe, scheme)
            _, got = timesplit.evaluate(model, DatasetDict(train=part, test=subset(test)), scheme)
            rows += compact(got, b)
            HybridClassifier.fit, recency.weights = fit, weights
            print(f"{label}: block {b} in {time.perf_counter() - t0:.0f} s", flush=True)
    finally:
        HybridClassifier.fit, recency.weights = fit, weights
    return rows


def ci(x) -> str:
    """A paired difference with its 90 % interval, as the studies' tables print it: +0.002 [-0.001, +0.005]."""
    return f"{x[0]:+.3f} [{x[1]:+.3f}, {x[2]:+.3f}]"


def judged(rows: list[dict], reference: list[dict], scheme: Scheme) -> tuple[dict, str]:
    """A study's setting against its reference, both rolling-origin rows: the setting's figures
    (:func:`score`) with their paired differences (:func:`paired`), and the champion rule's verdict."""
    verdict = champion.rule(
        champion.Predictions.from_jsonl(dumps_jsonl(rows)),
        champion.Predictions.from_jsonl(dumps_jsonl(reference)),
        scheme.stance_labels,
        where="rolling-origin",
    )
    return score(rows, scheme) | paired(rows, reference, scheme), verdict.why


LEVERS = "rolling-origin-levers"


def record(study: str, setting: dict, figures: dict, why: str, data_version: str, recipe: str) -> str | None:
    """One lever study's setting as an MLflow run (experiment ``rolling-origin-levers``), so an
    engineer compares the levers in the MLflow UI beside the recipes' rolling-origin runs: the
    setting as params, the pooled figures and the paired differences (``diff_…`` with ``_lo`` and
    ``_hi``, the 90 % interval by article) as metrics, the champion rule's verdict as the run's
    description. A re-run of the same study, setting and data version updates its run; the run id.
    The study's result files are its record: a store that cannot be written (a server down, a wrong
    token) costs the run, with one line saying so, never the study; None then."""
    try:
        return _record(study, setting, figures, why, data_version, recipe)
    except Exception as exc:  # noqa: BLE001 - MLflow's errors are many; the line names this one
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(
            f"warning: {study} {setting} not logged to MLflow ({first}); its result files are written",
            file=sys.stderr,
        )
        return None


def _record(study: str, setting: dict, figures: dict, why: str, data_version: str, recipe: str) -> str:
    import mlflow

    metrics = {}
    for key, value in figures.items():
        if isinstance(value, list):  # a paired difference: [point, low, high]
            metrics |= {key: value[0], f"{key}_lo": value[1], f"{key}_hi": value[2]}
        elif isinstance(value, float):
            metrics[key] = value
    name = " ".join(f"{k}={v}" for k, v in setting.items())
    tags = {"study": study, "setting": name, "data_version": data_version, "reference": recipe}
    tags[tracking.NOTE] = f"`experiments/{study}.py`, {name}, against `{recipe}` on the rolling origin: {why}"
    experiment_id = tracking.setup(LEVERS)
    match = {"tags.study": study, "tags.setting": name, "tags.data_version": data_version}
    with tracking.study_run(experiment_id, f"{study}: {name}", match, tags, setting) as run:
        mlflow.log_metrics(metrics)
    return run.info.run_id


def write(result: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "result.json", json.dumps(result, indent=2) + "\n")
    write_atomic(out / "result.md", markdown(result))


def markdown(r: dict) -> str:
    def cell(row, prefix, key):
        if f"{prefix}_{key}" not in row:
            return "–"
        return (
            f"{row[f'{prefix}_{key}']:.3f} [{row[f'{prefix}_{key}_lo']:.3f}, {row[f'{prefix}_{key}_hi']:.3f}]"
        )

    blocks_md = "\n".join(
        f"| {b['block']} | {b['test_dates'][0]} … {b['test_dates'][1]} | {b['test_articles']} | "
        f"{b['test_sentences']} | {b['train_articles']} (newest {b['train_newest']}) |"
        for b in r["blocks"]
    )
    n = len(r["blocks"])
    head = " | ".join(f"block {b + 1}: stance; actor e2e" for b in range(n))
    rows = "\n".join(
        f"| {x['recipe']} | {cell(x, 'rolling', 'stance_macro_f1')} | {cell(x, 'rolling', 'actor_accuracy_e2e')} | "
        f"{cell(x, 'rolling', 'actor_precision_e2e')} | "
        + " | ".join(
            f"{cell(x, f'block{b + 1}', 'stance_macro_f1')}; {cell(x, f'block{b + 1}', 'actor_accuracy_e2e')}"
            for b in range(n)
        )
        + " |"
        for x in r["runs"]
    )

    def diff(x, key):
        if key not in x:  # written before the figure existed
            return "–"
        point, lo, hi = x[key]
        return f"{point:+.3f} [{lo:+.3f}, {hi:+.3f}]"

    diffs = "\n".join(
        f"| {x['recipe']} | {x['reference']} | {diff(x, 'diff_stance_macro_f1')} | "
        f"{diff(x, 'diff_actor_accuracy_e2e')} | {diff(x, 'older_diff_stance_macro_f1')} | "
        f"{diff(x, 'older_diff_actor_accuracy_e2e')} | {diff(x, 'diff_actor_precision_e2e')} | "
        f"{x['against_reference']} |"
        for x in r["runs"]
        if "older_diff_stance_macro_f1" in x
    )
    return (
        f"# Rolling-origin evaluation (data {r['data_version']})\n\n"
        "Each block of the newest labeled articles is scored by a model fitted only on the articles "
        "older than it (block 1 is the time split, trained as `stance train` trains it); the blocks' "
        "predictions are pooled. 90 % bootstrap intervals by article.\n\n"
        "| block | test dates | test articles | test sentences | trained on articles |\n|---|---|---|---|---|\n"
        f"{blocks_md}\n\n"
        f"| recipe | pooled stance macro-F1 | pooled actor accuracy end to end | pooled actor precision end to end "
        f"| {head} |\n|---|---|---|---|{'---|' * n}\n{rows}\n\n"
        "Actor accuracy end to end counts the labeled stance-bearing sentences (right: the predicted actor is "
        "the labeled one, so a sentence called `none` is wrong); its companion, actor precision end to end, "
        "counts the sentences the recipe calls stance-bearing (right: labeled stance-bearing, the predicted "
        "actor the labeled one). Calling `none` less raises the first and lowers the second.\n\n"
        "Each recipe against its reference, paired by article: on every block, and on the older blocks "
        "alone (2 and after: the levers' choices read block 1, the time split; the older blocks' "
        "articles were in the grouped CV that picked among variants, never scored from their past alone); "
        "the champion rule's reading is on every block.\n\n"
        "| recipe | reference | stance macro-F1 | actor accuracy end to end | older blocks: stance | "
        "older blocks: actor e2e | actor precision e2e | champion rule |\n|---|---|---|---|---|---|---|---|\n"
        f"{diffs}\n" + fitted_md(r)
    )


def fitted_md(r: dict) -> str:
    """What each block's fit chose, for the recipes whose fit chooses something ("" when none does)."""
    lines = []
    for x in r["runs"]:
        for b, m in sorted(x.get("fit_metrics", {}).items()):
            chosen = {k: v for k, v in sorted(m.items()) if k != FITTED_TEMPERATURE}
            if chosen:
                lines.append(
                    f"| {x['recipe']} | {b} | " + ", ".join(f"{k} {v:g}" for k, v in chosen.items()) + " |"
                )
    if not lines:
        return ""
    return (
        "\nWhat each block's fit chose:\n\n| recipe | block | chosen |\n|---|---|---|\n"
        + "\n".join(lines)
        + "\n"
    )


if __name__ == "__main__":
    from training.models import encoding_cache

    with encoding_cache.enabled():  # the frozen encoder's pass kept for the next study
        script_main(main)
