"""Typed configs filled from YAML. Unknown keys are an error that names the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self, get_args

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from stance.errors import StanceError


class Config(BaseModel):
    """Base of every typed config: frozen, and strict about keys it does not know."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def from_yaml(cls, path: Path) -> Self:
        return cls.from_dict(read_yaml(path), source=str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> Self:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise StanceError(f"{source}: {describe(exc, cls)}") from None


def read_yaml(path: Path) -> dict[str, Any]:
    from labeling.io import read_text

    path = Path(path)
    if not path.exists():
        raise StanceError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(read_text(path, "a YAML config file"))
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
    return f"bad value for '{where}': {err['msg']} (got {err.get('input')!r})"


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
