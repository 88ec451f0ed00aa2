"""ml.modeling.split: oldest 60 % train, next 20 % validation, newest 20 % test; no overlap."""

from __future__ import annotations

import pandas as pd
import pytest

from ml.errors import BadInputError
from ml.modeling.features import labelled_rows
from ml.modeling.split import SplitConfig, time_split


def test_split_is_time_ordered_and_complete(ml_mart: pd.DataFrame) -> None:
    labelled = labelled_rows(ml_mart)
    split = time_split(labelled)
    sizes = [len(p) for p in split.parts().values()]
    assert sum(sizes) == len(labelled)
    assert sizes[0] == round(len(labelled) * 0.6)
    ids = [set(p["release_id"]) for p in split.parts().values()]
    assert not (ids[0] & ids[1] or ids[1] & ids[2] or ids[0] & ids[2])
    assert split.train["release_date"].max() <= split.validation["release_date"].min()
    assert split.validation["release_date"].max() <= split.test["release_date"].min()
    summary = split.summary()
    assert summary["test"]["rows"] == sizes[2]
    assert summary["train"]["release_date_max"] <= summary["test"]["release_date_min"]


def test_split_ignores_input_order(ml_mart: pd.DataFrame) -> None:
    labelled = labelled_rows(ml_mart)
    a = time_split(labelled)
    b = time_split(labelled.sample(frac=1.0, random_state=3))
    for x, y in zip(a.parts().values(), b.parts().values(), strict=True):
        assert list(x["release_id"]) == list(y["release_id"])


def test_single_class_training_window_is_bad_input(ml_mart: pd.DataFrame) -> None:
    labelled = labelled_rows(ml_mart)
    n_train = round(len(labelled) * 0.6)
    labelled.loc[: n_train - 1, "is_regression"] = False
    with pytest.raises(BadInputError, match=r"train window .* single class"):
        time_split(labelled)


def test_too_few_rows_is_bad_input(ml_mart: pd.DataFrame) -> None:
    with pytest.raises(BadInputError, match="need >= 10"):
        time_split(labelled_rows(ml_mart).iloc[:20], SplitConfig())
