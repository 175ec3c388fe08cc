"""The name-swapping study (experiments/actor_swap.py): its copies must say the same thing of the
other side, or its figures measure noise."""

from experiments import actor_swap
from stance.scheme import Scheme
from training.models import cues, gazetteer, holder


def _swap():
    return actor_swap.Swapper(gazetteer.load(list(Scheme.load().actors)))


def test_the_swap_exchanges_the_two_sides_and_leaves_the_ttp_alone():
    swap = _swap()
    assert swap("Mujahid accused Pakistan of violating Afghan airspace.") == (
        "Asif accused Afghanistan of violating Pakistani airspace."
    )
    # one pass: a name swapped once is not swapped back
    assert swap("Islamabad urged Kabul to act.") == "Kabul urged Islamabad to act."
    # the TTP's names name neither side, however they are spelled
    assert swap(
        "The Taliban must act against the Tehreek-e-Taliban Pakistan (TTP) and the Pakistani Taliban."
    ) == (
        "The Pakistani government must act against the Tehreek-e-Taliban Pakistan (TTP) and the Pakistani Taliban."
    )
    assert swap("talks between pakistan and afghanistan") == "talks between afghanistan and pakistan"


def test_a_copy_whose_parse_still_reads_the_original_side_is_left_out():
    from datasets import Dataset

    scheme = Scheme.load()
    actors, stances = scheme.actor_labels, scheme.stance_labels
    rows = [
        # swapped: "Asif rejected Afghanistan's claims" is Pakistan's
        ("Mujahid rejected Pakistan's claims.", "afghan_taliban", "denial"),
        # the swap knows no other name for the ISPR: the copy would still be Pakistan's, labeled Afghan
        ("The ISPR accused Kabul of sheltering militants.", "pakistan", "accusation"),
        # no stance: no copy
        ("Pakistan and Afghanistan met in Doha.", "none", "none"),
    ]
    train = Dataset.from_dict(
        {
            "text": [t for t, _, _ in rows],
            "context": ["", "", ""],
            "actor": [actors.index(a) for _, a, _ in rows],
            "stance": [stances.index(s) for _, _, s in rows],
        }
    )
    real = list(scheme.actors)
    resolver = holder.Resolver(cues.DEFAULT_ACTOR_CUES, gazetteer.load(real), real)
    got = actor_swap.copies(train, scheme, _swap(), resolver)
    assert [(i, actors[a]) for i, _, _, a in got] == [(0, "pakistan")]
    assert got[0][1] == "Asif rejected Afghanistan's claims."
