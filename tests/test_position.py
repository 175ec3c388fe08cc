"""The place study (experiments/position.py) reads a sentence's place in its article from the
``context`` input the model already takes; if it misread it, its figures would measure noise."""

from experiments.position import position_rows
from training.context import CONTEXT_SENTENCES, contexts


def test_the_place_comes_from_the_context_the_model_is_given_for_each_sentence():
    texts = [f"Sentence {i} of the article." for i in range(8)] + ["The next article starts."]
    ctx = contexts(["a"] * 8 + ["b"], texts)
    places = position_rows(ctx, len(texts)).argmax(axis=1).tolist()
    last = CONTEXT_SENTENCES  # the column of "that many sentences before, or more"
    assert places == [0, 1, 2, 3, 4, 5, last, last, 0]


def test_a_caller_without_context_reads_as_the_first_sentence_and_blank_lines_do_not_count():
    rows = position_rows(None, 2)
    assert rows.argmax(axis=1).tolist() == [0, 0] and rows.sum() == 2
    assert position_rows(["\n  \nOne before.\n"], 1).argmax(axis=1).tolist() == [1]
