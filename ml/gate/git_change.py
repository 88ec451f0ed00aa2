"""A patch's facts from a git change: run the git CLI, then count with pure functions.

`read_change` resolves a revision range (`A..B`: A to B; `A...B`: from the merge base, what
a pull request shows; `R`: R..HEAD), reads `git diff --numstat -z -M` and the commit
subjects, and `classify` maps each changed file to components and test files by the
config's globs. Counting rules (docs/gate.md#facts-from-git---git): a rename counts once (its
old and new paths both name components), a binary file counts as a file with 0 lines, a
deleted file counts as a file with its deleted lines. Every git problem is one line:
BadInputError (exit 2) for a bad repository / revision / range, EnvironmentFailure
(exit 3) when git itself is missing or fails.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from ml.errors import BadInputError, EnvironmentFailure
from ml.gate.config import GateConfig
from ml.gate.release_attributes import COMPONENTS

_SHALLOW_HINT = (
    "the clone is shallow: fetch the history (actions/checkout with fetch-depth: 0, "
    "GIT_DEPTH: 0 on GitLab, or git fetch --unshallow)"
)
_ENV = {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}


# ---- pure: parsing and counting ----------------------------------------------------------
@dataclass(frozen=True)
class FileChange:
    """One entry of `git diff --numstat`: lines are None for a binary file."""

    path: str
    old_path: str | None
    lines_added: int | None
    lines_deleted: int | None


@dataclass(frozen=True)
class PathFacts:
    """A changed file as the gate counts it."""

    path: str
    old_path: str | None
    lines_added: int
    lines_deleted: int
    is_binary: bool
    components: tuple[str, ...]
    is_test: bool


def parse_range(text: str) -> tuple[str, str, bool]:
    """(base, head, from_merge_base) of `A..B`, `A...B` or `R` (= R..HEAD); an empty side
    is HEAD, as in git."""
    for dots, symmetric in (("...", True), ("..", False)):
        if dots in text:
            base, head = text.split(dots, 1)
            if dots in head or "..." in base or "-" in (base[:1], head[:1]):
                break
            return base or "HEAD", head or "HEAD", symmetric
    else:
        if text.strip() and not text.startswith("-"):
            return text, "HEAD", False
    raise BadInputError(f"--git {text!r} is not a revision range (A..B, A...B or a revision)")


def _lines(text: bytes) -> int | None:
    return None if text == b"-" else int(text)


def parse_numstat(data: bytes) -> list[FileChange]:
    """The entries of `git diff --numstat -z`: `added TAB deleted TAB path NUL`, or for a
    rename `added TAB deleted TAB NUL old NUL new NUL`; `-` counts mark a binary file."""
    tokens = data.split(b"\0")
    changes: list[FileChange] = []
    i = 0
    while i < len(tokens) and tokens[i]:
        added, deleted, path = tokens[i].split(b"\t", 2)
        old = None
        if not path:  # a rename or copy: the two paths follow
            old, path = tokens[i + 1], tokens[i + 2]
            i += 2
        changes.append(
            FileChange(
                path=os.fsdecode(path),
                old_path=None if old is None else os.fsdecode(old),
                lines_added=_lines(added),
                lines_deleted=_lines(deleted),
            )
        )
        i += 1
    return changes


def classify(changes: list[FileChange], config: GateConfig) -> tuple[PathFacts, ...]:
    """Each changed file with its components (matched on the new and the old path) and
    whether it is a test file (the new path)."""
    out = []
    for c in changes:
        names = set(config.components.names_matching(c.path))
        if c.old_path is not None:
            names.update(config.components.names_matching(c.old_path))
        binary = c.lines_added is None
        out.append(
            PathFacts(
                path=c.path,
                old_path=c.old_path,
                lines_added=c.lines_added or 0,
                lines_deleted=c.lines_deleted or 0,
                is_binary=binary,
                components=tuple(n for n in COMPONENTS if n in names),
                is_test=bool(config.test_paths.names_matching(c.path)),
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class ChangeFacts:
    """What the gate knows about a change: its revisions, commits and counted files."""

    range: str
    base_commit: str
    head_commit: str
    subjects: tuple[str, ...]
    files: tuple[PathFacts, ...]

    @property
    def lines_added(self) -> int:
        return sum(f.lines_added for f in self.files)

    @property
    def lines_deleted(self) -> int:
        return sum(f.lines_deleted for f in self.files)

    @property
    def components(self) -> tuple[str, ...]:
        touched = {c for f in self.files for c in f.components}
        return tuple(c for c in COMPONENTS if c in touched)

    @property
    def test_files_changed(self) -> int:
        return sum(f.is_test for f in self.files)

    def paths_of(self, component: str) -> list[str]:
        return [f.path for f in self.files if component in f.components]

    @property
    def unmatched_paths(self) -> list[str]:
        return [f.path for f in self.files if not f.components]

    def to_json(self, every_file: bool = False, examples: int = 5) -> dict:
        """The facts for the report: counts, and each component's first paths (or every
        changed file with what it counted as)."""
        out = {
            "range": self.range,
            "base_commit": self.base_commit,
            "head_commit": self.head_commit,
            "commits": len(self.subjects),
            "files_changed": len(self.files),
            "lines_added": self.lines_added,
            "lines_deleted": self.lines_deleted,
            "binary_files": sum(f.is_binary for f in self.files),
            "renamed_files": sum(f.old_path is not None for f in self.files),
            "test_files_changed": self.test_files_changed,
            "components": {c: len(self.paths_of(c)) for c in self.components},
            "unmatched_files": len(self.unmatched_paths),
        }
        if every_file:
            out["files"] = [asdict(f) for f in self.files]
        else:
            out["component_examples"] = {c: self.paths_of(c)[:examples] for c in self.components}
            out["unmatched_examples"] = self.unmatched_paths[:examples]
        return out


# ---- I/O: the git CLI -----------------------------------------------------------------------
class Git:
    """The git CLI on one repository; each failure becomes a one-line error."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        if not repo.is_dir():
            raise BadInputError(f"--repo {repo}: no such folder")
        probe = self._run("rev-parse", "--is-shallow-repository", check=False)
        if probe.returncode != 0:
            raise BadInputError(f"{repo} is not a git repository (give --repo PATH)")
        self.is_shallow = probe.stdout.strip() == b"true"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        try:
            done = subprocess.run(
                ["git", "-C", str(self.repo), *args], capture_output=True, env=_ENV
            )
        except OSError as exc:
            raise EnvironmentFailure(f"cannot run git: {exc.strerror or exc}") from exc
        if check and done.returncode != 0:
            message = done.stderr.decode(errors="replace").strip().splitlines()
            raise EnvironmentFailure(
                f"git {args[0]} failed in {self.repo}: {message[0] if message else done.returncode}"
            )
        return done

    def commit(self, revision: str) -> str:
        """The commit id of `revision`; an unknown one is bad input (with the shallow hint)."""
        done = self._run("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}", check=False)
        if done.returncode != 0:
            hint = f"; {_SHALLOW_HINT}" if self.is_shallow else ""
            raise BadInputError(f"--git: unknown revision {revision!r} in {self.repo}{hint}")
        return done.stdout.decode().strip()

    def merge_base(self, base: str, head: str, range_text: str) -> str:
        done = self._run("merge-base", base, head, check=False)
        if done.returncode != 0:
            if self.is_shallow:
                raise BadInputError(
                    f"--git {range_text}: no merge base in the history; {_SHALLOW_HINT}"
                )
            raise BadInputError(f"--git {range_text}: the two revisions share no history")
        return done.stdout.decode().strip()

    def tags(self) -> list[str]:
        return os.fsdecode(self._run("tag", "--list").stdout).splitlines()

    def numstat(self, base: str, head: str) -> bytes:
        return self._run(
            "diff", "--numstat", "-z", "-M", "--no-ext-diff", "--no-textconv", base, head
        ).stdout

    def subjects(self, base: str, head: str) -> tuple[str, ...]:
        """The subjects of the commits reachable from head but not from base."""
        log = self._run("log", "-z", "--format=%s", f"{base}..{head}").stdout
        return tuple(os.fsdecode(s) for s in log.split(b"\0") if s)


def read_change(git: Git, range_text: str, config: GateConfig) -> ChangeFacts:
    """The facts of `range_text` in the repository; an empty range is bad input."""
    base_revision, head_revision, from_merge_base = parse_range(range_text)
    base, head = git.commit(base_revision), git.commit(head_revision)
    if from_merge_base:
        base = git.merge_base(base, head, range_text)
    files = classify(parse_numstat(git.numstat(base, head)), config)
    if not files:
        raise BadInputError(f"--git {range_text}: the range changes no files: nothing to gate")
    return ChangeFacts(range_text, base, head, git.subjects(base, head), files)


_CONVENTIONAL = re.compile(r"\s*([A-Za-z]+)(?:\([^)]*\))?!?:")


def patch_type_from_subjects(subjects: tuple[str, ...], rules: dict[str, str]) -> str | None:
    """The riskiest patch type that a commit subject's prefix names (`fix(ui): ...` with
    rules {fix: bugfix}); hotfix > security > feature > bugfix; None when none matches."""
    found = set()
    for subject in subjects:
        match = _CONVENTIONAL.match(subject)
        if match and match.group(1).lower() in rules:
            found.add(rules[match.group(1).lower()])
    return next((t for t in ("hotfix", "security", "feature", "bugfix") if t in found), None)
