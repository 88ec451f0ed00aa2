"""Monitor fixtures: the ML tests' generated small world built into a warehouse (generated
data, never mocks)."""

from tests.ml.conftest import ml_warehouse, ml_world  # noqa: F401
