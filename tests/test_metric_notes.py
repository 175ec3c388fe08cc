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


def test_only_the_figures_the_champion_rule_reads_are_called_its_figures():
    """Every `rolling_…` metric read "(the champion rule's figure)": the rolling origin's actor
    precision too, which the README says is reported, not part of the rule, and its article count.
    The rule reads the rolling origin's stance macro-F1 and actor accuracy end to end."""
    for name in ("rolling_stance_macro_f1", "rolling_actor_accuracy_e2e", "rolling_actor_accuracy_e2e_lo"):
        assert "the champion rule's figure" in note(name), name
    for name in (
        "rolling_actor_precision_e2e",
        "rolling_articles",
        "rolling_sentences",
        "rolling_stance_accuracy",
    ):
        assert note(name) and "the champion rule's figure" not in note(name), name
    assert note("rolling_actor_precision_e2e").endswith(
        "each scored by a model trained on its past, pooled (reported; not a figure of the champion rule)"
    )


def test_the_descriptions_metrics_line_says_which_unprefixed_metrics_are_no_fold_mean():
    """The run's description says unprefixed metrics are grouped CV's fold means, with exceptions;
    `stance_ece_pooled` (pooled), the timings and what the final fit chose were among the
    unprefixed and named nowhere in it, so the line called them fold means."""
    from training.metric_notes import SUMMARY

    for name in ("stance_ece_pooled", "train_seconds", "fitted_attention_temperature"):
        assert "mean over the folds" not in note(name), name
    assert "`stance_ece_pooled`" in SUMMARY and "`fold_…` one step a fold" in SUMMARY
    assert "timings (`…_seconds`) and what the final fit chose (`fitted_…`, …) are the run's own" in SUMMARY
