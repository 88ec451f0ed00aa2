"""`patchrisk gate --git` end to end on a temporary firmware repo and the test warehouse:
the same scores as the facts typed into CSV, the facts in every report, one-line errors,
and the CI templates' own command lines (read from examples/ci/, so a drifting template
fails here)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_ROOT
from tests.gate.conftest import (
    FirmwareRepo,
    GateWorld,
    assert_one_line_error,
    run,
    write_csv,
)
from tests.gate.git_world import pull_request_repo

CI = REPO_ROOT / "examples" / "ci"


@pytest.fixture(scope="module")
def repo(gate_world: GateWorld, tmp_path_factory) -> FirmwareRepo:
    platforms = gate_world.platforms[:2]
    return pull_request_repo(tmp_path_factory.mktemp("git") / "firmware", tuple(platforms))


def _gate(gate_world: GateWorld, repo: FirmwareRepo, *extra: str):
    return run(gate_world.args("--repo", str(repo.root), "--git", "main...feature", *extra))


def test_git_candidates_score_as_the_same_facts_in_csv(
    gate_world: GateWorld, repo: FirmwareRepo, tmp_path: Path
) -> None:
    from_git = _gate(gate_world, repo)
    assert from_git.exit_code in (0, 1), from_git.output
    doc = json.loads(from_git.stdout)
    facts = doc["input"]["git"]
    typed = [
        {
            "version": facts["versions"][platform]["version"],
            "platform_id": platform,
            "patch_type": facts["patch_type"]["value"],
            "files_changed": 7,
            "lines_added": 17,
            "lines_deleted": 11,
            "components_touched": "drm|network|ui|video",
            "package_size_kb": "",
            "test_files_changed": 1,
            "planned_release_date": "",
        }
        for platform in facts["platforms"]["ids"]
    ]
    from_csv = run(gate_world.args(str(write_csv(tmp_path / "typed.csv", typed))))
    assert from_csv.exit_code == from_git.exit_code
    expected = json.loads(from_csv.stdout)
    assert doc["results"] == expected["results"] and len(doc["results"]) == 2
    assert doc["decision"] == expected["decision"]
    assert doc["input"]["format"] == "git" and facts["head_commit"] == repo.git(
        "rev-parse", "feature"
    )


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("text", "7 files, +17 / -11 lines, components drm, network, ui, video"),
        ("markdown", "**Facts from git**: change main...feature"),
        ("junit", 'name="git_range" value="main...feature"'),
    ],
)
def test_reports_say_where_the_facts_came_from(
    gate_world: GateWorld, repo: FirmwareRepo, fmt: str, text: str
) -> None:
    result = _gate(gate_world, repo, "--format", fmt)
    assert result.exit_code in (0, 1)
    assert text in " ".join(result.stdout.split()).replace("\\|", "|")
    assert "package size unknown" in " ".join(result.stdout.split()) or fmt == "junit"


def test_config_thresholds_apply_and_options_win(
    gate_world: GateWorld, repo: FirmwareRepo, tmp_path: Path
) -> None:
    config = tmp_path / "strict.toml"
    config.write_text('[thresholds]\nreview = 0.0\nblock = 0.0\n[platforms]\nx = ["**"]\n')
    platform = ("--platform", gate_world.platforms[0], "--config", str(config))
    strict = _gate(gate_world, repo, *platform)
    assert strict.exit_code == 1 and json.loads(strict.stdout)["thresholds"]["block"] == 0.0
    relaxed = _gate(gate_world, repo, *platform, "--block-threshold", "1")
    assert json.loads(relaxed.stdout)["thresholds"]["block"] == 1.0


# ---- bad input: one line, the documented exit code -------------------------------------
def test_bad_git_input(gate_world: GateWorld, repo: FirmwareRepo, tmp_path: Path) -> None:
    cases = [
        (["--repo", str(tmp_path), "--git", "main...feature"], "is not a git repository"),
        (["--repo", str(repo.root), "--git", "main...nope"], "unknown revision 'nope'"),
        (["--repo", str(repo.root), "--git", "feature...feature"], "changes no files"),
        (
            ["--repo", str(repo.root), "--git", "main...feature", "--planned-date", "2026-13-01"],
            "column planned_release_date",
        ),
        (
            ["--repo", str(repo.root), "--git", "main...feature", "--package", "nope.bin"],
            "--package nope.bin: no such file",
        ),
        (["--platform", "x", "examples/patches.csv"], "--platform goes with --git RANGE"),
        (
            ["--git", "a..b", "--release", "x-1.0.0"],
            "give one of an input file, --release or --git",
        ),
    ]
    for args, text in cases:
        assert_one_line_error(run(gate_world.args(*args)), 2, text)


def test_a_config_error_names_the_key(
    gate_world: GateWorld, repo: FirmwareRepo, tmp_path: Path
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[components]\nvideo = ["src/video/**"]\nradio = ["src/radio/**"]\n')
    result = _gate(gate_world, repo, "--config", str(config))
    assert_one_line_error(result, 2, "bad.toml: components.radio: unknown key")


def test_an_already_released_version_is_refused(gate_world: GateWorld, repo: FirmwareRepo) -> None:
    platform = gate_world.platforms[0]
    with __import__("duckdb").connect(str(gate_world.warehouse), read_only=True) as con:
        released = con.execute(
            "select version from marts.dim_firmware_releases where platform_id = ? limit 1",
            [platform],
        ).fetchone()[0]
    result = _gate(gate_world, repo, "--platform", platform, "--version", released)
    assert_one_line_error(result, 2, "is already released")


# ---- the CI templates' command lines ----------------------------------------------------
def _environment(gate_world: GateWorld, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PATCHRISK_DUCKDB_PATH": str(gate_world.warehouse),
        "PATCHRISK_REGISTRY_DIR": str(gate_world.registry),
        **extra,
    }


def _expected_exit(gate_world: GateWorld, repo: FirmwareRepo) -> int:
    return json.loads(_gate(gate_world, repo).stdout)["exit_code"]


def _check_reports(folder: Path, expected_exit: int) -> None:
    markdown = (folder / "patchrisk-gate.md").read_text()
    assert markdown.startswith("## Patch risk gate:") and "**Facts from git**" in markdown
    junit = (folder / "patchrisk-gate.xml").read_text()
    assert ("<failure" in junit) == (expected_exit == 1)


def test_github_actions_workflow(gate_world: GateWorld, repo: FirmwareRepo, tmp_path: Path) -> None:
    workflow = yaml.safe_load((CI / "github-actions.yml").read_text())
    job = workflow["jobs"]["gate"]
    assert job["steps"][0]["with"]["fetch-depth"] == 0
    (step,) = [s for s in job["steps"] if "patchrisk gate" in s.get("run", "")]
    values = {
        "vars.PATCHRISK_WAREHOUSE": str(gate_world.warehouse),
        "vars.PATCHRISK_REGISTRY": str(gate_world.registry),
        "github.event.pull_request.base.sha": repo.git("rev-parse", "main"),
        "github.event.pull_request.head.sha": repo.git("rev-parse", "feature"),
    }

    def expand(text: str) -> str:
        return re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", lambda m: values[m.group(1)], str(text))

    env = {k: expand(v) for k, v in {**job["env"], **step["env"]}.items()}
    summary = tmp_path / "summary.md"
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", expand(step["run"])],
        cwd=repo.root,
        env=_environment(gate_world, **env, GITHUB_STEP_SUMMARY=str(summary)),
        capture_output=True,
        text=True,
    )
    expected = _expected_exit(gate_world, repo)
    assert done.returncode == expected, done.stderr
    _check_reports(repo.root, expected)
    assert summary.read_text() == (repo.root / "patchrisk-gate.md").read_text()


def test_gitlab_ci_job(gate_world: GateWorld, repo: FirmwareRepo) -> None:
    job = yaml.safe_load((CI / "gitlab-ci.yml").read_text())["patchrisk-gate"]
    assert job["variables"]["GIT_DEPTH"] == 0
    exports = [f'export {k}="{v}"' for k, v in job["variables"].items()]
    done = subprocess.run(
        ["bash", "-e", "-c", "\n".join([*exports, *job["script"]])],
        cwd=repo.root,
        env=_environment(
            gate_world,
            CI_MERGE_REQUEST_DIFF_BASE_SHA=repo.git("merge-base", "main", "feature"),
            CI_COMMIT_SHA=repo.git("rev-parse", "feature"),
        ),
        capture_output=True,
        text=True,
    )
    expected = _expected_exit(gate_world, repo)
    assert done.returncode == expected, done.stderr
    _check_reports(repo.root, expected)


def test_pre_push_hook(gate_world: GateWorld, repo: FirmwareRepo) -> None:
    zero = "0" * 40
    pushed = f"refs/heads/feature {repo.git('rev-parse', 'feature')} refs/heads/feature {zero}\n"
    done = subprocess.run(
        [str(CI / "pre-push"), "origin", "file:///remote"],
        cwd=repo.root,
        input=pushed,
        env=_environment(gate_world, PATCHRISK_BASE="main"),
        capture_output=True,
        text=True,
    )
    assert done.returncode == _expected_exit(gate_world, repo), done.stderr
    assert done.stdout.startswith("patchrisk gate ") and "change main..." in done.stdout
