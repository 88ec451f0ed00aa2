"""ml.modeling.registry: versions, hashes, atomic writes, aliases and their history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from catboost import CatBoostClassifier, CatBoostRegressor

from ml.errors import BadInputError, IntegrityError
from ml.modeling.linear_base import LinearBase
from ml.modeling.registry import (
    ALIASES_FILE,
    CLASSIFIER_FILE,
    LINEAR_BASE_FILE,
    METADATA_FILE,
    Registry,
)


def test_version_folder_and_metadata(trained_registry: Path) -> None:
    reg = Registry(trained_registry)
    assert reg.versions() == ["v0001"]
    assert reg.aliases() == {"champion": "v0001"}
    folder = trained_registry / "v0001"
    assert sorted(p.name for p in folder.iterdir()) == [
        "classifier.cbm",
        "linear_base.json",
        "metadata.json",
        "regressor.cbm",
    ]
    meta = reg.verify("champion")
    for key in (
        "features",
        "training_data_fingerprint",
        "splits",
        "thresholds",
        "cost_matrix",
        "calibration",
        "metrics",
        "libraries",
        "git_commit",
        "files",
    ):
        assert key in meta, key
    assert meta["features"]["categorical"] == ["platform_id"]
    assert set(meta["splits"]) == {"train", "validation", "test"}
    assert not list(trained_registry.glob(".partial-*"))


def test_loaded_model_predicts(trained_registry: Path) -> None:
    model = Registry(trained_registry).load("v0001")
    assert model.classifier.is_fitted() and model.regressor.is_fitted()
    assert model.thresholds.review < model.thresholds.block


@pytest.mark.parametrize("file", [CLASSIFIER_FILE, LINEAR_BASE_FILE])
def test_tampered_file_fails_verification(registry_copy: Path, file: str) -> None:
    path = registry_copy / "v0001" / file
    path.write_bytes(path.read_bytes() + b" ")
    with pytest.raises(IntegrityError, match="SHA-256"):
        Registry(registry_copy).load("champion")


def test_missing_file_fails_verification(registry_copy: Path) -> None:
    (registry_copy / "v0001" / CLASSIFIER_FILE).unlink()
    with pytest.raises(IntegrityError, match="missing"):
        Registry(registry_copy).verify("v0001")


def test_failed_save_leaves_nothing(registry_copy: Path) -> None:
    reg = Registry(registry_copy)
    before = sorted(p.name for p in registry_copy.iterdir())
    with pytest.raises(Exception):  # noqa: B017 - CatBoost refuses to save an unfitted model
        reg.save(
            CatBoostClassifier(),
            CatBoostRegressor(),
            {"x": 1},
            linear_base=LinearBase(0, {}, {}, {}),
        )
    assert sorted(p.name for p in registry_copy.iterdir()) == before


def test_promote_and_rollback_with_history(registry_copy: Path) -> None:
    reg = Registry(registry_copy)
    model = reg.load("v0001")
    meta = {k: v for k, v in model.metadata.items() if k not in ("version", "files")}
    v2 = reg.save(model.classifier, model.regressor, meta, linear_base=model.linear_base)
    v3 = reg.save(model.classifier, model.regressor, meta, linear_base=model.linear_base)
    assert (v2, v3) == ("v0002", "v0003")
    reg.set_challenger(v2)
    assert reg.aliases() == {"champion": "v0001", "challenger": "v0002"}
    reg.promote()  # the challenger
    assert reg.aliases() == {"champion": "v0002"}
    reg.promote(v3)
    assert reg.resolve("champion") == "v0003"
    reg.rollback()
    assert reg.resolve("champion") == "v0002"
    reg.rollback()
    assert reg.resolve("champion") == "v0001"
    with pytest.raises(BadInputError, match="no earlier champion"):
        reg.rollback()
    history = reg.history()
    assert [(e["action"], e["version"]) for e in history if e["alias"] == "champion"] == [
        ("promote", "v0001"),
        ("promote", "v0002"),
        ("promote", "v0003"),
        ("rollback", "v0002"),
        ("rollback", "v0001"),
    ]
    assert json.loads((registry_copy / ALIASES_FILE).read_text())["champion"] == "v0001"
    assert not list(registry_copy.glob(f".{ALIASES_FILE}.*"))


def test_unknown_names_are_bad_input(registry_copy: Path) -> None:
    reg = Registry(registry_copy)
    with pytest.raises(BadInputError):
        reg.resolve("v0099")
    with pytest.raises(BadInputError, match="challenger"):
        reg.resolve("challenger")
    with pytest.raises(BadInputError, match="already the champion"):
        reg.promote("v0001")


def test_corrupt_metadata_is_an_integrity_error(registry_copy: Path) -> None:
    (registry_copy / "v0001" / METADATA_FILE).write_text("{not json")
    with pytest.raises(IntegrityError):
        Registry(registry_copy).verify("v0001")
