"""A blend: members fitted on the same sentences, their stances averaged, one member's holders kept."""

from pathlib import Path

import numpy as np
import pytest

from stance.errors import StanceError
from training.models.base import factorized_actor_proba
from training.models.blend import actor_given_stance
from training.recipes import load_classifier, load_recipe, make_classifier


def _write(path, text):
    path.write_text(text)
    return path


def test_a_member_file_is_stored_resolved_with_its_overrides(scratch_root, tmp_path):
    member = _write(scratch_root / "configs" / "test-member.yaml", "kind: baseline\nC: 8.0\n")
    blend = _write(
        tmp_path / "b.yaml",
        "kind: blend\nmembers:\n  - configs/test-member.yaml\n  - {recipe: configs/test-member.yaml, C: 1.0}\n",
    )
    recipe = load_recipe(blend)
    assert [(m["kind"], m["C"], m["word_ngrams"]) for m in recipe.members] == [
        ("baseline", 8.0, [1, 2]), ("baseline", 1.0, [1, 2])
    ]  # fmt: skip
    # the saved form re-validates to the same recipe (a saved model reloads it from classifier.json)
    assert type(recipe).from_dict(recipe.model_dump(mode="json")) == recipe
    member.write_text("kind: baseline\nC: 2.0\n")  # the member's file changed: so does the blend
    assert load_recipe(blend) != recipe


@pytest.mark.parametrize(
    ("members", "extra", "says"),
    [
        ("[configs/nothing-here.yaml, {kind: baseline}]", "", "nothing-here.yaml: no such file"),
        ("[{kind: baseline}]", "", "a blend needs at least two recipes (got 1)"),
        ("[{kind: baseline}, {kind: baseline}]", "holders: 2\n", "holders: 2 names no member"),
        ("[{kind: baseline}, {kind: baseline}]", "stance_weights: [1.0]\n", "stance_weights: give 2 weights"),
        (
            "[{kind: baseline}, {kind: baseline}]",
            "holder_weights: [0, 0]\n",
            "holder_weights: give 2 weights",
        ),
        ("[{kind: baseline}, {kind: blend, members: []}]", "", "a blend's member cannot be a blend"),
        ("[{kind: baseline}, {kind: baseline, C: -1}]", "", "C"),
    ],
)
def test_a_bad_blend_is_refused_with_one_line_before_any_training(tmp_path, members, extra, says):
    path = _write(tmp_path / "bad.yaml", f"kind: blend\nmembers: {members}\n{extra}")
    with pytest.raises(StanceError) as err:
        load_recipe(path)
    assert says in str(err.value) and "\n" not in str(err.value).strip()


def test_stances_are_the_weighted_mean_and_holders_the_chosen_members(tmp_path, built, scheme):
    """Two different members fitted alone give exactly the parts the blend answers with."""
    path = _write(
        tmp_path / "b.yaml",
        "kind: blend\nmembers:\n  - {kind: baseline, C: 0.05}\n  - {kind: baseline, C: 20.0, char_ngrams: [3, 3]}\n"
        "stance_weights: [1.0, 3.0]\nholders: 1\n",
    )
    recipe = load_recipe(path)
    train, test = built[0]["train"].select(range(300)), built[0]["test"].select(range(60))
    args = (list(train["text"]), np.array(train["actor"]), np.array(train["stance"]))
    blend = make_classifier(recipe, scheme).fit(*args)
    alone = [make_classifier(r, scheme).fit(*args) for r in recipe.member_recipes()]
    texts = list(test["text"])
    (a0, s0), (a1, s1) = (m.predict_proba(texts) for m in alone)
    assert np.abs(s0 - s1).max() > 0.05  # the members disagree, so the weights matter
    actor_p, stance_p = blend.predict_proba(texts)
    assert np.allclose(stance_p, 0.25 * s0 + 0.75 * s1)
    expected = factorized_actor_proba(
        stance_p, actor_given_stance(a1), scheme.actor_labels, scheme.stance_labels
    )
    assert np.allclose(actor_p, expected) and np.allclose(actor_p.sum(1), 1)
    # member 1's holders, not member 0's: where they differ on the top actor, the blend follows 1
    top = lambda p: p[:, :-1].argmax(1)  # noqa: E731
    assert (top(a0) != top(a1)).any() and (top(actor_p) == top(a1)).all()
    blend.save(tmp_path / "saved")
    again = load_classifier(tmp_path / "saved")
    assert again.recipe == recipe and again.requirements == alone[0].requirements
    for x, y in zip(again.predict_proba(texts), (actor_p, stance_p), strict=True):
        assert np.allclose(x, y)
    # holder_weights: the members' p(actor | a stance) averaged, the stances untouched
    blend.recipe = recipe.model_copy(update={"holder_weights": (3.0, 1.0)})
    mixed, same = blend.predict_proba(texts)
    given = 0.75 * actor_given_stance(a0) + 0.25 * actor_given_stance(a1)
    assert np.allclose(same, stance_p)
    assert np.allclose(
        mixed, factorized_actor_proba(stance_p, given, scheme.actor_labels, scheme.stance_labels)
    )


def test_holders_back_from_a_factorised_actor_probability():
    given = np.array([[0.5, 0.2, 0.1, 0.1, 0.1], [0.2, 0.2, 0.2, 0.2, 0.2]])
    stance = np.array([[0.1, 0.1, 0.1, 0.1, 0.6], [0, 0, 0, 0, 1.0]])  # "none" last: sure of no stance
    actors = ["pakistan", "afghan_taliban", "ttp", "mediator", "other", "none"]
    stances = ["demand", "denial", "accusation", "mediation", "none"]
    back = actor_given_stance(factorized_actor_proba(stance, given, actors, stances))
    assert np.allclose(back, given)


def test_a_blend_trains_logs_and_serves_like_any_recipe(scratch_root, built, scheme):
    """`stance train` on a blend: grouped CV, the logged MLflow model, its members' requirements."""
    import mlflow
    import pandas as pd

    from tests.test_recipes import REQUIREMENTS
    from training.train import train

    path = _write(
        scratch_root / "configs" / "test-blend.yaml",
        "kind: blend\ncv_folds: 3\nmembers:\n  - {kind: baseline, C: 0.05}\n  - {kind: baseline, C: 20.0}\n",
    )
    out = train(path, experiment="test-blend", registered_model="test-blend", quiet=True)
    assert 0 < out["metrics"]["stance_macro_f1"] <= 1 and "time_stance_macro_f1" in out["metrics"]
    logged = mlflow.pyfunc.get_model_dependencies(out["model_uri"])
    assert [line.split("==")[0] for line in Path(logged).read_text().split()] == REQUIREMENTS["baseline"]
    texts = list(built[0]["test"]["text"][:6])
    served = mlflow.pyfunc.load_model(out["model_uri"]).predict(pd.DataFrame({"text": texts}))
    from datasets import concatenate_datasets

    data = concatenate_datasets([built[0]["train"], built[0]["test"]])
    args = (list(data["text"]), np.array(data["actor"]), np.array(data["stance"]))
    _, stance_p = make_classifier(load_recipe(path), scheme).fit(*args).predict_proba(texts)
    assert np.allclose(served[[f"stance:{s}" for s in scheme.stance_labels]].to_numpy(), stance_p)
