"""Promotion: champion only by a clear win (the champion rule) on the same data; lineage recorded when it happens."""

import re

import mlflow
from mlflow import MlflowClient

from training.lineage import snapshot_labels
from training.promote import promote
from training.train import train


def alias(model: str, name: str) -> str:
    return MlflowClient().get_model_version_by_alias(model, name).version


def test_a_challenger_without_a_clear_gain_over_the_rolling_origin_is_refused_unless_forced(tiny_experiment):
    _, results = tiny_experiment
    low, high = sorted(results, key=lambda r: r["metrics"]["stance_macro_f1"])
    margin = high["metrics"]["stance_macro_f1"] - low["metrics"]["stance_macro_f1"]
    spread = max(r["metrics"]["stance_macro_f1_std"] for r in results)
    assert 0 < margin <= spread, "the two tiny runs should be a hair apart; pick other overrides"

    first = promote("tiny", low["run_id"])
    assert first["promoted"] and first["decision"] == "promoted to champion: there is no champion yet"
    champion_version = alias("tiny-classifier", "champion")

    refused = promote("tiny", high["run_id"])
    assert not refused["promoted"]
    # both runs were asked at every origin: the rule reads the pooled blocks, not the time split alone
    pooled_high, pooled_low = (
        high["metrics"]["rolling_stance_macro_f1"],
        low["metrics"]["rolling_stance_macro_f1"],
    )
    assert refused["decision"].startswith(
        f"not promoted, stays challenger: rolling-origin stance macro-F1 {pooled_high:.3f} against the "
        f"champion's {pooled_low:.3f}: {pooled_high - pooled_low:+.3f}, 90% paired interval by article ["
    )
    logged = mlflow.get_run(high["run_id"]).data.metrics
    n, sentences = int(logged["rolling_articles"]), int(logged["rolling_sentences"])
    assert n > logged["time_articles"]
    assert re.search(
        rf"over {n} articles; permutation p by article: stance [01]\.\d{{3}}, holders [01]\.\d{{3}}; "
        rf"decisions differ on \d+ of {sentences} sentences in \d+ of {n} articles: "
        r"neither above zero, no clear gain; --force to promote anyway$",
        refused["decision"],
    )
    assert alias("tiny-classifier", "champion") == champion_version
    assert alias("tiny-classifier", "challenger") == refused["challenger"].version
    tags = mlflow.get_run(high["run_id"]).data.tags
    assert tags["promotion_decision"] == refused["decision"]
    version = MlflowClient().get_model_version("tiny-classifier", refused["challenger"].version)
    assert version.tags["promotion_decision"] == refused["decision"]  # the registry page says why
    # the run page's description keeps what training said and adds what promote decided
    assert tags["mlflow.note.content"].startswith("**")
    assert tags["mlflow.note.content"].endswith(f"\n\n`stance promote`: {refused['decision']}")

    forced = promote("tiny", high["run_id"], force=True)
    assert forced["promoted"] and forced["decision"].startswith("promoted to champion (forced): ")
    assert alias("tiny-classifier", "champion") == forced["challenger"].version
    lineage = mlflow.artifacts.load_dict(f"runs:/{high['run_id']}/promotion/lineage.json")
    assert lineage["data"] == {"added": [], "removed": [], "changed": []}  # same data version
    assert promote("tiny", high["run_id"])["decision"].startswith("nothing to do")


def test_promotion_across_data_versions_records_the_sentences_and_f1_that_moved(
    scratch_root, older_version, built
):
    old, dropped, relabeled = older_version
    recipe = scratch_root / "configs" / "lineage.yaml"
    recipe.write_text("kind: baseline\ncv_folds: 3\nC: 0.01  # a weak model: the old champion\n")
    kwargs = {
        "experiment": "lineage",
        "registered_model": "lineage-classifier",
        "quiet": True,
        "crown": False,
    }
    old_run = train(recipe, old, **kwargs)
    assert promote("lineage", old_run["run_id"])["promoted"]

    recipe.write_text("kind: baseline\ncv_folds: 3\n")
    new_run = train(recipe, built[1]["data_version"], **kwargs)
    refused = promote("lineage", new_run["run_id"])
    assert not refused["promoted"]
    assert (
        f"the champion was trained on data {old} and no other run of its recipe exists on "
        f"{built[1]['data_version']}; runs on different data are not compared" in refused["decision"]
    )

    forced = promote("lineage", new_run["run_id"], force=True)
    assert forced["promoted"]
    lin = forced["lineage"]
    assert lin["from"]["data_version"] == old and lin["to"]["data_version"] == built[1]["data_version"]
    assert sorted(d["sentence_id"] for d in lin["data"]["added"]) == sorted(dropped)
    assert lin["data"]["removed"] == []
    (changed,) = lin["data"]["changed"]
    assert changed["sentence_id"] == relabeled
    assert changed["before"] == [{"actor": "pakistan", "stance": "demand"}] and changed["after"] == []
    assert lin["f1_moved"] and all(abs(m["after"] - m["before"]) >= 0.02 for m in lin["f1_moved"])
    text = mlflow.artifacts.load_text(f"runs:/{new_run['run_id']}/promotion/lineage.md")
    assert f"## Sentences added: {len(dropped)}" in text and "## Sentences changed: 1" in text


def test_the_champions_recipe_retrained_on_more_labels_takes_its_place_and_older_data_never_does(
    scratch_root, older_version, built
):
    """New labels -> the champion's recipe retrained -> it is the champion's refresh, not a run to be
    judged against itself; and a model trained on an older snapshot never replaces one trained on more,
    even where it beats a run of the champion's recipe on that older data."""
    old, dropped, _ = older_version
    new = built[1]["data_version"]
    weak, strong = scratch_root / "configs" / "weak.yaml", scratch_root / "configs" / "strong.yaml"
    weak.write_text("kind: baseline\ncv_folds: 3\nC: 0.01\n")
    strong.write_text("kind: baseline\ncv_folds: 3\n")
    kwargs = {
        "experiment": "refresh",
        "registered_model": "refresh-classifier",
        "quiet": True,
        "crown": False,
    }
    weak_old = train(weak, old, **kwargs)
    assert promote("refresh", weak_old["run_id"])["promoted"]

    weak_new = train(weak, new, **kwargs)
    refreshed = promote("refresh", weak_new["run_id"])
    assert refreshed["promoted"], refreshed["decision"]
    assert refreshed["decision"] == (
        f"promoted to champion: the champion's recipe retrained on data {new}, which keeps every labeled "
        f"sentence of the champion's data {old} ({len(dropped)} added, 1 relabeled); figures on different "
        "data are not compared"
    )

    strong_old = train(strong, old, **kwargs)  # beats weak_old, the champion's recipe on the old data
    for _ in range(2):  # asked twice: the same refusal, said once on the run page
        refused = promote("refresh", strong_old["run_id"])
        assert (
            not refused["promoted"]
            and alias("refresh-classifier", "champion") == refreshed["challenger"].version
        )
    had, has = len(snapshot_labels(new)), len(snapshot_labels(old))
    assert refused["decision"] == (
        f"not promoted, stays challenger: this run's data {old} ({has} labeled sentences) lacks "
        f"{len(dropped)} of the {had} of the champion's data {new} (an older or smaller snapshot): "
        "train on the current data; --force to promote anyway"
    )
    note = mlflow.get_run(strong_old["run_id"]).data.tags["mlflow.note.content"]
    assert note.count("`stance promote`:") == 1


def test_promote_does_not_call_the_champion_a_challenger_when_it_is_the_best_run(scratch_root, capsys):
    """The best run already holds ``champion`` and another version ``challenger``: promote does
    nothing and says so, without printing the champion under the word the registry gives the other."""
    from training import promote as promote_module
    from training import tracking

    client = MlflowClient()
    mlflow.set_experiment(experiment_id=tracking.setup("crowned-promote"))
    client.create_registered_model("crowned-promote-classifier")
    for entry, figure in (("best", 0.7), ("worse", 0.6)):
        with mlflow.start_run(run_name=entry) as run:
            mlflow.set_tags({"entry": entry, "data_version": "0123abcd", "train_share": "1"})
            mlflow.log_metrics({"rolling_stance_macro_f1": figure})
        client.create_model_version(
            "crowned-promote-classifier", f"{run.info.artifact_uri}/model", run.info.run_id
        )
    client.set_registered_model_alias("crowned-promote-classifier", "champion", "1")
    client.set_registered_model_alias("crowned-promote-classifier", "challenger", "2")
    promote_module.cli("crowned-promote")
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("best run:   best (crowned-promote-classifier v1, run ")
    assert out[1].startswith("champion:   best (crowned-promote-classifier v1, run ")
    assert out[2] == "nothing to do: crowned-promote-classifier v1 already is champion"
    # runs logged without intervals: the figure said plainly so, where it printed "[nan, nan]"
    assert out[0].endswith(": rolling_stance_macro_f1 0.700 (no interval logged) on data 0123abcd")
    assert str(alias("crowned-promote-classifier", "challenger")) == "2"
