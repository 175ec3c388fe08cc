"""Models-from-code entry: MLflow logs this file as the model's code (no pickling)."""

import mlflow

from training.pyfunc import StanceModel

mlflow.models.set_model(StanceModel())
