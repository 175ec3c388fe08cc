"""The coverage report's files: plots (matplotlib), the HTML (a Jinja2 template), CSV and JSON."""

from __future__ import annotations

import base64
import csv
import io
import json
from pathlib import Path

from labeling.articles import other_language_note
from stance.console import first_few
from stance.io import write_atomic
from stance.scheme import Scheme
from training import reliability
from training.report_inputs import article_fields

STANCE_COLORS = {"demand": "#1f77b4", "denial": "#d62728", "accusation": "#ff7f0e", "mediation": "#2ca02c"}


def model_header(model: str, scheme: Scheme) -> dict:
    """The registered version a model URI names (or the run a ``runs:/`` URI names), the data
    version its run was trained on, and the run's id (where "how far to trust each cell" is read)."""
    from training import tracking

    tracking.setup_uri()
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    header = {"model": model, "data_version": "?", "scheme_hash": scheme.hash}
    try:
        client = MlflowClient()
        if model.startswith("runs:/"):  # runs:/<run id>/<artifact path>: the run itself
            run_id = model.removeprefix("runs:/").split("/", 1)[0]
        elif model.startswith("models:/"):
            name = model.removeprefix("models:/")
            if "@" in name:
                name, alias = name.split("@", 1)
                mv = client.get_model_version_by_alias(name, alias)
            else:
                name, version = name.split("/", 1)
                mv = client.get_model_version(name, version)
            header["model"] = f"{name}/{mv.version} ({model})"
            run_id = mv.run_id
        else:
            return header  # a file URI or a folder: the URI itself is the best name there is
        header["data_version"] = client.get_run(run_id).data.tags.get("data_version", "?")
        header["run_id"] = run_id
    except (MlflowException, ValueError):
        pass  # no such version or run in this store: the URI is named as given, no trust is read
    return header


def pair_trust(trust: dict, actor: str, stance: str) -> dict:
    """Beside a pair's evidence: how far its calls held on articles the model never saw, in the
    trust table's words ("right 0.63 [0.56, 0.70] of 180 calls"), and "never right" or "rarely
    right" where they seldom held (``training.reliability``)."""
    cell = reliability.pair_calls(trust, actor, stance)
    return {
        "note": reliability.call_note(cell),
        "seldom": reliability.seldom_right(cell),
        "check": reliability.CHECK_EACH,
    }


# -- plots -------------------------------------------------------------------------------------
def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def timeline_png(agg: dict, scheme: Scheme) -> str | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    periods = agg["periods"]
    if not periods:
        return None
    actors = list(scheme.actors)
    fig, axes = plt.subplots(len(actors), 1, figsize=(11, 1.9 * len(actors)), sharex=True, squeeze=False)
    x = range(len(periods))
    for ax, actor in zip(axes[:, 0], actors, strict=True):
        for stance, color in STANCE_COLORS.items():
            if (actor, stance) not in agg["expected"]["total"]:
                continue
            # the argmax count is the line: on labeled articles newer than the model's training
            # data it came closer to the labeled counts per pair and month than the expected count
            # (experiments/count-correction), which is kept as dots
            ax.plot(x, [agg["argmax"][p][(actor, stance)] for p in periods], color=color, label=stance)
            ax.plot(
                x,
                [agg["expected"][p][(actor, stance)] for p in periods],
                color=color,
                ls="",
                marker="o",
                ms=3,
            )
        for i, p in enumerate(periods):  # no article that period: its zeros are no coverage, not no stance
            if not agg["articles"][p]:
                ax.axvspan(i - 0.5, i + 0.5, color="#e6e6e6", lw=0)
        ax.set_ylabel(actor, rotation=0, ha="right", va="center")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(
        ncol=4,
        loc="upper left",
        fontsize=8,
        title="lines: argmax count · dots: expected count · grey: no article that period",
        title_fontsize=8,
    )
    step = max(1, len(periods) // 24)
    axes[-1, 0].set_xticks(list(x)[::step], periods[::step], rotation=60, fontsize=8)
    axes[0, 0].set_title("Who takes which stance, per period (sentences)")
    fig.tight_layout()
    return _png(fig)


def matrix_png(agg: dict, scheme: Scheme) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    actors = list(scheme.actors)
    stances = [s for s in scheme.stance_labels if s != scheme.none]
    grid = [[agg["argmax"]["total"][(a, s)] for s in stances] for a in actors]
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.imshow(grid, cmap="Blues")
    ax.set_xticks(range(len(stances)), stances, rotation=20)
    ax.set_yticks(range(len(actors)), actors)
    top = max(max(row) for row in grid) or 1
    for i, a in enumerate(actors):
        for j, s in enumerate(stances):
            ax.text(j, i, f"{grid[i][j]}\n({agg['expected']['total'][(a, s)]:.1f})", ha="center", va="center",
                    fontsize=8, color="white" if grid[i][j] > top / 2 else "black")  # fmt: skip
    ax.set_title("Actor x stance, whole period: argmax count (expected count)", fontsize=10)
    return _png(fig)


# -- files -------------------------------------------------------------------------------------
def _csv(header: list[str], rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def write_outputs(
    out: Path,
    header: dict,
    agg: dict,
    rows,
    articles: dict,
    checks: list[dict],
    scheme: Scheme,
    trust: dict | None = None,
) -> None:
    """The report's files; ``trust``: how far to trust each cell (``training.reliability``), or None
    when the model's run logged no predictions on unseen articles."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    pairs = agg["pairs"]
    keys = [*agg["periods"], *(["undated"] if "undated" in agg["expected"] else []), "total"]
    write_atomic(out / "timeline.csv", _csv(
        ["period", "actor", "stance", "expected", "argmax", "articles", "pair_articles"],
        [(k, a, s, round(agg["expected"][k][(a, s)], 3), agg["argmax"][k][(a, s)], agg["articles"][k],
          agg["pair_articles"][k][(a, s)])
         for k in keys for a, s in pairs],
    ))  # fmt: skip
    write_atomic(out / "outlets.csv", _csv(
        ["outlet", "actor", "stance", "argmax"],
        [(o, a, s, n) for o, c in sorted(agg["outlets"].items()) for (a, s), n in c.items() if n],
    ))  # fmt: skip
    evidence = {
        f"{a}/{s}": [
            # the sentence's `p`, by predict's name for the same figure (until session 47 `confidence`)
            {"sentence_id": r.sentence_id, "text": r.text, "p": round(r.confidence, 4)}
            | article_fields(r.meta)
            # each sentence carries its pair's trust, as predict's evidence does: the file keeps
            # its layout (pair -> sentences) for the readers of the files written before it
            | ({"trust": reliability.pair_calls(trust, a, s)} if trust else {})
            for r in agg["evidence"][(a, s)]
        ]
        for a, s in pairs
    }
    write_atomic(out / "evidence.json", json.dumps(evidence, indent=1, ensure_ascii=False))
    write_atomic(out / "checks.json", json.dumps(checks, indent=1, ensure_ascii=False))
    summary = {**header, "matrix": {f"{a}/{s}": {"expected": round(agg["expected"]["total"][(a, s)], 3),
                                                  "argmax": agg["argmax"]["total"][(a, s)],
                                                  "articles": agg["pair_articles"]["total"][(a, s)]} for a, s in pairs},
               "trust": trust}  # fmt: skip
    write_atomic(out / "summary.json", json.dumps(summary, indent=1, ensure_ascii=False))

    top_outlets = sorted(agg["outlets"].items(), key=lambda kv: -sum(kv[1].values()))[:20]
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    html = env.get_template("report.html.j2").render(
        h=header,
        actors=list(scheme.actors),
        stances=[s for s in scheme.stance_labels if s != scheme.none],
        pairs=pairs,
        agg=agg,
        timeline_png=timeline_png(agg, scheme),
        matrix_png=matrix_png(agg, scheme),
        evidence=evidence,
        outlets=top_outlets,
        outlet_max=max((n for _, c in top_outlets for n in c.values()), default=1) or 1,
        checks=checks,
        trust=trust,
        pair_trust={f"{a}/{s}": pair_trust(trust, a, s) for a, s in pairs} if trust else {},
        few=reliability.FEW,
        undated=[articles[a] for a in header["undated"]],
        other_language=other_language_said(seen, header["sentences"], header["articles"])
        if (seen := header.get("other_language"))
        else None,
    )
    write_atomic(out / "report.html", html)


def other_language_said(seen: dict, sentences: int, articles: int) -> str:
    """The sentences in another language than English, in the command's and the header's words."""
    named = first_few(seen["articles"])
    return (
        f"{seen['sentences']} of these {sentences} sentences ({len(seen['articles'])} of {articles} "
        f"articles: {named}) {other_language_note(seen)}"
    )
