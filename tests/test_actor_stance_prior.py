"""``actor_stance_prior`` (training/models/hybrid.py): the actor told which stance it holds, by how
much more often the training labels give that stance to each actor than stances at all."""

import numpy as np
import pytest
from pydantic import ValidationError

from stance.scheme import Labels
from tests.conftest import PROBE, fit_hybrid, set_and_reload
from training.models.base import conditioned_actor_proba, factorized_actor_proba, stance_ratios
from training.models.hybrid_recipe import ACTOR_STANCE_EXPONENTS
from training.recipes import KINDS

ACTORS = ["pakistan", "afghan_taliban", "ttp", "mediator", "other", "none"]
STANCES = ["demand", "denial", "accusation", "mediation", "none"]
LABELS = Labels.of(ACTORS, STANCES)
PAK, AT, MED, NONE_A = 0, 1, 3, 5
DEMAND, DENIAL, MEDIATION, NONE_S = 0, 1, 3, 4


def test_ratios_say_which_actor_holds_which_stance_in_the_labels():
    # nine mediations by the mediators and one by Pakistan; ten demands by Pakistan; ten sentences
    # with no stance, which count for nothing
    actors = [MED] * 9 + [PAK] + [PAK] * 10 + [NONE_A] * 10
    stances = [MEDIATION] * 10 + [DEMAND] * 10 + [NONE_S] * 10
    r = stance_ratios(actors, stances, LABELS)
    assert r.shape == (4, 5)  # the four stances by the five real actors
    mediation, demand = r[3], r[0]
    assert mediation[MED] > 1 > mediation[PAK] and demand[PAK] > 1 > demand[MED]
    # add-one counts: mediation's mediators (9 + 1) / (10 + 5) over their share of every pair
    # ((9 + 1) + 1 + 1 + 1) / (20 + 20)
    assert mediation[MED] == pytest.approx((10 / 15) / (13 / 40))


def test_ratios_of_one_leave_the_factorised_probabilities_as_they_were():
    rng = np.random.default_rng(0)
    stance_p = rng.dirichlet(np.ones(5), size=7)
    given = rng.dirichlet(np.ones(5), size=7)
    plain = factorized_actor_proba(stance_p, given, ACTORS, STANCES)
    told = conditioned_actor_proba(stance_p, given, np.ones((4, 5)), LABELS)
    assert np.allclose(told, plain)
    # the rule "actor is none exactly when the stance is" holds in the probabilities
    assert np.allclose(told.sum(axis=1), 1.0) and np.allclose(told[:, -1], stance_p[:, NONE_S])


def test_a_sure_mediation_goes_to_the_mediator_a_sure_demand_keeps_pakistan():
    # "Pakistan's Foreign Office welcomed Iran's offer to mediate": the parse reads Pakistan (0.55)
    # over the mediator (0.45); labels give mediation to the mediators nine times in ten
    actors = [MED] * 9 + [PAK] + [PAK] * 10
    stances = [MEDIATION] * 10 + [DEMAND] * 10
    ratios = stance_ratios(actors, stances, LABELS)
    given = np.array([[0.55, 0.0, 0.0, 0.45, 0.0]] * 2)
    stance_p = np.array([[0.0, 0.0, 0.0, 0.9, 0.1], [0.9, 0.0, 0.0, 0.0, 0.1]])
    told = conditioned_actor_proba(stance_p, given, ratios, LABELS)
    assert told[0, :5].argmax() == MED and told[1, :5].argmax() == PAK
    assert factorized_actor_proba(stance_p, given, ACTORS, STANCES)[0, :5].argmax() == PAK


def test_the_exponent_is_fit_or_a_number_in_range():
    recipe_class = KINDS["hybrid"][0]
    assert recipe_class(kind="hybrid", actor_stance_prior="fit").actor_stance_prior == "fit"
    assert recipe_class(kind="hybrid", actor_stance_prior=0.5).actor_stance_prior == 0.5
    for bad in (-0.5, 9, "always", "0.5", True):  # a quoted number or a flag is no exponent
        with pytest.raises(ValidationError, match="must be .fit. or a number from 0 to 4"):
            recipe_class(kind="hybrid", actor_stance_prior=bad)


@pytest.mark.slow
def test_the_fitted_exponent_and_ratios_travel_with_the_saved_model(built, scheme, tmp_path):
    """The served model decides as the evaluated one: a saved hybrid keeps its ratios and exponent,
    which its fit reports among the run's metrics."""
    model = fit_hybrid(built, scheme, 120, actor_stance_prior="fit")
    assert model.fit_metrics()["actor_stance_exponent"] in ACTOR_STANCE_EXPONENTS
    plain = model.predict_proba(PROBE)[0]
    # an exponent the test can see move the actors
    told, again = set_and_reload(model, tmp_path / "hybrid", "actor_stance_exponent_", 1.0, facet=0)
    assert not np.allclose(told, plain)
    assert np.allclose(again.predict_proba(PROBE)[0], told, atol=1e-6)
