"""The self-training study (experiments/self_training.py): the batch it adapts to must reach
training with the model's own calls only, never the batch's labels, or its figures would leak
the test blocks' labels into their own fit."""

from datasets import ClassLabel, Dataset, Features, List, Value

from experiments import self_training
from stance.scheme import Scheme


def _row(sid, predicted, stance_p, actor_p, true):
    return {
        "sentence_id": sid,
        "predicted": list(predicted),
        "true": list(true),
        "stance_p": stance_p,
        "actor_p": actor_p,
    }


def test_only_sure_calls_are_taken_and_they_carry_the_models_labels_not_the_batchs():
    scheme = Scheme.load()
    actors, stances = scheme.actor_labels, scheme.stance_labels
    features = Features(
        {
            "sentence_id": Value("string"),
            "text": Value("string"),
            "actor": ClassLabel(names=actors),
            "stance": ClassLabel(names=stances),
            "pairs": List({"actor": ClassLabel(names=actors), "stance": ClassLabel(names=stances)}),
            "resolved_by": Value("string"),
        }
    )
    batch = Dataset.from_list(
        [
            {
                "sentence_id": "a",
                "text": "Mujahid rejected the claims.",
                "actor": 1,
                "stance": 1,
                "pairs": [{"actor": 1, "stance": 1}],
                "resolved_by": "agreement",
            },
            {
                "sentence_id": "b",
                "text": "Asif urged Kabul to act.",
                "actor": 0,
                "stance": 0,
                "pairs": [{"actor": 0, "stance": 0}],
                "resolved_by": "reviewer",
            },
            {
                "sentence_id": "c",
                "text": "The talks resumed.",
                "actor": 5,
                "stance": 4,
                "pairs": [{"actor": 5, "stance": 4}],
                "resolved_by": "agreement",
            },
        ],
        features=features,
    )
    flat = {a: 0.0 for a in actors}
    rows = [
        # sure of the stance (0.95) and of its holder (0.9 of the stance-bearing mass): 0.855, taken,
        # with the model's wrong holder (pakistan), not the batch's afghan_taliban
        _row(
            "a",
            ("pakistan", "denial"),
            {s: 0.0125 for s in stances} | {"denial": 0.95},
            flat | {"pakistan": 0.855, "afghan_taliban": 0.095, "none": 0.05},
            ("afghan_taliban", "denial"),
        ),
        # sure of the stance (0.9), unsure of its holder (0.5): 0.45, left out
        _row(
            "b",
            ("pakistan", "demand"),
            {s: 0.025 for s in stances} | {"demand": 0.9},
            flat | {"pakistan": 0.45, "afghan_taliban": 0.45, "none": 0.1},
            ("pakistan", "demand"),
        ),
        # no stance, 0.97: taken as none, whatever its holder probabilities say
        _row(
            "c",
            ("none", "none"),
            {s: 0.0075 for s in stances} | {"none": 0.97},
            flat | {"pakistan": 0.03, "none": 0.97},
            ("none", "none"),
        ),
    ]
    taken = self_training.pseudo_labeled(batch, rows, scheme, 0.8)
    assert taken["sentence_id"] == ["a", "c"]
    assert [actors[i] for i in taken["actor"]] == ["pakistan", "none"]
    assert [stances[i] for i in taken["stance"]] == ["denial", "none"]
    # the pairs a head could read are the model's call too, and no row claims a human decided it
    assert [[(actors[p["actor"]], stances[p["stance"]]) for p in ps] for ps in taken["pairs"]] == [
        [("pakistan", "denial")],
        [("none", "none")],
    ]
    assert set(taken["resolved_by"]) == {"model"}
    assert self_training.pseudo_labeled(batch, rows, scheme, 0.99) is None
