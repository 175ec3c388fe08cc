import re

import pytest

from stance import paths
from stance.errors import StanceError
from stance.scheme import Labels, Pair, Scheme


def test_scheme_names_are_exactly_those_of_the_labeling_guide(scheme):
    assert list(scheme.actors) == ["pakistan", "afghan_taliban", "ttp", "mediator", "other"]
    assert scheme.stance_labels == ["demand", "denial", "accusation", "mediation", "none"]
    # the actor facet adds "none" for sentences with no pair
    assert scheme.actor_labels == ["pakistan", "afghan_taliban", "ttp", "mediator", "other", "none"]


def test_every_label_has_a_description(scheme):
    assert all(len(d) > 20 for d in [*scheme.actors.values(), *scheme.stances.values()])


def test_hash_depends_on_label_names_not_descriptions(tmp_path, scheme):
    text = paths.scheme_file().read_text()
    edited = tmp_path / "descriptions.yaml"
    edited.write_text(text.replace("Tehrik-i-Taliban Pakistan and its spokespeople.", "The TTP."))
    assert Scheme.load(edited).hash == scheme.hash
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text(text.replace("  mediator: >-", "  broker: >-"))
    assert Scheme.load(renamed).hash != scheme.hash


def test_a_pair_outside_the_scheme_is_refused_by_name(scheme):
    assert scheme.check_pair("ttp", "demand") == Pair("ttp", "demand")
    with pytest.raises(StanceError, match=re.escape("actor 'india' is not in the label scheme")):
        scheme.check_pair("india", "demand")
    with pytest.raises(StanceError, match=re.escape("stance 'threat' is not a stance of a pair")):
        scheme.check_pair("pakistan", "threat")
    with pytest.raises(StanceError, match="stance 'none' is not a stance of a pair"):
        scheme.check_pair("pakistan", "none")


def test_an_unknown_key_in_the_scheme_file_is_an_error(tmp_path):
    bad = tmp_path / "scheme.yaml"
    bad.write_text(paths.scheme_file().read_text() + "\ncolours: {}\n")
    with pytest.raises(StanceError, match=r"unknown key 'colours' \(allowed keys: actors, none, stances\)"):
        Scheme.load(bad)


def test_primary_of_no_pair_is_none_none(scheme):
    assert scheme.primary([]) == Pair("none", "none")
    assert scheme.primary([Pair("pakistan", "demand"), Pair("ttp", "denial")]) == Pair("pakistan", "demand")


def test_labels_say_where_none_sits_in_the_model_columns(scheme):
    labels = scheme.labels
    assert labels.actors == ("pakistan", "afghan_taliban", "ttp", "mediator", "other", "none")
    assert labels.stances == ("demand", "denial", "accusation", "mediation", "none")
    assert (labels.none, labels.none_actor_id, labels.none_stance_id) == ("none", 5, 4)
    assert labels.real_actors == list(scheme.actors) and labels.real_actor_ids == [0, 1, 2, 3, 4]
    # a model's own label lists (as saved in classifier.json) give the same answers
    assert Labels.of(scheme.actor_labels, scheme.stance_labels) == labels
