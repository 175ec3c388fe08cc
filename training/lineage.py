"""A promotion's lineage (:mod:`training.promote`): what changed from the old champion to the new.

The labeled sentences added, removed or changed between the two data versions' committed
snapshots, and the per-class F1 that moved by ``MOVED`` or more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stance import paths
from stance.console import one_line
from stance.io import read_jsonl
from stance.scheme import Scheme

if TYPE_CHECKING:
    from training.promote import Contender

MOVED = 0.02  # a per-class F1 change at least this large is listed as moved


def snapshot_labels(data_version: str) -> dict[str, dict] | None:
    """sentence id -> {text, pairs} of a data version's committed snapshot (None if absent)."""
    path = paths.snapshots() / f"annotations-{data_version}.jsonl"
    if not path.is_file():
        return None
    return {row["sentence_id"]: {"text": row["text"], "pairs": row["pairs"]} for _, row in read_jsonl(path)}


def in_sample(data_version: str | None, texts) -> list[bool]:
    """For each of ``texts``, whether it was a labeled training sentence of a model trained on
    ``data_version`` (never where that version has no snapshot here): its calls on them were
    fitted to their labels, so they are no measure of how it does on new coverage. Matched by the
    sentence's words, not its id: an article saved under another name (``page.html``), read from
    standard input or given as a sentences file holds the same sentences under other ids."""
    labels = snapshot_labels(data_version) if data_version and data_version != "?" else None
    seen = {one_line(rec["text"]) for rec in (labels or {}).values()}
    return [one_line(t) in seen for t in texts]


def lineage(old: Contender | None, new: Contender, scheme: Scheme) -> dict:
    """What changed from the old champion to the new: labeled sentences, and per-class F1."""
    out: dict = {"to": {"run_id": new.run_id, "version": new.version, "data_version": new.data_version}}
    if old is None:
        return out | {"from": None, "data": "first champion: nothing to diff against", "f1_moved": []}
    out["from"] = {"run_id": old.run_id, "version": old.version, "data_version": old.data_version}
    out["data"] = _data_diff(old.data_version, new.data_version)
    out["f1_moved"] = _f1_moved(old.run.data.metrics, new.run.data.metrics, scheme)
    return out


def _data_diff(old_version: str, new_version: str) -> dict | str:
    if old_version == new_version:
        return {"added": [], "removed": [], "changed": []}
    before, after = snapshot_labels(old_version), snapshot_labels(new_version)
    missing = [v for v, s in ((old_version, before), (new_version, after)) if s is None]
    if missing:
        return (
            f"no snapshot in labeling/snapshots/ for data version {', '.join(missing)}: sentences not diffed"
        )

    def brief(sid, rec):
        return {"sentence_id": sid, "text": rec["text"][:120], "pairs": rec["pairs"]}

    changed = [
        {"sentence_id": sid, "text": rec["text"][:120], "before": before[sid]["pairs"], "after": rec["pairs"]}
        for sid, rec in after.items()
        if sid in before and before[sid]["pairs"] != rec["pairs"]
    ]
    return {
        "added": [brief(sid, rec) for sid, rec in after.items() if sid not in before],
        "removed": [brief(sid, rec) for sid, rec in before.items() if sid not in after],
        "changed": changed,
    }


def _f1_moved(before: dict, after: dict, scheme: Scheme) -> list[dict]:
    moved = []
    for facet, labels in (("stance", scheme.stance_labels), ("actor", scheme.actor_labels)):
        for label in labels:
            key = f"{facet}_f1_{label}"
            if key in before and key in after and abs(after[key] - before[key]) >= MOVED:
                moved.append(
                    {
                        "class": f"{facet}:{label}",
                        "before": round(before[key], 4),
                        "after": round(after[key], 4),
                    }
                )
    return moved


def lineage_markdown(lin: dict) -> str:
    lines = ["# Promotion lineage", ""]
    if lin["from"] is None:
        return "\n".join([*lines, lin["data"], ""])
    f, t = lin["from"], lin["to"]
    lines += [f"v{f['version']} (data {f['data_version']}) -> v{t['version']} (data {t['data_version']})", ""]
    data = lin["data"]
    if isinstance(data, str):
        lines += [data, ""]
    else:
        for what in ("added", "removed", "changed"):
            lines += [f"## Sentences {what}: {len(data[what])}", ""]
            lines += [f"- `{d['sentence_id']}` {d['text']}" for d in data[what]] + [""]
    lines += [f"## Per-class F1 moved by {MOVED} or more: {len(lin['f1_moved'])}", ""]
    lines += [f"- {m['class']}: {m['before']:.3f} -> {m['after']:.3f}" for m in lin["f1_moved"]]
    return "\n".join(lines).rstrip() + "\n"
