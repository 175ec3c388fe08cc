"""Actor-name cues: who a sentence names, in reading order."""

import numpy as np
import pytest

from training.models.cues import DEFAULT_ACTOR_CUES, RANKS, dateline, features, mentions


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


@pytest.mark.parametrize(
    ("text", "place"),
    [
        # the datelines the coverage opens its first sentences with
        ("ISLAMABAD: Pakistan's talks with the Taliban are struggling.", "ISLAMABAD: "),
        ("ISLAMABAD \u2013 Saudi Arabia has been quietly hosting negotiations.", "ISLAMABAD \u2013 "),
        ("KABUL (TOLONews): Hamdullah Fitrat has denied the statements.", "KABUL (TOLONews): "),
        ("KABUL, AFGHANISTAN \u2013 A Pakistani delegation arrived.", "KABUL, AFGHANISTAN \u2013 "),
        (
            "ISLAMABAD, Pakistan (MNTV) \u2014 Pakistan and Afghanistan agreed.",
            "ISLAMABAD, Pakistan (MNTV) \u2014 ",
        ),
        ("ISTANBUL (AA) - Pakistan and Afghanistan agreed Sunday.", "ISTANBUL (AA) - "),
        ("ISLAMABAD, Nov 28: Pakistan's Taliban called off the ceasefire.", "ISLAMABAD, Nov 28: "),
        ("ISLAMABAD Oct 01,2021- Prime Minister Imran Khan said talks were on.", "ISLAMABAD Oct 01,2021- "),
        (
            "ISLAMABAD/ISTANBUL \u2013 Talks between Pakistan and Afghanistan resumed.",
            "ISLAMABAD/ISTANBUL \u2013 ",
        ),
        # not datelines: a headline's speaker, an acronym that starts the sentence, a dash mid-sentence
        ("Fitrat: TTP internal matter of Pakistan", ""),
        ("TTP, the country's largest militant group, rejected the offer.", ""),
        ("TTP rejects Pakistani claims it uses Afghan soil", ""),
        ("The TTP \u2014 which pledges allegiance to the Taliban \u2014 denied it.", ""),
    ],
)
def test_a_wire_dateline_is_found_and_only_a_dateline(text, place):
    assert text[: dateline(text)] == place
