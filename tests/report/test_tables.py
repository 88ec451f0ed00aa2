"""ml.report.tables: the metrics table names every model and metric."""

from __future__ import annotations

from pathlib import Path

from ml.modeling.registry import Registry
from ml.report.tables import metrics_table


def test_table_lists_models_and_metrics(trained_registry: Path) -> None:
    metrics = Registry(trained_registry).metadata("champion")["metrics"]
    table = metrics_table(metrics)
    for word in ("model", "oracle", "prototype", "ROC-AUC", "ECE", "Popt", "R²"):
        assert word in table
    assert "Recall@20%Effort" in table
    assert "QA ranking" in table
    for ranking in metrics["qa_ranking"]:
        assert ranking in table


def test_table_without_oracle_drops_oracle_rows(trained_registry: Path) -> None:
    metrics = Registry(trained_registry).metadata("champion")["metrics"]
    clf = {
        n: {k: v for k, v in m.items() if "oracle" not in k and "true_flag" not in k}
        for n, m in metrics["classifier"].items()
        if n != "oracle"
    }
    qa = {n: m for n, m in metrics["qa_ranking"].items() if "oracle" not in n}
    table = metrics_table({**metrics, "classifier": clf, "qa_ranking": qa})
    assert "oracle" not in table and "ROC-AUC" in table
