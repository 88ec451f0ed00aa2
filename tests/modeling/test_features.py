"""ml.modeling.features: one feature builder for training and scoring; labels never leak in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.errors import BadInputError
from ml.modeling.features import (
    FEATURES,
    LABEL_COLUMNS,
    PROTOTYPE_FEATURES,
    build_features,
    build_prototype_features,
    class_labels,
    effort,
    labelled_rows,
)


def test_features_have_the_declared_columns_and_types(ml_mart: pd.DataFrame) -> None:
    features = build_features(ml_mart)
    assert tuple(features.columns) == FEATURES
    assert len(features) == len(ml_mart)
    assert not set(LABEL_COLUMNS) & set(features.columns)
    numeric = features.drop(columns=["platform_id"])
    assert (numeric.dtypes == "float64").all()
    assert np.isfinite(numeric["code_churn_score"]).all()


def test_features_do_not_depend_on_labels(ml_mart: pd.DataFrame) -> None:
    scrambled = ml_mart.copy()
    scrambled["is_regression"] = pd.array([None] * len(ml_mart), dtype="boolean")
    scrambled["post_release_errors_per_10k_device_days"] = 0.0
    pd.testing.assert_frame_equal(build_features(scrambled), build_features(ml_mart))


def test_features_of_a_row_do_not_depend_on_other_rows(ml_mart: pd.DataFrame) -> None:
    """Scoring one release gives the same features as scoring the whole mart."""
    whole = build_features(ml_mart)
    single = build_features(ml_mart.iloc[[7]])
    pd.testing.assert_frame_equal(single, whole.iloc[[7]])


def test_engineered_interactions(ml_mart: pd.DataFrame) -> None:
    f = build_features(ml_mart)
    np.testing.assert_allclose(f["hotfix_churn"], f["is_hotfix"] * f["code_churn_score"])
    rushed = f["is_rushed"].dropna()
    assert set(rushed.unique()) <= {0.0, 1.0}
    assert (f.loc[f["is_rushed"] == 0, "rushed_after_regression"] == 0).all()


def test_missing_column_is_bad_input(ml_mart: pd.DataFrame) -> None:
    with pytest.raises(BadInputError, match="code_churn_score"):
        build_features(ml_mart.drop(columns=["code_churn_score"]))


def test_prototype_recipe_uses_five_raw_columns(ml_mart: pd.DataFrame) -> None:
    proto = build_prototype_features(ml_mart)
    assert tuple(proto.columns) == PROTOTYPE_FEATURES and len(PROTOTYPE_FEATURES) == 5


def test_labelled_rows_are_ordered_and_complete(ml_mart: pd.DataFrame) -> None:
    labelled = labelled_rows(ml_mart)
    assert labelled["is_label_available"].all()
    assert len(labelled) == int(ml_mart["is_label_available"].sum())
    keys = list(zip(labelled["release_date"], labelled["release_id"], strict=True))
    assert keys == sorted(keys)
    assert set(np.unique(class_labels(labelled))) == {0, 1}
    assert (effort(labelled) >= 1).all()


def test_empty_or_unlabelled_mart_is_bad_input(ml_mart: pd.DataFrame) -> None:
    with pytest.raises(BadInputError, match="empty"):
        labelled_rows(ml_mart.iloc[:0])
    unlabelled = ml_mart.assign(is_label_available=False)
    with pytest.raises(BadInputError, match="no labelled rows"):
        labelled_rows(unlabelled)
