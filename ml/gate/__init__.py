"""The CI risk gate: candidate patches in, pass / review / block decisions and reports out.

May import: ml.modeling, ml.warehouse, ml.errors, ml.failpoints (not ml.operations).
"""
