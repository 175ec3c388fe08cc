"""The frozen encoder: a sentence's embedding depends on the sentence alone."""

import json

import numpy as np

from labeling.snapshot import latest_snapshot
from training.models import encoder, encoding_cache


def test_a_sentence_embeds_the_same_whatever_it_is_batched_with():
    """A process meets the sentences in its own order (grouped CV, a time split, a study script):
    with batches padded to their longest sentence, 43 of the labeled sentences came out different
    in the last bits between two orders, which flipped a near tie. Bit for bit the same now."""
    texts = list(dict.fromkeys(json.loads(x)["text"] for x in latest_snapshot().read_text().splitlines()))[
        :300
    ]
    model = encoder.PACKAGED_MINILM
    encoder._MEMO.clear()
    alone = [encoder.encode_frozen([t], model, pooling="last4") for t in texts[:40]]
    encoder._MEMO.clear()
    vectors, tokens = encoder.encode_frozen(texts[::-1], model, pooling="last4")
    vectors, tokens = vectors[::-1], tokens[::-1]
    encoder._MEMO.clear()
    for i, (v, t) in enumerate(alone):
        assert np.array_equal(v[0], vectors[i]) and np.array_equal(t[0], tokens[i]), texts[i]
    embedded = encoder.embed_frozen(texts[:40], model, pooling="last4")
    again = encoder.embed_frozen(texts[:40][::-1], model, pooling="last4")[::-1]
    assert np.array_equal(embedded, again)
    encoder._MEMO.clear()


def test_nothing_to_embed_asks_the_tokenizer_nothing():
    """Every fold after the first finds its sentences embedded already: the call must not reach
    the tokenizer with an empty list (all-mpnet-base-v2's fails on one)."""
    tokenizer, _ = encoder.load_frozen(encoder.PACKAGED_MPNET)
    assert list(encoder.batches_by_width([], tokenizer, 64, 128)) == []


def _fresh_process():
    """What a new process starts with: no memo, no disk folder read yet."""
    encoder._MEMO.clear()
    encoder._DISK_READ.clear()


def _texts(n: int) -> list[str]:
    lines = latest_snapshot().read_text().splitlines()
    return list(dict.fromkeys(json.loads(x)["text"] for x in lines))[:n]


def test_a_run_reads_back_what_an_earlier_run_encoded_bit_for_bit_without_the_encoder():
    """``stance train`` keeps the frozen encoder's outputs on disk: the next run gets the same
    bits (the figures cannot move) and does not run the encoder over those sentences again."""
    model, texts = encoder.PACKAGED_MINILM, _texts(30)
    _fresh_process()
    with encoding_cache.enabled():
        first = encoder.encode_frozen(texts, model, pooling="last4")
    where = encoding_cache.folder(model, 128, "last4")
    assert where is None  # outside a training run there is no disk cache
    _fresh_process()
    _, net = encoder.load_frozen(model)
    calls = []
    hook = net.register_forward_hook(lambda *_: calls.append(1))
    try:
        with encoding_cache.enabled():
            again = encoder.encode_frozen(texts[::-1], model, pooling="last4")
            # a new sentence is encoded, and only it
            encoder.encode_frozen([*texts[:3], "A sentence no run has encoded yet."], model, pooling="last4")
    finally:
        hook.remove()
    assert np.array_equal(first[0], again[0][::-1])
    assert all(np.array_equal(a, b) for a, b in zip(first[1], again[1][::-1], strict=True))
    assert len(calls) == 1
    _fresh_process()


def test_a_torn_cache_file_is_skipped_and_its_sentences_encoded_again(capsys):
    model, texts = encoder.PACKAGED_MINILM, _texts(12)
    _fresh_process()
    with encoding_cache.enabled():
        first, _ = encoder.encode_frozen(texts, model, pooling="mean")
        where = encoding_cache.folder(model, 128, "mean")
    for shard in where.glob("*.npz"):
        shard.write_bytes(shard.read_bytes()[:200])  # cut short, as a full disk or a kill leaves it
    _fresh_process()
    with encoding_cache.enabled():
        again, _ = encoder.encode_frozen(texts, model, pooling="mean")
    assert np.array_equal(first, again)
    assert "skipped an unreadable encoding cache file" in capsys.readouterr().err
    _fresh_process()


def test_other_settings_or_weights_are_never_read_from_one_another():
    with encoding_cache.enabled():
        keys = {
            encoding_cache.folder(encoder.PACKAGED_MINILM, 128, "last4"),
            encoding_cache.folder(encoder.PACKAGED_MINILM, 64, "last4"),
            encoding_cache.folder(encoder.PACKAGED_MINILM, 128, "mean"),
            encoding_cache.folder(encoder.PACKAGED_MPNET, 128, "last4"),
        }
        assert len(keys) == 4 and None not in keys
        # a hub id has no weights here to vouch for what was kept
        assert encoding_cache.folder("sentence-transformers/all-MiniLM-L6-v2", 128, "last4") is None
