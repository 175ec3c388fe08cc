"""The stance-head study's binary head (experiments/quality_bearing.py): joined probabilities, fitted shift."""

import numpy as np

from experiments import quality_bearing as bearing

NONE = 4  # the scheme's last stance


def test_the_fitted_shift_makes_an_underconfident_binary_head_find_the_stances():
    # five-class head: sure which stance each bearing sentence would be; binary head: p(some) 0.3
    # for the stance-bearing sentences and 0.1 for the others, so unshifted every sentence is none
    y = np.array([0, 1, 2, 3, 0, 1, NONE, NONE, NONE, NONE])
    q = np.full((10, 5), 0.05)
    q[np.arange(10), np.where(y == NONE, 0, y)] = 0.8
    some = np.where(y == NONE, 0.1, 0.3)
    assert (bearing.combine(q, some, NONE).argmax(axis=1) == NONE).all()

    shift = bearing.fit_shift(q, some, y, NONE)
    pred = bearing.combine(q, some, NONE, shift).argmax(axis=1)
    assert shift > 0 and (pred == y).all()
    # and no shift where the binary head is already right
    assert bearing.fit_shift(q, np.where(y == NONE, 0.1, 0.9), y, NONE) == 0.0


def test_joined_probabilities_are_a_distribution_whose_none_is_the_binary_heads_answer():
    q = np.array([[0.1, 0.1, 0.1, 0.1, 0.6], [0.0, 0.0, 0.0, 0.0, 1.0]])
    p = bearing.combine(q, np.array([0.7, 0.5]), NONE, shift=np.log(3))  # odds 7/3 -> 7, 1 -> 3
    assert np.allclose(p.sum(axis=1), 1)
    assert np.allclose(p[:, NONE], [1 - 7 / 8, 1 - 3 / 4])
    assert np.allclose(p[0, :NONE], 7 / 8 / 4)  # the five-class head's real stances, renormalised
    assert np.allclose(p[1, :NONE], 3 / 4 / 4)  # certain of none: the real stances share evenly
