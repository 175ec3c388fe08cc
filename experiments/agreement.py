"""Agreement-aware training, measured: do the annotators' disagreements help the model?

Each training sentence of the coverage labels was labeled by two annotators, and a
reviewer decided where their primary pairs differed. Three ways to train on that:

* ``hard``: the resolved label only, every sentence weight 1 (what `stance train` does);
* ``down-weighted``: sentences the annotators disagreed on count ``--weight`` (0.5);
* ``soft``: every annotation of a sentence (each annotator's primary pair and the
  reviewer's decision) is a training row of weight 1/n, so a 1-1 split with the reviewer
  siding with one annotator trains 2/3 on the decision and 1/3 on the other reading.

The three are fitted on the *same* features of the same training articles (the recipe's
TF-IDF, encoder embeddings, actor-name and holder features, computed once), with the
recipe's own heads, and scored on the time split: the newest articles, as the champion
rule scores a run. Each variant is compared with ``hard`` by the 90 % paired bootstrap
interval by article of the stance macro-F1 difference (training/intervals.py).

    .venv/bin/python experiments/agreement.py [--recipe configs/hybrid-mpnet.yaml] [--weight 0.5]

Writes experiments/agreement/result.json and result.md (the README cites them).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stance.scheme import Scheme  # noqa: E402
from training import intervals  # noqa: E402
from training.evaluate import predicted_ids  # noqa: E402

OUT = ROOT / "experiments" / "agreement"


def annotations_by_sentence(scheme: Scheme) -> dict[str, tuple[list[tuple[int, int]], bool]]:
    """sentence id -> (every annotation's primary pair as label ids, whether the annotators disagreed)."""
    from labeling.snapshot import latest_snapshot, load_snapshot

    none_a, none_s = scheme.labels.none_actor_id, scheme.labels.none_stance_id
    out = {}
    for record in load_snapshot(latest_snapshot(), scheme):
        ids = []
        for a in record.annotations:
            if a.pairs:
                p = a.pairs[0]
                ids.append((scheme.actor_labels.index(p.actor), scheme.stance_labels.index(p.stance)))
            else:
                ids.append((none_a, none_s))
        annotators = [i for i, a in zip(ids, record.annotations, strict=True) if not a.ground_truth]
        out[record.sentence.sentence_id] = (ids, len(set(annotators)) > 1)
    return out


def features(recipe, scheme: Scheme, train, test):
    """The recipe's actor-head and stance-head features of both splits, vocabulary from training only."""
    from training.recipes import make_classifier

    clf = make_classifier(recipe, scheme)
    texts = list(train["text"])
    if recipe.kind == "hybrid":
        from training.models import gazetteer as gaz
        from training.models.baseline import tfidf_features

        clf.gazetteer_ = gaz.load(scheme.labels.real_actors)
        clf.tfidf_ = tfidf_features(recipe).fit(texts)
        return (
            clf,
            clf._features(texts, list(train["context"])),
            clf._features(list(test["text"]), list(test["context"])),
        )
    if recipe.kind == "baseline":
        tfidf = clf._pipeline()[0].fit(texts)
        x_train, x_test = tfidf.transform(texts), tfidf.transform(list(test["text"]))
        return clf, (x_train, x_train), (x_test, x_test)
    raise SystemExit(f"kind {recipe.kind}: this study reads the hybrid or baseline recipe's features")


def rows_of(variant: str, train, notes: dict, weight: float):
    """(row index into the training features, actor id, stance id, sample weight) for a variant."""
    index, actors, stances, weights = [], [], [], []
    for i, (sid, a, s) in enumerate(zip(train["sentence_id"], train["actor"], train["stance"], strict=True)):
        ids, disagreed = notes.get(sid, ([], False))
        if variant == "soft" and len(ids) > 1:
            for a_id, s_id in ids:
                index.append(i), actors.append(a_id), stances.append(s_id), weights.append(1 / len(ids))
            continue
        w = weight if variant == "down-weighted" and disagreed else 1.0
        index.append(i), actors.append(a), stances.append(s), weights.append(w)
    return np.array(index), np.array(actors), np.array(stances), np.array(weights)


def fit_predict(clf, scheme: Scheme, x_train, x_test, rows):
    from training.models.base import factorized_actor_proba, full_proba

    index, actors, stances, weights = rows
    (actor_x, stance_x), (actor_t, stance_t) = x_train, x_test
    bearing = actors != scheme.labels.none_actor_id
    make = clf._head if hasattr(clf, "_head") else lambda: clf._pipeline()[-1]
    actor_head = make().fit(actor_x[index[bearing]], actors[bearing], sample_weight=weights[bearing])
    stance_head = make().fit(stance_x[index], stances, sample_weight=weights)
    stance_p = full_proba(stance_head, stance_t, len(scheme.stance_labels))
    actor_given = full_proba(actor_head, actor_t, len(scheme.actor_labels) - 1)
    actor_p = factorized_actor_proba(stance_p, actor_given, scheme.actor_labels, scheme.stance_labels)
    return predicted_ids(actor_p, stance_p, scheme)


def main() -> None:
    from training import dataset
    from training.recipes import load_recipe

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", type=Path, default=ROOT / "configs" / "hybrid-mpnet.yaml")
    parser.add_argument("--weight", type=float, default=0.5, help="weight of a disagreed sentence")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    scheme = Scheme.load()
    dd, meta = dataset.load(None, scheme)
    train, test = dd["train"], dd["test"]
    notes = annotations_by_sentence(scheme)
    disagreed = sum(notes.get(s, ([], False))[1] for s in train["sentence_id"])
    t0 = time.perf_counter()
    recipe = load_recipe(args.recipe)
    clf, x_train, x_test = features(recipe, scheme, train, test)
    feature_s = time.perf_counter() - t0
    truth_a, truth_s = np.array(test["actor"]), np.array(test["stance"])
    none_s = scheme.labels.none_stance_id
    n_s = len(scheme.stance_labels)
    result = {
        "data_version": meta["data_version"],
        "recipe": str(args.recipe.relative_to(ROOT) if args.recipe.is_relative_to(ROOT) else args.recipe),
        "train_sentences": len(train),
        "train_sentences_disagreed": int(disagreed),
        "test_sentences": len(test),
        "test_articles": len(set(test["article"])),
        "down_weight": args.weight,
        "feature_seconds": round(feature_s, 1),
        "variants": {},
    }
    preds = {}
    for variant in ("hard", "down-weighted", "soft"):
        rows = rows_of(variant, train, notes, args.weight)
        a_pred, s_pred = preds[variant] = fit_predict(clf, scheme, x_train, x_test, rows)
        figs = intervals.figures("time", test["article"], truth_a, truth_s, a_pred, s_pred, n_s, none_s)
        entry = {k.removeprefix("time_"): round(v, 4) for k, v in figs.items()}
        entry["training_rows"] = len(rows[0])
        if variant != "hard":
            point, lo, hi = intervals.paired_difference(
                test["article"], truth_s, preds["hard"][1], s_pred, n_s
            )
            entry["stance_macro_f1_minus_hard"] = [round(point, 4), round(lo, 4), round(hi, 4)]
        result["variants"][variant] = entry
        print(variant, json.dumps(entry))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "result.md").write_text(render(result))
    print(f"-> {args.out / 'result.json'}, {args.out / 'result.md'}")


def render(r: dict) -> str:
    lines = [
        "# Agreement-aware training on the time split",
        "",
        f"Data version {r['data_version']}, recipe `{r['recipe']}`: {r['train_sentences']} training sentences "
        f"({r['train_sentences_disagreed']} where the annotators' primary pairs differed), scored on "
        f"{r['test_sentences']} sentences of the {r['test_articles']} newest articles. Intervals: 90 % bootstrap "
        "by article; the difference is paired (same resampled articles).",
        "",
        "| training | stance macro-F1 | actor accuracy e2e | stance macro-F1 minus hard |",
        "|---|---|---|---|",
    ]
    for name, v in r["variants"].items():
        diff = v.get("stance_macro_f1_minus_hard")
        label = f"{name} (w={r['down_weight']})" if name == "down-weighted" else name
        lines.append(
            f"| {label} "
            f"| {v['stance_macro_f1']:.3f} [{v['stance_macro_f1_lo']:.3f}, {v['stance_macro_f1_hi']:.3f}] "
            f"| {v['actor_accuracy_e2e']:.3f} [{v['actor_accuracy_e2e_lo']:.3f}, {v['actor_accuracy_e2e_hi']:.3f}] "
            f"| {'' if diff is None else f'{diff[0]:+.3f} [{diff[1]:+.3f}, {diff[2]:+.3f}]'} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
