"""`patchrisk drift`, `retrain` and `pipeline`: exit codes, promotion, atomicity."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from ml.cli import main
from ml.modeling.registry import Registry
from ml.operations.lifecycle import RetrainConfig, retrain, train_from_warehouse
from ml.warehouse.dbt import REPO_ROOT, read_table
from tests.conftest import rewrite_mart
from tests.faults.conftest import run_patchrisk

FAST = ["--window", "100"]


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_drift_exit_codes(registry_copy: Path, warehouse_copy: Path, tmp_path: Path) -> None:
    common = ["--warehouse", str(warehouse_copy), "--registry", str(registry_copy)]
    quiet = _invoke("drift", *common, *FAST, "--json")
    assert quiet.exit_code in (0, 1), quiet.output
    assert json.loads(quiet.output)["drifted"] == (quiet.exit_code == 1)
    end = Registry(registry_copy).metadata("champion")["splits"]["validation"]["release_date_max"]
    after = f"release_date > date '{end}'"
    rewrite_mart(
        warehouse_copy,
        f"select * replace (code_churn_score + case when {after} then 2 else 0 end "
        f"as code_churn_score, touches_bootloader or {after} as touches_bootloader, "
        f"case when {after} then 0.0 else test_file_ratio end as test_file_ratio) from m",
    )
    drifted = _invoke("drift", *common, *FAST)
    assert drifted.exit_code == 1, drifted.output
    assert "drift: YES" in drifted.output
    assert "warnings (not a retrain trigger):" in drifted.output
    assert "code_churn_score" in drifted.output.splitlines()[-1]
    runs = read_table(warehouse_copy, "ml.drift_history")["checked_at"].nunique()
    assert runs >= 1
    no_champion = _invoke("drift", "--warehouse", str(warehouse_copy), "--registry", str(tmp_path))
    assert no_champion.exit_code == 3 and "no champion" in no_champion.output
    missing = _invoke(
        "drift", "--warehouse", str(tmp_path / "none.duckdb"), "--registry", str(registry_copy)
    )
    assert missing.exit_code == 3


def test_drift_options_default_to_the_drift_config_and_reject_bad_margins() -> None:
    from ml.cli.lifecycle import _drift_config, drift, pipeline
    from ml.operations.drift import DriftConfig

    names = ("window", "alpha", "auc_margin", "calibration_margin")
    for command in (drift, pipeline):
        defaults = {p.name: p.default for p in command.params}
        assert _drift_config(**{n: defaults[n] for n in names}) == DriftConfig()
    bad = _invoke("drift", "--calibration-margin", "0.8")
    assert bad.exit_code == 2 and "--calibration-margin" in bad.output


def test_retrain_keeps_the_champion_below_the_margin_and_records_why(
    registry_copy: Path, ml_warehouse: Path, ml_world: Path
) -> None:
    reg = Registry(registry_copy)
    config = RetrainConfig(margin=1.0, min_window=20)  # no challenger can gain 1.0 ROC-AUC
    outcome = retrain(ml_warehouse, ml_world, reg, config)
    assert not outcome.promoted and outcome.champion_after == "v0001"
    assert outcome.evidence["difference"] < 1.0 and "needs >= +1.000" in outcome.reason
    assert reg.aliases() == {"champion": "v0001", "challenger": outcome.challenger}
    event = reg.history()[-1]
    assert event["action"] == "keep" and event["challenger"] == outcome.challenger
    assert event["evidence"]["window_rows"] == outcome.evidence["window_rows"]
    assert reg.champion_stack() == ["v0001"]


def test_retrain_promotes_a_better_challenger_and_rollback_restores(
    default_warehouse: Path, tmp_path: Path
) -> None:
    seeds = REPO_ROOT / "seeds"
    noisy = tmp_path / "noisy.duckdb"
    shutil.copy(default_warehouse, noisy)
    # A champion trained on inverted labels ranks the releases backwards.
    rewrite_mart(noisy, "select * replace (not is_regression as is_regression) from m")
    reg = Registry(tmp_path / "registry")
    train_from_warehouse(noisy, seeds, reg)
    outcome = retrain(default_warehouse, seeds, reg)
    assert outcome.promoted, outcome.reason
    assert reg.aliases()["champion"] == outcome.challenger
    assert reg.history()[-2]["evidence"]["difference"] >= 0.01
    rolled = _invoke("models", "rollback", "--registry", str(reg.root))
    assert rolled.exit_code == 0 and reg.aliases()["champion"] == "v0001"


def _registry_is_consistent(root: Path) -> None:
    reg = Registry(root)
    for version in reg.versions():
        reg.verify(version)
    for alias, version in reg.aliases().items():
        assert version in reg.versions(), (alias, version)
    reg.history()  # parses, and agrees with the aliases (else IntegrityError)


@pytest.mark.parametrize(
    "kill_at",
    [
        "registry.save.metadata_written",  # the new version is still a .partial folder
        "registry.history.appended@2",  # the decision (keep or promote) journaled only
    ],
)  # every other step of the registration: tests/faults/test_registry_faults.py
def test_a_killed_retrain_leaves_the_registry_consistent(
    registry_copy: Path, ml_warehouse: Path, ml_world: Path, kill_at: str
) -> None:
    before = Registry(registry_copy).aliases()["champion"]
    args = ["retrain", "--warehouse", str(ml_warehouse), "--raw-dir", str(ml_world),
            "--registry", str(registry_copy)]  # fmt: skip
    outcome = run_patchrisk(args, kill_at=kill_at)
    assert outcome.killed, f"retrain never reached {kill_at}: {outcome.stderr[-2000:]}"
    _registry_is_consistent(registry_copy)
    assert Registry(registry_copy).aliases()["champion"] == before


def test_pipeline_is_idempotent(trained_registry: Path, ml_world: Path, tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    shutil.copytree(trained_registry, registry)
    warehouse = tmp_path / "w.duckdb"
    args = ["pipeline", "--warehouse", str(warehouse), "--raw-dir", str(ml_world),
            "--registry", str(registry), "--json"]  # fmt: skip
    first = _invoke(*args)
    assert first.exit_code == 0, first.output
    versions = Registry(registry).versions()
    second = _invoke(*args)
    assert second.exit_code == 0, second.output
    one, two = json.loads(first.output), json.loads(second.output)
    assert one["scored"] == two["scored"] and one["drift"] == two["drift"]
    if not one["drift"]:
        assert Registry(registry).versions() == versions
    with duckdb.connect(str(warehouse), read_only=True) as con:
        runs = con.execute("select count(*) from marts.fct_drift_runs").fetchall()[0][0]
        queue = con.execute("select count(*) from marts.fct_qa_priority_queue").fetchall()[0][0]
        counts = con.execute(
            "select drifted_check_count from marts.fct_drift_runs order by checked_at"
        ).fetchall()
    assert runs == 2 and queue > 0
    # the mart counts alarms only, like the summary; warnings are listed apart
    assert [c for (c,) in counts] == [len(one["drifted_checks"]), len(two["drifted_checks"])]
    assert set(one["drifted_checks"]).isdisjoint(one["drift_warnings"])
