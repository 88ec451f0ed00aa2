"""Canary fixtures: the ML tests' generated small world and its warehouse (dbt run of the
whole project, canary marts included); generated data, never mocks."""

from __future__ import annotations

from tests.ml.conftest import ml_warehouse, ml_world, warehouse_copy  # noqa: F401
