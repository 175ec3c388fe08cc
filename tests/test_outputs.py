"""The output contract every kind shares: labels decoded from probabilities, one frame layout."""

import numpy as np

from training.outputs import decode, output_frame

ACTORS = ["pakistan", "afghan_taliban", "ttp", "mediator", "other", "none"]
STANCES = ["demand", "denial", "accusation", "mediation", "none"]
ACTOR_P = np.array(
    [
        [0.10, 0.05, 0.05, 0.05, 0.05, 0.70],  # no stance: actor none, whatever the actor column says
        [0.10, 0.20, 0.05, 0.05, 0.00, 0.60],  # a stance: the best real actor, never none
        [0.50, 0.10, 0.10, 0.10, 0.10, 0.10],  # no stance although pakistan leads: still none
    ]
)
STANCE_P = np.array(
    [
        [0.10, 0.10, 0.10, 0.10, 0.60],
        [0.10, 0.50, 0.10, 0.10, 0.20],
        [0.20, 0.10, 0.10, 0.10, 0.50],
    ]
)


def test_the_actor_is_none_exactly_when_the_stance_is():
    actors, stances = decode(ACTOR_P, STANCE_P, ACTORS, STANCES, "none")
    assert stances == ["none", "denial", "none"]
    assert actors == ["none", "afghan_taliban", "none"]


def test_the_output_frame_has_the_labels_then_one_probability_column_per_class():
    frame = output_frame(ACTOR_P, STANCE_P, ACTORS, STANCES, "none")
    assert list(frame.columns) == [
        "actor", "stance", "p", *(f"actor:{a}" for a in ACTORS), *(f"stance:{s}" for s in STANCES),
    ]  # fmt: skip
    assert frame["actor"].tolist() == ["none", "afghan_taliban", "none"]
    assert frame["stance"].tolist() == ["none", "denial", "none"]
    assert frame["actor:afghan_taliban"].tolist() == [0.05, 0.20, 0.10]
    assert frame["stance:none"].tolist() == [0.60, 0.20, 0.50]
    # p, the figure predict and Label Studio show: p(none) for no stance; for a pair,
    # p(denial) x p(afghan_taliban among the holders) = 0.50 x 0.20 / 0.40
    assert np.allclose(frame["p"], [0.60, 0.25, 0.50])


def test_no_rows_in_gives_the_same_columns_and_no_rows_out():
    frame = output_frame(np.zeros((0, 6)), np.zeros((0, 5)), ACTORS, STANCES, "none")
    assert len(frame) == 0 and len(frame.columns) == 3 + 6 + 5
