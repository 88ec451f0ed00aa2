"""Running the model in the world: train / score / retrain lifecycle, drift checks, fleet
monitoring, canary analysis, label audit.

May import: ml.modeling, ml.warehouse, ml.errors, ml.failpoints (not ml.gate).
"""
