"""The ``stance labeling`` commands over the loop's operations (labeling/loop.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from labeling.annotations import print_checks
from labeling.loop import DEFAULT_MODEL, Scorer, init, push
from labeling.records import resolved_in_words
from labeling.snapshot import latest_snapshot
from labeling.studio import ANNOTATOR_DOMAIN, Studio, project_title
from labeling.sync import import_snapshot, pull, status
from stance.console import counted
from stance.errors import redact
from stance.io import check_writable
from stance.scheme import Scheme

ProjectOpt = Annotated[
    str,
    typer.Option("--project", "-p", help="Project title [env LABEL_STUDIO_PROJECT, default 'stance']."),
]


def _title(project: str) -> str:
    return project_title(project)


def _console():
    from stance.console import console

    return console(highlight=False, soft_wrap=True)


def init_cli(
    project: ProjectOpt = "",
    overlap: Annotated[
        int | None,
        typer.Option(min=1, help="Independent annotators per sentence [default: configs/labeling.yaml, 2]."),
    ] = None,
) -> None:
    """Create the project, or update it in place, with the labeling interface generated from the scheme."""
    from labeling.team import LabelingConfig

    overlap = overlap or LabelingConfig.load().overlap
    studio = Studio.connect()
    title = _title(project)
    project_id, action = init(studio, Scheme.load(), title, overlap)
    _console().print(
        f"project '{title}' (id {project_id}) {action} at {redact(studio.url)}/projects/{project_id}; "
        f"each sentence goes to {overlap} annotator(s)"
    )


def add_annotator_cli(
    name: Annotated[
        str, typer.Argument(help="The annotator's user name (lowercase letters, digits, '-', '_').")
    ],
    password_env: Annotated[
        str,
        typer.Option(help="Environment variable holding the annotator's UI password (never printed)."),
    ] = "STANCE_ANNOTATOR_PASSWORD",
) -> None:
    """Add an annotator: a Label Studio user of their own, in the organization that holds the projects."""
    from labeling.annotators import add_annotator

    studio = Studio.connect()
    password = os.environ.get(password_env) or None
    uid, created = add_annotator(studio, name, password)
    login = (
        f"log in as {name}@{ANNOTATOR_DOMAIN} with the password in ${password_env}"
        if password
        else f"labels through `next` and `submit` (for the UI, create it with a password in ${password_env})"
    )
    _console().print(f"annotator {name} (user {uid}) {'created' if created else 'already there'}; {login}")


ArticlesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--articles",
        "-a",
        help="Only these articles (ids or patterns such as 'coverage-0[0-3]*'; give it again for more).",
    ),
]


def next_cli(
    annotator: Annotated[str, typer.Option("--as", help="The annotator asking for tasks.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Batch file to write (JSONL).")],
    limit: Annotated[int, typer.Option(min=1, help="At most this many tasks.")] = 100,
    articles: ArticlesOpt = None,
    project: ProjectOpt = "",
) -> None:
    """Write an annotator's next tasks to fill in: no pre-annotations, no other annotator's labels."""
    from labeling.batch_file import write_batch
    from labeling.team import next_batch, project_overlap

    check_writable(out, "batch")  # before the server: a folder was "cannot write (Is a directory)" after it
    studio = Studio.connect()
    found = studio.project(_title(project))
    overlap = project_overlap(found)
    rows = next_batch(studio, found.id, annotator, overlap, limit, articles or [], out)
    write_batch(rows, out)
    if not rows:
        of = "of these articles " if articles else ""
        _console().print(
            f"no task left for {annotator}: each task {of}is labeled by {annotator} or has its {overlap} "
            f"annotators' labels ({out} holds no rows)"
        )
        return
    _console().print(
        f'{counted(len(rows), "task")} for {annotator} in {out}: set each row\'s "pairs" ([] for no stance; '
        "pairs primary first), then `stance labeling submit`"
    )


def disagreements_cli(
    out: Annotated[Path, typer.Option("--out", "-o", help="Batch file to write (JSONL).")],
    articles: ArticlesOpt = None,
    project: ProjectOpt = "",
) -> None:
    """Write the sentences whose annotators differ on the primary pair and await a reviewer's decision."""
    from labeling.batch_file import write_batch
    from labeling.team import disagreements

    check_writable(out, "batch")
    studio = Studio.connect()
    rows = disagreements(studio, studio.project(_title(project)).id, Scheme.load(), articles or [], out)
    write_batch(rows, out)
    if not rows:
        of = "of these articles " if articles else ""
        _console().print(
            f"no disagreement to review: the annotators of each sentence {of}agree on its primary pair, or a "
            f"reviewer has decided it ({out} holds no rows)"
        )
        return
    _console().print(
        f'{counted(len(rows), "disagreement")} to review in {out}; decide "pairs", then '
        "`stance labeling submit --review`"
    )


def submit_cli(
    batch: Annotated[Path, typer.Argument(help="A filled-in batch from `next` or `disagreements`.")],
    annotator: Annotated[str, typer.Option("--as", help="Who labeled it (a Label Studio user).")],
    review: Annotated[bool, typer.Option("--review", help="Reviewer decisions (ground truth).")] = False,
    partial: Annotated[
        bool,
        typer.Option(
            "--partial", help="Send the rows that have pairs; rows without are left for a later submit."
        ),
    ] = False,
    project: ProjectOpt = "",
) -> None:
    """Send a filled-in batch as the annotator's annotations; rows already labeled by them are skipped."""
    from labeling.batch_file import read_batch
    from labeling.team import project_overlap, submit

    scheme = Scheme.load()
    later: list[int] | None = [] if partial else None
    rows = read_batch(batch, scheme, later)  # every row checked before the server is called
    studio = Studio.connect()
    found = studio.project(_title(project))
    r = submit(studio, found, scheme, annotator, rows, review, project_overlap(found))
    _console().print(
        f"{annotator}: {counted(r['added'], 'annotation')} added, {r['skipped']} already there"
        + (
            f"; {counted(len(later), 'row')} without pairs left for later (submit {batch} again)"
            if later
            else ""
        )
    )


def push_command(scorer: Callable[[str], Scorer]) -> Callable[..., None]:
    """The ``push`` command; ``scorer`` builds the pre-annotating model from ``--model`` (the CLI gives it)."""

    def push_cli(
        articles: Annotated[list[Path], typer.Argument(help="Article files (.txt, .html or .pdf).")],
        project: ProjectOpt = "",
        model: Annotated[str, typer.Option(help="MLflow model URI for the pre-annotations.")] = DEFAULT_MODEL,
        no_predictions: Annotated[
            bool, typer.Option("--no-predictions", help="Push without pre-annotations.")
        ] = False,
    ) -> None:
        """Segment articles and create one task per new sentence, with the model's pre-annotations."""
        studio = Studio.connect()
        title = _title(project)
        r = push(studio, Scheme.load(), title, articles, None if no_predictions else scorer(model))
        from rich.markup import escape

        console = _console()
        for note in r.notes:  # a note names files, whose names may hold [brackets]
            console.print(f"[yellow]{escape(note)}[/yellow]")
        console.print(
            f"project '{title}': {r.created} tasks created, {r.existing} already there; "
            f"{r.predictions_added} predictions added"
            + (f" from {r.model_version} (least confident first)" if r.model_version else "")
        )

    return push_cli


def _print_agreement(console, report: dict) -> None:
    ag = report["agreement"]
    for facet, a in ag.items():
        metric = "Cohen's κ" if a["metric"] == "cohen_kappa" else "Krippendorff's α"
        console.print(
            f"  {facet}: {metric} {a['value']:.3f} (observed {a['observed_agreement']:.3f}, "
            f"{a['units']} sentences, {len(a['annotators'])} annotators)"
        )
        pk = a.get("pairwise_kappa", {})
        if a["metric"] != "cohen_kappa" and pk.get("mean") is not None:
            console.print(
                f"    Cohen's κ per pair of annotators: mean {pk['mean']:.3f} over {len(pk['pairs'])} pairs"
            )
    if not ag:
        console.print("  agreement: no sentence has two annotators yet")
    if report["unresolved"]:
        console.print(f"[yellow]unresolved conflicts ({len(report['unresolved'])}):[/yellow]")
        for u in report["unresolved"]:
            votes = "; ".join(f"{k}: {', '.join(v)}" for k, v in u["annotations"].items())
            console.print(f"  {u['sentence_id']}  {votes}")


def pull_cli(
    project: ProjectOpt = "",
    out: Annotated[Path | None, typer.Option(help="Snapshot folder [default: labeling/snapshots].")] = None,
) -> None:
    """Export the annotations into a content-hashed snapshot; report agreement and conflicts."""
    studio = Studio.connect()
    report = pull(studio, Scheme.load(), _title(project), out)
    console = _console()
    resolved = resolved_in_words(report["resolved_by"])
    console.print(f"{counted(report['sentences'], 'annotated sentence')}; resolved by {resolved}")
    _print_agreement(console, report)
    print_checks(console, report["checks"])
    if edited := report["edited"]:
        console.print(
            f"[yellow]{len(edited)} annotation(s) changed by another user than their annotator, "
            "counted as the annotator's labels[/yellow] (Label Studio lets every user edit any annotation; "
            "a reviewer decides with `stance labeling submit --review`):"
        )
        for line in edited:
            console.print(f"  {line}")
    state = "written" if report["new"] else "unchanged (already there)"
    console.print(f"annotations of this project: {report['raw']}")
    if report["replaced"]:
        console.print(
            f"  {counted(report['replaced'], 'sentence')} it already had annotations of now take the server's; "
            "its other sentences are kept"
        )
    console.print(
        f"snapshot {report['snapshot']} {state}: {report['snapshot_sentences']} sentences from every raw file; "
        f"data version {report['data_version']}"
    )


def check_cli(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Snapshots or raw annotation files [default: labeling/snapshots/LATEST]."),
    ] = None,
    rules_file: Annotated[
        Path | None, typer.Option("--rules", help="Codebook rules file [default: configs/rules.yaml].")
    ] = None,
) -> None:
    """List the labels that break a codebook rule (configs/rules.yaml), with their sentence ids."""
    from labeling.rules import check_rows, load_rules
    from stance.io import read_jsonl

    scheme = Scheme.load()
    rules = load_rules(scheme, rules_file)
    console = _console()
    found = blocking = 0
    for path in files or [latest_snapshot()]:
        violations = check_rows(rules, (row for _, row in read_jsonl(path)), scheme.none)
        found += len(violations)
        blocking += sum(v.blocking for v in violations)
        for v in violations:
            console.print(f"{path.name}: {v.line()}" + (" [blocking]" if v.blocking else ""))
    console.print(f"{found} violation(s) of {len(rules)} rules ({blocking} of blocking rules)")
    raise SystemExit(1 if blocking else 0)  # review flags alone do not fail a script


def status_cli(project: ProjectOpt = "") -> None:
    """Tasks, annotated, unresolved, agreement so far, and the predictions' model version."""
    studio = Studio.connect()
    s = status(studio, Scheme.load(), _title(project))
    console = _console()
    console.print(
        f"project '{s['project']}': {s['tasks']} tasks, {s['annotated']} annotated, "
        f"{len(s['unresolved'])} unresolved"
    )
    versions = ", ".join(f"{v} ({n})" for v, n in s["prediction_versions"].items()) or "none"
    console.print(f"  predictions: {versions}; queue model version: {s['project_model_version'] or 'none'}")
    for line in s["copies"]:  # the same article under two ids: each sentence would be labeled twice
        console.print(f"  the same article twice: {line}; delete one's tasks in Label Studio")
    _print_agreement(console, s)


def import_cli(
    snapshot: Annotated[
        Path | None, typer.Argument(help="Snapshot file [default: labeling/snapshots/LATEST].")
    ] = None,
    project: ProjectOpt = "",
) -> None:
    """Load a snapshot's annotations into Label Studio as annotations by their annotators."""
    studio = Studio.connect()
    r = import_snapshot(studio, Scheme.load(), _title(project), snapshot or latest_snapshot())
    _console().print(
        f"imported {r['snapshot']}: {r['tasks_created']} tasks created, {r['annotations']} annotations added "
        f"(annotators: {', '.join(r['annotators'])})"
    )


def build_app(scorer: Callable[[str], Scorer]) -> typer.Typer:
    """The ``stance labeling`` commands, in the order the help lists them.

    ``scorer`` turns push's ``--model`` URI into the model that pre-annotates the tasks
    (training/prelabel.py's ModelScorer): labeling itself never imports training.
    """
    app = typer.Typer(
        add_completion=False,
        pretty_exceptions_enable=False,
        no_args_is_help=True,
        help="The labeling loop on Label Studio (LABEL_STUDIO_URL, LABEL_STUDIO_API_KEY; .env is read).",
    )
    app.command("init")(init_cli)
    app.command("add-annotator")(add_annotator_cli)
    app.command("next")(next_cli)
    app.command("disagreements")(disagreements_cli)
    app.command("submit")(submit_cli)
    app.command("push")(push_command(scorer))
    app.command("pull")(pull_cli)
    app.command("check")(check_cli)
    app.command("status")(status_cli)
    app.command("import")(import_cli)
    return app
