"""From a git change to gate candidates: one per target platform.

The facts git holds come from `ml.gate.git_change`; the rest from options or the
repository's `.patchrisk.toml`: target platforms (--platform, else the config's platform
path globs), patch type (--patch-type, else the commit subjects' prefixes, else the
config's default), version (--version, else the next after the platform's latest tag by
the bump the patch type implies), package size (--package FILE, else unknown) and the
planned date (--planned-date, else now). Each candidate is written as the text cells of a
CSV row and checked by `check_candidates`, the CSV path's own checks: a git candidate and
the same facts typed into a CSV file are the same record, so they score the same.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ml.errors import BadInputError
from ml.gate.candidates import Candidates, check_candidates
from ml.gate.config import GateConfig, load_config
from ml.gate.git_change import ChangeFacts, Git, patch_type_from_subjects, read_change

_VERSION = r"(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})"
Version = tuple[int, int, int]


@dataclass(frozen=True)
class ChangeRequest:
    """`patchrisk gate --git RANGE` and the options that supply what git does not hold."""

    range: str
    repo: Path = Path(".")
    config_path: Path | None = None
    platforms: tuple[str, ...] = ()
    version: str | None = None
    patch_type: str | None = None
    package: Path | None = None
    planned_release_date: str | None = None


@dataclass(frozen=True)
class GitChange:
    """The change's facts, the config read, and how each non-git fact was decided."""

    facts: ChangeFacts
    config: GateConfig
    derived: dict

    def facts_json(self, every_file: bool = False) -> dict:
        return {**self.facts.to_json(every_file), **self.derived, "config": self.config.source}


def target_platforms(facts: ChangeFacts, config: GateConfig, given: tuple[str, ...]) -> tuple:
    """(platforms, how decided): the options', else those whose config globs match a path."""
    if given:
        return tuple(dict.fromkeys(given)), "--platform"
    paths = [p for f in facts.files for p in (f.path, f.old_path) if p is not None]
    matched = {name for path in paths for name in config.platforms.names_matching(path)}
    targets = tuple(name for name in config.platforms.globs if name in matched)
    if not targets:
        where = "matches no [platforms] glob" if config.platforms.globs else "has no [platforms]"
        raise BadInputError(
            f"--git {facts.range}: no target platform: {config.source} {where}; give --platform ID"
        )
    return targets, f"[platforms] globs in {config.source}"


def decide_patch_type(facts: ChangeFacts, config: GateConfig, given: str | None) -> tuple:
    """(patch type, how decided): the option, the commit subjects, or the config default."""
    if given:
        return given, "--patch-type"
    found = patch_type_from_subjects(facts.subjects, config.patch_type_rules)
    if found:
        return found, "commit subjects (" + ", ".join(
            f"{p}:" for p in config.patch_type_rules
        ) + ")"
    if config.default_patch_type:
        return config.default_patch_type, f"patch_type.default in {config.source}"
    raise BadInputError(
        f"--git {facts.range}: no commit subject starts with a patch type prefix "
        f"({', '.join(f'{p}:' for p in config.patch_type_rules)}); give --patch-type "
        "or patch_type.default in .patchrisk.toml"
    )


def latest_tagged_version(
    tags: list[str], pattern: str, platform: str
) -> tuple[Version, str] | None:
    """The highest version among tags written as `pattern` for `platform`, and its tag."""
    regex = re.compile(
        re.escape(pattern)
        .replace(re.escape("{platform}"), re.escape(platform))
        .replace(re.escape("{version}"), _VERSION)
    )
    versions = [(tuple(map(int, m.groups())), tag) for tag in tags if (m := regex.fullmatch(tag))]
    return max(versions) if versions else None


def next_version(latest: Version, patch_type: str) -> str:
    """A feature bumps MINOR, every other patch type PATCH (MAJOR only by --version)."""
    major, minor, patch = latest
    return f"{major}.{minor + 1}.0" if patch_type == "feature" else f"{major}.{minor}.{patch + 1}"


def package_size_kb(path: Path) -> int:
    """The built artifact's size in KiB, rounded up."""
    if not path.is_file():
        raise BadInputError(f"--package {path}: no such file")
    return math.ceil(path.stat().st_size / 1024)


def read_git_change(request: ChangeRequest) -> GitChange:
    """Read the change and decide the facts git does not hold (see the module doc)."""
    git = Git(request.repo)
    config = load_config(request.repo, request.config_path)
    facts = read_change(git, request.range, config)
    platforms, platforms_from = target_platforms(facts, config, request.platforms)
    patch_type, patch_type_from = decide_patch_type(facts, config, request.patch_type)
    versions = {}
    tags = [] if request.version else git.tags()
    for platform in platforms:
        if request.version:
            versions[platform] = {"version": request.version, "from": "--version"}
            continue
        latest = latest_tagged_version(tags, config.tag_pattern, platform)
        if latest is None:
            tag = config.tag_pattern.format(platform=platform, version="MAJOR.MINOR.PATCH")
            raise BadInputError(
                f"--git: no tag {tag} in {request.repo} to count {platform}'s next version "
                "from; give --version or tag_pattern in .patchrisk.toml"
            )
        (numbers, tag) = latest
        versions[platform] = {
            "version": next_version(numbers, patch_type),
            "from": f"tag {tag} + {'minor' if patch_type == 'feature' else 'patch'} bump",
        }
    size = None if request.package is None else package_size_kb(request.package)
    derived = {
        "platforms": {"ids": list(platforms), "from": platforms_from},
        "patch_type": {"value": patch_type, "from": patch_type_from},
        "versions": versions,
        "package": {
            "path": None if request.package is None else str(request.package),
            "size_kb": size,
            "from": "--package" if size is not None else "unknown: no --package FILE",
        },
        "planned_release_date": request.planned_release_date or "now",
    }
    return GitChange(facts, config, derived)


def git_candidates(change: GitChange) -> Candidates:
    """One checked candidate per target platform, through the CSV path's checks."""
    facts = change.facts
    size = change.derived["package"]["size_kb"]
    cells = pd.DataFrame(
        [
            {
                "version": change.derived["versions"][platform]["version"],
                "platform_id": platform,
                "patch_type": change.derived["patch_type"]["value"],
                "files_changed": str(len(facts.files)),
                "lines_added": str(facts.lines_added),
                "lines_deleted": str(facts.lines_deleted),
                "components_touched": "|".join(facts.components),
                "package_size_kb": "" if size is None else str(size),
                "test_files_changed": str(facts.test_files_changed),
                "planned_release_date": ""
                if change.derived["planned_release_date"] == "now"
                else change.derived["planned_release_date"],
            }
            for platform in change.derived["platforms"]["ids"]
        ],
        dtype=object,
    )
    source = f"git {facts.range}"
    frame = check_candidates(cells, source)
    return Candidates(frame, source, "git", None, facts=change.facts_json())
