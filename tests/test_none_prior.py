"""``none_prior: fit`` (training/models/hybrid.py): the hybrid's p(none) scaled by what held-out
articles say the stance macro-F1 prefers, and kept with the model that was evaluated."""

import numpy as np
import pytest

from tests.conftest import PROBE, fit_hybrid, set_and_reload
from training.models.hybrid_recipe import NONE_SCALES, best_none_scale, none_scaled

NONE = 4  # demand, denial, accusation, mediation, none


def test_held_out_stances_called_none_pull_the_scale_down_and_a_right_model_keeps_one():
    # ten demands the heads call `none` by a little (0.55 against 0.45), twenty true `none` sure of it
    bearing = np.tile([0.45, 0.0, 0.0, 0.0, 0.55], (10, 1))
    plain = np.tile([0.05, 0.0, 0.0, 0.0, 0.95], (20, 1))
    p, y = np.vstack([bearing, plain]), np.array([0] * 10 + [NONE] * 20)
    scale = best_none_scale(p, y, NONE)
    assert scale < 1.0 and (none_scaled(p, scale, NONE).argmax(1) == y).all()
    # the largest scale that recovers them: 0.8 (0.45 against 0.44), not a deeper cut
    assert scale == 0.8
    # where the heads already decide right, nothing moves (ties keep the larger scale)
    right = np.vstack([np.tile([0.7, 0.0, 0.0, 0.0, 0.3], (10, 1)), plain])
    assert best_none_scale(right, y, NONE) == 1.0


def test_a_scaled_p_none_is_a_prior_shift_not_a_new_ranking():
    p = np.array([[0.1, 0.2, 0.1, 0.1, 0.5], [0.6, 0.1, 0.1, 0.1, 0.1]])
    q = none_scaled(p, 0.5, NONE)
    assert np.allclose(q.sum(1), 1.0) and (q[:, NONE] < p[:, NONE]).all()
    real = [0, 1, 2, 3]
    assert np.allclose(
        q[:, real] / q[:, real].sum(1, keepdims=True), p[:, real] / p[:, real].sum(1, keepdims=True)
    )
    assert none_scaled(p, 1.0, NONE) is p


@pytest.mark.slow
def test_the_fitted_scale_travels_with_the_saved_model(built, scheme, tmp_path):
    """The served model decides as the evaluated one: a saved hybrid keeps its scale of p(none),
    which its fit reports among the run's metrics."""
    model = fit_hybrid(built, scheme, 80, none_prior="fit")
    assert model.fit_metrics()["none_scale"] in NONE_SCALES
    unscaled = model.predict_proba(PROBE)[1]
    # a scale the test can see move p(none)
    scaled, again = set_and_reload(model, tmp_path / "hybrid", "none_scale_", 0.5, facet=1)
    assert (scaled[:, NONE] < unscaled[:, NONE]).all()
    assert np.allclose(again.predict_proba(PROBE)[1], scaled, atol=1e-6)
