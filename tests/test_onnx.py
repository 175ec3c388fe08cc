"""The ONNX scoring path: same probabilities as torch, no torch or transformers imported, int8 on request."""

import json
import subprocess
import sys

import numpy as np
import pytest

from tests import test_models
from tests.conftest import REPO
from training.models import hybrid, onnx_encoder
from training.recipes import KINDS, load_classifier, make_classifier

# the model tests' tiny recipes, the fine-tune at one epoch (agreement needs no accuracy)
TINY = test_models.TINY | {"finetune": test_models.TINY["finetune"] | {"epochs": 1}}
PROBE = [
    *test_models.PROBE,
    "He said the talks would resume " + "after the holidays and the ceasefire " * 30,  # truncated
    "",
]


def test_token_batches_keep_every_row_once_longest_first_within_the_budget():
    lengths = [5, 120, 7, 64, 3, 128, 9] * 40
    batches = list(onnx_encoder.token_batches(lengths, budget=1024, max_rows=64))
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)
    assert all(len(b) * lengths[b[0]] <= 1024 and len(b) <= 64 for b in batches)
    assert len(batches[0]) == 1024 // 128 and max(map(len, batches)) == 64  # long ones few, short ones many


@pytest.fixture(scope="module")
def tiny(built):
    return built[0]["train"].select(range(40))


def _fit(kind, tiny, scheme, **extra):
    recipe = KINDS[kind][0](kind=kind, **TINY[kind], **extra)
    return make_classifier(recipe, scheme).fit(
        tiny["text"], np.array(tiny["actor"]), np.array(tiny["stance"]), groups=tiny["article"]
    )


@pytest.fixture(scope="module", params=list(TINY))
def saved(request, tiny, scheme, tmp_path_factory):
    """A tiny model of each kind with an encoder, trained and saved (with its ONNX export)."""
    folder = tmp_path_factory.mktemp("onnx") / request.param
    _fit(request.param, tiny, scheme).save(folder)
    return request.param, folder


@pytest.mark.slow
def test_onnx_and_torch_give_the_same_probabilities(saved, monkeypatch):
    kind, folder = saved
    meta = json.loads((folder / "onnx" / "onnx.json").read_text())
    assert (folder / "onnx" / meta["file"]).is_file() and (folder / "onnx" / "tokenizer.json").is_file()
    fast = load_classifier(folder)
    assert fast.onnx_ is not None
    monkeypatch.setenv("STANCE_ONNX", "0")
    slow = load_classifier(folder)
    assert slow.onnx_ is None
    for a, b in zip(fast.predict_proba(PROBE), slow.predict_proba(PROBE), strict=True):
        assert np.abs(a - b).max() < 1e-4, kind


LIGHT = """
import json, sys
from training.recipes import load_classifier
actor_p, stance_p = load_classifier(sys.argv[1]).predict_proba(json.loads(sys.argv[2]))
heavy = sorted(m for m in ("torch", "transformers", "setfit", "sentence_transformers") if m in sys.modules)
print(json.dumps({"heavy": heavy, "rows": len(stance_p), "sums": stance_p.sum(1).round(4).tolist()}))
"""


@pytest.mark.slow
def test_the_onnx_path_imports_neither_torch_nor_transformers(saved):
    kind, folder = saved
    out = subprocess.run(
        [sys.executable, "-c", LIGHT, str(folder), json.dumps(PROBE)],
        capture_output=True, text=True, cwd=REPO, check=True,
    )  # fmt: skip
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {"heavy": [], "rows": len(PROBE), "sums": [1.0] * len(PROBE)}, kind


def test_scoring_through_onnx_sends_nothing_to_microsoft(tiny, scheme, tmp_path):
    """onnxruntime 1.32 records every process that imports it (a device id, the Python executable's
    path, OS, CPU) in ~/.cache/Microsoft/DeveloperTools/.onnxruntime/ and sends it to Microsoft
    (mobile.events.data.microsoft.com): every `stance predict`, `mlflow models serve`, Spark worker
    and ML backend that scored with an encoder did, 73 such records queued by the test suite here."""
    import os

    folder = tmp_path / "embedding"
    _fit("embedding", tiny, scheme).save(folder)
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"} | {"HOME": str(home)}
    out = subprocess.run(
        [sys.executable, "-c", LIGHT, str(folder), json.dumps(PROBE)],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["rows"] == len(PROBE) and got["heavy"] == []  # it scored, through onnxruntime
    assert sorted(str(p.relative_to(home)) for p in home.rglob("*")) == []


@pytest.mark.slow
def test_int8_is_a_recipe_option_close_to_fp32(tiny, scheme, tmp_path):
    model = _fit("embedding", tiny, scheme, onnx_int8=True)
    model.save(tmp_path / "int8")
    meta = json.loads((tmp_path / "int8" / "onnx" / "onnx.json").read_text())
    assert meta["int8"] and meta["file"] == "encoder.int8.onnx"
    assert not (tmp_path / "int8" / "onnx" / "encoder.onnx").exists()  # one ONNX file travels
    _, stance_q = load_classifier(tmp_path / "int8").predict_proba(PROBE)
    _, stance_f = model.predict_proba(PROBE)  # in memory: torch, fp32
    assert np.abs(stance_q - stance_f).max() < 0.1  # close, not equal: the measured effect is in the README
    assert (stance_q.argmax(1) == stance_f.argmax(1)).mean() >= 0.8


@pytest.mark.slow
def test_last4_pooling_is_applied_and_travels_in_the_onnx_export(tiny, scheme, tmp_path, monkeypatch):
    """A recipe's ``pooling: last4`` changes the sentence vectors, and the saved model's ONNX graph
    pools the same way as torch (else a served model would read other features than it was fit on)."""
    model = _fit("embedding", tiny, scheme, pooling="last4")
    model.save(tmp_path / "last4")
    fast = load_classifier(tmp_path / "last4")
    assert fast.onnx_ is not None and fast.recipe.pooling == "last4"
    monkeypatch.setenv("STANCE_ONNX", "0")
    slow = load_classifier(tmp_path / "last4")
    x_onnx, x_torch = fast._embed(PROBE), slow._embed(PROBE)
    assert np.abs(x_onnx - x_torch).max() < 1e-4
    assert np.allclose(np.linalg.norm(x_torch, axis=1), 1.0, atol=1e-5)
    x_mean = _fit("embedding", tiny, scheme)._embed(PROBE)  # the default: the last layer's mean
    assert np.abs(x_mean - x_torch).max() > 0.05
    for a, b in zip(fast.predict_proba(PROBE), slow.predict_proba(PROBE), strict=True):
        assert np.abs(a - b).max() < 1e-4


@pytest.mark.slow
def test_the_attention_head_moves_the_stances_and_scores_alike_through_onnx_and_torch(
    tiny, scheme, tmp_path, monkeypatch
):
    """A hybrid with ``attention_weight`` trains the attention head on the token states, and its saved
    model's ONNX graph gives the same token states as torch, so a served model scores as it was fit."""
    attn = {"attention_weight": 0.5, "attention_queries": 1, "attention_epochs": 5}
    model = _fit("hybrid", tiny, scheme, **attn)
    plain = _fit("hybrid", tiny, scheme)
    assert (
        len(model.attention_) == 1 and np.abs(model.attention_[0].query).max() > 0
    )  # it learned where to look
    s_attn, s_plain = model.predict_proba(PROBE)[1], plain.predict_proba(PROBE)[1]
    assert np.abs(s_attn - s_plain).max() > 0.01
    model.save(tmp_path / "attn")
    fast = load_classifier(tmp_path / "attn")
    assert fast.onnx_ is not None and fast.recipe.attention_weight == 0.5
    monkeypatch.setenv("STANCE_ONNX", "0")
    slow = load_classifier(tmp_path / "attn")
    _, tokens_onnx = fast._encode(PROBE)
    _, tokens_torch = slow._encode(PROBE)
    assert [len(t) for t in tokens_onnx] == [len(t) for t in tokens_torch]
    assert (
        max(
            np.abs(a.astype(np.float32) - b.astype(np.float32)).max()
            for a, b in zip(tokens_onnx, tokens_torch, strict=True)
        )
        < 1e-2
    )
    for a, b, c in zip(
        fast.predict_proba(PROBE), slow.predict_proba(PROBE), model.predict_proba(PROBE), strict=True
    ):
        assert np.abs(a - b).max() < 1e-3 and np.abs(b - c).max() < 1e-5
    # a large batch is scored chunk by chunk (token states are big): same probabilities, rows in order
    whole = fast.predict_proba(PROBE)
    monkeypatch.setattr(hybrid, "PREDICT_CHUNK", 3)
    for a, b in zip(fast.predict_proba(PROBE), whole, strict=True):
        assert a.shape == b.shape and np.abs(a - b).max() < 1e-4


def test_an_unknown_pooling_is_refused(scheme):
    with pytest.raises(ValueError, match="pooling"):
        KINDS["hybrid"][0](kind="hybrid", pooling="cls")
