"""What people read: the plain-text metric tables and the self-contained HTML report.

May import: ml.operations, ml.gate, ml.modeling, ml.warehouse, ml.errors.
"""
