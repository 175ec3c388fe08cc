"""The shared output contract of every model kind: labels decoded from probabilities.

Kept free of heavy imports so evaluation and the CLI can use it without loading MLflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


# the parse's holder in the output frame: the words, whose side, where found (kinds that parse for it)
HOLDER_COLUMNS = ("holder", "holder_actor", "holder_from")


def decode(
    actor_p: np.ndarray, stance_p: np.ndarray, actor_labels: list[str], stance_labels: list[str], none: str
) -> tuple[list[str], list[str]]:
    """Labels from probabilities, honouring the rule actor == none <=> stance == none."""
    import numpy as np

    stance_idx = stance_p.argmax(axis=1)
    none_actor = actor_labels.index(none)
    real = np.delete(np.arange(len(actor_labels)), none_actor)
    best_real = real[actor_p[:, real].argmax(axis=1)]
    stances = [stance_labels[i] for i in stance_idx]
    actors = [none if s == none else actor_labels[a] for s, a in zip(stances, best_real, strict=True)]
    return actors, stances


def output_frame(
    actor_p: np.ndarray, stance_p: np.ndarray, actor_labels: list[str], stance_labels: list[str], none: str
) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    from training.confidence import pair_confidences

    actors, stances = decode(actor_p, stance_p, actor_labels, stance_labels, none)
    p = pair_confidences(actor_p, stance_p, actors, stances, actor_labels, stance_labels, none)
    frame = {"actor": actors, "stance": stances, "p": np.asarray(p, dtype=float)}
    frame |= {f"actor:{label}": actor_p[:, i] for i, label in enumerate(actor_labels)}
    frame |= {f"stance:{label}": stance_p[:, i] for i, label in enumerate(stance_labels)}
    return pd.DataFrame(frame)


def _text_values(model_input) -> list:
    """The text values of a model input as given: a DataFrame's ``text`` column (or first), a
    Series, a dict's ``text``, a list."""
    import pandas as pd

    if isinstance(model_input, pd.DataFrame):
        column = "text" if "text" in model_input.columns else model_input.columns[0]
        return model_input[column].tolist()
    if isinstance(model_input, pd.Series):
        return model_input.tolist()
    if isinstance(model_input, dict) and "text" in model_input:
        return list(model_input["text"])
    return list(model_input)


def texts_of(model_input) -> list[str]:
    """The texts of a model input, as strings (:func:`_text_values`)."""
    return [str(t) for t in _text_values(model_input)]


def blank_rows(model_input) -> list[int]:
    """The rows of a model input whose text is null, NaN or blank: nothing to score (``texts_of``
    would read a null as the word "None", which scored as a confident no stance)."""
    return [
        i
        for i, t in enumerate(_text_values(model_input))
        if t is None or (isinstance(t, float) and t != t) or not str(t).strip()
    ]


def not_text_rows(model_input, column: str = "text") -> list[tuple[int, object]]:
    """(row, value) of each row of a model input whose text (or ``context``) is a value but not a
    string (a number, a boolean, a list: a client's misplaced column), which would score as the
    word "42" does, a sure none. Nulls are :func:`blank_rows`' (a null context is no context)."""
    values = _text_values(model_input) if column == "text" else _column_values(model_input, column)
    return [
        (i, t)
        for i, t in enumerate(values)
        if not isinstance(t, str) and t is not None and not (isinstance(t, float) and t != t)
    ]


def _column_values(model_input, column: str) -> list:
    """An optional column's values as given (a DataFrame's or a dict's); none where it is absent."""
    import pandas as pd

    if isinstance(model_input, pd.DataFrame) and column in model_input.columns:
        return model_input[column].tolist()
    if isinstance(model_input, dict) and column in model_input:
        return list(model_input[column])
    return []


def long_rows(model_input, limit: int) -> list[tuple[int, int]]:
    """(row, UTF-8 bytes) of each row whose text or context is over ``limit`` bytes: no sentence,
    nor an article's sentences before one, is that long (a text over the parser's maximum failed
    with its traceback after seconds of work)."""
    texts = [t if isinstance(t, str) else "" for t in _text_values(model_input)]
    contexts = contexts_of(model_input) or [""] * len(texts)
    sizes = [max(len(t.encode()), len(c.encode())) for t, c in zip(texts, contexts, strict=True)]
    return [(i, size) for i, size in enumerate(sizes) if size > limit]


def contexts_of(model_input) -> list[str] | None:
    """The optional ``context`` column (missing values read as no context), or None."""
    import pandas as pd

    if isinstance(model_input, pd.DataFrame) and "context" in model_input.columns:
        return [
            "" if c is None or (isinstance(c, float) and c != c) else str(c) for c in model_input["context"]
        ]
    if isinstance(model_input, dict) and "context" in model_input:
        return ["" if c is None else str(c) for c in model_input["context"]]
    return None


def score(classifier, model_input, trust: dict | None = None) -> pd.DataFrame:
    """A classifier's output frame for a model input: the logged model's contract, without MLflow.

    Each text is read as a reader reads it (``labeling.page_lines.as_read``: the running lines a
    page break left inside a sentence are not its words); a text of one line is read as it is.

    Kinds that parse for the holder add ``holder`` (the words), ``holder_actor`` and ``holder_from``
    (training/models/holder.py ``explain``; "" where the parse found none). With the model's
    ``trust`` (training/reliability.py), ``pair_right``: :func:`pair_right` of each row.
    """
    import numpy as np

    from labeling.page_lines import as_read
    from training.models.base import labels_of

    texts, c = [as_read(t) for t in texts_of(model_input)], classifier
    if not texts:
        actor_p = np.zeros((0, len(c.actor_labels)))
        stance_p = np.zeros((0, len(c.stance_labels)))
    else:
        actor_p, stance_p = c.predict_proba(texts, contexts=contexts_of(model_input))
    frame = output_frame(actor_p, stance_p, c.actor_labels, c.stance_labels, labels_of(c).none)
    reads = getattr(c, "holders", None)  # kinds that parse for the holder (hybrid, a blend with one)
    found = reads(texts, contexts_of(model_input)) if reads is not None else None
    if found is not None:
        # strings throughout ("" for none), so the logged signature types the columns
        for column, field in zip(HOLDER_COLUMNS, ("phrase", "actor", "source"), strict=True):
            frame[column] = [(getattr(h, field) or "") if h else "" for h in found]
    if trust is not None:
        frame["pair_right"] = pair_right(trust, frame["actor"], frame["stance"])
    return frame


def pair_right(trust: dict, actors, stances) -> pd.Series:
    """Of the model's calls of each row's (actor, stance) pair on articles it never saw, the share
    that were right (training/reliability.py); None for no stance, and for a pair called fewer than
    ``reliability.FEW`` times there. An object column, so that JSON carries null, not NaN."""
    import pandas as pd

    cells = trust.get("cells", {})
    values = [cells.get(f"{a}/{s}", {}).get("precision") for a, s in zip(actors, stances, strict=True)]
    return pd.Series(values, dtype=object)
