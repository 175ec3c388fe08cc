"""The MLflow model every kind is logged as: which columns it reads, and how it reads them."""

import numpy as np
import pandas as pd
import pytest
from mlflow.models import infer_signature

from training.models.baseline import BaselineRecipe
from training.pyfunc import StanceModel, contexts_of, input_columns, optional_context, texts_of
from training.recipes import make_classifier


def test_texts_come_from_the_text_column_or_whatever_list_is_given():
    assert texts_of(pd.DataFrame({"text": ["a", 3], "context": ["x", "y"]})) == ["a", "3"]
    assert texts_of(pd.DataFrame({"sentence": ["a", "b"]})) == ["a", "b"]  # one column: that one
    assert texts_of(pd.Series(["a", "b"])) == ["a", "b"]
    assert texts_of({"text": ["a"]}) == ["a"]
    assert texts_of(["a", "b"]) == ["a", "b"]


def test_a_missing_context_reads_as_no_context_and_no_column_as_none():
    frame = pd.DataFrame({"text": ["a", "b", "c"], "context": ["He spoke.", None, np.nan]})
    assert contexts_of(frame) == ["He spoke.", "", ""]
    assert contexts_of({"text": ["a", "b"], "context": [None, "y"]}) == ["", "y"]
    assert contexts_of(pd.DataFrame({"text": ["a"]})) is None
    assert contexts_of(["a"]) is None


def test_the_signature_requires_the_text_and_leaves_the_context_optional():
    example = pd.DataFrame({"text": ["a"], "context": ["b"]})
    signature = optional_context(infer_signature(example, pd.DataFrame({"actor": ["none"]})))
    assert [(c.name, c.required) for c in signature.inputs.inputs] == [("text", True), ("context", False)]
    assert input_columns(signature.inputs) == ["text", "context"]
    # a model logged before the context column reads the text alone; no schema at all: send both
    assert input_columns(infer_signature(pd.DataFrame({"text": ["a"]})).inputs) == ["text"]
    assert input_columns(None) == ["text", "context"]


@pytest.fixture(scope="module")
def wrapped(built, scheme):
    train = built[0]["train"].select(range(200))
    model = StanceModel()
    model.classifier = make_classifier(BaselineRecipe(), scheme).fit(
        list(train["text"]), np.array(train["actor"]), np.array(train["stance"])
    )
    return model


def test_the_model_answers_the_contract_columns_for_no_rows_and_for_missing_contexts(wrapped, scheme):
    columns = ["actor", "stance", "p"] + [f"actor:{a}" for a in scheme.actor_labels]
    columns += [f"stance:{s}" for s in scheme.stance_labels]
    empty = wrapped.predict(None, pd.DataFrame({"text": []}))
    assert list(empty.columns) == columns and len(empty) == 0
    texts = ["Pakistan urged the Afghan Taliban to act against the TTP.", "Qatar hosted the talks."]
    plain = wrapped.predict(None, pd.DataFrame({"text": texts}))
    missing = wrapped.predict(None, pd.DataFrame({"text": texts, "context": [None, np.nan]}))
    assert list(plain.columns) == columns
    pd.testing.assert_frame_equal(plain, missing)


def test_a_text_that_is_not_a_string_is_refused_not_scored_as_a_sure_none(wrapped):
    """What a JSON body's misplaced column reaches the model as, past MLflow's schema check: a
    number scored as the word "42", a confident no stance; the server answers 400 with this."""
    from mlflow.exceptions import MlflowException

    frame = pd.DataFrame({"text": ["Qatar hosted the talks.", 42, True]}, dtype=object)
    with pytest.raises(MlflowException) as err:
        wrapped.predict(None, frame)
    assert err.value.message == (
        "2 of 3 rows have a text that is not a string (rows 1, 2, counted from 0; row 1 holds 42 (int)): "
        "give each row a sentence in `text`"
    )
    # a context that is not a string was read as its text ("5"), a holder found in no sentence
    frame = pd.DataFrame(
        {"text": ["He denied it.", "Qatar hosted the talks."], "context": [None, 5]}, dtype=object
    )
    with pytest.raises(MlflowException) as err:
        wrapped.predict(None, frame)
    assert err.value.message == (
        "1 of 2 rows have a context that is not a string (rows 1, counted from 0; row 1 holds 5 (int)): "
        "give each row the article's sentences before it in `context`, as one string, or leave it out"
    )
    with pytest.raises(MlflowException) as err:  # a null stays a row with no text
        wrapped.predict(None, pd.DataFrame({"text": ["Qatar hosted the talks.", None]}))
    assert err.value.message == (
        "1 of 2 rows have no text (null or blank; rows 1, counted from 0): give each row a sentence in `text`"
    )


def test_a_text_longer_than_an_article_is_refused_in_one_line_not_scored(wrapped):
    """A client posting a whole dump as one row: the mpnet champion's parse failed after 15 s with
    spaCy's traceback in the 400 (over 1,000,000 characters), and anything shorter was scored as
    one sentence; an article may be at most 1 MB, so no sentence or context is longer."""
    from mlflow.exceptions import MlflowException

    huge = "Pakistan accused the Afghan Taliban of sheltering militants. " * 20_000  # 1.2 MB
    for frame in (
        pd.DataFrame({"text": ["Qatar hosted the talks.", huge]}),
        pd.DataFrame({"text": ["Qatar hosted the talks.", "He denied it."], "context": [None, huge]}),
    ):
        with pytest.raises(MlflowException) as err:
            wrapped.predict(None, frame)
        assert err.value.message == (
            "1 of 2 rows have a text or context too long for one sentence (rows 1, counted from 0; row 1 "
            "holds 1.2 MB; the limit is 1 MB, as for a whole article): give each row a sentence in `text`"
        )
    assert len(wrapped.predict(None, pd.DataFrame({"text": [huge[:999_000]]}))) == 1
