"""Each transformer recipe trained for real on a tiny slice: the contract every kind shares."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.test_recipes import REQUIREMENTS
from training.recipes import KINDS, load_classifier, make_classifier

pytestmark = pytest.mark.slow

TINY = {
    "embedding": {},
    "hybrid": {},
    "finetune": {"epochs": 2, "max_length": 48, "batch_size": 8},
    "fewshot": {"num_iterations": 1, "max_length": 48},
}
PROBE = [
    "Pakistan urged the Afghan Taliban to act against the TTP.",
    "Qatar hosted the talks in Doha.",
    "Kabul rejected the demand.",
]


@pytest.fixture(scope="module")
def tiny(built):
    """About 60 sentences from the training split, with their article ids."""
    return built[0]["train"].select(range(60))


@pytest.fixture(scope="module", params=list(TINY))
def fitted(request, tiny, scheme):
    kind = request.param
    recipe = KINDS[kind][0](kind=kind, **TINY[kind])
    model = make_classifier(recipe, scheme).fit(
        tiny["text"], np.array(tiny["actor"]), np.array(tiny["stance"]), groups=tiny["article"]
    )
    return kind, recipe, model


def test_probabilities_sum_to_one_per_facet_and_follow_the_none_rule(fitted, scheme):
    _, _, model = fitted
    actor_p, stance_p = model.predict_proba(PROBE)
    assert actor_p.shape == (3, len(scheme.actor_labels)) and stance_p.shape == (3, len(scheme.stance_labels))
    assert np.allclose(actor_p.sum(1), 1, atol=1e-5) and np.allclose(stance_p.sum(1), 1, atol=1e-5)
    # p(actor = none) is exactly p(stance = none): no pair means no actor
    assert np.allclose(actor_p[:, -1], stance_p[:, scheme.stance_labels.index("none")])
    assert model.actor_labels == scheme.actor_labels and model.stance_labels == scheme.stance_labels


def test_saved_model_reloads_and_predicts_the_same(fitted, tmp_path):
    kind, _, model = fitted
    model.save(tmp_path / kind)
    again = load_classifier(tmp_path / kind)
    for a, b in zip(model.predict_proba(PROBE), again.predict_proba(PROBE), strict=True):
        assert np.allclose(a, b, atol=1e-5)


def test_each_kind_logged_to_mlflow_reloads_as_pyfunc_and_predicts_as_in_memory(fitted, built, scheme):
    """What predict, serving and Label Studio pre-annotation load: the registered pyfunc model."""
    import mlflow

    from training.logged_model import log_model

    kind, recipe, model = fitted
    mlflow.set_experiment("tiny-contract")
    with mlflow.start_run():
        info = log_model(model, scheme, recipe, built[1], PROBE)
    frame = mlflow.pyfunc.load_model(info.model_uri).predict(pd.DataFrame({"text": PROBE}))
    actor_p, stance_p = model.predict_proba(PROBE)
    assert np.allclose(frame[[f"actor:{a}" for a in scheme.actor_labels]].to_numpy(), actor_p, atol=1e-5)
    assert np.allclose(frame[[f"stance:{s}" for s in scheme.stance_labels]].to_numpy(), stance_p, atol=1e-5)
    assert list(frame["stance"]) == [scheme.stance_labels[i] for i in stance_p.argmax(1)]
    meta = mlflow.models.get_model_info(info.model_uri).metadata
    assert meta["kind"] == kind and meta["scheme_hash"] == scheme.hash
    logged = Path(mlflow.pyfunc.get_model_dependencies(info.model_uri)).read_text().split()
    assert [line.split("==")[0] for line in logged] == REQUIREMENTS[kind]  # the kind's own list


def test_same_seed_gives_the_same_model(fitted, tiny, scheme):
    kind, recipe, model = fitted
    twin = make_classifier(recipe, scheme).fit(
        tiny["text"], np.array(tiny["actor"]), np.array(tiny["stance"]), groups=tiny["article"]
    )
    for a, b in zip(model.predict_proba(PROBE), twin.predict_proba(PROBE), strict=True):
        assert np.allclose(a, b, atol=1e-5)


def test_a_finetuned_model_logged_to_mlflow_reloads_and_predicts_as_in_memory(
    built, scheme, scratch_root, tmp_path
):
    """Through train(): grouped CV, per-epoch metrics, the registered pyfunc model."""
    import json

    import mlflow
    from mlflow import MlflowClient

    from labeling.snapshot import latest_snapshot
    from training import dataset
    from training.train import train

    lines = latest_snapshot().read_text().splitlines()
    articles = sorted({json.loads(x)["article"] for x in lines})[:6]
    small = tmp_path / "annotations-tiny.jsonl"
    small.write_text("".join(x + "\n" for x in lines if json.loads(x)["article"] in articles))
    version, _, _ = dataset.save(small, scheme, latest=False)
    recipe = tmp_path / "tiny-finetune.yaml"
    recipe.write_text("kind: finetune\ncv_folds: 3\nepochs: 2\nmax_length: 48\nbatch_size: 8\n")
    out = train(recipe, data_version=version, experiment="tiny", registered_model="tiny-finetune", quiet=True)
    run = MlflowClient().get_run(out["run_id"])
    assert run.data.tags["kind"] == "finetune" and run.data.params["epochs"] == "2"
    history = MlflowClient().get_metric_history(out["run_id"], "fold0_eval_stance_macro_f1")
    assert [m.step for m in history] == [1, 2]  # one validation score per epoch
    loaded = mlflow.pyfunc.load_model(out["model_uri"])
    frame = loaded.predict(pd.DataFrame({"text": PROBE}))
    assert list(frame.columns[:2]) == ["actor", "stance"]
    assert np.allclose(frame[[f"stance:{s}" for s in scheme.stance_labels]].sum(1), 1, atol=1e-5)
    assert MlflowClient().get_model_version_by_alias("tiny-finetune", "champion").run_id == out["run_id"]


@pytest.mark.parametrize("cache_frozen", [False, True])
def test_finetune_with_trainable_layers_changes_only_the_top_layers(tiny, scheme, cache_frozen):
    """trainable_layers: 1 trains the last transformer layer and the heads; the rest is the base
    encoder, whether the frozen layers run every step or once (``cache_frozen``)."""
    from training.models import encoder

    extra = {"epochs": 1, "trainable_layers": 1, "cache_frozen": cache_frozen}
    recipe = KINDS["finetune"][0](kind="finetune", **TINY["finetune"] | extra)
    model = make_classifier(recipe, scheme).fit(
        tiny["text"], np.array(tiny["actor"]), np.array(tiny["stance"]), groups=tiny["article"]
    )
    _, base = encoder.load(recipe.base_model)
    before, after = base.state_dict(), model.model_.encoder.state_dict()
    last = f"encoder.layer.{len(base.encoder.layer) - 1}."
    moved = {k for k in before if not np.allclose(before[k].numpy(), after[k].numpy())}
    assert moved and all(k.startswith(last) for k in moved)


def test_the_top_layers_over_cached_frozen_states_give_the_encoders_own_output():
    """cache_frozen trains the top layers from the frozen layers' outputs computed once: in eval
    mode that path must be the encoder itself, padding and attention mask included."""
    import torch

    from training.models import encoder, finetune_data, finetune_net

    tokenizer, base = encoder.load(encoder.PACKAGED_MINILM)
    texts = PROBE + ["Islamabad said the talks in Istanbul ended without an agreement on Sunday evening."]
    for top in (1, 2):
        states, _ = finetune_net.frozen_states(base, tokenizer, texts, top, 48, 2)
        rows = [{"hidden_states": h, "actor_labels": 0, "stance_labels": 0} for h in states]
        batch = finetune_data.CachedCollator()(rows)
        enc = tokenizer(texts, padding=True, return_tensors="pt")
        with torch.no_grad():
            cached = finetune_net.top_layers(base, top, batch["hidden_states"], batch["attention_mask"])
            full = base(**enc).last_hidden_state
        real = enc["attention_mask"].bool()
        assert torch.equal(batch["attention_mask"].bool(), real)
        assert torch.allclose(cached[real], full[real], atol=1e-5)
        # and the cache is not the output itself: the top layers did the work
        assert not torch.allclose(batch["hidden_states"][real], full[real], atol=1e-2)


def test_finetune_refuses_more_trainable_layers_than_the_encoder_has(tiny, scheme):
    from stance.errors import StanceError

    recipe = KINDS["finetune"][0](kind="finetune", **TINY["finetune"] | {"trainable_layers": 99})
    with pytest.raises(StanceError, match="trainable_layers: 99 asked, the encoder has 6 layers"):
        make_classifier(recipe, scheme).fit(
            tiny["text"], np.array(tiny["actor"]), np.array(tiny["stance"]), groups=tiny["article"]
        )


def test_a_context_segment_is_read_but_only_the_sentence_is_pooled():
    """context_sentences: the fine-tune reads the sentence with the one before it as a second
    segment, nearest first so truncation drops the farthest; its heads pool the sentence's own
    tokens, and the frozen layers' cache of a pair is the encoder's own output too."""
    import torch

    from training.models import encoder, finetune_data, finetune_net

    context = "Khawaja Asif spoke in Islamabad.\nThe defence minister told a TV channel on Sunday."
    assert finetune_data.second_segments([context], 1, 1) == [
        "The defence minister told a TV channel on Sunday."
    ]
    assert finetune_data.second_segments([context], 2, 1) == [
        "The defence minister told a TV channel on Sunday. Khawaja Asif spoke in Islamabad."
    ]
    assert finetune_data.second_segments(None, 1, 2) == ["", ""]  # no context given: empty segments
    assert finetune_data.second_segments([context], 0, 1) is None

    tokenizer, base = encoder.load(encoder.PACKAGED_MINILM)
    texts = ["He said Kabul must act against the TTP.", "Qatar hosted the talks."]
    seconds = ["The defence minister spoke. " * 30, ""]  # a long context is cut, the sentence kept
    enc = encoder.tokenize(tokenizer, texts, 48, seconds, tensors=True)
    assert enc["input_ids"].shape[1] == 48
    for row, text in enumerate(texts):
        pooled = enc["input_ids"][row][enc["pool_mask"][row].bool()]
        assert tokenizer.decode(pooled) == text.lower()  # MiniLM is uncased
    states, pools = finetune_net.frozen_states(base, tokenizer, texts, 1, 48, 2, seconds)
    rows = [
        {"hidden_states": h, "pool_mask": m, "actor_labels": 0, "stance_labels": 0}
        for h, m in zip(states, pools, strict=True)
    ]
    batch = finetune_data.CachedCollator()(rows)
    with torch.no_grad():
        cached = finetune_net.top_layers(base, 1, batch["hidden_states"], batch["attention_mask"])
        full = base(**{k: v for k, v in enc.items() if k != "pool_mask"}).last_hidden_state
    assert torch.equal(batch["pool_mask"], enc["pool_mask"][:, : batch["pool_mask"].shape[1]])
    assert torch.allclose(
        encoder.mean_pool(cached, batch["pool_mask"]), encoder.mean_pool(full, enc["pool_mask"]), atol=1e-5
    )


@pytest.mark.parametrize("cache_frozen", [False, True])
def test_a_finetune_with_context_uses_it_and_answers_without_it(tiny, scheme, tmp_path, cache_frozen):
    from training.evaluate import contexts_of

    extra = {"trainable_layers": 1, "cache_frozen": cache_frozen, "context_sentences": 1}
    recipe = KINDS["finetune"][0](kind="finetune", **TINY["finetune"] | extra)
    model = make_classifier(recipe, scheme).fit(
        tiny["text"], np.array(tiny["actor"]), np.array(tiny["stance"]), groups=tiny["article"],
        contexts=contexts_of(tiny),
    )  # fmt: skip
    texts = ["He said they must hand over the militants."] * 2
    contexts = ["Pakistan's defence minister spoke in Islamabad.", "The Taliban spokesman spoke in Kabul."]
    _, by_context = model.predict_proba(texts, contexts)
    assert not np.allclose(by_context[0], by_context[1], atol=1e-4)  # the sentence before is read
    _, bare = model.predict_proba(texts)  # an HTTP caller without context still gets an answer
    assert np.allclose(bare.sum(1), 1, atol=1e-5) and np.allclose(bare[0], bare[1])
    model.save(tmp_path / "m")
    again = load_classifier(tmp_path / "m")
    assert again.onnx_ is None  # the one-segment ONNX graph would drop the context: torch serves it
    assert np.allclose(again.predict_proba(texts, contexts)[1], by_context, atol=1e-5)
