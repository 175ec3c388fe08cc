"""Inter-annotator agreement per facet (Cohen's κ for two annotators, Krippendorff's α beyond)."""

from __future__ import annotations

from collections import defaultdict

from labeling.records import Annotation
from stance.scheme import Scheme


# -- agreement -----------------------------------------------------------------------
def agreement(units: list[list[Annotation]], scheme: Scheme) -> dict[str, dict]:
    """Chance-corrected agreement on the primary actor and stance, per facet.

    Cohen's kappa when exactly two annotators labeled every unit, Krippendorff's
    alpha (nominal) otherwise. Reviewer (ground-truth) annotations are left out:
    they are decisions, not independent judgements.
    """
    units = [[a for a in u if not a.ground_truth] for u in units]
    units = [u for u in units if len(u) >= 2]
    annotators = sorted({a.annotator for u in units for a in u})
    out: dict[str, dict] = {}
    if not units:
        return out
    for facet in ("actor", "stance"):

        def label(a: Annotation, facet=facet) -> str:
            p = scheme.primary(list(a.pairs))
            return getattr(p, facet)

        same_two = len(annotators) == 2 and all(len(u) == 2 for u in units)
        # one label throughout: κ and α are undefined (no variation); the raters agree fully
        one_label = len({label(a) for u in units for a in u}) == 1
        if same_two:
            from sklearn.metrics import cohen_kappa_score

            by = [{a.annotator: label(a) for a in u} for u in units]
            value = (
                1.0
                if one_label
                else cohen_kappa_score([b[annotators[0]] for b in by], [b[annotators[1]] for b in by])
            )
            metric = "cohen_kappa"
        else:
            import krippendorff
            import numpy as np

            labels = scheme.actor_labels if facet == "actor" else scheme.stance_labels
            code = {name: i for i, name in enumerate(labels)}
            matrix = np.full((len(annotators), len(units)), np.nan)
            for j, u in enumerate(units):
                for a in u:
                    matrix[annotators.index(a.annotator), j] = code[label(a)]
            value = (
                1.0
                if one_label
                else krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
            )
            metric = "krippendorff_alpha"
        raw_agree = sum(len({label(a) for a in u}) == 1 for u in units) / len(units)
        out[facet] = {
            "metric": metric,
            "value": round(float(value), 4),
            "observed_agreement": round(raw_agree, 4),
            "units": len(units),
            "annotators": annotators,
            "pairwise_kappa": pairwise_kappa(units, label),
        }
    return out


def pairwise_kappa(units: list[list[Annotation]], label) -> dict:
    """Cohen's κ for every two annotators who shared at least 10 sentences, and their mean weighted by those.

    With a team where any two of several annotators label a sentence, this is the κ each pair of
    annotators reached; Krippendorff's α is the one figure over all of them.
    """
    from itertools import combinations

    from sklearn.metrics import cohen_kappa_score

    shared: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for u in units:
        by = {a.annotator: label(a) for a in u}
        for x, y in combinations(sorted(by), 2):
            shared[(x, y)].append((by[x], by[y]))
    pairs = {}
    for (x, y), labels in sorted(shared.items()):
        if len(labels) >= 10:
            a, b = zip(*labels, strict=True)
            kappa = 1.0 if len(set(a) | set(b)) == 1 else float(cohen_kappa_score(a, b))
            pairs[f"{x}|{y}"] = {"kappa": round(kappa, 4), "units": len(labels)}
    total = sum(p["units"] for p in pairs.values())
    mean = sum(p["kappa"] * p["units"] for p in pairs.values()) / total if total else None
    return {"mean": None if mean is None else round(mean, 4), "pairs": pairs}
