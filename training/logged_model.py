"""A trained classifier as an MLflow model: the one contract every kind is logged with.

Models from code (training/pyfunc_entry.py): nothing is pickled. The classifier's own folder is
the artifact; the signature says which columns it reads (``text``, and ``context`` optionally);
the metadata carries the scheme, the kind, the data version and the recipe; the pip requirements
are the kind's own (``requirements`` on its classifier class), pinned to the versions here.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from stance.scheme import Scheme


def log_model(model, scheme: Scheme, recipe, meta: dict, examples, trust: dict | None = None):
    """Log ``model`` to the active run as ``model``; returns MLflow's ``ModelInfo``.

    ``examples`` are a few rows of the data (columns) or a few texts: the input example.
    ``trust``: how far to trust each pair it calls (``training.reliability.summary``), kept in
    the model as the ``trust`` artifact, so that predict says it wherever the model is copied.
    """
    import json

    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature

    from training.pyfunc import ARTIFACT, ENTRY, StanceModel, optional_context

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "classifier"
        model.save(folder)
        artifacts = {ARTIFACT: str(folder)}
        if trust is not None:
            from training import reliability

            path = Path(tmp) / reliability.FILE
            path.write_text(json.dumps(trust, indent=1) + "\n")
            artifacts[reliability.ARTIFACT] = str(path)
        rows = examples if isinstance(examples, dict) else {"text": list(examples)}  # columns, or texts
        example = pd.DataFrame({c: list(rows[c]) for c in ("text", "context") if c in rows})
        wrapper = StanceModel()
        wrapper.classifier, wrapper.trust = model, trust  # predict in memory once, for the signature
        signature = optional_context(infer_signature(example, wrapper.predict(None, example)))
        return mlflow.pyfunc.log_model(
            name="model",
            python_model=str(ENTRY),  # models from code: nothing pickled
            artifacts=artifacts,
            signature=signature,
            input_example=example,
            pip_requirements=pinned(model.requirements),
            metadata={
                "scheme_hash": scheme.hash,
                "scheme": scheme.to_dict(),
                "kind": recipe.kind,
                "data_version": meta["data_version"],
                "recipe": recipe.model_dump(mode="json"),
            },
        )


def pinned(names: tuple[str, ...]) -> list[str]:
    """``name==version`` of each installed package: what the logged model's environment gets."""
    from importlib.metadata import version

    return [f"{n}=={version(n)}" for n in names]
