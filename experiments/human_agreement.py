"""How far is the model from a human annotator on the newest articles? The same figures, same split.

The time split scores a model on the 44 newest labeled articles (stance macro-F1, actor accuracy
end to end, 90 % intervals by article). Each of those sentences was labeled by two annotators
working alone, and a reviewer decided where their primary pairs differed. This study scores each
annotator's own primary pair on those sentences the way a model's prediction is scored:

* against the resolved labels (what the model is scored against). The resolved label *is* an
  annotator's label wherever the two agreed, so this figure is optimistic by construction;
* against the other annotator (each in turn as the reference), which no adjudication flatters:
  how well one careful reader predicts another.

Read the model's time-split figures beside these: the gap is what better modelling could still
win before the labels' own ambiguity caps it.

    .venv/bin/python experiments/human_agreement.py

Writes experiments/human-agreement/result.json and result.md (the README cites them).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stance.scheme import Scheme  # noqa: E402
from training import dataset, intervals  # noqa: E402

OUT = ROOT / "experiments" / "human-agreement"


def primary_pairs(scheme: Scheme) -> dict[str, dict[str, tuple[int, int]]]:
    """sentence id -> {annotator: primary pair as label ids}, the reviewers' decisions left out."""
    from labeling.snapshot import latest_snapshot, load_snapshot

    none = (scheme.labels.none_actor_id, scheme.labels.none_stance_id)
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for record in load_snapshot(latest_snapshot(), scheme):
        mine = {}
        for a in record.annotations:
            if a.ground_truth:
                continue
            p = a.pairs[0] if a.pairs else None
            mine[a.annotator] = (
                none
                if p is None
                else (scheme.actor_labels.index(p.actor), scheme.stance_labels.index(p.stance))
            )
        out[record.sentence.sentence_id] = mine
    return out


def score(articles, truth: list[tuple[int, int]], pred: list[tuple[int, int]], scheme: Scheme) -> dict:
    t, p = np.array(truth), np.array(pred)
    figures = intervals.figures(
        "h", articles, t[:, 0], t[:, 1], p[:, 0], p[:, 1],
        len(scheme.stance_labels), scheme.labels.none_stance_id,
    )  # fmt: skip
    return {k[2:]: round(v, 4) for k, v in figures.items()}


def main() -> None:
    scheme = Scheme.load()
    dd, meta = dataset.load(None, scheme)
    test = dd["test"]
    by_sentence = primary_pairs(scheme)
    ids = list(test["sentence_id"])
    resolved = list(zip(test["actor"], test["stance"], strict=True))
    # the two annotators of each sentence, in a fixed order: first and second to label it
    firsts, seconds, keep = [], [], []
    for i, sid in enumerate(ids):
        labels = by_sentence.get(sid, {})
        if len(labels) >= 2:
            names = sorted(labels)
            firsts.append(labels[names[0]])
            seconds.append(labels[names[1]])
            keep.append(i)
    articles = [test["article"][i] for i in keep]
    truth = [resolved[i] for i in keep]
    result = {
        "data_version": meta["data_version"],
        "test_sentences": len(ids),
        "sentences_with_two_annotators": len(keep),
        "articles": len(set(articles)),
        "disagreements": sum(a != b for a, b in zip(firsts, seconds, strict=True)),
        "rows": {
            "annotator 1 against the resolved labels": score(articles, truth, firsts, scheme),
            "annotator 2 against the resolved labels": score(articles, truth, seconds, scheme),
            "annotator 1 against annotator 2": score(articles, seconds, firsts, scheme),
            "annotator 2 against annotator 1": score(articles, firsts, seconds, scheme),
        },
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    (OUT / "result.md").write_text(render(result))
    print(render(result))


def render(r: dict) -> str:
    def cell(row, key):
        return f"{row[key]:.3f} [{row[key + '_lo']:.3f}, {row[key + '_hi']:.3f}]"

    lines = [
        f"# Human agreement on the time split's test articles (data {r['data_version']})",
        "",
        f"{r['sentences_with_two_annotators']} of the {r['test_sentences']} test sentences, "
        f"{r['articles']} articles, each with two annotators' primary pairs; they differ on "
        f"{r['disagreements']}. Annotators 1 and 2 are each sentence's two annotators in name "
        "order. 90 % intervals by article, as the model's time-split figures.",
        "",
        "| who, scored against what | stance macro-F1 | actor accuracy end to end |",
        "|---|---|---|",
    ]
    for name, row in r["rows"].items():
        lines.append(f"| {name} | {cell(row, 'stance_macro_f1')} | {cell(row, 'actor_accuracy_e2e')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
