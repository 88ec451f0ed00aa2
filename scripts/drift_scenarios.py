"""Drift scenarios: does `patchrisk drift` stay quiet in a stable world, notice a process
change quickly, and does retraining recover?

For each generator seed, two worlds of the default size share the seed: one stable, one
with `--drift-at` (a process change plus a new platform). In both, a champion is trained
on the data as of the cutoff (the drift date), exactly as `patchrisk train` would have then
(labels only for releases whose window had closed). Then, every `--step-days`, the data
as of that day is checked against the champion like `patchrisk drift` does:

- stable world: the share of checks that raise a (false) alarm;
- drift world: how many post-change releases had shipped at the first alarm;
- the drift world without the new platform's releases (the process change alone): how
  many post-change releases had shipped at the first alarm and at the first warning;
- at the end of the drift world, `retrain`'s challenger (all data labelled to date)
  and the stale champion are scored on the post-change releases of the challenger's test
  slice, beside the oracle.

    python scripts/drift_scenarios.py [--seeds 7] [--drift-at 2025-09-01] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ml.generate import WorldConfig  # noqa: E402
from ml.generate.config import DRIFT_PLATFORM  # noqa: E402
from ml.generate.world import generate_world  # noqa: E402
from ml.modeling.evaluate import fast_auc  # noqa: E402
from ml.modeling.features import class_labels  # noqa: E402
from ml.modeling.registry import Registry, training_metadata  # noqa: E402
from ml.modeling.score import score_rows  # noqa: E402
from ml.modeling.train import TrainConfig, run_training  # noqa: E402
from ml.operations.drift import DriftConfig, detect_drift  # noqa: E402
from ml.operations.lifecycle import RetrainConfig  # noqa: E402
from ml.warehouse.dbt import BuildConfig, run_dbt  # noqa: E402
from ml.warehouse.marts import read_feature_mart, read_oracle  # noqa: E402

LABEL_DELAY_DAYS = 14  # dbt var observation_window_days


@dataclass(frozen=True)
class ScenarioResult:
    seed: int
    stable_checks: int
    stable_false_alarms: int
    drift_checks: int
    first_alarm_date: str | None
    releases_after_change_at_first_alarm: int | None
    process_only_first_alarm_date: str | None
    process_only_releases_at_first_alarm: int | None
    process_only_first_warning_date: str | None
    process_only_releases_at_first_warning: int | None
    post_change_test_releases: int
    stale_champion_roc_auc: float
    retrained_roc_auc: float
    oracle_roc_auc: float


def as_of(mart: pd.DataFrame, day: date) -> pd.DataFrame:
    """The mart as it looked on `day`: releases before it, labels whose window had closed."""
    dates = pd.to_datetime(mart["release_date"])
    seen = mart[dates < pd.Timestamp(day)].copy()
    closed = pd.to_datetime(seen["release_date"]) + pd.Timedelta(days=LABEL_DELAY_DAYS) <= (
        pd.Timestamp(day)
    )
    known = seen["is_label_available"].astype("boolean").fillna(False) & closed
    seen["is_label_available"] = known
    seen["is_regression"] = seen["is_regression"].astype("boolean").where(known)
    return seen


def build_world(cfg: WorldConfig, work: Path, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw, db = work / name, work / f"{name}.duckdb"
    db.unlink(missing_ok=True)  # a fresh warehouse for every run
    generate_world(cfg, raw, "csv")
    result = run_dbt("run", BuildConfig(raw_dir=raw, duckdb_path=db))
    if not result.success:
        raise RuntimeError(f"dbt run failed for {name}:\n{result.log[-3000:]}")
    return read_feature_mart(db), read_oracle(raw)


def train_champion(
    mart: pd.DataFrame, oracle: pd.DataFrame, registry: Registry, config: TrainConfig
):
    run = run_training(mart, oracle, config)
    metadata = training_metadata(run, {})
    version = registry.save(run.classifier, run.regressor, metadata, linear_base=run.linear_base)
    return registry.load(version), run


def checks(mart: pd.DataFrame, champion, start: date, end: date, step: int, config):
    """(day, alarm, warning) for every check day from start to end."""
    out = []
    day = start
    while day <= end:
        report = detect_drift(as_of(mart, day), champion, config)
        out.append((day, report.drifted, bool(report.warnings)))
        day += timedelta(days=step)
    return out


def first_flag(
    mart: pd.DataFrame, days: list[date], drift_at: date
) -> tuple[str | None, int | None]:
    """The first flagged check day, and how many releases had shipped from drift_at to it."""
    if not days:
        return None, None
    dates = pd.to_datetime(mart["release_date"])
    shipped = (dates >= pd.Timestamp(drift_at)) & (dates < pd.Timestamp(days[0]))
    return str(days[0]), int(shipped.sum())


def run_scenario(seed: int, drift_at: date, step: int, config: DriftConfig, work: Path):
    base = replace(WorldConfig(), seed=seed)
    end = base.end_date
    stable, stable_oracle = build_world(base, work, f"stable_{seed}")
    drifted, drift_oracle = build_world(replace(base, drift_at=drift_at), work, f"drift_{seed}")
    registry = Registry(work / f"registry_{seed}")

    plain = TrainConfig(baselines=False)
    champion, _ = train_champion(as_of(stable, drift_at), stable_oracle, registry, plain)
    stable_checks = checks(stable, champion, drift_at, end, step, config)

    champion, _ = train_champion(as_of(drifted, drift_at), drift_oracle, registry, plain)
    drift_checks = checks(drifted, champion, drift_at, end, step, config)
    first_alarm = first_flag(drifted, [d for d, alarm, _ in drift_checks if alarm], drift_at)
    process_only = drifted[drifted["platform_id"] != DRIFT_PLATFORM[0]]
    process_checks = checks(process_only, champion, drift_at, end, step, config)
    process_alarm = first_flag(process_only, [d for d, a, _ in process_checks if a], drift_at)
    process_warning = first_flag(process_only, [d for d, _, w in process_checks if w], drift_at)

    retrain_config = replace(RetrainConfig().train_config(), baselines=False)
    _, run = train_champion(drifted, drift_oracle, registry, retrain_config)  # as retrain does
    challenger = registry.load(registry.versions()[-1])
    test = run.split.test
    test = test[pd.to_datetime(test["release_date"]) >= pd.Timestamp(drift_at)]
    y = class_labels(test)
    truth = test[["release_id"]].merge(drift_oracle, on="release_id")
    return ScenarioResult(
        seed=seed,
        stable_checks=len(stable_checks),
        stable_false_alarms=sum(alarm for _, alarm, _ in stable_checks),
        drift_checks=len(drift_checks),
        first_alarm_date=first_alarm[0],
        releases_after_change_at_first_alarm=first_alarm[1],
        process_only_first_alarm_date=process_alarm[0],
        process_only_releases_at_first_alarm=process_alarm[1],
        process_only_first_warning_date=process_warning[0],
        process_only_releases_at_first_warning=process_warning[1],
        post_change_test_releases=len(test),
        stale_champion_roc_auc=fast_auc(y, score_rows(test, champion).probability),
        retrained_roc_auc=fast_auc(y, score_rows(test, challenger).probability),
        oracle_roc_auc=fast_auc(y, truth["true_regression_probability"].to_numpy(float)),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[7])
    parser.add_argument("--drift-at", type=date.fromisoformat, default=date(2025, 9, 1))
    parser.add_argument("--step-days", type=int, default=14)
    parser.add_argument("--window", type=int, default=DriftConfig.window)
    parser.add_argument("--work-dir", type=Path, default=None, help="Keep worlds here.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    config = DriftConfig(window=args.window)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="drift_scenarios_") as tmp:
        work = args.work_dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        results = [run_scenario(s, args.drift_at, args.step_days, config, work) for s in args.seeds]
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
        return 0
    for r in results:
        rate = r.stable_false_alarms / max(r.stable_checks, 1)
        print(
            f"seed {r.seed}: stable world {r.stable_false_alarms}/{r.stable_checks} checks "
            f"alarmed ({rate:.1%}); drift world first alarm {r.first_alarm_date} after "
            f"{r.releases_after_change_at_first_alarm} post-change releases; process change "
            f"alone: first alarm {r.process_only_first_alarm_date} after "
            f"{r.process_only_releases_at_first_alarm}, first warning "
            f"{r.process_only_first_warning_date} after "
            f"{r.process_only_releases_at_first_warning}; post-change test "
            f"slice ({r.post_change_test_releases} releases) ROC-AUC: retrained "
            f"{r.retrained_roc_auc:.3f}, stale champion {r.stale_champion_roc_auc:.3f}, "
            f"oracle {r.oracle_roc_auc:.3f}"
        )
    alarms = sum(r.stable_false_alarms for r in results)
    total = sum(r.stable_checks for r in results)
    print(
        f"false-alarm rate {alarms}/{total} = {alarms / max(total, 1):.1%}; "
        f"{time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
