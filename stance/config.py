"""Typed configs filled from YAML. Unknown keys are an error that names the key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Self, get_args

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from stance.errors import StanceError


class Config(BaseModel):
    """Base of every typed config: frozen, and strict about keys it does not know."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @classmethod
    def from_yaml(cls, path: Path) -> Self:
        return cls.from_dict(read_yaml(path), source=str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> Self:
        """Strict: a quoted number, ``true`` for a number or ``1`` for a flag is an error, not converted."""
        try:
            # validated as the JSON it is equivalent to, so lists may fill tuples and ints floats, nothing else
            blob = json.dumps(data, default=_not_plain)
        except (TypeError, ValueError) as exc:
            raise StanceError(f"{source}: {exc}") from None
        try:
            return cls.model_validate_json(blob, strict=True)
        except ValidationError as exc:
            raise StanceError(f"{source}: {describe(exc, cls)}") from None


def _not_plain(value: Any) -> Any:
    raise TypeError(f"bad value {value!r}: use a plain string, number, true/false, list or mapping")


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (YAML would keep the last silently)."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}' (first at line {seen[key] + 1})", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path) -> dict[str, Any]:
    from stance.io import read_text

    path = Path(path)
    if not path.exists():
        raise StanceError(f"config file not found: {path}")
    try:
        data = yaml.load(read_text(path, "a YAML config file"), Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or exc.__class__.__name__
        raise StanceError(f"{path}: not valid YAML ({problem}{where})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise StanceError(f"{path}: expected a mapping of keys to values at the top level")
    return data


def describe(exc: ValidationError, cls: type[BaseModel]) -> str:
    """The first validation problem as one line, naming the key and what is allowed."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "(top level)"
    if err["type"] == "extra_forbidden":
        allowed = ", ".join(sorted(_config_at(cls, err["loc"][:-1]).model_fields))
        return f"unknown key '{where}' (allowed keys: {allowed})"
    message = err["msg"].removeprefix("Value error, ")
    if "got " in message:  # the check already says what it was given
        return f"bad value for '{where}': {message}"
    return f"bad value for '{where}': {message} (got {err.get('input')!r})"


def _config_at(cls: type[BaseModel], loc: tuple) -> type[BaseModel]:
    """The nested config class that a validation error's location points into."""
    for part in loc:
        field = cls.model_fields.get(part) if isinstance(part, str) else None
        inner = _config_in(field.annotation) if field else None
        cls = inner or cls  # list indexes and dict keys stay with the class that holds them
    return cls


def _config_in(annotation) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        if found := _config_in(arg):
            return found
    return None
