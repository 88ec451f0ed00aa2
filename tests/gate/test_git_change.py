"""A patch's facts from real git repositories (ml.gate.git_change, ml.gate.config,
ml.gate.change_candidates), checked against hand counts; no warehouse needed."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from ml.errors import BadInputError
from ml.gate.change_candidates import (
    ChangeRequest,
    git_candidates,
    latest_tagged_version,
    next_version,
    read_git_change,
)
from ml.gate.config import GateConfig, glob_regex, load_config, parse_config
from ml.gate.git_change import parse_numstat, parse_range, patch_type_from_subjects
from tests.gate.conftest import FirmwareRepo, lines
from tests.gate.git_world import EXPECTED, pull_request_repo

PLATFORMS = ("ares", "helios")


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> FirmwareRepo:
    return pull_request_repo(tmp_path_factory.mktemp("git") / "firmware", PLATFORMS)


def _facts(repo: FirmwareRepo, range_text: str = "main...feature", **options) -> dict:
    return read_git_change(ChangeRequest(range_text, repo.root, **options)).facts_json()


def test_pull_request_facts_match_the_hand_counts(repo: FirmwareRepo) -> None:
    facts = _facts(repo)
    assert {k: facts[k] for k in EXPECTED} == EXPECTED
    assert facts["component_examples"]["ui"] == ["src/ui/menu.c", "src/video/icons.c"]
    assert facts["unmatched_examples"] == [
        "docs/readme.md",
        "firmware/logo.bin",
        "tests/test_menu.c",
    ]
    assert facts["head_commit"] == repo.git("rev-parse", "feature")
    assert facts["base_commit"] == repo.git("rev-parse", "main")  # feature merged main


def test_two_dots_diff_the_endpoints(repo: FirmwareRepo) -> None:
    """main~1..feature also holds main's own video fix (+2), merged into feature."""
    facts = _facts(repo, "main~1..feature")
    assert (facts["files_changed"], facts["lines_added"]) == (8, 19)
    assert facts["components"]["video"] == 2


def test_undecided_facts_come_from_config_tags_and_subjects(repo: FirmwareRepo) -> None:
    facts = _facts(repo)
    assert facts["platforms"]["ids"] == ["ares", "helios"]  # helios: a drm path changed
    assert facts["patch_type"]["value"] == "feature"  # feat(ui): beats fix:
    assert facts["versions"]["ares"]["version"] == "95.11.0"  # after 95.10.0, not 95.9.0
    assert facts["versions"]["helios"]["version"] == "92.1.0"
    assert facts["package"]["size_kb"] is None
    only_ui = _facts(repo, "main...feature~4")  # the feat(ui) commit alone: ui and tests
    assert only_ui["platforms"]["ids"] == ["ares"]


def test_options_override(repo: FirmwareRepo, tmp_path: Path) -> None:
    package = tmp_path / "fw.bin"
    package.write_bytes(b"x" * 2049)
    facts = _facts(
        repo,
        platforms=("helios",),
        version="7.0.0",
        patch_type="hotfix",
        package=package,
        planned_release_date="2031-01-02",
    )
    assert facts["platforms"]["ids"] == ["helios"]
    assert facts["versions"] == {"helios": {"version": "7.0.0", "from": "--version"}}
    assert facts["patch_type"] == {"value": "hotfix", "from": "--patch-type"}
    assert facts["package"]["size_kb"] == 3  # 2,049 bytes rounded up to KiB


def test_the_candidate_is_a_checked_csv_record(repo: FirmwareRepo) -> None:
    candidates = git_candidates(read_git_change(ChangeRequest("main...feature", repo.root)))
    frame = candidates.frame.set_index("platform_id")
    assert list(frame.index) == ["ares", "helios"]
    row = frame.loc["ares"]
    assert (row["files_changed"], row["lines_added"], row["lines_deleted"]) == (7, 17, 11)
    assert row["components_touched"] == "drm|network|ui|video"
    assert row["test_files_changed"] == 1 and row["patch_type"] == "feature"
    assert frame["package_size_kb"].isna().all()
    assert candidates.input_format == "git" and candidates.facts["commits"] == 5


def test_only_deletions_are_a_change(repo: FirmwareRepo, tmp_path: Path) -> None:
    repo.git("checkout", "-q", "-b", "deletions", "main")
    repo.git("rm", "-q", "src/drm/keys.c", "docs/readme.md")
    repo.commit("fix: drop dead code")
    facts = _facts(repo, "main...deletions")
    assert (facts["files_changed"], facts["lines_added"], facts["lines_deleted"]) == (2, 0, 15)
    assert facts["components"] == {"drm": 1}
    repo.git("checkout", "-q", "feature")


# ---- pure parts ----------------------------------------------------------------------------
def test_parse_numstat_renames_and_binaries() -> None:
    data = b"3\t1\tsrc/a.c\x00-\t-\tlogo.bin\x000\t0\t\x00old name.c\x00new\tname.c\x00"
    changes = parse_numstat(data)
    assert [(c.path, c.old_path, c.lines_added) for c in changes] == [
        ("src/a.c", None, 3),
        ("logo.bin", None, None),
        ("new\tname.c", "old name.c", 0),
    ]
    assert parse_numstat(b"") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("origin/main...HEAD", ("origin/main", "HEAD", True)),
        ("a..b", ("a", "b", False)),
        ("v1..", ("v1", "HEAD", False)),
        ("HEAD~3", ("HEAD~3", "HEAD", False)),
    ],
)
def test_parse_range(text: str, expected: tuple) -> None:
    assert parse_range(text) == expected


@pytest.mark.parametrize("text", ["", "a..b..c", "--output=x", "a...-x"])
def test_parse_range_refuses(text: str) -> None:
    with pytest.raises(BadInputError, match="not a revision range"):
        parse_range(text)


@pytest.mark.parametrize(
    ("glob", "path", "matches"),
    [
        ("src/ui/**", "src/ui/a/b.c", True),
        ("src/ui/**", "src/uix/b.c", False),
        ("**/ui/**", "ui/b.c", True),
        ("**/ui/**", "lib/ui/b.c", True),
        ("src/*.c", "src/a/b.c", False),
        ("**/test_*", "x/test_a.c", True),
        ("a?.c", "ab.c", True),
    ],
)
def test_glob_regex(glob: str, path: str, matches: bool) -> None:

    assert bool(re.fullmatch(glob_regex(glob), path)) is matches


def test_patch_type_from_subjects() -> None:
    rules = GateConfig().patch_type_rules
    assert patch_type_from_subjects(("fix: a", "feat(ui)!: b"), rules) == "feature"
    assert patch_type_from_subjects(("fix: a", "hotfix: b", "security: c"), rules) == "hotfix"
    assert patch_type_from_subjects(("Merge branch 'x'", "wip"), rules) is None


def test_versions_from_tags() -> None:
    tags = ["ares-5.9.0", "ares-5.10.0", "ares-05.99.0", "ares-6.0", "aresx-9.0.0", "helios-1.0.0"]
    assert latest_tagged_version(tags, "{platform}-{version}", "ares") == (
        (5, 10, 0),
        "ares-5.10.0",
    )
    assert latest_tagged_version(["fw/ares/v1.2.3"], "fw/{platform}/v{version}", "ares") == (
        (1, 2, 3),
        "fw/ares/v1.2.3",
    )
    assert latest_tagged_version(tags, "{platform}-{version}", "cronos") is None
    assert next_version((5, 10, 2), "feature") == "5.11.0"
    assert next_version((5, 10, 2), "hotfix") == "5.10.3"


# ---- config errors name the key -----------------------------------------------------------
@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("colour = 1", "colour: unknown key"),
        ('[components]\nuix = ["a/**"]', "components.uix: unknown key"),
        ('[components]\nui = "a/**"', "components.ui: expected a list of path globs"),
        ("test_paths = [1]", "test_paths: expected a list"),
        ('[patch_type]\ndefault = "chore"', "patch_type.default: 'chore' is not a patch type"),
        ('[patch_type]\nrules = {fix = "typo"}', "patch_type.rules.fix"),
        ('tag_pattern = "{platform}"', "tag_pattern: expected text holding {version}"),
        ('tag_pattern = "{board}-{version}"', "tag_pattern: only {platform} and {version}"),
        ("[thresholds]\nblock = 1.5", "thresholds.block: 1.5 is not a probability"),
        ('[thresholds]\nfail_on = "pass"', "thresholds.fail_on"),
        ("[platforms\n", "invalid TOML"),
    ],
)
def test_config_errors_name_the_key(tmp_path: Path, toml: str, key: str) -> None:
    (tmp_path / ".patchrisk.toml").write_text(toml)
    with pytest.raises(BadInputError, match=re.escape(key)):
        load_config(tmp_path)


def test_example_config_is_valid() -> None:
    from tests.conftest import REPO_ROOT

    config = load_config(REPO_ROOT, REPO_ROOT / "examples" / "patchrisk.toml")
    assert config.components.names_matching("src/ui/menu.c") == ("ui",)
    assert parse_config({}, "x") == GateConfig(source="x")


def test_shallow_clone_without_the_merge_base(repo: FirmwareRepo, tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{repo.root}", clone],
        check=True,
    )
    subprocess.run(
        ["git", "-C", clone, "fetch", "-q", "--depth", "1", "origin", "main:main"], check=True
    )
    with pytest.raises(BadInputError, match=r"shallow: fetch the history .*fetch-depth: 0"):
        read_git_change(ChangeRequest("main...feature", clone))


def test_missing_tag_says_what_to_do(tmp_path: Path) -> None:
    repo = FirmwareRepo(tmp_path / "untagged")
    repo.commit("feat: first", **{"src__ui__a.c": lines(2)})
    repo.commit("fix: second", **{"src__ui__a.c": lines(3)})
    with pytest.raises(BadInputError, match=r"no tag ares-MAJOR\.MINOR\.PATCH .*give --version"):
        read_git_change(ChangeRequest("HEAD~1", repo.root, platforms=("ares",)))
