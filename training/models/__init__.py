"""Model kinds. Each speaks the same small interface (see ``base.StanceClassifier``)."""
