"""The frozen encoder: a sentence's embedding depends on the sentence alone."""

import json

import numpy as np

from labeling.snapshot import latest_snapshot
from training.models import encoder


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
