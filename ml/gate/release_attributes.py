"""Release attributes from a release's raw fields: the Python twin of the dbt derivations.

`derive_release_attributes` computes, for candidate patches in the CI gate, exactly what
dbt computes for released firmware in

- `stg_fleet__firmware_releases`: lines_changed, component_count, version parts;
- `int_firmware_releases_sequenced`: is_hotfix, is_security, version_bump_kind,
  code_churn_score, touches_<component>, test_file_ratio.

tests/gate/test_gate_parity.py proves the two equal on historical releases. Change one, change
the other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PATCH_TYPES: tuple[str, ...] = ("bugfix", "feature", "security", "hotfix")
# The dbt var `firmware_components` (dbt_project.yml): one touches_<component> flag each.
COMPONENTS: tuple[str, ...] = (
    "audio",
    "bootloader",
    "drm",
    "network",
    "power",
    "storage",
    "ui",
    "video",
)

# The raw fields of a release (the raw `firmware_releases` table minus release_id).
RAW_COUNT_COLUMNS: tuple[str, ...] = (
    "files_changed",
    "lines_added",
    "lines_deleted",
    "package_size_kb",
    "test_files_changed",
)

# What derive_release_attributes returns, in the order of marts.fct_release_features.
ATTRIBUTE_COLUMNS: tuple[str, ...] = (
    "release_id",
    "platform_id",
    "version",
    "version_major",
    "version_minor",
    "version_patch",
    "release_date",
    "patch_type",
    "is_hotfix",
    "is_security",
    "version_bump_kind",
    "files_changed",
    "lines_added",
    "lines_deleted",
    "lines_changed",
    "code_churn_score",
    "components_touched",
    "component_count",
    *(f"touches_{c}" for c in COMPONENTS),
    "package_size_kb",
    "test_files_changed",
    "test_file_ratio",
)


def release_id(platform_id: pd.Series, version: pd.Series) -> pd.Series:
    """`<platform>-<version>`, the raw table's release_id."""
    return platform_id.astype(str) + "-" + version.astype(str)


def version_part(version: pd.Series, position: int) -> pd.Series:
    """try_cast(split_part(version, '.', position) as int): nullable Int64."""
    return version_parts(version, position)[position - 1]


def version_parts(version: pd.Series, count: int = 3) -> list[pd.Series]:
    """The first `count` dot-separated parts of each version as nullable Int64, as
    try_cast(split_part(version, '.', i) as int) (null when missing or not an integer)."""
    parts = version.astype(str).str.split(".", expand=True, regex=False)
    out = []
    for i in range(count):
        text = parts[i] if i in parts.columns else pd.Series("", index=version.index)
        text = text.fillna("").astype(str).str.strip()
        digits = text.str.fullmatch(r"[+-]?[0-9]+")  # ASCII: DuckDB casts no other digits
        values = pd.to_numeric(text.where(digits), errors="coerce")
        out.append(pd.Series(values, index=version.index).astype("Int64"))
    return out


def component_count(components_touched: pd.Series) -> pd.Series:
    """0 for a null or empty list, else the number of '|' plus one."""
    text = components_touched.fillna("").astype(str)
    return (text.str.count(r"\|") + 1).where(text != "", 0).astype("int64")


def version_bump_kind(
    major: pd.Series,
    minor: pd.Series,
    previous_major: pd.Series,
    previous_minor: pd.Series,
    has_previous: pd.Series,
) -> pd.Series:
    """initial (no previous release) / major / minor / patch, as in the SQL `case`:
    a comparison with a null is never true."""
    bigger_major = (major > previous_major).fillna(False).astype(bool)
    bigger_minor = (minor > previous_minor).fillna(False).astype(bool)
    kind = np.where(
        ~has_previous.astype(bool).to_numpy(),
        "initial",
        np.where(bigger_major, "major", np.where(bigger_minor, "minor", "patch")),
    )
    return pd.Series(kind, index=major.index, dtype=object)


def derive_release_attributes(raw: pd.DataFrame) -> pd.DataFrame:
    """ATTRIBUTE_COLUMNS for raw release rows.

    `raw` holds platform_id, version, patch_type, the RAW_COUNT_COLUMNS (integers),
    components_touched (`a|b`, may be empty or null), release_date, and the previous
    release on the platform: previous_release_id (null for a platform's first release) and
    its previous_version_major / previous_version_minor.
    """
    r = raw
    out = pd.DataFrame(index=r.index)
    out["release_id"] = release_id(r["platform_id"], r["version"])
    out["platform_id"] = r["platform_id"].astype(str)
    out["version"] = r["version"].astype(str)
    major, minor, patch = version_parts(r["version"])
    out["version_major"] = major
    out["version_minor"] = minor
    out["version_patch"] = patch
    out["release_date"] = pd.to_datetime(r["release_date"])
    patch_type = r["patch_type"].astype(str)
    out["patch_type"] = patch_type
    out["is_hotfix"] = patch_type == "hotfix"
    out["is_security"] = patch_type == "security"
    out["version_bump_kind"] = version_bump_kind(
        major,
        minor,
        r["previous_version_major"].astype("Int64"),
        r["previous_version_minor"].astype("Int64"),
        r["previous_release_id"].notna(),
    )
    counts = {
        c: r[c].astype("Int64" if c == "package_size_kb" else "int64") for c in RAW_COUNT_COLUMNS
    }
    out["files_changed"] = counts["files_changed"]
    out["lines_added"] = counts["lines_added"]
    out["lines_deleted"] = counts["lines_deleted"]
    lines_changed = counts["lines_added"] + counts["lines_deleted"]
    out["lines_changed"] = lines_changed
    out["code_churn_score"] = np.log((1 + lines_changed).astype("float64"))
    components = r["components_touched"]
    out["components_touched"] = components
    out["component_count"] = component_count(components)
    wrapped = "|" + components.fillna("").astype(str) + "|"
    for c in COMPONENTS:
        out[f"touches_{c}"] = wrapped.str.contains(f"|{c}|", regex=False) & components.notna()
    out["package_size_kb"] = counts["package_size_kb"]
    out["test_files_changed"] = counts["test_files_changed"]
    files = counts["files_changed"].astype("float64")
    out["test_file_ratio"] = (1.0 * counts["test_files_changed"] / files).where(files != 0)
    return out.loc[:, list(ATTRIBUTE_COLUMNS)]
