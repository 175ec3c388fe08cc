"""Actor-name cues: who a sentence names, in reading order."""

import numpy as np
import pytest

from training.models.cues import DEFAULT_ACTOR_CUES, RANKS, features, mentions


@pytest.mark.parametrize(
    "name",
    # spellings the coverage uses (87 sentences spell it "Tehreek-e-Taliban Pakistan")
    [
        "Tehrik-i-Taliban Pakistan", "Tehreek-e-Taliban Pakistan", "Tehreek-i-Taliban Pakistan",
        "Tahrik-i-Taliban Pakistan", "Tehrik-e Taliban Pakistan", "Tehreek\u2013e-Taliban Pakistan",
        "Tehreek e Taliban Pakistan", "Tehreek\u2011e\u2011Taliban Pakistan", "Tehreek-e-Taliban",
        "Pakistani Taliban", "Pakistan Taliban",
    ],
)  # fmt: skip
def test_the_ttp_is_never_read_as_pakistan_or_the_afghan_taliban(name):
    assert mentions(f"The {name} rejected the offer.", DEFAULT_ACTOR_CUES) == ["ttp"]
    assert mentions(f"Islamabad asked the Taliban to act against the {name}.", DEFAULT_ACTOR_CUES) == [
        "pakistan",
        "afghan_taliban",
        "ttp",
    ]


def test_actors_come_in_reading_order_each_once():
    text = "Islamabad accused Kabul of sheltering the TTP, Pakistan's Foreign Office said in Doha."
    assert mentions(text, DEFAULT_ACTOR_CUES) == ["pakistan", "afghan_taliban", "ttp", "mediator"]


def test_features_mark_rank_and_a_sentence_that_names_nobody():
    rows = features(["The talks were held.", "Qatar hosted the Taliban delegation."], DEFAULT_ACTOR_CUES)
    actors = list(DEFAULT_ACTOR_CUES)
    assert rows.shape[1] == RANKS * len(actors) + 1
    assert rows[0, -1] == 1 and rows[0, :-1].sum() == 0
    first, second = actors.index("mediator"), len(actors) + actors.index("afghan_taliban")
    assert np.flatnonzero(rows[1]).tolist() == [first, second]
