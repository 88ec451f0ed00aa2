"""Train the regression-risk models and their baselines on the time-ordered split.

`run_training` is pure (data in, fitted models and metrics out): it fits a CatBoost
classifier (is_regression; boosted from a logistic regression's log-odds, `ml.modeling.linear_base`)
and regressor (post-release errors per 10k device-days) on the oldest 60 % of labelled
releases, early-stops and calibrates both on the next 20 %, and evaluates everything -
model, oracle and baselines - on the newest 20 %, which nothing is fitted on.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from catboost import CatBoostClassifier, CatBoostRegressor
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import r2_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from ml.modeling.calibration import Calibrator, fit_calibrator
from ml.modeling.decision import CostMatrix, Thresholds, bayes_thresholds
from ml.modeling.evaluate import (
    BootstrapConfig,
    auc_against,
    classifier_metrics,
    regressor_metrics,
)
from ml.modeling.features import (
    LABEL_COLUMNS,
    REQUIRED_MART_COLUMNS,
    FeatureSpec,
    build_features,
    build_prototype_features,
    class_labels,
    effort,
    labelled_rows,
    regression_target,
)
from ml.modeling.linear_base import LinearBase, NumericTerm
from ml.modeling.predict import model_pool as _pool
from ml.modeling.predict import predict_errors, predict_raw_probability
from ml.modeling.ranking import evaluate_rankings
from ml.modeling.split import SplitConfig, TimeSplit, time_split

BASELINES = ("logistic_regression", "random_forest", "prototype_recipe")


@dataclass(frozen=True)
class CatBoostParams:
    """CatBoost hyper-parameters; the seed and thread count make training deterministic."""

    iterations: int = 1000
    depth: int = 3
    learning_rate: float = 0.03
    l2_leaf_reg: float = 5.0
    early_stopping_rounds: int | None = 200  # None: keep all `iterations` trees
    eval_metric: str | None = None  # early-stopping metric (default: the loss)
    extra: tuple[tuple[str, object], ...] = ()  # further CatBoost options, e.g. (("rsm", 0.5),)
    random_seed: int = 42
    thread_count: int = 2

    def catboost_kwargs(self) -> dict:
        return {
            "iterations": self.iterations,
            "depth": self.depth,
            "learning_rate": self.learning_rate,
            "l2_leaf_reg": self.l2_leaf_reg,
            "random_seed": self.random_seed,
            "thread_count": self.thread_count,
            "allow_writing_files": False,
            "verbose": False,
            **({"eval_metric": self.eval_metric} if self.eval_metric else {}),
            **dict(self.extra),
        }

    def fit_kwargs(self) -> dict:
        if self.early_stopping_rounds is None:
            return {"use_best_model": False}
        return {"early_stopping_rounds": self.early_stopping_rounds, "use_best_model": True}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that shapes a training run."""

    classifier: CatBoostParams = field(default_factory=CatBoostParams)
    regressor: CatBoostParams = field(default_factory=CatBoostParams)
    split: SplitConfig = field(default_factory=SplitConfig)
    cost: CostMatrix = field(default_factory=CostMatrix)
    bootstrap: BootstrapConfig = field(default_factory=BootstrapConfig)
    baselines: bool = True
    # Weigh training releases by 0.5 ** (age / half-life), age in days before the newest
    # training release; None weighs all alike. `patchrisk retrain` uses it after a drift.
    recency_half_life_days: float | None = None
    # After early stopping and calibration, refit both models (and the classifier's linear
    # base) on train + validation with the tree count scaled to the larger window
    # (`patchrisk retrain`: the newest labelled releases matter most after a change). The
    # calibrator stays the validation one.
    refit_on_validation: bool = False
    # inverse L2 strength of the logistic regression the classifier is boosted from
    linear_base_c: float = 0.3

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class TrainingRun:
    """The fitted models and everything the registry records about them."""

    classifier: CatBoostClassifier
    linear_base: LinearBase  # the classifier's trees add to these log-odds
    regressor: CatBoostRegressor
    regressor_target: str  # "log1p" or "raw"
    calibrator: Calibrator
    thresholds: Thresholds
    cost: CostMatrix
    spec: FeatureSpec
    split: TimeSplit
    fingerprint: str
    metrics: dict
    config: TrainConfig
    timings: dict[str, float]


def training_fingerprint(train: pd.DataFrame) -> str:
    """SHA-256 of the training rows (required mart columns + labels, CSV, release order)."""
    cols = [c for c in (*REQUIRED_MART_COLUMNS, *LABEL_COLUMNS) if c in train.columns]
    payload = train.loc[:, cols].to_csv(index=False, lineterminator="\n", float_format="%.10g")
    return hashlib.sha256(payload.encode()).hexdigest()


def recency_weights(train: pd.DataFrame, half_life_days: float | None) -> np.ndarray | None:
    """0.5 ** (days before the newest training release / half-life), or None."""
    if half_life_days is None:
        return None
    dates = pd.to_datetime(train["release_date"])
    return 0.5 ** ((dates.max() - dates).dt.days.to_numpy() / half_life_days)


def fit_linear_base(
    x: pd.DataFrame,
    y: np.ndarray,
    spec: FeatureSpec,
    c: float,
    weight: np.ndarray | None = None,
) -> LinearBase:
    """An L2 logistic regression (inverse strength c) on numeric features - median-filled,
    standardised, their training range kept for clipping at scoring - and one-hot
    categorical ones."""
    categorical = [f for f in x.columns if f in spec.categorical]
    numeric = x.loc[:, [f for f in x.columns if f not in spec.categorical]].astype(float)
    fill = numeric.median().fillna(0.0)
    filled = numeric.fillna(fill)
    mean, scale = filled.mean(), filled.std(ddof=0).replace(0.0, 1.0)
    categories = {f: sorted(x[f].dropna().unique()) for f in categorical}
    one_hot = [
        (x[f] == value).astype(float).rename(f"{f}={value}")
        for f in categorical
        for value in categories[f]
    ]
    design = pd.concat([(filled - mean) / scale, *one_hot], axis=1)
    model = LogisticRegression(C=c, max_iter=5000)
    model.fit(design.to_numpy(), y, sample_weight=weight)
    coef = iter(model.coef_[0].tolist())
    terms = {
        f: NumericTerm(
            float(fill[f]),
            float(filled[f].min()),
            float(filled[f].max()),
            float(mean[f]),
            float(scale[f]),
            next(coef),
        )
        for f in numeric.columns
    }
    category_coefs = {f: {value: next(coef) for value in categories[f]} for f in categorical}
    return LinearBase(
        intercept=float(model.intercept_[0]),
        numeric=terms,
        categorical=category_coefs,
        categorical_mean={
            f: float(x[f].map(category_coefs[f]).astype(float).fillna(0.0).mean())
            for f in categorical
        },
    )


def fit_classifier(
    x_train: pd.DataFrame,
    y_train: np.ndarray,
    x_val: pd.DataFrame,
    y_val: np.ndarray,
    params: CatBoostParams,
    spec: FeatureSpec,
    base: LinearBase | None = None,
    weight: np.ndarray | None = None,
) -> CatBoostClassifier:
    """A CatBoost classifier (boosted from the linear base's log-odds, if given),
    early-stopped on validation log-loss."""
    model = CatBoostClassifier(**params.catboost_kwargs(), loss_function="Logloss")
    model.fit(
        _pool(x_train, y_train, spec, weight, None if base is None else base.log_odds(x_train)),
        eval_set=_pool(x_val, y_val, spec, None, None if base is None else base.log_odds(x_val)),
        **params.fit_kwargs(),
    )
    return model


def to_target_scale(values: np.ndarray, target: str) -> np.ndarray:
    """Errors per 10k device-days on the regressor's training scale ("log1p" or "raw")."""
    return np.log1p(values) if target == "log1p" else values


def refit_catboost(
    model: CatBoostClassifier | CatBoostRegressor,
    x: pd.DataFrame,
    y: np.ndarray,
    spec: FeatureSpec,
    n_early: int,
    weight: np.ndarray | None = None,
    baseline: np.ndarray | None = None,
) -> CatBoostClassifier | CatBoostRegressor:
    """The same CatBoost model refitted on x (a superset of its n_early training rows) with
    its early-stopped tree count scaled by len(x) / n_early, without an eval set."""
    trees = max(round(model.tree_count_ * len(x) / n_early), 1)
    refitted = type(model)(**{**model.get_params(), "iterations": trees})
    refitted.fit(_pool(x, y, spec, weight, baseline))
    return refitted


def fit_regressor(
    x_train: pd.DataFrame,
    t_train: np.ndarray,
    x_val: pd.DataFrame,
    t_val: np.ndarray,
    params: CatBoostParams,
    spec: FeatureSpec,
    weight: np.ndarray | None = None,
) -> tuple[CatBoostRegressor, str]:
    """A CatBoost regressor on the raw or the log1p target, whichever has the better R² on
    validation (on the original scale)."""
    best: tuple[float, CatBoostRegressor, str] | None = None
    for target in ("log1p", "raw"):
        model = CatBoostRegressor(**params.catboost_kwargs(), loss_function="RMSE")
        model.fit(
            _pool(x_train, to_target_scale(t_train, target), spec, weight),
            eval_set=_pool(x_val, to_target_scale(t_val, target), spec),
            **params.fit_kwargs(),
        )
        r2 = r2_score(t_val, predict_errors(model, target, x_val, spec))
        if best is None or r2 > best[0]:
            best = (r2, model, target)
    assert best is not None
    return best[1], best[2]


def _random_forest(x: pd.DataFrame, seed: int, threads: int) -> Pipeline:
    categorical = [c for c in x.columns if x[c].dtype == object or str(x[c].dtype) == "str"]
    numeric = [c for c in x.columns if c not in categorical]
    prep = ColumnTransformer(
        [
            ("num", SimpleImputer(strategy="median"), numeric),
            ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
        ]
    )
    forest = RandomForestClassifier(
        n_estimators=500, min_samples_leaf=5, random_state=seed, n_jobs=threads
    )
    return Pipeline([("prep", prep), ("model", forest)])


def fit_baselines(
    split: TimeSplit,
    features: dict[str, pd.DataFrame],
    params: CatBoostParams,
    base: LinearBase,
) -> dict[str, dict[str, np.ndarray]]:
    """Validation and test probabilities (uncalibrated) of every baseline. The logistic
    regression is the classifier's linear base as fitted on train (before any refit, with
    the same recency weights): the model without its trees."""
    y_train = class_labels(split.train)
    y_val = class_labels(split.validation)
    parts = ("validation", "test")
    out = {
        "logistic_regression": {p: 1.0 / (1.0 + np.exp(-base.log_odds(features[p]))) for p in parts}
    }
    forest = _random_forest(features["train"], params.random_seed, params.thread_count)
    forest.fit(features["train"], y_train)
    # Predict single-threaded: a parallel forest sums tree probabilities in thread order.
    forest.set_params(model__n_jobs=1)
    out["random_forest"] = {p: forest.predict_proba(features[p])[:, 1] for p in parts}
    proto = {name: build_prototype_features(part) for name, part in split.parts().items()}
    proto_spec = FeatureSpec(features=tuple(proto["train"].columns), categorical=())
    model = fit_classifier(proto["train"], y_train, proto["validation"], y_val, params, proto_spec)
    out["prototype_recipe"] = {
        part: model.predict_proba(_pool(proto[part], None, proto_spec))[:, 1] for part in parts
    }
    return out


def _evaluate(
    split: TimeSplit,
    p_test: dict[str, np.ndarray],
    errors_test: dict[str, np.ndarray],
    oracle: pd.DataFrame | None,
    thresholds: Thresholds,
    config: TrainConfig,
) -> dict:
    """The metrics block of the registry: test-slice metrics per model, oracle beside."""
    test = split.test
    y = class_labels(test)
    work = effort(test)
    scores = dict(p_test)
    true_flag = None
    if oracle is not None:
        truth = test[["release_id"]].merge(oracle, on="release_id", how="left")
        if truth["true_regression_probability"].notna().all():
            scores = {"model": p_test["model"], "oracle": truth["true_regression_probability"]}
            scores |= {k: v for k, v in p_test.items() if k != "model"}
            true_flag = truth["is_true_regression"].to_numpy().astype(int)
    reference = np.asarray(scores["oracle"], float) if "oracle" in scores else None
    test_metrics = {
        name: classifier_metrics(
            np.asarray(p, float), y, work, thresholds, config.cost, config.bootstrap, reference
        )
        for name, p in scores.items()
    }
    if reference is not None:
        for name in test_metrics:
            test_metrics[name]["roc_auc_gap_to_oracle"] = (
                test_metrics[name]["roc_auc"] - test_metrics["oracle"]["roc_auc"]
            )
    if true_flag is not None:
        for name, p in scores.items():
            test_metrics[name]["roc_auc_vs_true_flag"] = auc_against(
                np.asarray(p, float), true_flag
            )
    actual = regression_target(test)
    qa_ranking = evaluate_rankings(
        y,
        work,
        test["code_churn_score"].astype(float).to_numpy(),
        p_test["model"],
        p_test.get("prototype_recipe"),
        reference,
    )
    return {
        "slice": "test",
        "rows": len(test),
        "positives": int(y.sum()),
        "classifier": test_metrics,
        "regressor": {name: regressor_metrics(p, actual) for name, p in errors_test.items()},
        "qa_ranking": qa_ranking,
    }


def _json_safe(value):
    """Metrics as strict JSON: NaN (an undefined metric) becomes None."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def run_training(
    mart: pd.DataFrame, oracle: pd.DataFrame | None = None, config: TrainConfig | None = None
) -> TrainingRun:
    """Fit, calibrate, set thresholds, fit baselines and evaluate on the test slice."""
    config = config or TrainConfig()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    spec = FeatureSpec()
    split = time_split(labelled_rows(mart), config.split)
    x = {name: build_features(part) for name, part in split.parts().items()}
    y_train, y_val = class_labels(split.train), class_labels(split.validation)
    weight = recency_weights(split.train, config.recency_half_life_days)

    t0 = time.perf_counter()
    base = fit_linear_base(x["train"], y_train, spec, config.linear_base_c, weight)
    classifier = fit_classifier(
        x["train"], y_train, x["validation"], y_val, config.classifier, spec, base, weight
    )
    train_base = base  # the logistic-regression baseline: fitted on train (with the model's
    # recency weights, if any), before any refit
    raw_val = predict_raw_probability(classifier, base, x["validation"], spec)
    calibrator = fit_calibrator(raw_val, y_val)
    thresholds = bayes_thresholds(config.cost)
    timings["classifier_seconds"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    regressor, target = fit_regressor(
        x["train"],
        regression_target(split.train),
        x["validation"],
        regression_target(split.validation),
        config.regressor,
        spec,
        weight,
    )
    best_iterations = (classifier.get_best_iteration(), regressor.get_best_iteration())
    if config.refit_on_validation:
        fit = pd.concat([split.train, split.validation])
        x_fit = pd.concat([x["train"], x["validation"]])
        w_fit = recency_weights(fit, config.recency_half_life_days)
        n_train = len(split.train)
        y_fit = class_labels(fit)
        base = fit_linear_base(x_fit, y_fit, spec, config.linear_base_c, w_fit)
        classifier = refit_catboost(
            classifier, x_fit, y_fit, spec, n_train, w_fit, base.log_odds(x_fit)
        )
        t_fit = to_target_scale(regression_target(fit), target)
        regressor = refit_catboost(regressor, x_fit, t_fit, spec, n_train, w_fit)
    timings["regressor_seconds"] = time.perf_counter() - t0

    p_test = {"model": calibrator.apply(predict_raw_probability(classifier, base, x["test"], spec))}
    t0 = time.perf_counter()
    if config.baselines:
        for name, probs in fit_baselines(split, x, config.classifier, train_base).items():
            base_calibrator = fit_calibrator(probs["validation"], y_val, calibrator.method)
            p_test[name] = base_calibrator.apply(probs["test"])
    timings["baselines_seconds"] = time.perf_counter() - t0

    errors_test = {
        "model": predict_errors(regressor, target, x["test"], spec),
        "platform_trailing_rate": np.nan_to_num(
            split.test["platform_trailing_errors_per_10k_device_days"].astype(float).to_numpy(),
            nan=float(np.nanmedian(regression_target(split.train))),
        ),
    }
    t0 = time.perf_counter()
    metrics = _evaluate(split, p_test, errors_test, oracle, thresholds, config)
    metrics["validation"] = {
        "rows": len(split.validation),
        "positives": int(y_val.sum()),
        "classifier_best_iteration": int(best_iterations[0]),
        "regressor_best_iteration": int(best_iterations[1]),
        "regressor_target": target,
    }
    metrics = _json_safe(metrics)
    timings["evaluate_seconds"] = time.perf_counter() - t0
    timings["total_seconds"] = time.perf_counter() - started
    return TrainingRun(
        classifier=classifier,
        linear_base=base,
        regressor=regressor,
        regressor_target=target,
        calibrator=calibrator,
        thresholds=thresholds,
        cost=config.cost,
        spec=spec,
        split=split,
        fingerprint=training_fingerprint(
            pd.concat([split.train, split.validation])
            if config.refit_on_validation
            else split.train
        ),
        metrics=metrics,
        config=config,
        timings=timings,
    )
