"""Telemetry label against the oracle: counts, rates and the CLI."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from ml.cli import main
from ml.operations.audit import label_agreement


def test_label_agreement_counts_only_labelled_releases():
    outcomes = pd.DataFrame(
        {
            "release_id": ["a", "b", "c", "d", "e"],
            "is_label_available": [True, True, True, True, False],
            "is_regression": [True, False, True, False, None],
        }
    )
    oracle = pd.DataFrame(
        {"release_id": list("abcde"), "is_true_regression": [True, True, False, False, True]}
    )
    result = label_agreement(outcomes, oracle)
    assert (result.releases, result.labelled) == (5, 4)
    assert (result.true_positives, result.false_negatives) == (1, 1)
    assert (result.false_positives, result.true_negatives) == (1, 1)
    assert result.agreement == 0.5 and result.precision == 0.5 and result.recall == 0.5


def test_cli_audits_a_built_world(ml_warehouse, ml_world):
    args = ["audit-labels", "--raw-dir", str(ml_world), "--warehouse", str(ml_warehouse)]
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["labelled"] > 0 and report["agreement"] > 0.8


def test_cli_without_oracle_or_warehouse_fails_cleanly(tmp_path, ml_world):
    result = CliRunner().invoke(main, ["audit-labels", "--raw-dir", str(tmp_path)])
    assert result.exit_code == 2 and "oracle" in result.output
    missing = tmp_path / "none.duckdb"
    args = ["audit-labels", "--raw-dir", str(ml_world), "--warehouse", str(missing)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 3 and "no warehouse" in result.output
