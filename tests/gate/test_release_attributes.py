"""ml.gate.release_attributes on the edge cases the generator never produces (the parity test
covers the rest against dbt): empty component lists, zero files, version bumps."""

from __future__ import annotations

import math

import pandas as pd

from ml.gate.release_attributes import (
    ATTRIBUTE_COLUMNS,
    component_count,
    derive_release_attributes,
    version_part,
)
from tests.conftest import REPO_ROOT


def _raw(**overrides) -> pd.DataFrame:
    row = {
        "platform_id": "ares",
        "version": "4.3.1",
        "patch_type": "hotfix",
        "files_changed": 10,
        "lines_added": 90,
        "lines_deleted": 9,
        "components_touched": "ui|drm",
        "package_size_kb": 1000,
        "test_files_changed": 4,
        "release_date": "2026-07-02",
        "previous_release_id": "ares-4.3.0",
        "previous_version_major": 4,
        "previous_version_minor": 3,
    }
    row.update(overrides)
    return pd.DataFrame([row])


def test_columns_and_values() -> None:
    out = derive_release_attributes(_raw()).iloc[0]
    assert list(derive_release_attributes(_raw()).columns) == list(ATTRIBUTE_COLUMNS)
    assert out["release_id"] == "ares-4.3.1"
    assert out["lines_changed"] == 99
    assert out["code_churn_score"] == math.log(100)
    assert out["component_count"] == 2
    assert out["touches_ui"] and out["touches_drm"] and not out["touches_video"]
    assert out["test_file_ratio"] == 0.4
    assert out["is_hotfix"] and not out["is_security"]
    assert out["version_bump_kind"] == "patch"


def test_component_lists() -> None:
    s = pd.Series(["", None, "ui", "ui|video|drm", "ui||video"])
    assert component_count(s).tolist() == [0, 0, 1, 3, 3]  # as the SQL counts '|'
    out = derive_release_attributes(_raw(components_touched=""))
    assert out.loc[0, "component_count"] == 0
    assert not out.filter(like="touches_").any(axis=None)


def test_zero_files_has_no_test_ratio() -> None:
    out = derive_release_attributes(_raw(files_changed=0, test_files_changed=0))
    assert pd.isna(out.loc[0, "test_file_ratio"])


def test_version_bump_kind() -> None:
    cases = [
        ("5.0.0", "ares-4.3.0", 4, 3, "major"),
        ("4.4.0", "ares-4.3.0", 4, 3, "minor"),
        ("4.3.2", "ares-4.3.0", 4, 3, "patch"),
        ("3.9.0", "ares-4.3.0", 4, 3, "minor"),  # the SQL compares major, then minor
        ("1.0.0", None, None, None, "initial"),
    ]
    for version, previous, major, minor, kind in cases:
        raw = _raw(
            version=version,
            previous_release_id=previous,
            previous_version_major=major,
            previous_version_minor=minor,
        )
        assert derive_release_attributes(raw).loc[0, "version_bump_kind"] == kind, version


def test_version_parts_like_try_cast() -> None:
    s = pd.Series(["4.3.1", "10.0", "x.2.3"])
    assert version_part(s, 1).tolist() == [4, 10, pd.NA]
    assert version_part(s, 3).tolist() == [1, pd.NA, 3]


def test_version_parts_take_split_part_positions() -> None:
    s = pd.Series(["1.2.3.4", "7", ""])
    assert version_part(s, 3).tolist() == [3, pd.NA, pd.NA]
    assert version_part(s, 1).tolist() == [1, 7, pd.NA]


def test_components_are_the_dbt_var() -> None:
    import yaml

    from ml.gate.release_attributes import COMPONENTS

    project = yaml.safe_load((REPO_ROOT / "dbt_project" / "dbt_project.yml").read_text())
    assert tuple(project["vars"]["firmware_components"]) == COMPONENTS
