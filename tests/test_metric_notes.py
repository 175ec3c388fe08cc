"""A run's metrics in words (training/metric_notes.py): names read through one table."""

from training.metric_notes import markdown, note


def test_a_figure_whose_name_ends_like_a_class_is_read_as_the_figure():
    """`actor_precision_e2e` matches `actor_precision_<class>`: it was described as the class `e2e`."""
    assert note("time_actor_precision_e2e").startswith("actor precision end to end: ")
    assert note("actor_precision_pakistan").startswith("actor precision of the class `pakistan`")


def test_a_blend_members_and_a_fine_tunes_own_metrics_are_described():
    assert note("member1_fitted_attention_temperature").startswith(
        "blend member 1: final fit: the temperature"
    )
    assert note("fold2_eval_loss") == "fine-tune: eval loss of CV fit 2, one step an epoch"


def test_a_metric_the_table_lacks_says_where_to_describe_it():
    assert note("brand_new_figure") is None
    assert (
        "| `brand_new_figure` | 0.25 | not described yet: add it to training/metric_notes.py |"
        in markdown({"brand_new_figure": 0.25})
    )
