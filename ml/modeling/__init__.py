"""The model: features, time split, linear base + CatBoost training, calibration, decisions,
evaluation, explanations, the registry on disk, and scoring.

May import: ml.warehouse, ml.errors, ml.failpoints.
"""
