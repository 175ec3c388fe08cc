"""The annotators-against-the-model study (experiments/human_agreement.py) reads the committed labels right."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))

import human_agreement  # noqa: E402


def test_each_test_sentence_has_two_annotators_and_their_agreement_is_the_resolved_label(built, scheme):
    dd, _ = built
    pairs = human_agreement.primary_pairs(scheme)
    test = dd["test"]
    agreed = 0
    for sid, actor, stance in zip(test["sentence_id"], test["actor"], test["stance"], strict=True):
        mine = pairs[sid]
        assert len(mine) == 2 and not any(name.startswith("reviewer") for name in mine)
        first, second = mine.values()
        if first == second:  # the resolution rule: agreement stands, no reviewer asked
            agreed += 1
            assert first == (actor, stance), sid
    assert agreed == len(test) - 13  # the 13 the reviewer decided (README, the annotators against the model)


def test_an_annotator_scored_against_itself_is_perfect_and_a_miss_costs(scheme):
    none_a, none_s = scheme.labels.none_actor_id, scheme.labels.none_stance_id
    pak, demand = scheme.actor_labels.index("pakistan"), scheme.stance_labels.index("demand")
    truth = [(pak, demand), (none_a, none_s), (pak, demand), (none_a, none_s)]
    articles = ["a", "a", "b", "b"]
    same = human_agreement.score(articles, truth, truth, scheme)
    assert same["stance_macro_f1"] == 1.0 and same["actor_accuracy_e2e"] == 1.0
    # one stance-bearing sentence called none: half the holders lost end to end
    missed = human_agreement.score(articles, truth, [truth[0], truth[1], truth[1], truth[3]], scheme)
    assert missed["actor_accuracy_e2e"] == 0.5 and missed["stance_macro_f1"] < 1.0
