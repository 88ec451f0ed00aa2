"""Kill (SIGKILL) `patchrisk train`, `models promote` and `models rollback` inside every
write window of the registry, then check what they left:

- the registry loads: versions, aliases, history, and the champion model;
- every version folder is complete (all hashes verify): no half-written version is reachable;
- aliases and history agree, and the history is the one before the command plus a prefix of
  the changes an uninterrupted run makes (the state is the old one, the new one or a step
  the command passes through);
- the next command succeeds, changes what it should, and leaves no `.partial-*` folder, no
  temporary alias file and no uncommitted or cut-off history line behind.

Speed: the models are the committed champion's (trained once, copied into every state), and
`train` is killed in its registration (`Registry.register`, what `patchrisk train` runs once
training is done: training itself writes nothing). Real `patchrisk train` runs on a tiny
generated world are `-m slow`.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from ml.cli import main
from ml.modeling.registry import ALIASES_FILE, HISTORY_FILE, METADATA_FILE, Registry
from tests.conftest import ml_warehouse, ml_world  # noqa: F401
from tests.faults.conftest import REPO_ROOT, Outcome, run_patchrisk

COMMITTED = REPO_ROOT / "models_artifacts"

# What `patchrisk train` does once training is done, on the committed champion's models.
REGISTER = """
import sys
from ml.modeling.registry import Registry
source, target, promote = sys.argv[1], sys.argv[2], sys.argv[3] == "promote"
model = Registry(source).load("v0001")
metadata = {k: v for k, v in model.metadata.items() if k not in ("version", "files")}
Registry(target).register(
    model.classifier, model.regressor, metadata, linear_base=model.linear_base, promote=promote
)
"""

Event = tuple[str, str, str | None, str | None]  # action, alias, version, previous


@dataclass(frozen=True)
class Case:
    """A command run on a registry state; `next_args` is a command valid whether or not
    the killed run took effect."""

    name: str
    state: str
    args: tuple[str, ...]  # `models ...` arguments, or ("register", "promote"|"") for train
    next_args: tuple[str, ...]
    champion_after: str | None  # the champion after one uninterrupted run


CASES = {
    c.name: c
    for c in (
        Case("train_first", "empty", ("register", ""), ("register", ""), "v0001"),
        Case("train_debris", "debris", ("register", ""), ("register", ""), "v0001"),
        Case("promote", "challenger", ("promote",), ("promote", "v0003"), "v0002"),
        Case("promote_debris", "debris", ("promote",), ("promote", "v0003"), "v0002"),
        Case("promote_v3", "challenger", ("promote", "v0003"), ("promote", "v0002"), "v0003"),
        Case("rollback", "stack", ("rollback",), ("rollback",), "v0002"),
        Case("rollback_debris", "stack_debris", ("rollback",), ("rollback",), "v0002"),
        Case("rollback_again", "rolled", ("rollback",), ("promote", "v0003"), "v0001"),
    )
}

SAVE = [
    "registry.save.partial_created",
    *(f"registry.save.file_written@{n}" for n in (1, 2, 3)),
    "registry.save.metadata_written",
    "registry.save.renamed",
]
REPAIR = [
    "registry.repair.partial_removed@1",
    "registry.repair.partial_removed@2",
    "registry.repair.temp_removed",
    "registry.repair.history_truncated",
]


def _change(n: int) -> list[str]:
    """The points of the n-th alias change of a run (history append, then alias replace)."""
    return [
        f"registry.history.appended@{n}",
        f"registry.aliases.written@{n}",
        f"registry.aliases.replaced@{n}",
    ]


LOCK = "registry.lock.acquired"
POINTS = {
    # train on an empty registry: save, challenger, champion, clear the challenger
    "train_first": [
        *(f"{LOCK}@{n}" for n in (1, 2, 3)),
        *SAVE,
        *_change(1),
        *_change(2),
        *_change(3),
    ],
    "train_debris": REPAIR,
    "promote": [LOCK, *_change(1), *_change(2)],
    "promote_debris": [LOCK, *REPAIR, *_change(1), *_change(2)],
    "promote_v3": [LOCK, *_change(1)],
    "rollback": [LOCK, *_change(1)],
    "rollback_debris": [LOCK, *REPAIR, *_change(1)],
    "rollback_again": [LOCK, *_change(1)],
}
TIMED = {  # seconds after the start
    "train_first": [1.0, 2.0, 3.0],
    "promote": [0.3, 0.45, 0.6, 0.8],
    "rollback": [0.3, 0.45, 0.6, 0.8],
}
KILLS = [(case, point, None) for case, points in POINTS.items() for point in points] + [
    (case, None, delay) for case, delays in TIMED.items() for delay in delays
]


# ---- the registry as plain data (an oracle independent of ml.modeling.registry) ----
def _events(history: list[dict]) -> list[Event]:
    return [(e["action"], e["alias"], e["version"], e["previous"]) for e in history]


def _replay(events: list[Event]) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for action, alias, version, _ in events:
        if action == "keep":
            continue
        if version is None:
            aliases.pop(alias, None)
        else:
            aliases[alias] = version
    return aliases


def _raw_history(root: Path) -> list[Event]:
    """Every line of the history file, which must be whole."""
    path = root / HISTORY_FILE
    if not path.exists():
        return []
    text = path.read_text()
    assert text == "" or text.endswith("\n"), "the history ends in a cut-off line"
    return _events([json.loads(line) for line in text.splitlines()])


# ---- states -------------------------------------------------------------------------------
@dataclass(frozen=True)
class State:
    root: Path
    events: list[Event]  # its committed history


@pytest.fixture(scope="session")
def model():
    return Registry(COMMITTED).load("v0001")


def _metadata(model) -> dict:
    """What training hands the registry (no version, no file hashes)."""
    return {k: v for k, v in model.metadata.items() if k not in ("version", "files")}


def _register(root: Path, model, promote: bool = False) -> str:
    """What `patchrisk train` does once training is done."""
    return Registry(root).register(
        model.classifier,
        model.regressor,
        _metadata(model),
        linear_base=model.linear_base,
        promote=promote,
    )


def _add_debris(root: Path, uncommitted: dict) -> None:
    """What killed writers leave: two half-written version folders, a temporary alias file
    and a history line whose alias change never happened."""
    shutil.copytree(root / "v0001", root / ".partial-killed1")
    (root / ".partial-killed1" / METADATA_FILE).unlink()
    (root / ".partial-killed2").mkdir()
    (root / f".{ALIASES_FILE}.killed").write_text('{"champion": "v0003"}\n')
    with open(root / HISTORY_FILE, "a") as fh:
        fh.write(json.dumps({"at": "2026-01-01T00:00:00Z", "reason": "killed", **uncommitted}))
        fh.write("\n")


@pytest.fixture(scope="session")
def states(model, tmp_path_factory) -> dict[str, State]:
    """v0001 is the committed champion; v0002 (the challenger) and v0003 (no alias) are
    copies of it."""
    base = tmp_path_factory.mktemp("registry_states")
    roots = {name: base / name for name in ("empty", "challenger", "stack", "rolled")}
    roots["empty"].mkdir()
    shutil.copytree(COMMITTED, roots["challenger"])
    _register(roots["challenger"], model)  # v0002, the challenger
    reg = Registry(roots["challenger"])
    reg.save(model.classifier, model.regressor, _metadata(model), linear_base=model.linear_base)
    shutil.copytree(roots["challenger"], roots["stack"])
    Registry(roots["stack"]).promote("v0002")
    Registry(roots["stack"]).promote("v0003")  # champions v0001, v0002, v0003
    shutil.copytree(roots["stack"], roots["rolled"])
    Registry(roots["rolled"]).rollback()
    found = {name: State(root, _events(Registry(root).history())) for name, root in roots.items()}
    for name, source, uncommitted in (
        ("debris", "challenger", {"action": "promote", "version": "v0003", "previous": "v0001"}),
        ("stack_debris", "stack", {"action": "promote", "version": "v0001", "previous": "v0003"}),
    ):
        shutil.copytree(roots[source], base / name)
        _add_debris(base / name, {"alias": "champion", **uncommitted})
        found[name] = State(base / name, found[source].events)
    return found


# ---- running a command --------------------------------------------------------------------
def _run_killed(case: Case, root: Path, kill_at: str | None, kill_after: float | None) -> Outcome:
    if case.args[0] == "register":
        args = [str(COMMITTED), str(root), case.args[1]]
        return run_patchrisk(args, code=REGISTER, kill_at=kill_at, kill_after=kill_after)
    args = ["models", *case.args, "--registry", str(root)]
    return run_patchrisk(args, kill_at=kill_at, kill_after=kill_after)


def _run_here(args: tuple[str, ...], root: Path, model) -> None:
    """An uninterrupted run in this process; it must succeed."""
    if args[0] == "register":
        _register(root, model, promote=args[1] == "promote")
        return
    result = CliRunner().invoke(main, ["models", *args, "--registry", str(root)])
    assert result.exit_code == 0, (args, result.output, result.exception)


@dataclass(frozen=True)
class Reference:
    """An uninterrupted run of a case: the history events it appends, the champion after."""

    change: list[Event]
    champion: str | None


@pytest.fixture(scope="session")
def references(states, model, tmp_path_factory) -> dict[str, Reference]:
    out = {}
    for case in CASES.values():
        root = tmp_path_factory.mktemp(f"reference_{case.name}") / "registry"
        shutil.copytree(states[case.state].root, root)
        _run_here(case.args, root, model)
        reg = Registry(root)
        change = _events(reg.history())[len(states[case.state].events) :]
        out[case.name] = Reference(change, reg.aliases().get("champion"))
    return out


# ---- the invariants ----------------------------------------------------------------------
def _check_after_kill(root: Path, before: list[Event], change: list[Event]) -> dict[str, str]:
    reg = Registry(root)
    versions = reg.versions()
    for version in versions:
        reg.verify(version)  # complete: every file present and matching its hash
    aliases = reg.aliases()
    assert set(aliases.values()) <= set(versions), aliases
    if "champion" in aliases:
        reg.load("champion")
    history = _events(reg.history())
    assert _replay(history) == aliases, "aliases and history disagree"
    assert history[: len(before)] == before, "the history before the command changed"
    done = history[len(before) :]
    assert done == change[: len(done)], f"not a step of the command: {done} vs {change}"
    return aliases


def _check_clean(root: Path) -> None:
    leftovers = [p.name for p in root.iterdir() if p.name.startswith((".partial-", ".aliases"))]
    assert not leftovers, leftovers
    raw = _raw_history(root)
    assert _replay(raw) == json.loads((root / ALIASES_FILE).read_text())
    assert _events(Registry(root).history()) == raw


@pytest.mark.parametrize(
    ("name", "kill_at", "kill_after"),
    KILLS,
    ids=[f"{name}-{kill_at or f'{kill_after}s'}" for name, kill_at, kill_after in KILLS],
)
def test_a_killed_command_leaves_a_whole_registry(
    name: str,
    kill_at: str | None,
    kill_after: float | None,
    states,
    references,
    model,
    tmp_path: Path,
) -> None:
    case, reference = CASES[name], references[name]
    assert reference.champion == case.champion_after, "an uninterrupted run goes wrong"
    state = states[case.state]
    root = tmp_path / "registry"
    shutil.copytree(state.root, root)
    outcome = _run_killed(case, root, kill_at, kill_after)
    if kill_at:
        assert outcome.killed, f"never reached {kill_at}: {outcome.stderr[-2000:]}"
    else:
        assert outcome.killed or outcome.returncode == 0, outcome.stderr[-2000:]
    aliases = _check_after_kill(root, state.events, reference.change)
    _run_here(case.next_args, root, model)
    _check_clean(root)
    after = Registry(root).aliases()
    if case.args[0] == "register":
        assert Registry(root).versions()[-1] in after.values()
    else:
        assert after["champion"] != aliases["champion"], "the next command changed nothing"


TRAIN_KILLS = [
    *((point, None) for point in ("registry.save.file_written@2", "registry.save.renamed")),
    *((point, None) for point in ("registry.history.appended@2", "registry.aliases.written@3")),
    *((None, delay) for delay in (4.0, 8.0, 12.0)),
]


@pytest.mark.slow
@pytest.mark.parametrize(("kill_at", "kill_after"), TRAIN_KILLS)
def test_a_killed_patchrisk_train_leaves_a_whole_registry(
    kill_at: str | None,
    kill_after: float | None,
    references,
    model,
    tmp_path: Path,
    request,
) -> None:
    """The real command on a tiny generated world (training included) into an empty
    registry: it goes through the same steps as `train_first`."""
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("slow: run with -m slow")
    world, warehouse = (request.getfixturevalue(f) for f in ("ml_world", "ml_warehouse"))
    root = tmp_path / "registry"
    args = ["train", "--warehouse", str(warehouse), "--raw-dir", str(world)]
    outcome = run_patchrisk(
        [*args, "--registry", str(root)], kill_at=kill_at, kill_after=kill_after
    )
    assert outcome.killed or (kill_after and outcome.returncode == 0), outcome.stderr[-2000:]
    _check_after_kill(root, [], references["train_first"].change)
    _run_here(("register", ""), root, model)
    _check_clean(root)
