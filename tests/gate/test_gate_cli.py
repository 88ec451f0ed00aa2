"""`patchrisk gate`: decisions, exit codes 0 / 1, the four report formats (JUnit parsed),
the JSON schema, stdin, --release, the script, and a light import path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from ml.gate.candidates import load_candidates
from ml.gate.scoring import SCHEMA_VERSION
from tests.gate.conftest import REPO_ROOT_FOR_TESTS, GateWorld, run, write_csv, write_json

TOP_KEYS = {
    "schema_version",
    "generated_at",
    "input",
    "warehouse",
    "model",
    "thresholds",
    "results",
    "counts",
    "decision",
    "passed",
    "exit_code",
}
RESULT_KEYS = {
    "row",
    "release_id",
    "platform_id",
    "version",
    "patch_type",
    "planned_release_date",
    "context_date",
    "context",
    "decision",
    "regression_probability",
    "predicted_errors_per_10k_device_days",
    "top_factors",
}


@pytest.fixture
def patches(gate_world: GateWorld, tmp_path: Path) -> Path:
    rows = [gate_world.patch(i) for i in range(6)]
    rows[1].update(patch_type="hotfix", lines_added=9000, lines_deleted=4000, files_changed=140)
    rows[1]["components_touched"] = "bootloader|drm|power|storage|video"
    rows[1]["test_files_changed"] = 0
    rows[2]["planned_release_date"] = ""  # the day after the data's as-of date
    return write_csv(tmp_path / "patches.csv", rows)


def _json(world: GateWorld, path: Path, *extra: str) -> tuple[int, dict]:
    result = run(world.args(str(path), "--format", "json", *extra))
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def test_json_report_schema(gate_world: GateWorld, patches: Path) -> None:
    code, doc = _json(gate_world, patches)
    assert set(doc) == TOP_KEYS
    assert doc["schema_version"] == SCHEMA_VERSION == 1
    assert doc["input"]["source"] == str(patches) and doc["input"]["patches"] == 6
    assert len(doc["input"]["sha256"]) == 64 and doc["input"]["format"] == "csv"
    assert doc["warehouse"]["as_of_date"] == gate_world.as_of.isoformat()
    model = doc["model"]
    assert model["name"] == "champion" and model["version"] == "v0001"
    assert model["sha256"] == model["files"]["classifier.cbm"] and len(model["sha256"]) == 64
    assert set(doc["thresholds"]) == {"review", "block", "source", "fail_on"}
    assert doc["thresholds"]["source"] == "model" and doc["thresholds"]["fail_on"] == "block"
    assert [r["row"] for r in doc["results"]] == [1, 2, 3, 4, 5, 6]
    for r in doc["results"]:
        assert set(r) == RESULT_KEYS
        assert r["decision"] in ("pass", "review", "block")
        assert 0.0 <= r["regression_probability"] <= 1.0
        assert r["predicted_errors_per_10k_device_days"] >= 0.0
        assert len(r["top_factors"]) == 3
        for f in r["top_factors"]:
            assert set(f) == {"feature", "value", "contribution", "text"}
            assert "the risk" in f["text"]
        assert r["context"] == "now"
    assert doc["results"][2]["planned_release_date"] == doc["warehouse"]["now_context_date"]
    assert sum(doc["counts"].values()) == 6
    worst = "block" if doc["counts"]["block"] else "review" if doc["counts"]["review"] else "pass"
    assert doc["decision"] == worst
    assert doc["exit_code"] == code == (1 if doc["counts"]["block"] else 0)
    assert doc["passed"] is (code == 0)


def test_decisions_follow_the_thresholds(gate_world: GateWorld, patches: Path) -> None:
    _, doc = _json(gate_world, patches)
    review, block = doc["thresholds"]["review"], doc["thresholds"]["block"]
    for r in doc["results"]:
        p = r["regression_probability"]
        expected = "block" if p >= block else "review" if p >= review else "pass"
        assert r["decision"] == expected
    # the large hotfix touching five components is the riskiest patch
    riskiest = max(doc["results"], key=lambda r: r["regression_probability"])
    assert riskiest["row"] == 2


def test_exit_0_when_all_pass(gate_world: GateWorld, patches: Path) -> None:
    code, doc = _json(gate_world, patches, "--review-threshold", "1", "--block-threshold", "1")
    assert code == 0 and doc["counts"]["pass"] == 6 and doc["decision"] == "pass"
    assert doc["thresholds"]["source"] == "override"


def test_review_passes_unless_fail_on_review(gate_world: GateWorld, patches: Path) -> None:
    code, doc = _json(gate_world, patches, "--review-threshold", "0", "--block-threshold", "1")
    assert code == 0 and doc["counts"]["review"] == 6 and doc["passed"]
    code, doc = _json(
        gate_world,
        patches,
        "--review-threshold",
        "0",
        "--block-threshold",
        "1",
        "--fail-on",
        "review",
    )
    assert code == 1 and not doc["passed"] and doc["thresholds"]["fail_on"] == "review"


def test_exit_1_on_a_block(gate_world: GateWorld, patches: Path) -> None:
    code, doc = _json(gate_world, patches, "--block-threshold", "0")
    assert code == 1 and doc["counts"]["block"] == 6 and doc["decision"] == "block"


def test_junit_is_parseable(gate_world: GateWorld, patches: Path) -> None:
    _, doc = _json(gate_world, patches, "--review-threshold", "0.05")
    result = run(gate_world.args(str(patches), "--format", "junit", "--review-threshold", "0.05"))
    root = ET.fromstring(result.stdout)
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [r["release_id"] for r in doc["results"]]
    failures = [c for c in cases if c.find("failure") is not None]
    assert int(suite.get("tests")) == 6
    assert int(suite.get("failures")) == len(failures) == doc["counts"]["block"]
    assert {c.find("failure").get("type") for c in failures} <= {"block"}
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["model_version"] == "v0001"
    assert result.exit_code == doc["exit_code"]
    # with --fail-on review, reviews are failures too
    result = run(
        gate_world.args(
            str(patches), "--format", "junit", "--review-threshold", "0", "--fail-on", "review"
        )
    )
    suite = ET.fromstring(result.stdout).find("testsuite")
    assert int(suite.get("failures")) == 6 and result.exit_code == 1
    assert {c.find("failure").get("type") for c in suite.findall("testcase")} <= {
        "block",
        "review",
    }


def test_text_and_markdown(gate_world: GateWorld, patches: Path) -> None:
    _, doc = _json(gate_world, patches)
    text = run(gate_world.args(str(patches), "--format", "text")).stdout
    assert text.startswith("patchrisk gate ")
    for r in doc["results"]:
        assert r["release_id"] in text
    md = run(gate_world.args(str(patches), "--format", "markdown")).stdout
    assert md.startswith("## Patch risk gate")
    table = [line for line in md.splitlines() if line.startswith("| `")]
    assert len(table) == 6


def test_output_file(gate_world: GateWorld, patches: Path, tmp_path: Path) -> None:
    out = tmp_path / "junit.xml"
    result = run(gate_world.args(str(patches), "--format", "junit", "--output", str(out)))
    ET.parse(out)
    assert result.stdout == "" and result.stderr.startswith("patchrisk gate ")


def test_json_input_and_stdin_match_csv(gate_world: GateWorld, patches: Path, tmp_path) -> None:
    _, from_csv = _json(gate_world, patches)
    rows = load_candidates(str(patches)).frame
    records = json.loads(rows.drop(columns=["row"]).to_json(orient="records", date_format="iso"))
    for rec in records:
        rec["planned_release_date"] = (rec["planned_release_date"] or "")[:10]
    from_json = json.loads(
        run(gate_world.args(str(write_json(tmp_path / "p.json", records)))).stdout
    )
    from_stdin = json.loads(run(gate_world.args("-"), stdin=patches.read_text()).stdout)
    wrapped = json.loads(run(gate_world.args("-"), stdin=json.dumps({"patches": records})).stdout)
    for doc in (from_json, from_stdin, wrapped):
        assert doc["results"] == from_csv["results"]
    assert from_stdin["input"]["source"] == "<stdin>"


def test_release_mode(gate_world: GateWorld) -> None:
    import pandas as pd

    raw = pd.read_csv(gate_world.raw_dir / "firmware_releases.csv", dtype=str)
    ids = raw["release_id"].iloc[[40, 200, 300]].tolist()
    result = run(gate_world.args("--release", ids[0], "--release", ",".join(ids[1:])))
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(result.stdout)
    assert [r["release_id"] for r in doc["results"]] == ids
    assert doc["input"]["backtest"] is True


def test_help() -> None:
    result = run(["gate", "--help"])
    assert result.exit_code == 0 and "--fail-on" in result.stdout


def test_example_file_is_valid() -> None:
    example = REPO_ROOT_FOR_TESTS / "examples" / "patches.csv"
    assert len(load_candidates(str(example)).frame) >= 3
    example_json = REPO_ROOT_FOR_TESTS / "examples" / "patches.json"
    assert (
        load_candidates(str(example_json))
        .frame.drop(columns="row")
        .equals(load_candidates(str(example)).frame.drop(columns="row"))
    )


def _script(world: GateWorld, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT_FOR_TESTS / "scripts" / "risk_gate.py"),
            *args,
            "--warehouse",
            str(world.warehouse),
            "--registry",
            str(world.registry),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_script_like_the_prototype(gate_world: GateWorld, patches: Path, tmp_path) -> None:
    proc = _script(gate_world, str(patches), "--block-threshold", "0")
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["counts"]["block"] == 6
    proc = _script(gate_world, str(tmp_path / "missing.csv"))
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1


def test_gate_path_imports_no_training_code(gate_world: GateWorld, patches: Path) -> None:
    code = (
        "import sys\n"
        "from ml.cli import main\n"
        "try:\n"
        f"    main({gate_world.args(str(patches))!r})\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "heavy = [m for m in ('sklearn', 'scipy.optimize', 'ml.modeling.train',"
        " 'ml.modeling.evaluate', 'ml.generate.world', 'dbt') if m in sys.modules]\n"
        "print(code, heavy, file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT_FOR_TESTS,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.stderr.strip().splitlines()[-1] in ("0 []", "1 []"), proc.stderr
