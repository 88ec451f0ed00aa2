"""`.patchrisk.toml`: how `patchrisk gate --git` reads a firmware repository.

Path globs map changed files to components, test files and target platforms; commit
message prefixes give the patch type; a tag pattern finds each platform's latest release;
thresholds may be overridden. Every key is optional (the defaults below); an unknown key,
a wrong type or an unknown component / patch type raises BadInputError (exit 2) naming the
key. Globs are matched against the whole path from the repository root: `*` and `?` stay
within one folder, `**` crosses folders (`**/x/**` is an x folder anywhere).
The example: examples/patchrisk.toml; the documentation: docs/gate.md.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ml.errors import BadInputError
from ml.gate.release_attributes import COMPONENTS, PATCH_TYPES

CONFIG_NAME = ".patchrisk.toml"
DEFAULT_TAG_PATTERN = "{platform}-{version}"
DEFAULT_TEST_GLOBS: tuple[str, ...] = (
    "**/tests/**",
    "**/test/**",
    "**/test_*",
    "**/*_test.*",
    "**/*_tests.*",
)
DEFAULT_PATCH_TYPE_RULES: dict[str, str] = {  # Conventional Commits prefixes
    "fix": "bugfix",
    "feat": "feature",
    "hotfix": "hotfix",
    "security": "security",
    "sec": "security",
}
FAIL_ON = ("block", "review")


def glob_regex(pattern: str) -> str:
    """A path glob as a regex matching whole paths: `**` any folders, `*` / `?` one name."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class PathGlobs:
    """Named glob lists, each compiled into one regex."""

    globs: dict[str, tuple[str, ...]]
    _compiled: dict[str, re.Pattern] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        compiled = {
            name: re.compile("|".join(f"(?:{glob_regex(g)})" for g in globs), re.DOTALL)
            for name, globs in self.globs.items()
            if globs
        }
        object.__setattr__(self, "_compiled", compiled)

    def names_matching(self, path: str) -> tuple[str, ...]:
        """The names with a glob matching `path`, in the table's order."""
        return tuple(n for n, regex in self._compiled.items() if regex.fullmatch(path))


@dataclass(frozen=True)
class GateConfig:
    """A firmware repository's gate settings (docs/gate.md#patchrisktoml)."""

    components: PathGlobs = field(
        default_factory=lambda: PathGlobs({c: (f"**/{c}/**",) for c in COMPONENTS})
    )
    test_paths: PathGlobs = field(default_factory=lambda: PathGlobs({"test": DEFAULT_TEST_GLOBS}))
    platforms: PathGlobs = field(default_factory=lambda: PathGlobs({}))
    patch_type_rules: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PATCH_TYPE_RULES))
    default_patch_type: str | None = None
    tag_pattern: str = DEFAULT_TAG_PATTERN
    review_threshold: float | None = None
    block_threshold: float | None = None
    fail_on: str | None = None
    source: str = "defaults (no .patchrisk.toml)"


def _error(source: str, key: str, problem: str) -> BadInputError:
    return BadInputError(f"{source}: {key}: {problem}")


def _known_keys(table: dict, allowed: tuple[str, ...], source: str, prefix: str = "") -> None:
    for key in table:
        if key not in allowed:
            raise _error(
                source, f"{prefix}{key}", f"unknown key (expected one of {', '.join(allowed)})"
            )


def _globs(value: object, source: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(g, str) and g for g in value):
        raise _error(source, key, 'expected a list of path globs, e.g. ["src/ui/**"]')
    return tuple(value)


def _glob_table(
    value: object, source: str, key: str, names: tuple[str, ...] | None
) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise _error(source, key, "expected a table of name = [globs]")
    if names is not None:
        _known_keys(value, names, source, f"{key}.")
    return {name: _globs(globs, source, f"{key}.{name}") for name, globs in value.items()}


def _patch_type(value: object, source: str, key: str) -> str:
    if value not in PATCH_TYPES:
        raise _error(source, key, f"{value!r} is not a patch type ({', '.join(PATCH_TYPES)})")
    return str(value)


def _probability(value: object, source: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise _error(source, key, f"{value!r} is not a probability in [0, 1]")
    return float(value)


def parse_config(data: dict, source: str) -> GateConfig:
    """A GateConfig from a parsed TOML document; the first problem raises BadInputError."""
    _known_keys(
        data,
        ("components", "test_paths", "platforms", "patch_type", "tag_pattern", "thresholds"),
        source,
    )
    settings: dict = {"source": source}
    if "components" in data:
        settings["components"] = PathGlobs(
            _glob_table(data["components"], source, "components", COMPONENTS)
        )
    if "test_paths" in data:
        settings["test_paths"] = PathGlobs(
            {"test": _globs(data["test_paths"], source, "test_paths")}
        )
    if "platforms" in data:
        settings["platforms"] = PathGlobs(_glob_table(data["platforms"], source, "platforms", None))
    patch_type = data.get("patch_type", {})
    if not isinstance(patch_type, dict):
        raise _error(source, "patch_type", "expected a table with rules and default")
    _known_keys(patch_type, ("rules", "default"), source, "patch_type.")
    if "rules" in patch_type:
        rules = patch_type["rules"]
        if not isinstance(rules, dict) or not rules:
            raise _error(source, "patch_type.rules", 'expected a table like {fix = "bugfix"}')
        settings["patch_type_rules"] = {
            prefix.lower(): _patch_type(kind, source, f"patch_type.rules.{prefix}")
            for prefix, kind in rules.items()
        }
    if "default" in patch_type:
        settings["default_patch_type"] = _patch_type(
            patch_type["default"], source, "patch_type.default"
        )
    if "tag_pattern" in data:
        pattern = data["tag_pattern"]
        if not isinstance(pattern, str) or pattern.count("{version}") != 1:
            raise _error(source, "tag_pattern", "expected text holding {version} once")
        if set(re.findall(r"\{(\w*)\}", pattern)) - {"platform", "version"}:
            raise _error(source, "tag_pattern", "only {platform} and {version} may be used")
        settings["tag_pattern"] = pattern
    thresholds = data.get("thresholds", {})
    if not isinstance(thresholds, dict):
        raise _error(source, "thresholds", "expected a table with review, block, fail_on")
    _known_keys(thresholds, ("review", "block", "fail_on"), source, "thresholds.")
    for name in ("review", "block"):
        if name in thresholds:
            settings[f"{name}_threshold"] = _probability(
                thresholds[name], source, f"thresholds.{name}"
            )
    if "fail_on" in thresholds:
        if thresholds["fail_on"] not in FAIL_ON:
            raise _error(source, "thresholds.fail_on", "expected 'block' or 'review'")
        settings["fail_on"] = thresholds["fail_on"]
    return GateConfig(**settings)


def load_config(repo: Path, path: Path | None = None) -> GateConfig:
    """`path`, else the repository's .patchrisk.toml, else the defaults."""
    if path is None:
        path = repo / CONFIG_NAME
        if not path.is_file():
            return GateConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BadInputError(f"no config file {path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"cannot read {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise BadInputError(f"{path}: invalid TOML: {exc}") from exc
    return parse_config(data, str(path))
