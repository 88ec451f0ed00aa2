"""Benchmark `patchrisk gate` (scripts/risk_gate.py, the CI entry point) as CI runs it.

Every measurement is a fresh process (cold start), repeated --runs times with the
commands interleaved so that a busy machine slows them alike; the table reports median
and min wall time and peak RSS (os.wait4). Measured:

- the import floor: `python -c "import catboost, duckdb"`;
- the gate on 1 patch (cold start), 1,000 and 10,000 patches (JSON to /dev/null);
- a prototype-style script on the same 1,000 patches: pandas reads the CSV, CatBoost
  predicts with the champion's trees alone (no linear base, no validation, no warehouse
  context, no calibration, no explanations: a speed reference, not a score), JSON out;
- `--git` (issue 18): the whole gate on a 1-commit change of a temporary firmware repo,
  interleaved with the CSV cold start above (target: within 0.3 s of it), and, in-process,
  the facts of a 10,000-file change (ml.gate.change_candidates.read_git_change alone,
  median of --runs; target <= 1 s).

Targets (issue 4): cold start for one patch at most 0.7 s above the import floor; 10k
patches in at most 3 s. Writes bench_results/gate.md and bench_results/gate.json (other
files in bench_results/ are left alone). Candidates are bootstrapped from the warehouse's
released firmware (seeded), with new versions planned after the data's as-of date.

    python scripts/bench_gate.py [--warehouse warehouse/patchrisk.duckdb] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench_results"
sys.path.insert(0, str(ROOT))

PROTOTYPE = r"""
import json, sys
import numpy as np
import pandas as pd
from catboost import CatBoostClassifier

patches = pd.read_csv(sys.argv[1])
model = CatBoostClassifier()
model.load_model(sys.argv[2])
x = pd.DataFrame(index=patches.index)
lines = patches["lines_added"] + patches["lines_deleted"]
x["platform_id"] = patches["platform_id"].astype(str)
x["is_hotfix"] = (patches["patch_type"] == "hotfix").astype(float)
x["is_security"] = (patches["patch_type"] == "security").astype(float)
x["is_feature"] = (patches["patch_type"] == "feature").astype(float)
x["code_churn_score"] = np.log1p(lines)
x["hotfix_churn"] = x["is_hotfix"] * x["code_churn_score"]
x["test_file_ratio"] = patches["test_files_changed"] / patches["files_changed"]
for name in model.feature_names_:
    if name not in x:
        x[name] = np.nan
p = model.predict_proba(x[model.feature_names_])[:, 1]
out = [
    {"version": v, "platform_id": pl, "risk": float(q), "decision": "block" if q >= 0.5 else "pass"}
    for v, pl, q in zip(patches["version"], patches["platform_id"], p)
]
json.dump(out, sys.stdout)
"""


@dataclass
class Row:
    measure: str
    patches: int
    runs: int
    median_s: float
    min_s: float
    peak_rss_mb: float


def run_once(cmd: list[str]) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # the gate exits 1 when a patch is blocked
        sys.exit(f"bench_gate: {' '.join(cmd)} exited {code}: {proc.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024


def write_candidates(duckdb_path: Path, folder: Path, sizes: list[int], seed: int) -> dict:
    """CSV files of n candidates bootstrapped from released firmware, new versions."""
    import duckdb
    import numpy as np

    from ml.gate.candidates import INPUT_COLUMNS

    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        releases = con.execute(
            "select platform_id, patch_type, files_changed, lines_added, lines_deleted, "
            "coalesce(components_touched, '') as components_touched, package_size_kb, "
            "test_files_changed from marts.dim_firmware_releases "
            "where not has_quarantined_code_change_counts"
        ).df()
        as_of = con.execute(
            "select min(context_date) - 1 from marts.fct_platform_daily_context "
            "where is_after_as_of_date"
        ).fetchall()[0][0]
    rng = np.random.default_rng(seed)
    files = {}
    for n in sizes:
        sample = releases.iloc[rng.integers(0, len(releases), n)].reset_index(drop=True)
        sample["version"] = [f"900.{i}.0" for i in range(n)]
        offsets = rng.integers(1, 15, n)
        sample["planned_release_date"] = [
            (as_of + np.timedelta64(int(d), "D")).isoformat() for d in offsets
        ]
        path = folder / f"patches_{n}.csv"
        sample.loc[:, list(INPUT_COLUMNS)].to_csv(path, index=False)
        files[n] = path
    return files


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    ident = ["-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run(["git", "-C", str(repo), *ident, *args], check=True, env=env)


def firmware_repo(folder: Path, platform: str, files: int) -> Path:
    """A repo with `files` source files under the model's components and a tag, then one
    commit changing every file (+2 -1 lines each) and one commit changing one file."""
    from ml.gate.release_attributes import COMPONENTS

    repo = folder / f"firmware_{files}"
    paths = [
        repo / "src" / COMPONENTS[i % len(COMPONENTS)] / f"d{i // 100}" / f"f{i}.c"
        for i in range(files)
    ]
    (repo / "src").mkdir(parents=True)
    (repo / ".patchrisk.toml").write_text(
        "[components]\n" + "".join(f'{c} = ["src/{c}/**"]\n' for c in COMPONENTS)
    )
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("a\nb\nc\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "chore: base")
    git(repo, "tag", f"{platform}-900.0.0")
    for path in paths:
        path.write_text("a\nB\nc\nd\n")
    git(repo, "commit", "-q", "-a", "-m", "fix: every file")
    paths[0].write_text("a\nB\nc\nd\ne\n")
    git(repo, "commit", "-q", "-a", "-m", "fix: one file")
    return repo


def main() -> None:
    from ml.gate.candidates import INPUT_COLUMNS
    from ml.modeling.registry import CLASSIFIER_FILE, Registry
    from ml.warehouse.dbt import default_duckdb_path
    from ml.warehouse.readers import BUILD_HINT

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=None, help="warehouse (built)")
    parser.add_argument("--registry", type=Path, default=None, help="model registry")
    parser.add_argument("--runs", type=int, default=5, help="repetitions per measure")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    duckdb_path = args.warehouse or default_duckdb_path()
    if not duckdb_path.is_file():
        sys.exit(f"bench_gate: no warehouse at {duckdb_path} ({BUILD_HINT})")
    registry = Registry(args.registry)
    version = registry.resolve("champion")
    classifier = registry.root / version / CLASSIFIER_FILE
    py = sys.executable
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench_gate_") as tmp:
        folder = Path(tmp)
        files = write_candidates(duckdb_path, folder, [1, 1000, 10000], args.seed)
        prototype = folder / "prototype_gate.py"
        prototype.write_text(PROTOTYPE)
        platform = (
            files[1].read_text().splitlines()[1].split(",")[INPUT_COLUMNS.index("platform_id")]
        )
        repo = firmware_repo(folder, platform, 10_000)

        def gate(n: int) -> list[str]:
            return [
                py,
                str(ROOT / "scripts" / "risk_gate.py"),
                str(files[n]),
                "--warehouse",
                str(duckdb_path),
                "--registry",
                str(registry.root),
                "--format",
                "json",
            ]

        commands = {
            ("import floor: python -c 'import catboost, duckdb'", 0): [
                py,
                "-c",
                "import catboost, duckdb",
            ],
            ("gate (scripts/risk_gate.py), cold start", 1): gate(1),
            ("gate --git HEAD~1 (1-commit change), cold start", 1): [
                *gate(1)[:2],
                "--git",
                "HEAD~1",
                "--repo",
                str(repo),
                "--platform",
                platform,
                *gate(1)[3:],
            ],
            ("gate (scripts/risk_gate.py)", 1000): gate(1000),
            ("prototype-style script (pandas + catboost)", 1000): [
                py,
                str(prototype),
                str(files[1000]),
                str(classifier),
            ],
            ("gate (scripts/risk_gate.py)", 10000): gate(10000),
        }
        for cmd in commands.values():  # warm the OS file cache once
            run_once(cmd)
        samples: dict = {key: [] for key in commands}
        for _ in range(args.runs):
            for key, cmd in commands.items():
                samples[key].append(run_once(cmd))

        # the gate's own split of the 10k run (in-process, after imports)
        from ml.gate.candidates import load_candidates
        from ml.gate.scoring import run_gate

        started = time.perf_counter()
        candidates = load_candidates(str(files[10000]))
        parsed = time.perf_counter() - started
        report = run_gate(
            candidates=candidates,
            release_ids=None,
            duckdb_path=duckdb_path,
            registry_dir=registry.root,
        )
        stages = {"parse_and_check_seconds": round(parsed, 4), **report.timings}

        # the facts of a 10,000-file change, alone (in-process)
        from ml.gate.change_candidates import ChangeRequest, read_git_change

        request = ChangeRequest("HEAD~2..HEAD~1", repo, platforms=(platform,))
        facts_times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            change = read_git_change(request)
            facts_times.append(time.perf_counter() - started)
        assert len(change.facts.files) == 10_000

    rows = []
    for (name, n), values in samples.items():
        times = [t for t, _ in values]
        rows.append(
            Row(
                name,
                n,
                len(times),
                round(statistics.median(times), 3),
                round(min(times), 3),
                round(max(m for _, m in values), 1),
            )
        )
    by_key = {(r.measure, r.patches): r for r in rows}
    keys = list(commands)
    floor, cold, git_cold, gate_10k = (samples[keys[i]] for i in (0, 1, 2, 5))
    paired = [c[0] - f[0] for c, f in zip(cold, floor, strict=True)]
    git_paired = [g[0] - c[0] for g, c in zip(git_cold, cold, strict=True)]
    summary = {
        "cold_start_above_floor_s": round(statistics.median(paired), 3),
        "cold_start_target_s": 0.7,
        "git_cold_start_above_csv_s": round(statistics.median(git_paired), 3),
        "git_cold_start_vs_csv_ratio": round(
            by_key[keys[2]].median_s / by_key[keys[1]].median_s, 2
        ),
        "git_cold_start_target_above_csv_s": 0.3,
        "git_facts_10k_files_s": round(statistics.median(facts_times), 3),
        "git_facts_10k_files_target_s": 1.0,
        "gate_10k_s": by_key[keys[5]].median_s,
        "gate_10k_target_s": 3.0,
        "gate_10k_above_floor_s": round(
            statistics.median([g[0] - f[0] for g, f in zip(gate_10k, floor, strict=True)]), 3
        ),
        "gate_vs_prototype_1k_ratio": round(by_key[keys[3]].median_s / by_key[keys[4]].median_s, 2),
        "gate_10k_stages_in_process": stages,
        "cpu_count": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "model_version": version,
    }
    lines = [
        f"# patchrisk gate benchmark ({os.cpu_count()} cores, load average "
        f"{summary['load_average_1m']}, model {version}, {args.runs} runs)",
        "",
        "| measure | patches | runs | median s | min s | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {r.measure} | {r.patches:,} | {r.runs} | {r.median_s} | {r.min_s} | "
            f"{r.peak_rss_mb} |"
            for r in rows
        ),
        "",
        f"- cold start, one patch, above the import floor (median of paired runs): "
        f"**{summary['cold_start_above_floor_s']} s** (target <= 0.7 s)",
        f"- `--git` on a 1-commit change vs the CSV cold start (median of paired runs): "
        f"**+{summary['git_cold_start_above_csv_s']} s**, ratio "
        f"{summary['git_cold_start_vs_csv_ratio']} (target <= +0.3 s)",
        f"- facts of a 10,000-file change (git diff + counting, in-process, median of "
        f"{args.runs}): **{summary['git_facts_10k_files_s']} s** (target <= 1 s)",
        f"- 10,000 patches: **{summary['gate_10k_s']} s** end to end (target <= 3 s); "
        f"{summary['gate_10k_above_floor_s']} s above the import floor",
        f"- gate / prototype-style script on the same 1,000 patches: "
        f"**{summary['gate_vs_prototype_1k_ratio']}x**",
        "- gate stages for 10,000 patches (in-process, seconds): "
        + ", ".join(f"{k.removesuffix('_seconds')} {v}" for k, v in stages.items()),
        "",
    ]
    write_results("gate", lines, rows, summary)


def write_results(name: str, lines: list[str], rows: list, summary: dict) -> None:
    """Write OUT/<name>.md (the markdown lines) and OUT/<name>.json (rows and summary)."""
    (OUT / f"{name}.md").write_text("\n".join(lines))
    (OUT / f"{name}.json").write_text(
        json.dumps({"rows": [asdict(r) for r in rows], "summary": summary}, indent=2) + "\n"
    )
    print("\n".join(lines))
    print(f"wrote {OUT / f'{name}.md'} and {OUT / f'{name}.json'}")


if __name__ == "__main__":
    main()
