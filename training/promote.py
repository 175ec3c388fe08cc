"""Promotion: the best run of an experiment becomes ``challenger``; ``champion`` only if it clearly wins.

Clearly wins: the champion rule of training/champion.py, the one ``stance train``
applies too (the rolling origin's pooled stance macro-F1 or actor accuracy end to end better,
the time split's where either run lacks the rolling origin; the paired bootstrap interval by
article of the difference above zero and its permutation p by article below 0.05, the other not
clearly worse). When the champion was trained on other data, the champion's
recipe evaluated on the challenger's data stands in for it; without such a run
nothing is compared and only ``--force`` promotes. A promotion records its lineage
(training/lineage.py) on the new champion's run: the labeled sentences added, removed or
changed between the two data versions and the per-class F1 that moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from stance.errors import StanceError
from stance.scheme import Scheme
from training import champion as rule
from training import tracking
from training.lineage import lineage, lineage_markdown


@dataclass
class Contender:
    """A finished run with a registered model version."""

    run: object  # mlflow.entities.Run
    model: str
    version: str

    @property
    def run_id(self) -> str:
        return self.run.info.run_id

    @property
    def data_version(self) -> str:
        return self.run.data.tags.get("data_version", "?")

    @property
    def name(self) -> str:
        return self.run.data.tags.get("entry") or self.run.info.run_name

    @property
    def score(self) -> tuple[int, float]:
        """The champion rule's first figure, for ordering: a run with the rolling origin before one without."""
        found = tracking.selection(self.run.data.metrics)
        return (-len(tracking.SELECTION_METRICS), float("-inf")) if found is None else (-found[0], found[2])

    def describe(self) -> str:
        m = self.run.data.metrics
        found = tracking.selection(m)
        figure = (
            f"{found[1]} {found[2]:.3f} {_interval(m, found[1])}"
            if found
            else f"no {' or '.join(tracking.SELECTION_METRICS)}"
        )
        return f"{self.name} ({self.model} v{self.version}, run {self.run_id[:8]}): {figure} on data {self.data_version}"


def _interval(m: dict, name: str) -> str:
    """A figure's logged 90 % interval, or that it has none (a run logged by hand, or by other code,
    printed "[nan, nan]")."""
    lo, hi = m.get(f"{name}_lo"), m.get(f"{name}_hi")
    if lo is None or hi is None or lo != lo or hi != hi:
        return "(no interval logged)"
    return f"[{lo:.3f}, {hi:.3f}]"


# -- who is who ---------------------------------------------------------------------------
def contenders(experiment: str) -> list[Contender]:
    import mlflow
    from mlflow import MlflowClient

    tracking.setup_uri()
    exp = mlflow.get_experiment_by_name(experiment)
    if exp is None:
        raise StanceError(f"no MLflow experiment named '{experiment}' in {tracking.tracking_uri()}")
    client = MlflowClient()
    out = []
    runs = mlflow.search_runs(
        [exp.experiment_id], filter_string="attributes.status = 'FINISHED'", output_format="list",
        order_by=["attributes.start_time DESC"],
    )  # fmt: skip
    for run in runs:
        for mv in client.search_model_versions(f"run_id = '{run.info.run_id}'"):
            out.append(Contender(run, mv.name, mv.version))
    if not out:
        raise StanceError(f"experiment '{experiment}' has no run with a registered model to promote")
    return out


def propose(experiment: str, run_id: str | None = None) -> Contender:
    """The given run, or the best run on the data version of the experiment's latest model."""
    found = contenders(experiment)
    if run_id:
        match = [c for c in found if c.run_id.startswith(run_id)]
        if len(match) != 1:
            raise StanceError(f"run '{run_id}' is not one registered run of experiment '{experiment}'")
        return match[0]
    newest = found[0].data_version  # runs come newest first
    return max((c for c in found if c.data_version == newest), key=lambda c: c.score)


def champion(model: str) -> Contender | None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    try:
        mv = client.get_model_version_by_alias(model, tracking.CHAMPION)
    except MlflowException:
        return None
    return Contender(client.get_run(mv.run_id), model, mv.version)


def stand_in(champ: Contender, challenger: Contender):
    """The champion's own run on the challenger's data, else another run of the same recipe on it
    and its time split (or None): never the challenger's own run, which would be judged against itself."""
    import mlflow

    data_version = challenger.data_version
    if champ.data_version == data_version:
        return champ.run
    tags = champ.run.data.tags
    split = challenger.run.data.tags.get("split_hash")
    query = (
        f"tags.recipe_hash = '{tags.get('recipe_hash')}' and tags.data_version = '{data_version}' "
        f"and tags.scheme_hash = '{tags.get('scheme_hash')}' and tags.train_share = '1' "
        + (f"and tags.split_hash = '{split}' " if split else "")
        + "and attributes.status = 'FINISHED'"
    )
    runs = mlflow.search_runs(
        search_all_experiments=True, filter_string=query, output_format="list", max_results=2,
        order_by=["attributes.start_time DESC"],
    )  # fmt: skip
    runs = [r for r in runs if r.info.run_id != challenger.run_id]
    return runs[0] if runs else None


# -- the rule -----------------------------------------------------------------------------
def judge(challenger: Contender, champ: Contender | None) -> tuple[bool, str]:
    """(promote?, why) by the champion rule; ``--force`` is the caller's."""
    if champ is None:
        return True, "there is no champion yet"
    moved = challenger.data_version != champ.data_version
    if moved and (refused := rule.lost_sentences(challenger.run, champ.run)):
        return refused.promote, refused.why
    ref = stand_in(champ, challenger)
    if ref is None:
        across = rule.across_data(challenger.run, champ.run)
        if across.promote:  # the champion's recipe itself, retrained on more labels
            return True, across.why
        return False, (
            f"the champion was trained on data {champ.data_version} and no other run of its recipe exists on "
            f"{challenger.data_version}; runs on different data are not compared (train the champion's "
            "recipe on this data)"
        )
    verdict = rule.judge(challenger.run, ref, Scheme.load().stance_labels)
    if ref is not champ.run:
        return (
            verdict.promote,
            f"against the champion's recipe on data {challenger.data_version}: {verdict.why}",
        )
    return verdict.promote, verdict.why


# -- the command --------------------------------------------------------------------------
def promote(experiment: str, run_id: str | None = None, force: bool = False) -> dict:
    """Propose the challenger, apply the rule, move the aliases and record the decision."""
    from mlflow import MlflowClient

    challenger = propose(experiment, run_id)  # checks the store first: a mistyped path creates nothing
    client = MlflowClient()
    champ = champion(challenger.model)
    if champ and (champ.model, champ.version) == (challenger.model, challenger.version):
        return {"challenger": challenger, "champion": champ, "promoted": False, "lineage": None,
                "decision": f"nothing to do: {challenger.model} v{challenger.version} already is {tracking.CHAMPION}"}  # fmt: skip
    ok, why = judge(challenger, champ)
    promoted = ok or force
    if promoted:
        client.set_registered_model_alias(challenger.model, tracking.CHAMPION, challenger.version)
        _drop_alias(client, challenger, tracking.CHALLENGER)
        lin = lineage(champ, challenger, Scheme.load())
        client.log_dict(challenger.run_id, lin, "promotion/lineage.json")
        client.log_text(challenger.run_id, lineage_markdown(lin), "promotion/lineage.md")
        client.set_model_version_tag(
            challenger.model, challenger.version, "promoted_over", champ.version if champ else "none"
        )
        decision = f"promoted to {tracking.CHAMPION}{' (forced)' if force and not ok else ''}: {why}"
    else:
        lin = None
        client.set_registered_model_alias(challenger.model, tracking.CHALLENGER, challenger.version)
        decision = f"not promoted, stays {tracking.CHALLENGER}: {why}" + (
            "" if force else "; --force to promote anyway"
        )
    tracking.record_decision(
        client, tracking.PROMOTION_DECISION, challenger.run_id, challenger.model, challenger.version, decision
    )
    note = client.get_run(challenger.run_id).data.tags.get(tracking.NOTE)
    said = f"\n\n`stance promote`: {decision}"
    if note is not None and not note.endswith(said):  # the run page's description says what became
        client.set_tag(challenger.run_id, tracking.NOTE, note + said)  # of its model, once a decision
    return {
        "challenger": challenger,
        "champion": champ,
        "promoted": promoted,
        "decision": decision,
        "lineage": lin,
    }


def _drop_alias(client, contender: Contender, alias: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        if client.get_model_version_by_alias(contender.model, alias).version == contender.version:
            client.delete_registered_model_alias(contender.model, alias)
    except MlflowException:
        pass


def cli(
    experiment: Annotated[str, typer.Argument(help="MLflow experiment whose best run is the challenger.")],
    run: Annotated[
        str | None, typer.Option(help="Propose this run (id or id prefix) instead of the best.")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Promote even without a clear win (recorded as forced).")
    ] = False,
) -> None:
    """Propose an experiment's best run as challenger; promote it to champion only if it clearly wins."""
    with tracking.store_calls():
        out = promote(experiment, run, force)
    # the best run that already is champion is no challenger (the alias may be on another version)
    same = out["champion"] is not None and out["champion"].version == out["challenger"].version
    print(f"{'best run:  ' if same else 'challenger:'} {out['challenger'].describe()}")
    print(f"champion:   {out['champion'].describe() if out['champion'] else 'none yet'}")
    print(out["decision"])
    if out["lineage"] and out["lineage"]["from"]:
        data = out["lineage"]["data"]
        if isinstance(data, str):
            print(f"lineage: {data}")
        else:
            print(
                "lineage: "
                + ", ".join(f"{len(data[k])} sentences {k}" for k in ("added", "removed", "changed"))
            )
        moved = out["lineage"]["f1_moved"]
        print(
            "per-class F1 moved: "
            + (", ".join(f"{m['class']} {m['before']:.2f}->{m['after']:.2f}" for m in moved) or "none")
        )
        print(f"recorded on run {out['challenger'].run_id} under promotion/")
    print(f"tracking: {tracking.shown_uri()}")


if __name__ == "__main__":
    from stance.runner import run

    run(cli)
