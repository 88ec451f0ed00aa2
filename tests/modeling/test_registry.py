"""ml.modeling.registry: versions, hashes, atomic writes, aliases and their history."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from catboost import CatBoostClassifier, CatBoostError, CatBoostRegressor

from ml.errors import BadInputError, IntegrityError
from ml.modeling.linear_base import LinearBase
from ml.modeling.registry import (
    ALIASES_FILE,
    CLASSIFIER_FILE,
    HISTORY_FILE,
    LINEAR_BASE_FILE,
    LOCK_FILE,
    METADATA_FILE,
    Registry,
)
from tests.conftest import REPO_ROOT


def test_version_folder_and_metadata(trained_registry: Path) -> None:
    reg = Registry(trained_registry)
    assert reg.versions() == ["v0001"]
    assert reg.aliases() == {"champion": "v0001"}
    folder = trained_registry / "v0001"
    assert sorted(p.name for p in folder.iterdir()) == [
        "classifier.cbm",
        "linear_base.json",
        "metadata.json",
        "regressor.cbm",
    ]
    meta = reg.verify("champion")
    for key in (
        "features",
        "training_data_fingerprint",
        "splits",
        "thresholds",
        "cost_matrix",
        "calibration",
        "metrics",
        "libraries",
        "git_commit",
        "files",
    ):
        assert key in meta, key
    assert meta["features"]["categorical"] == ["platform_id"]
    assert set(meta["splits"]) == {"train", "validation", "test"}
    assert not list(trained_registry.glob(".partial-*"))


def test_loaded_model_predicts(trained_registry: Path) -> None:
    model = Registry(trained_registry).load("v0001")
    assert model.classifier.is_fitted() and model.regressor.is_fitted()
    assert model.thresholds.review < model.thresholds.block


@pytest.mark.parametrize("file", [CLASSIFIER_FILE, LINEAR_BASE_FILE])
def test_tampered_file_fails_verification(registry_copy: Path, file: str) -> None:
    path = registry_copy / "v0001" / file
    path.write_bytes(path.read_bytes() + b" ")
    with pytest.raises(IntegrityError, match="SHA-256"):
        Registry(registry_copy).load("champion")


def test_missing_file_fails_verification(registry_copy: Path) -> None:
    (registry_copy / "v0001" / CLASSIFIER_FILE).unlink()
    with pytest.raises(IntegrityError, match="missing"):
        Registry(registry_copy).verify("v0001")


def test_failed_save_leaves_nothing(registry_copy: Path) -> None:
    reg = Registry(registry_copy)
    before = sorted(p.name for p in registry_copy.iterdir())
    with pytest.raises(CatBoostError, match="no trained model"):
        reg.save(
            CatBoostClassifier(),
            CatBoostRegressor(),
            {"x": 1},
            linear_base=LinearBase(0, {}, {}, {}),
        )
    assert sorted(p.name for p in registry_copy.iterdir()) == before


def test_promote_and_rollback_with_history(registry_copy: Path) -> None:
    reg = Registry(registry_copy)
    model = reg.load("v0001")
    meta = {k: v for k, v in model.metadata.items() if k not in ("version", "files")}
    v2 = reg.save(model.classifier, model.regressor, meta, linear_base=model.linear_base)
    v3 = reg.save(model.classifier, model.regressor, meta, linear_base=model.linear_base)
    assert (v2, v3) == ("v0002", "v0003")
    reg.set_challenger(v2)
    assert reg.aliases() == {"champion": "v0001", "challenger": "v0002"}
    reg.promote()  # the challenger
    assert reg.aliases() == {"champion": "v0002"}
    reg.promote(v3)
    assert reg.resolve("champion") == "v0003"
    reg.rollback()
    assert reg.resolve("champion") == "v0002"
    reg.rollback()
    assert reg.resolve("champion") == "v0001"
    with pytest.raises(BadInputError, match="no earlier champion"):
        reg.rollback()
    history = reg.history()
    assert [(e["action"], e["version"]) for e in history if e["alias"] == "champion"] == [
        ("promote", "v0001"),
        ("promote", "v0002"),
        ("promote", "v0003"),
        ("rollback", "v0002"),
        ("rollback", "v0001"),
    ]
    assert json.loads((registry_copy / ALIASES_FILE).read_text())["champion"] == "v0001"
    assert not list(registry_copy.glob(f".{ALIASES_FILE}.*"))


def test_unknown_names_are_bad_input(registry_copy: Path) -> None:
    reg = Registry(registry_copy)
    with pytest.raises(BadInputError):
        reg.resolve("v0099")
    with pytest.raises(BadInputError, match="challenger"):
        reg.resolve("challenger")
    with pytest.raises(BadInputError, match="already the champion"):
        reg.promote("v0001")


def test_corrupt_metadata_is_an_integrity_error(registry_copy: Path) -> None:
    (registry_copy / "v0001" / METADATA_FILE).write_text("{not json")
    with pytest.raises(IntegrityError):
        Registry(registry_copy).verify("v0001")


# ---- damaged files and interrupted writers (two_champions: copies of the committed model) --
def _append_line(root: Path, text: str) -> None:
    with open(root / HISTORY_FILE, "a") as fh:
        fh.write(text)


def test_a_cut_off_last_history_line_is_ignored_then_repaired(two_champions: Path) -> None:
    reg = Registry(two_champions)
    before = reg.history()
    _append_line(two_champions, '{"at": "2026-01-01T00:00:00Z", "action": "prom')
    assert reg.history() == before
    assert reg.rollback()["version"] == "v0001"
    lines = (two_champions / HISTORY_FILE).read_text().splitlines(keepends=True)
    assert [json.loads(line) for line in lines] == reg.history()
    assert all(line.endswith("\n") for line in lines) and len(lines) == len(before) + 1


def test_rollback_is_not_fooled_by_a_change_that_never_took_effect(two_champions: Path) -> None:
    """A promote killed between its history line and its alias write: the line is not a
    change, so rollback still returns v0002 -> v0001 (it used to 'succeed' changing nothing)."""
    reg = Registry(two_champions)
    before = reg.history()
    event = {"at": "2026-01-01T00:00:00Z", "action": "promote", "alias": "champion"}
    _append_line(two_champions, json.dumps({**event, "version": "v0001", "previous": "v0002"}))
    _append_line(two_champions, "\n")
    assert reg.history() == before
    event = reg.rollback()
    assert (event["version"], event["previous"]) == ("v0001", "v0002")
    assert reg.aliases()["champion"] == "v0001"
    assert [e["action"] for e in reg.history()] == [*(e["action"] for e in before), "rollback"]


def test_a_change_removes_what_killed_writers_left(two_champions: Path) -> None:
    (two_champions / ".partial-killed").mkdir()
    (two_champions / ".partial-killed" / CLASSIFIER_FILE).write_bytes(b"half")
    (two_champions / f".{ALIASES_FILE}.killed").write_text("{}")
    Registry(two_champions).rollback()
    assert sorted(p.name for p in two_champions.iterdir()) == [
        LOCK_FILE,
        HISTORY_FILE,
        ALIASES_FILE,
        "v0001",
        "v0002",
    ]


def test_changes_need_a_history_that_explains_the_aliases(two_champions: Path) -> None:
    edited = {"champion": "v0002", "challenger": "v0001"}  # by hand, not in the history
    (two_champions / ALIASES_FILE).write_text(json.dumps(edited))
    for change in (
        Registry(two_champions).rollback,
        lambda: Registry(two_champions).promote("v0001"),
    ):
        with pytest.raises(IntegrityError, match="not what the history replays to"):
            change()
    assert Registry(two_champions).aliases() == edited


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('["v0001"]', "holds a JSON array, not an object"),
        ('"v0001"', "holds a JSON string"),
        ("{", "is not valid JSON"),
        ('{"champion": "../../etc"}', "champion is '../../etc', not a version name"),
        ('{"champion": "v0001\\n"}', "not a version name"),
        ('{"champion": 1}', "champion is 1, not a version name"),
        ('{"king": "v0001"}', "unknown alias 'king'"),
    ],
)
def test_damaged_aliases_are_named(two_champions: Path, text: str, message: str) -> None:
    (two_champions / ALIASES_FILE).write_text(text)
    with pytest.raises(IntegrityError, match=message) as caught:
        Registry(two_champions).aliases()
    assert str(two_champions / ALIASES_FILE) in str(caught.value)


def test_an_alias_to_a_missing_version_is_named(two_champions: Path) -> None:
    (two_champions / ALIASES_FILE).write_text('{"champion": "v0009"}')
    with pytest.raises(IntegrityError, match="champion is v0009, which is not in the registry"):
        Registry(two_champions).resolve("champion")


@pytest.mark.parametrize(
    "name", ["../../etc", "v1", "v\uff10\uff10\uff10\uff11", "v0001/..", "v0001\n"]
)
def test_names_that_are_not_versions_are_bad_input(two_champions: Path, name: str) -> None:
    with pytest.raises(BadInputError, match="neither a model version"):
        Registry(two_champions).resolve(name)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{oops", "line 2 is not valid JSON"),
        ('["promote"]', "line 2 holds a JSON array"),
        ('{"action": "crown", "alias": "champion"}', "line 2: unknown action 'crown'"),
        ('{"action": "promote", "alias": "king", "version": "v0001"}', "unknown alias 'king'"),
        ('{"action": "promote", "alias": "champion", "version": "../x"}', "not a version name"),
        ('{"action": "promote", "alias": "champion"}', "a promote event without a version"),
    ],
)
def test_a_damaged_history_line_is_named(two_champions: Path, line: str, message: str) -> None:
    path = two_champions / HISTORY_FILE
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join([lines[0], line + "\n", *lines[1:]]))
    with pytest.raises(IntegrityError, match=message) as caught:
        Registry(two_champions).history()
    assert str(path) in str(caught.value)


def _drop(meta: dict, dotted: str) -> dict:
    *parents, key = dotted.split(".")
    node = meta
    for parent in parents:
        node = node[parent]
    del node[key]
    return meta


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: _drop(m, "files"), "lacks 'files'"),
        (lambda m: _drop(m, "metrics"), "lacks 'metrics.rows'"),
        (lambda m: _drop(m, "metrics.classifier"), "lacks 'metrics.classifier.model.roc_auc'"),
        (lambda m: _drop(m, "created_at"), "lacks 'created_at'"),
        (lambda m: _drop(m, "splits.validation"), "lacks 'splits.validation.rows'"),
        (lambda m: {**m, "thresholds": {"review": "high", "block": 0.5}}, "is a JSON string"),
        (lambda m: [m], "holds a JSON array, not an object"),
        (lambda m: {**m, "version": "v0001"}, "says it is 'v0001', but it is in v0002/"),
        (
            lambda m: {**m, "files": {**m["files"], "../../etc/passwd": "0" * 64}},
            "files names '../../etc/passwd', not a model file",
        ),
        (lambda m: {**m, "files": {CLASSIFIER_FILE: "x"}}, "not a SHA-256"),
    ],
)
def test_damaged_metadata_is_named(two_champions: Path, change, message: str) -> None:
    path = two_champions / "v0002" / METADATA_FILE
    path.write_text(json.dumps(change(json.loads(path.read_text()))))
    with pytest.raises(IntegrityError, match=message) as caught:
        Registry(two_champions).metadata("v0002")
    assert str(path) in str(caught.value)
    Registry(two_champions).verify("v0001")  # the other version is untouched


def _blocked_on_flock(pid: int) -> bool:
    """Whether process `pid` waits for a flock (a `->` line of /proc/locks)."""
    lines = Path("/proc/locks").read_text().splitlines()
    return any(line.split()[1] == "->" and line.split()[5] == str(pid) for line in lines)


def test_a_change_waits_for_the_writers_lock(two_champions: Path) -> None:
    fd = os.open(two_champions / LOCK_FILE, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", "from ml.cli import main; main()", "models", "rollback",
             "--registry", str(two_champions)],
            cwd=REPO_ROOT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not _blocked_on_flock(child.pid) and child.poll() is None:
            assert time.monotonic() < deadline, "rollback never reached the lock"
            time.sleep(0.05)
        assert Registry(two_champions).aliases()["champion"] == "v0002"
    finally:
        os.close(fd)
    assert child.wait(timeout=60) == 0
    assert Registry(two_champions).aliases()["champion"] == "v0001"
