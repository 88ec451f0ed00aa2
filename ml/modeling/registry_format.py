"""The registry's files as data: what a valid `aliases.json`, `alias_history.jsonl` and
version `metadata.json` hold, and how the history replays to the aliases. Pure functions:
ml/modeling/registry.py reads and writes the files, under its lock.

A damaged file raises IntegrityError (exit 3) naming the file and what is wrong, so no
command meets a raw KeyError or a path taken from a file (`"champion": "../../etc"`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ml.errors import IntegrityError

ALIASES = ("champion", "challenger")
CLASSIFIER_FILE = "classifier.cbm"
REGRESSOR_FILE = "regressor.cbm"
LINEAR_BASE_FILE = "linear_base.json"
MODEL_FILES = (CLASSIFIER_FILE, LINEAR_BASE_FILE, REGRESSOR_FILE)
# register / promote / rollback point an alias at a version, clear removes it, keep records
# that a retrained challenger lost (the champion stays)
ACTIONS = ("register", "promote", "rollback", "clear", "keep")
_VERSION = re.compile(r"v[0-9]{4,}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_NUMBER = (int, float)
_SPLIT_KEYS = (("rows", int), ("release_date_min", str), ("release_date_max", str))
# What the package reads from a version's metadata.json (dotted key: JSON type).
METADATA_KEYS: tuple[tuple[str, type | tuple[type, ...]], ...] = (
    ("version", str),
    ("created_at", str),
    ("git_commit", (str, type(None))),
    ("training_data_fingerprint", str),
    ("features.names", list),
    ("features.categorical", list),
    ("features.required_mart_columns", list),
    *(
        (f"splits.{part}.{key}", kind)
        for part in ("train", "validation", "test")
        for key, kind in _SPLIT_KEYS
    ),
    ("calibration.method", str),
    ("calibration.params", dict),
    ("cost_matrix", dict),
    ("thresholds.review", _NUMBER),
    ("thresholds.block", _NUMBER),
    ("regressor.target", str),
    ("metrics.rows", int),
    ("metrics.positives", int),
    ("metrics.classifier.model.roc_auc", _NUMBER),
    ("metrics.classifier.model.ece", _NUMBER),
    ("metrics.regressor", dict),
    ("files", dict),
)


def is_version(name: object) -> bool:
    """A version folder name: `v` and four or more ASCII digits."""
    return isinstance(name, str) and _VERSION.fullmatch(name) is not None


def _json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _lookup(data: dict, dotted: str) -> object:
    """data["a"]["b"] for "a.b"; KeyError when a level is missing or not an object."""
    for key in dotted.split("."):
        if not isinstance(data, dict) or key not in data:
            raise KeyError(dotted)
        data = data[key]
    return data


def parse_aliases(text: str, path: Path) -> dict[str, str]:
    """aliases.json: a JSON object from alias names to version names."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IntegrityError(f"{path} is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise IntegrityError(
            f"{path} holds a JSON {_json_type(data)}, not an object of alias: version"
        )
    for alias, version in data.items():
        if alias not in ALIASES:
            raise IntegrityError(f"{path} names an unknown alias {alias!r} (not {ALIASES})")
        if not is_version(version):
            raise IntegrityError(f"{path}: {alias} is {version!r}, not a version name like v0001")
    return data


@dataclass(frozen=True)
class History:
    """alias_history.jsonl as read: its whole events, the byte offset where each one's line
    ends, and the file size (beyond the last event: blank lines or a cut-off line)."""

    events: list[dict]
    ends: list[int]
    size: int
    ends_in_newline: bool  # or is empty

    def end_of(self, count: int) -> int:
        """The byte offset after the first `count` events."""
        return self.ends[count - 1] if count else 0


def parse_history(data: bytes, path: Path) -> History:
    """One JSON event per line. A last line that does not parse is cut off (an append that
    never finished) and left out; an unparsable line before it is damage."""
    events, ends, offset = [], [], 0
    lines = data.splitlines(keepends=True)
    for number, line in enumerate(lines, start=1):
        offset += len(line)
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError as exc:  # JSONDecodeError or UnicodeDecodeError
            if number == len(lines):
                break
            raise IntegrityError(f"{path} line {number} is not valid JSON ({exc})") from exc
        _check_event(event, f"{path} line {number}")
        events.append(event)
        ends.append(offset)
    return History(events, ends, len(data), data.endswith(b"\n") or not data)


def _check_event(event: object, where: str) -> None:
    if not isinstance(event, dict):
        raise IntegrityError(f"{where} holds a JSON {_json_type(event)}, not an event object")
    if event.get("action") not in ACTIONS:
        raise IntegrityError(f"{where}: unknown action {event.get('action')!r}")
    if event.get("alias") not in ALIASES:
        raise IntegrityError(f"{where}: unknown alias {event.get('alias')!r}")
    for key in ("version", "previous"):
        value = event.get(key)
        if value is not None and not is_version(value):
            raise IntegrityError(f"{where}: {key} is {value!r}, not a version name like v0001")
    if event["action"] in ("register", "promote", "rollback") and event.get("version") is None:
        raise IntegrityError(f"{where}: a {event['action']} event without a version")


def replay(events: list[dict]) -> dict[str, str]:
    """The aliases the events leave, oldest first."""
    aliases: dict[str, str] = {}
    for event in events:
        if event["action"] == "keep":
            continue
        if event.get("version") is None:
            aliases.pop(event["alias"], None)
        else:
            aliases[event["alias"]] = event["version"]
    return aliases


def committed(events: list[dict], aliases: dict[str, str], where: str) -> int:
    """How many events took effect: all, or all but the last when its writer died between
    the history append and the alias write (aliases.json is written second, so the change
    never happened). Any other disagreement is damage."""
    if replay(events) == aliases:
        return len(events)
    if events and replay(events[:-1]) == aliases:
        return len(events) - 1
    raise IntegrityError(
        f"{where}: the aliases {aliases} are not what the history replays to "
        f"({replay(events)}): changed by hand or damaged"
    )


def champion_stack(events: list[dict]) -> list[str]:
    """Champions in order, replaying the history (promote pushes, rollback pops)."""
    stack: list[str] = []
    for event in events:
        if event["alias"] != "champion":
            continue
        if event["action"] == "promote":
            stack.append(event["version"])
        elif event["action"] == "rollback" and stack:
            stack.pop()
    return stack


def check_metadata(meta: object, path: Path, version: str) -> dict:
    """A version's metadata.json: every key the package reads, with its JSON type; the
    version it names is its folder's, and `files` names model files with their SHA-256."""
    if not isinstance(meta, dict):
        raise IntegrityError(f"{path} holds a JSON {_json_type(meta)}, not an object")
    for key, kinds in METADATA_KEYS:
        try:
            value = _lookup(meta, key)
        except KeyError:
            raise IntegrityError(f"{path} lacks {key!r}") from None
        if not isinstance(value, kinds):
            raise IntegrityError(f"{path}: {key!r} is a JSON {_json_type(value)}")
    if meta["version"] != version:
        raise IntegrityError(f"{path} says it is {meta['version']!r}, but it is in {version}/")
    for file, digest in meta["files"].items():
        if file not in MODEL_FILES:
            raise IntegrityError(f"{path}: files names {file!r}, not a model file {MODEL_FILES}")
        if not (isinstance(digest, str) and _SHA256.fullmatch(digest)):
            raise IntegrityError(f"{path}: files.{file} is {digest!r}, not a SHA-256")
    for file in (CLASSIFIER_FILE, REGRESSOR_FILE):
        if file not in meta["files"]:
            raise IntegrityError(f"{path}: files lacks {file!r}")
    return meta
