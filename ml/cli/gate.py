"""`patchrisk gate`: the CI risk gate (a thin click layer over ml.gate.scoring).

Exit codes: 0 every patch passes (review passes unless --fail-on review), 1 at least one
patch fails the gate, 2 bad input or usage, 3 environment failure. Heavy imports (pandas,
DuckDB, CatBoost) happen inside the command so that `--help` stays instant.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

import click

from ml.cli.options import REGISTRY_OPTION, command, warehouse_option
from ml.errors import EXIT_BAD_INPUT, EXIT_FAILURE, fail

EXIT_BLOCKED = 1


def _probability(ctx, param, value):
    if value is not None and not 0.0 <= value <= 1.0:
        raise click.BadParameter(f"{value} is not a probability in [0, 1]")
    return value


@command()
@click.argument("input_arg", metavar="[INPUT]", required=False)
@click.option(
    "--input",
    "-i",
    "input_path",
    metavar="FILE",
    help="Candidate patches, CSV or JSON ('-' = stdin); same as the INPUT argument.",
)
@click.option(
    "--input-format",
    type=click.Choice(["auto", "csv", "json"]),
    default="auto",
    show_default=True,
    help="Input format (auto: by extension, else by content).",
)
@click.option(
    "--release",
    "releases",
    multiple=True,
    metavar="RELEASE_ID",
    help="Score releases already in the warehouse (e.g. ares-4.2.0); repeat or comma-separate.",
)
@click.option(
    "--git",
    "git_range",
    metavar="RANGE",
    help="Gate the change in RANGE of the firmware repo (A...B: from the merge base, as a "
    "pull request; A..B; or R = R..HEAD): one candidate per target platform.",
)
@click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="With --git: the firmware repository.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --git: the config file  [default: REPO/.patchrisk.toml, else built-in defaults]",
)
@click.option(
    "--platform",
    "platforms",
    multiple=True,
    metavar="ID",
    help="With --git: a target platform (repeat) [default: the config's platform globs].",
)
@click.option(
    "--version",
    "version",
    metavar="X.Y.Z",
    help="With --git: the version [default: next after the platform's latest tag].",
)
@click.option(
    "--patch-type",
    type=click.Choice(["bugfix", "feature", "security", "hotfix"]),
    default=None,
    help="With --git: the patch type [default: from the commit subjects' prefixes].",
)
@click.option(
    "--package",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --git: the built artifact, for the package size [default: unknown].",
)
@click.option(
    "--planned-date",
    metavar="YYYY-MM-DD",
    default=None,
    help="With --git: the planned release date [default: now, the data's as-of + 1].",
)
@click.option(
    "--explain-facts",
    is_flag=True,
    help="With --git: print the facts and how each was derived (every file's components), "
    "then exit 0 without scoring.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "text", "junit", "markdown"]),
    default="json",
    show_default=True,
    help="Report format.",
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json (the default).")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the report to FILE instead of stdout.",
)
@warehouse_option
@REGISTRY_OPTION
@click.option("--model", default="champion", show_default=True, help="Version or alias.")
@click.option(
    "--review-threshold",
    type=float,
    default=None,
    callback=_probability,
    help="Review from this calibrated probability [default: the model's].",
)
@click.option(
    "--block-threshold",
    type=float,
    default=None,
    callback=_probability,
    help="Block from this calibrated probability [default: the model's].",
)
@click.option(
    "--fail-on",
    type=click.Choice(["block", "review"]),
    default=None,
    help="The least severe decision that fails the gate (exit 1)  [default: block, or "
    "thresholds.fail_on of .patchrisk.toml with --git]",
)
@click.option(
    "--backtest",
    is_flag=True,
    help="Score the input's versions as of their planned dates even if already released "
    "(what the gate would have said); skips the released / latest-release checks.",
)
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Seconds to wait for a warehouse locked by a writer (dbt build) before exit 3.",
)
def gate(
    input_arg,
    input_path,
    input_format,
    releases,
    git_range,
    repo,
    config_path,
    platforms,
    version,
    patch_type,
    package,
    planned_date,
    explain_facts,
    fmt,
    as_json,
    output,
    warehouse,
    registry_dir,
    model,
    review_threshold,
    block_threshold,
    fail_on,
    backtest,
    lock_timeout,
) -> None:
    """Score candidate patches and decide pass / review / block before they ship.

    INPUT is a CSV or JSON file of candidate patches ('-' reads stdin; schema in docs/gate.md);
    or --git RANGE derives the patch from the firmware repo's change (docs/gate.md).
    Exit 0: all pass; 1: a patch fails the gate; 2: bad input or usage; 3: environment
    failure (no warehouse, no champion, a model hash mismatch, a locked warehouse).
    """
    if as_json and fmt != "json":
        raise click.UsageError(f"--json means --format json, not --format {fmt}")
    if input_arg and input_path:
        raise click.UsageError("give the input either as INPUT or as --input, not both")
    source = input_arg or input_path
    release_ids = [r.strip() for value in releases for r in value.split(",") if r.strip()]
    if sum(map(bool, (source, release_ids, git_range))) > 1:
        raise click.UsageError("give one of an input file, --release or --git")
    if not source and not release_ids and not git_range:
        raise click.UsageError(
            "nothing to gate: give an input file (or '-'), --release IDs or --git RANGE"
        )
    change = None
    if git_range:
        from ml.gate.change_candidates import ChangeRequest, read_git_change

        change = read_git_change(
            ChangeRequest(
                git_range, repo, config_path, platforms, version, patch_type, package, planned_date
            )
        )
        if explain_facts:
            _explain(change, fmt, output)
            return
        config = change.config
        review_threshold = _first(review_threshold, config.review_threshold)
        block_threshold = _first(block_threshold, config.block_threshold)
        fail_on = _first(fail_on, config.fail_on)
    else:
        given = {
            "--repo": repo != Path("."),
            "--config": config_path,
            "--platform": platforms,
            "--version": version,
            "--patch-type": patch_type,
            "--package": package,
            "--planned-date": planned_date,
            "--explain-facts": explain_facts,
        }
        stray = [name for name, value in given.items() if value]
        if stray:
            raise click.UsageError(f"{stray[0]} goes with --git RANGE")
    if release_ids and backtest:
        raise click.UsageError("--release always scores as of the release date; drop --backtest")
    if len(set(release_ids)) != len(release_ids):
        dup = next(r for r in release_ids if release_ids.count(r) > 1)
        fail(f"--release {dup} is given twice", EXIT_BAD_INPUT)
    document = _run(  # an error exits 2 or 3 (ml.cli.options.OneLineErrors): never a pass
        source,
        change,
        input_format,
        release_ids,
        warehouse,
        registry_dir,
        model,
        review_threshold,
        block_threshold,
        fail_on or "block",
        backtest,
        lock_timeout,
    )
    from ml.gate.reports import RENDERERS, headline

    _write(RENDERERS[fmt](document), output, headline(document))
    sys.exit(document["exit_code"])


def _first(option, configured):
    """The option when given, else the config's value."""
    return configured if option is None else option


def _explain(change, fmt: str, output: Path | None) -> None:
    """--explain-facts: the facts and every file's derivation, as text or JSON."""
    from ml.gate.reports import render_facts

    facts = change.facts_json(every_file=True)
    text = json.dumps(facts, indent=2) + "\n" if fmt == "json" else render_facts(facts)
    _write(text, output, f"patchrisk gate: facts of {change.facts.range} written")


def _write(text: str, output: Path | None, headline: str) -> None:
    """The report to stdout, or to `output` with the headline on stderr."""
    if output is None:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except OSError as exc:  # a closed pipe: the report did not arrive, so not a pass
            with contextlib.suppress(OSError):
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - quiet exit-time flush
            fail(f"cannot write the report to stdout: {exc.strerror or exc}", EXIT_FAILURE)
    else:
        try:
            output.write_text(text)
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror}", EXIT_FAILURE)
        click.echo(headline, err=True)


def _run(
    source,
    change,
    input_format,
    release_ids,
    warehouse,
    registry_dir,
    model,
    review_threshold,
    block_threshold,
    fail_on,
    backtest,
    lock_timeout,
) -> dict:
    from ml.gate.candidates import load_candidates
    from ml.gate.change_candidates import git_candidates
    from ml.gate.scoring import GateSettings, run_gate

    if change is not None:
        candidates = git_candidates(change)
    else:
        candidates = load_candidates(source, input_format) if source else None
    report = run_gate(
        candidates=candidates,
        release_ids=release_ids or None,
        duckdb_path=warehouse,
        registry_dir=registry_dir,
        model_name=model,
        settings=GateSettings(review_threshold, block_threshold, fail_on),
        backtest=backtest,
        lock_timeout=lock_timeout,
    )
    return report.to_json()


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    """Run the gate command on its own (scripts/risk_gate.py)."""
    gate.main(args=argv, prog_name=prog_name)
