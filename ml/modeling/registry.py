"""The model registry on disk (`models_artifacts/`).

Layout::

    models_artifacts/
      v0001/                  one folder per version, never modified once written
        classifier.cbm        CatBoost native format (never pickle)
        regressor.cbm
        linear_base.json      the logistic regression the classifier is boosted from
        metadata.json         features, calibration, thresholds, metrics, SHA-256 of each file
      aliases.json            {"champion": "v0001", "challenger": "v0002"}, replaced atomically
      alias_history.jsonl     append-only: one JSON line per alias change
      .lock                   the writers' lock

Consistency under kills (tests/faults/test_registry_faults.py kills every step):

- A version is written into a `.partial-*` folder inside the registry, fsynced and renamed
  into place in one step, so a version folder is always complete. Loading verifies every
  file's SHA-256 against the metadata.
- aliases.json says which version holds an alias; its atomic replace is the moment an
  alias changes. The history is its journal: a change is appended (and fsynced) before the
  alias file is replaced, so every change in effect is in the history. The history may
  therefore end with one change that never took effect (its writer died before the alias
  write) or with a cut-off line (died inside the append). Readers leave both out (they
  replay the history against aliases.json to tell), so aliases and history always agree.
- Every change (a save, an alias change, a history record) holds one exclusive lock
  (fcntl.flock on `.lock`) and first repairs what a killed writer left: it removes
  `.partial-*` folders and temporary alias files and truncates the history to what took
  effect. Holding the lock, no live writer can own any of them. Readers take the lock
  shared, to see aliases and history from the same moment, and write nothing: a read-only
  registry (a CI checkout) stays usable.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ml.errors import BadInputError, EnvironmentFailure, IntegrityError
from ml.failpoints import failpoint
from ml.modeling.registry_format import (
    ALIASES,
    CLASSIFIER_FILE,
    LINEAR_BASE_FILE,
    MODEL_FILES,
    REGRESSOR_FILE,
    History,
    champion_stack,
    check_metadata,
    committed,
    is_version,
    parse_aliases,
    parse_history,
)

if TYPE_CHECKING:  # the model libraries load only when a model does (a quick `models` CLI)
    from catboost import CatBoostClassifier, CatBoostRegressor

    from ml.modeling.calibration import Calibrator
    from ml.modeling.decision import CostMatrix, Thresholds
    from ml.modeling.features import FeatureSpec
    from ml.modeling.linear_base import LinearBase

ALIASES_FILE = "aliases.json"
HISTORY_FILE = "alias_history.jsonl"
METADATA_FILE = "metadata.json"
LOCK_FILE = ".lock"
PARTIAL_PREFIX = ".partial-"
_log = logging.getLogger(__name__)


def default_registry_dir() -> Path:
    """$PATCHRISK_REGISTRY_DIR, else models_artifacts/ in the repo."""
    from ml.warehouse.dbt import REPO_ROOT

    env = os.environ.get("PATCHRISK_REGISTRY_DIR")
    return Path(env) if env else REPO_ROOT / "models_artifacts"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fsync(path: Path) -> None:
    """Flush a file's or a folder's contents (a folder: its entries) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write_text(path: Path, text: str) -> None:
    """Write to a temp file beside `path`, fsync, then os.replace."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        failpoint("registry.aliases.written")
        os.replace(tmp, path)
        _fsync(path.parent)
        failpoint("registry.aliases.replaced")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class LoadedModel:
    """A verified registry version, ready to score."""

    version: str
    classifier: CatBoostClassifier
    linear_base: LinearBase  # the classifier's trees add to its log-odds
    regressor: CatBoostRegressor
    metadata: dict

    @property
    def spec(self) -> FeatureSpec:
        from ml.modeling.features import FeatureSpec

        f = self.metadata["features"]
        return FeatureSpec(
            features=tuple(f["names"]),
            categorical=tuple(f["categorical"]),
            required_mart_columns=tuple(f["required_mart_columns"]),
        )

    @property
    def calibrator(self) -> Calibrator:
        from ml.modeling.calibration import Calibrator

        return Calibrator.from_json(self.metadata["calibration"])

    @property
    def thresholds(self) -> Thresholds:
        from ml.modeling.decision import Thresholds

        return Thresholds.from_json(self.metadata["thresholds"])

    @property
    def cost(self) -> CostMatrix:
        from ml.modeling.decision import CostMatrix

        return CostMatrix.from_json(self.metadata["cost_matrix"])

    @property
    def regressor_target(self) -> str:
        return self.metadata["regressor"]["target"]


class Registry:
    """Versions, aliases and alias history under one folder."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root else default_registry_dir()

    # ---- locking and repair ---------------------------------------------------------
    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the exclusive lock, after repairing what killed writers left."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise EnvironmentFailure(f"cannot write the registry {self.root}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            failpoint("registry.lock.acquired")
            self._repair()
            yield
        except OSError as exc:
            raise EnvironmentFailure(f"cannot write the registry {self.root}: {exc}") from exc
        finally:
            os.close(fd)

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """Hold the lock shared (no writer mid-change) when a writer ever made one."""
        try:
            fd = os.open(self.root / LOCK_FILE, os.O_RDONLY)
        except OSError:  # no writer has run here
            fd = None
        try:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_SH)
            yield
        finally:
            if fd is not None:
                os.close(fd)

    def _repair(self) -> None:
        """Remove what killed writers left (under the exclusive lock: no live writer owns
        any of it): half-written version folders, temporary alias files, and history lines
        whose change never took effect."""
        for partial in sorted(self.root.glob(f"{PARTIAL_PREFIX}*")):
            shutil.rmtree(partial)
            _log.warning("registry: removed %s, a version a killed save left half-written", partial)
            failpoint("registry.repair.partial_removed")
        for temp in sorted(self.root.glob(f".{ALIASES_FILE}.*")):
            temp.unlink()
            failpoint("registry.repair.temp_removed")
        history = self._history_file()
        end = history.end_of(committed(history.events, self.aliases(), self._where()))
        if end < history.size:
            with open(self.root / HISTORY_FILE, "r+b") as fh:
                fh.truncate(end)
                os.fsync(fh.fileno())
            _log.warning(
                "registry: removed the end of %s, which never took effect (a killed change)",
                self.root / HISTORY_FILE,
            )
            failpoint("registry.repair.history_truncated")
        elif not history.ends_in_newline:  # a whole last line, written by hand without one
            with open(self.root / HISTORY_FILE, "ab") as fh:
                fh.write(b"\n")

    def _where(self) -> str:
        return f"{self.root / ALIASES_FILE} vs {self.root / HISTORY_FILE}"

    # ---- versions -------------------------------------------------------------------
    def versions(self) -> list[str]:
        if not self.root.is_dir():
            return []
        found = [p.name for p in self.root.iterdir() if p.is_dir() and is_version(p.name)]
        return sorted(found, key=lambda v: int(v[1:]))

    def _next_version(self) -> str:
        versions = self.versions()
        return f"v{(int(versions[-1][1:]) + 1 if versions else 1):04d}"

    def save(
        self,
        classifier: CatBoostClassifier,
        regressor: CatBoostRegressor,
        metadata: dict,
        *,
        linear_base: LinearBase,
    ) -> str:
        """Write a new version atomically and return its name."""
        with self._writing():
            tmp = Path(tempfile.mkdtemp(prefix=PARTIAL_PREFIX, dir=self.root))
            try:
                tmp.chmod(0o755)  # mkdtemp makes it private; versions are shared artifacts
                failpoint("registry.save.partial_created")
                classifier.save_model(str(tmp / CLASSIFIER_FILE), format="cbm")
                failpoint("registry.save.file_written")
                regressor.save_model(str(tmp / REGRESSOR_FILE), format="cbm")
                failpoint("registry.save.file_written")
                (tmp / LINEAR_BASE_FILE).write_text(json.dumps(linear_base.to_json(), indent=2))
                failpoint("registry.save.file_written")
                version = self._next_version()
                files = {name: sha256_file(tmp / name) for name in MODEL_FILES}
                meta = {"version": version, **metadata, "files": files}
                (tmp / METADATA_FILE).write_text(json.dumps(meta, indent=2))
                for path in (*tmp.iterdir(), tmp):
                    _fsync(path)
                failpoint("registry.save.metadata_written")
                os.rename(tmp, self.root / version)
                _fsync(self.root)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            failpoint("registry.save.renamed")
            return version

    def register(
        self,
        classifier: CatBoostClassifier,
        regressor: CatBoostRegressor,
        metadata: dict,
        *,
        linear_base: LinearBase,
        promote: bool = False,
    ) -> str:
        """Save a new version and make it the challenger; also the champion when asked
        (`promote`) or when there is none yet. Returns the version."""
        version = self.save(classifier, regressor, metadata, linear_base=linear_base)
        self.set_challenger(version)
        if promote or "champion" not in self.aliases():
            self.promote(version, reason="trained --promote" if promote else "first model")
        return version

    def resolve(self, name: str) -> str:
        """A version name, or an alias resolved to one."""
        if name in ALIASES:
            version = self.aliases().get(name)
            if version is None:
                raise BadInputError(f"no model has the alias {name!r} in {self.root}")
            if not (self.root / version).is_dir():
                raise IntegrityError(
                    f"{self.root / ALIASES_FILE}: {name} is {version}, which is not in the registry"
                )
            return version
        if not is_version(name):
            raise BadInputError(
                f"{name!r} is neither a model version (v0001, ...) nor an alias {ALIASES}"
            )
        if not (self.root / name).is_dir():
            raise BadInputError(f"no model version {name!r} in {self.root}")
        return name

    def metadata(self, name: str) -> dict:
        version = self.resolve(name)
        path = self.root / version / METADATA_FILE
        try:
            meta = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise IntegrityError(f"unreadable metadata {path}: {exc}") from exc
        return check_metadata(meta, path, version)

    def verify(self, name: str) -> dict:
        """Metadata of a version whose files all match their recorded SHA-256."""
        meta = self.metadata(name)
        folder = self.root / meta["version"]
        for file, expected in meta["files"].items():
            path = folder / file
            if not path.is_file():
                raise IntegrityError(f"{path} is missing")
            actual = sha256_file(path)
            if actual != expected:
                raise IntegrityError(
                    f"{path} has SHA-256 {actual[:12]}..., metadata says {expected[:12]}..."
                )
        return meta

    def load(self, name: str = "champion") -> LoadedModel:
        """Verify and load a version (or alias) for scoring."""
        from catboost import CatBoostClassifier, CatBoostRegressor

        from ml.modeling.linear_base import LinearBase

        meta = self.verify(name)
        if LINEAR_BASE_FILE not in meta["files"]:
            raise IntegrityError(
                f"model {meta['version']} predates the linear base its classifier is boosted "
                f"from (no {LINEAR_BASE_FILE}): retrain it with patchrisk train"
            )
        folder = self.root / meta["version"]
        classifier = CatBoostClassifier()
        classifier.load_model(str(folder / CLASSIFIER_FILE), format="cbm")
        linear_base = LinearBase.from_json(json.loads((folder / LINEAR_BASE_FILE).read_text()))
        regressor = CatBoostRegressor()
        regressor.load_model(str(folder / REGRESSOR_FILE), format="cbm")
        return LoadedModel(meta["version"], classifier, linear_base, regressor, meta)

    # ---- aliases and their history --------------------------------------------------
    def aliases(self) -> dict[str, str]:
        path = self.root / ALIASES_FILE
        try:
            text = path.read_text()
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise IntegrityError(f"unreadable {path}: {exc}") from exc
        return parse_aliases(text, path)

    def _history_file(self) -> History:
        path = self.root / HISTORY_FILE
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = b""
        except OSError as exc:
            raise IntegrityError(f"unreadable {path}: {exc}") from exc
        return parse_history(data, path)

    def _history(self) -> list[dict]:
        """The changes that took effect (see the module docstring)."""
        aliases = self.aliases()  # first: a change appends to the history before it
        events = self._history_file().events
        return events[: committed(events, aliases, self._where())]

    def history(self) -> list[dict]:
        """Every alias change (and kept-champion record), oldest first."""
        with self._reading():
            return self._history()

    def champion_stack(self) -> list[str]:
        """Champions in order, replaying the history (promote pushes, rollback pops)."""
        return champion_stack(self.history())

    def _append_history(self, event: dict) -> None:
        with open(self.root / HISTORY_FILE, "a") as fh:
            fh.write(json.dumps(event) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        failpoint("registry.history.appended")

    def _set_alias(
        self,
        alias: str,
        version: str | None,
        action: str,
        reason: str,
        evidence: dict | None = None,
    ) -> dict:
        """Journal the change, then make it (under the writers' lock)."""
        aliases = self.aliases()
        event = {
            "at": _now(),
            "action": action,
            "alias": alias,
            "version": version,
            "previous": aliases.get(alias),
            "reason": reason,
            **({"evidence": evidence} if evidence is not None else {}),
        }
        self._append_history(event)
        if version is None:
            aliases.pop(alias, None)
        else:
            aliases[alias] = version
        _atomic_write_text(self.root / ALIASES_FILE, json.dumps(aliases, indent=2) + "\n")
        return event

    def set_challenger(self, version: str, reason: str = "trained") -> dict:
        with self._writing():
            return self._set_alias("challenger", self.resolve(version), "register", reason)

    def promote(
        self, name: str = "challenger", reason: str = "promoted", evidence: dict | None = None
    ) -> dict:
        """Make a version (or the challenger) the champion; clears the challenger alias if
        it pointed at the promoted version."""
        with self._writing():
            version = self.resolve(name)
            self.verify(version)
            if self.aliases().get("champion") == version:
                raise BadInputError(f"{version} is already the champion")
            event = self._set_alias("champion", version, "promote", reason, evidence)
            if self.aliases().get("challenger") == version:
                self._set_alias("challenger", None, "clear", f"{version} promoted to champion")
            return event

    def record_kept(self, challenger: str, reason: str, evidence: dict) -> dict:
        """Record (history only) that the champion stays and why the challenger lost."""
        with self._writing():
            champion = self.aliases().get("champion")
            event = {
                "at": _now(),
                "action": "keep",
                "alias": "champion",
                "version": champion,
                "previous": champion,
                "challenger": challenger,
                "reason": reason,
                "evidence": evidence,
            }
            self._append_history(event)
            return event

    def rollback(self, reason: str = "rolled back") -> dict:
        """Return the champion alias to the champion before the current one; it changes
        the champion or raises."""
        with self._writing():
            champion = self.aliases().get("champion")
            stack = champion_stack(self._history())
            if len(stack) < 2:
                raise BadInputError("no earlier champion to roll back to")
            if stack[-1] != champion or stack[-2] == champion:
                raise IntegrityError(
                    f"{self.root / HISTORY_FILE} does not show how {champion} became the "
                    f"champion (its champions: {', '.join(stack)}): cannot roll back"
                )
            self.verify(stack[-2])
            return self._set_alias("champion", stack[-2], "rollback", reason)


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape a model."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for package in ("catboost", "scikit-learn", "numpy", "pandas", "duckdb", "scipy"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "unknown"
    return out


def git_commit() -> str | None:
    """HEAD of the project's repository (with '-dirty' when tracked files changed), or None."""
    import subprocess

    from ml.warehouse.dbt import REPO_ROOT

    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{head}-dirty" if dirty else head


def training_metadata(run, source: dict) -> dict:
    """The metadata.json body (without version and file hashes) for a TrainingRun."""
    spec = run.spec
    return {
        "created_at": _now(),
        "git_commit": git_commit(),
        "libraries": library_versions(),
        "source": source,
        "features": {
            "names": list(spec.features),
            "dtypes": spec.dtypes(),
            "categorical": list(spec.categorical),
            "required_mart_columns": list(spec.required_mart_columns),
        },
        "training_data_fingerprint": run.fingerprint,
        "splits": run.split.summary(),
        "config": run.config.to_json(),
        "classifier": {
            "file": CLASSIFIER_FILE,
            "best_iteration": run.metrics["validation"]["classifier_best_iteration"],
            "tree_count": int(run.classifier.tree_count_),
        },
        "regressor": {
            "file": REGRESSOR_FILE,
            "target": run.regressor_target,
            "best_iteration": run.metrics["validation"]["regressor_best_iteration"],
            "tree_count": int(run.regressor.tree_count_),
        },
        "calibration": run.calibrator.to_json(),
        "cost_matrix": run.cost.to_json(),
        "thresholds": run.thresholds.to_json(),
        "metrics": run.metrics,
        "timings": {k: round(v, 3) for k, v in run.timings.items()},
    }
