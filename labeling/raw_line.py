"""One raw annotation line as a typed record: every field's type and range checked before use."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from stance.config import describe
from stance.errors import StanceError

_ARTICLE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")


class RawPair(BaseModel):
    """One (actor, stance) pair as written; the scheme check comes after (parse_pairs)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    actor: str
    stance: str


class RawLine(BaseModel):
    """One raw annotation line, typed: checked whole before anything is written."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    article: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str
    annotator: str = Field(max_length=200)
    pairs: list[RawPair]
    ground_truth: bool = False

    @field_validator("article")
    @classmethod
    def _article_id(cls, value: str) -> str:
        # an id names a file in the article folders: no path separators, no leading dot (no ``../``)
        if not _ARTICLE_ID.fullmatch(value):
            raise ValueError(
                "an article id is a file name without its .txt: letters, digits, '-', '_', '.', no path"
            )
        return value

    @field_validator("text", "annotator")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @model_validator(mode="after")
    def _span(self) -> RawLine:
        if self.start >= self.end:
            raise ValueError(f"start ({self.start}) must be before end ({self.end})")
        return self

    @classmethod
    def parse(cls, row: dict, where: str) -> RawLine:
        missing = {"article", "start", "end", "text", "annotator", "pairs"} - set(row)
        if missing:
            raise StanceError(f"{where}: missing field(s) {', '.join(sorted(missing))}")
        try:
            return cls.model_validate(row)
        except ValidationError as exc:
            raise StanceError(f"{where}: {describe(exc, cls)}") from None
