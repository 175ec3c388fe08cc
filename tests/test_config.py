"""Typed configs filled from YAML: strict about keys and types, one line naming the problem."""

import datetime

import pytest
from pydantic import Field, ValidationError

from stance.config import Config, read_yaml
from stance.errors import StanceError


class Inner(Config):
    colour: str = "blue"
    size: int = 1


class Outer(Config):
    n: int = Field(3, ge=1)
    ratio: float = 0.5
    span: tuple[int, int] = (1, 2)
    inner: Inner = Inner()
    items: list[Inner] = []


def error_of(call) -> str:
    with pytest.raises(StanceError) as err:
        call()
    return str(err.value)


def test_a_yaml_file_fills_only_the_keys_it_names(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("n: 4  # a reason\ninner: {colour: red}\n")
    assert Outer.from_yaml(path) == Outer(n=4, inner=Inner(colour="red"))
    assert Outer.from_yaml(path).span == (1, 2) and Outer.from_yaml(path).inner.size == 1


def test_an_unknown_key_is_named_with_the_keys_allowed_where_it_stands():
    assert error_of(lambda: Outer.from_dict({"m": 1}, source="c.yaml")) == (
        "c.yaml: unknown key 'm' (allowed keys: inner, items, n, ratio, span)"
    )
    assert error_of(lambda: Outer.from_dict({"inner": {"color": "red"}})) == (
        "config: unknown key 'inner.color' (allowed keys: colour, size)"
    )
    assert error_of(lambda: Outer.from_dict({"items": [{"size": 2}, {"sise": 2}]})) == (
        "config: unknown key 'items.1.sise' (allowed keys: colour, size)"
    )


def test_values_are_not_converted_behind_the_users_back():
    assert error_of(lambda: Outer.from_dict({"n": "3"})) == (
        "config: bad value for 'n': Input should be a valid integer (got '3')"
    )
    assert error_of(lambda: Outer.from_dict({"n": True})) == (
        "config: bad value for 'n': Input should be a valid integer (got True)"
    )
    assert error_of(lambda: Outer.from_dict({"n": 0})) == (
        "config: bad value for 'n': Input should be greater than or equal to 1 (got 0)"
    )
    assert error_of(lambda: Outer.from_dict({"n": datetime.date(2024, 1, 1)}, source="c.yaml")) == (
        "c.yaml: bad value datetime.date(2024, 1, 1): use a plain string, number, true/false, list or mapping"
    )
    # what JSON would accept is accepted: a list fills a tuple, an integer a float
    assert Outer.from_dict({"ratio": 1, "span": [2, 3]}) == Outer(ratio=1.0, span=(2, 3))


def test_a_config_is_frozen():
    with pytest.raises(ValidationError):
        Outer().n = 5


def test_read_yaml_refuses_what_is_not_a_mapping_of_keys_once_each(tmp_path):
    twice, listed, broken, empty = (tmp_path / f"{n}.yaml" for n in ("twice", "listed", "broken", "empty"))
    twice.write_text("n: 2\nn: 3\n")
    listed.write_text("- 1\n- 2\n")
    broken.write_text("n: [1\n")
    empty.write_text("")
    assert error_of(lambda: read_yaml(twice)) == (
        f"{twice}: not valid YAML (duplicate key 'n' (first at line 1) at line 2, column 1)"
    )
    assert (
        error_of(lambda: read_yaml(listed))
        == f"{listed}: expected a mapping of keys to values at the top level"
    )
    assert error_of(lambda: read_yaml(broken)) == (
        f"{broken}: not valid YAML (expected ',' or ']', but got '<stream end>' at line 2, column 1)"
    )
    assert (
        error_of(lambda: read_yaml(tmp_path / "none.yaml"))
        == f"config file not found: {tmp_path / 'none.yaml'}"
    )
    assert read_yaml(empty) == {}


def test_a_check_that_names_the_value_given_is_not_followed_by_it_again(tmp_path):
    from training.recipes import load_recipe

    recipe = tmp_path / "r.yaml"
    recipe.write_text("kind: baseline\nword_ngrams: [3, 1]\n")
    with pytest.raises(StanceError) as refused:
        load_recipe(recipe)
    assert str(refused.value) == (
        f"{recipe}: bad value for 'word_ngrams': an n-gram range is [low, high] with 1 <= low <= high, got [3, 1]"
    )
