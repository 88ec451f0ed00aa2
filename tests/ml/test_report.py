"""ml.report: the metrics table names every model and metric."""

from __future__ import annotations

from pathlib import Path

from ml.registry import Registry
from ml.report import metrics_table


def test_table_lists_models_and_metrics(trained_registry: Path) -> None:
    metrics = Registry(trained_registry).metadata("champion")["metrics"]
    table = metrics_table(metrics)
    for word in ("model", "oracle", "prototype_recipe", "ROC-AUC", "ECE", "Popt", "R²"):
        assert word in table
    assert "Recall@20%Effort" in table
