"""The committed champion (models_artifacts/) is reproduced exactly by `patchrisk train` on
the default world, and meets its acceptance figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ml.cli import main
from ml.registry import Registry
from tests.conftest import REPO_ROOT

REGISTRY = REPO_ROOT / "models_artifacts"


@pytest.fixture(scope="module")
def champion() -> dict:
    return Registry(REGISTRY).verify("champion")


@pytest.fixture(scope="module")
def retrained(default_warehouse: Path) -> dict:
    result = CliRunner().invoke(
        main,
        [
            *("train", "--duckdb", str(default_warehouse)),
            *("--raw-dir", str(REPO_ROOT / "seeds"), "--no-register", "--json"),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_train_reproduces_the_champion_exactly(champion: dict, retrained: dict) -> None:
    assert retrained["splits"] == champion["splits"], (
        "the feature mart changed since the champion was trained: retrain and commit it "
        "(patchrisk train --registry models_artifacts --promote)"
    )
    assert retrained["calibration"] == champion["calibration"]
    assert retrained["thresholds"] == champion["thresholds"]
    assert retrained["metrics"] == champion["metrics"]


def test_champion_is_calibrated(champion: dict) -> None:
    """Issue 3 target on the default world's test slice (README, "ML layer")."""
    assert champion["metrics"]["classifier"]["model"]["ece"] <= 0.05


def test_champion_is_close_to_the_oracle(champion: dict) -> None:
    """Issue 3 target on the default world's test slice (README, "ML layer")."""
    model, oracle = (champion["metrics"]["classifier"][k] for k in ("model", "oracle"))
    assert model["roc_auc"] >= oracle["roc_auc"] - 0.03


def test_champion_beats_the_prototype_recipe(champion: dict) -> None:
    """Issue 3 target on the default world's test slice (README, "ML layer")."""
    model, proto = (champion["metrics"]["classifier"][k] for k in ("model", "prototype_recipe"))
    assert model["roc_auc"] >= proto["roc_auc"] + 0.05
