"""Shared core of the stance project: paths, errors, typed configs and the label scheme."""
