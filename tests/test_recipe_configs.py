"""The shipped recipe files: each loads, and each holds the values its comments measured."""

from pathlib import Path

import numpy as np
import pytest

from training.recipes import load_recipe

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
RECIPES = sorted(
    p for p in CONFIGS.glob("*.yaml") if p.stem not in {"scheme", "labeling", "gazetteer", "rules"}
)


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
def test_every_recipe_file_loads(path):
    assert load_recipe(path).kind == path.stem.split("-")[0]


def test_the_lighter_recipe_halves_the_embeddings_beside_the_tfidf_rows(scheme):
    """hybrid-mpnet-w15 (issue 11's study): the stance head reads the embeddings at 1.5, not 3."""
    from training.recipes import make_classifier

    light, champion = (
        load_recipe(CONFIGS / "hybrid-mpnet-w15.yaml"),
        load_recipe(CONFIGS / "hybrid-mpnet.yaml"),
    )
    assert (light.base_model, light.embedding_weight) == (champion.base_model, 1.5)
    assert champion.embedding_weight == 3.0
    texts = ["Pakistan urged the Taliban to act.", "Qatar hosted the talks in Doha."]
    norms = {}
    for name, recipe in (("light", light), ("champion", champion)):
        # MiniLM stands in for mpnet: the weight, not the encoder, is under test
        clf = make_classifier(recipe.model_copy(update={"base_model": "packaged:all-MiniLM-L6-v2"}), scheme)
        clf.gazetteer_, clf.tfidf_ = {}, _tfidf(recipe, texts)
        _, stance_x = clf._features(texts)
        dense = stance_x[:, clf.tfidf_.transform(texts).shape[1] :].toarray()
        norms[name] = np.linalg.norm(dense, axis=1)
    assert np.allclose(norms["light"], 1.5, atol=1e-4) and np.allclose(norms["champion"], 3.0, atol=1e-4)


def test_the_champion_recipe_is_the_lighter_one_with_the_holders_in_the_stance_head_too():
    """hybrid-mpnet-cues (session 8): hybrid-mpnet-w15 plus the cue and holder features, weight 1,
    in the stance head; everything else as w15, so the two runs differ in that alone."""
    cues, light = (
        load_recipe(CONFIGS / "hybrid-mpnet-cues.yaml"),
        load_recipe(CONFIGS / "hybrid-mpnet-w15.yaml"),
    )
    assert cues.stance_cues_weight == 1.0 and light.stance_cues_weight == 0.0
    assert cues.model_copy(update={"stance_cues_weight": 0.0}) == light


def test_the_last4_recipe_differs_from_the_cues_one_in_its_pooling_alone():
    """hybrid-mpnet-last4 (session 10): hybrid-mpnet-cues with the mean of the last four layers,
    so the champion rule's comparison of the two runs measures the pooling and nothing else."""
    last4, cues = (
        load_recipe(CONFIGS / "hybrid-mpnet-last4.yaml"),
        load_recipe(CONFIGS / "hybrid-mpnet-cues.yaml"),
    )
    assert last4.pooling == "last4" and cues.pooling == "mean"
    assert last4.model_copy(update={"pooling": "mean"}) == cues


def test_the_attention_recipe_differs_from_last4_in_its_attention_head_alone():
    """hybrid-mpnet-attn (session 11): hybrid-mpnet-last4 plus the attention head's stance voice,
    so the champion rule's comparison of the two runs measures the head and nothing else."""
    attn, last4 = (
        load_recipe(CONFIGS / "hybrid-mpnet-attn.yaml"),
        load_recipe(CONFIGS / "hybrid-mpnet-last4.yaml"),
    )
    assert attn.attention_weight == 0.5 and last4.attention_weight == 0.0
    assert attn.model_copy(update={"attention_weight": 0.0, "attention_queries": 4}) == last4


def _tfidf(recipe, texts):
    from training.models.baseline import tfidf_features

    return tfidf_features(recipe).fit(texts)


def test_the_demo_recipe_differs_from_the_broker_recipe_in_how_its_attention_head_joins_alone():
    """hybrid-mpnet-broker-mean (session 22): the broker recipe with its attention head averaged in
    fully, so the rolling origin's comparison of the two measures the head's mode and nothing else."""
    mean, which = (
        load_recipe(CONFIGS / "hybrid-mpnet-broker-mean.yaml"),
        load_recipe(CONFIGS / "hybrid-mpnet-broker.yaml"),
    )
    assert (mean.attention_mode, which.attention_mode) == ("mean", "which")
    assert mean.model_copy(update={"attention_mode": "which"}) == which


def test_the_parse_recipes_differ_from_theirs_in_who_decides_the_holder_alone():
    """Session 23: make demo's recipe and the blend's member 0 with the parse's holder deciding the
    actor; the blend with that member and nothing else changed, so the comparisons measure it alone."""
    for parse, plain in (
        ("hybrid-mpnet-broker-mean-parse", "hybrid-mpnet-broker-mean"),
        ("hybrid-mpnet-broker-parse", "hybrid-mpnet-broker"),
    ):
        with_parse, without = load_recipe(CONFIGS / f"{parse}.yaml"), load_recipe(CONFIGS / f"{plain}.yaml")
        assert (with_parse.parse_holder_weight, without.parse_holder_weight) == (0.5, 0.0)
        assert with_parse.model_copy(update={"parse_holder_weight": 0.0}) == without
    blend, champion = (
        load_recipe(CONFIGS / "blend-finetune-broker-parse.yaml"),
        load_recipe(CONFIGS / "blend-finetune-broker-cached.yaml"),
    )
    assert blend.member_recipes()[0] == load_recipe(CONFIGS / "hybrid-mpnet-broker-parse.yaml")
    assert blend.member_recipes()[1:] == champion.member_recipes()[1:]
    assert blend.model_copy(update={"members": champion.members}) == champion


def test_the_gpu_study_recipe_is_the_blend_the_gpu_study_measured():
    """experiments/gpu-finetune/blend-finetune-full-seeds.yaml is the GPU study's blend written as a
    recipe (README, "A GPU for the fine-tune"): make demo's recipe for the holders and half the
    stance, and five seeds of the whole-encoder fine-tune with the study's settings for the other half."""
    import sys

    sys.path.insert(0, str(CONFIGS.parent / "experiments"))
    from gpu_finetune import DEMO, SETTINGS

    blend = load_recipe(CONFIGS.parent / "experiments" / "gpu-finetune" / "blend-finetune-full-seeds.yaml")
    demo, *tuned = blend.member_recipes()
    assert demo == load_recipe(CONFIGS.parent / DEMO) and blend.holders == 0
    assert sorted(t.seed for t in tuned) == [0, 1, 2, 3, 4]
    for t in tuned:
        assert (t.kind, t.base_model, t.trainable_layers, t.context_sentences) == (
            "finetune",
            "packaged:all-mpnet-base-v2",
            None,
            0,
        )
        assert {k: getattr(t, k) for k in SETTINGS} == SETTINGS
    assert blend.stance_weights[0] == sum(blend.stance_weights[1:]) == 0.5
