"""I/O edge: read the feature mart from the DuckDB warehouse and the generator's oracle."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from ml.errors import BadInputError, EnvironmentFailure
from ml.warehouse.readers import BUILD_HINT, require_warehouse

FEATURE_MART = "marts.fct_release_features"
ORACLE_COLUMNS = ("release_id", "true_regression_probability", "is_true_regression")


def read_feature_mart(duckdb_path: Path, relation: str = FEATURE_MART) -> pd.DataFrame:
    """The whole feature mart, ordered by (release_date, release_id).

    Raises EnvironmentFailure when the warehouse file or the relation does not exist.
    """
    path = require_warehouse(duckdb_path)
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            frame = con.execute(f"select * from {relation}").df()
    except duckdb.CatalogException as exc:
        raise EnvironmentFailure(f"{path} has no {relation} ({BUILD_HINT})") from exc
    except duckdb.Error as exc:
        raise EnvironmentFailure(f"cannot read {relation} from {path}: {exc}") from exc
    if "release_date" in frame and "release_id" in frame:
        frame = frame.sort_values(["release_date", "release_id"], kind="stable")
    return frame.reset_index(drop=True)


def read_oracle(raw_dir: Path) -> pd.DataFrame | None:
    """The generator's truth per release (None when the raw folder has no oracle file)."""
    folder = Path(raw_dir) / "oracle"
    for suffix, reader in ((".parquet", pd.read_parquet), (".csv", pd.read_csv)):
        path = folder / f"release_truth{suffix}"
        if path.is_file():
            frame = reader(path)
            missing = [c for c in ORACLE_COLUMNS if c not in frame.columns]
            if missing:
                raise BadInputError(f"{path} lacks columns {', '.join(missing)}")
            truth = frame.loc[:, list(ORACLE_COLUMNS)].copy()
            flag = truth["is_true_regression"]
            if flag.dtype != bool:
                flag = flag.astype(str).str.lower().isin(["true", "1"])
            truth["is_true_regression"] = flag.astype(bool)
            truth["true_regression_probability"] = truth["true_regression_probability"].astype(
                float
            )
            return truth
    return None
