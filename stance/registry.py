"""The registered model's name and its champion alias: what a command scores with by default.

One definition for every layer: ``labeling`` pushes with the champion's pre-annotations and
``training`` registers, promotes and scores with it.
"""

REGISTERED_MODEL = "stance-classifier"
CHAMPION_URI = f"models:/{REGISTERED_MODEL}@champion"  # what predict, report, score-batch and push score with
