"""How `patchrisk gate` speaks: factors in words, and the json / text / junit / markdown
renderings of a GateReport."""

from __future__ import annotations

import json
import math
import textwrap
from functools import lru_cache
from xml.etree import ElementTree as ET

from ml.gate.release_attributes import COMPONENTS
from ml.modeling.features import RUSHED_GAP_DAYS

FORMATS = ("json", "text", "junit", "markdown")
MARKDOWN_MAX_ROWS = 100
TEXT_WIDTH = 100  # columns of the text report, as every command's (ml.cli.options)
FACTOR_WRAP = textwrap.TextWrapper(
    width=TEXT_WIDTH, initial_indent="         - ", subsequent_indent="           "
)


def _lines(log_value: float) -> str:
    return f"{round(math.expm1(log_value)):,}"


def _flag(yes: str, no: str):
    return lambda v: yes if v >= 0.5 else no


def _plural(word: str, n: int) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# feature -> what its (non-null) value says about the patch, in words
_WORDS = {
    "is_hotfix": _flag("a hotfix", "not a hotfix"),
    "is_security": _flag("a security patch", "not a security patch"),
    "is_feature": _flag("a feature release", "not a feature release"),
    "code_churn_score": lambda v: f"{_lines(v)} lines changed",
    "hotfix_churn": lambda v: (
        f"a hotfix changing {_lines(v)} lines" if v > 0 else "not a hotfix (no hotfix churn)"
    ),
    "component_count": lambda v: f"{_plural('component', int(v))} touched",
    "components_beyond_two": lambda v: (
        f"{_plural('component', int(v))} touched beyond two" if v > 0 else "at most two components"
    ),
    "test_file_ratio": lambda v: f"{v:.0%} of the changed files are tests",
    "days_since_previous_release": lambda v: f"{int(v)} days after the previous release",
    "is_rushed": _flag(
        f"rushed: within {RUSHED_GAP_DAYS} days of the previous release",
        f"not rushed (more than {RUSHED_GAP_DAYS} days after the previous release)",
    ),
    "log_previous_release_error_ratio": lambda v: (
        f"the previous release's error rate is {math.exp(v):.2f}x the platform's trailing rate"
    ),
    "rushed_after_error_rise": lambda v: (
        f"rushed after an error-rate rise ({math.exp(v):.2f}x)"
        if v > 0
        else "not rushed after an error-rate rise"
    ),
    "is_latest_labelled_release_regression": _flag(
        "the platform's latest labelled release regressed",
        "the platform's latest labelled release did not regress",
    ),
    "rushed_after_regression": _flag("rushed after a regression", "not rushed after a regression"),
    "platform_recent_regression_rate": lambda v: (
        f"{v:.0%} of the platform's recent labelled releases regressed"
    ),
    "log_platform_trailing_errors": lambda v: (
        f"platform's trailing error rate {math.expm1(v):,.0f} per 10k device-days"
    ),
    "log_previous_release_errors": lambda v: (
        f"previous release: {math.expm1(v):,.0f} errors per 10k device-days"
    ),
    "platform_avg_device_age_years": lambda v: (
        f"the platform's devices are {v:.1f} years old on average"
    ),
    "platform_share_devices_older_than_3_years": lambda v: (
        f"{v:.0%} of the platform's devices are older than 3 years"
    ),
    "platform_releases_previous_30_days": lambda v: (
        f"{_plural('release', int(v))} on the platform in the previous 30 days"
    ),
    **{f"touches_{c}": _flag(f"touches {c}", f"does not touch {c}") for c in COMPONENTS},
}
# ... and when the value is null
_UNKNOWN = {
    "days_since_previous_release": "first release on its platform",
    "is_rushed": "no previous release on the platform",
    "test_file_ratio": "no files changed (no test share)",
    "is_latest_labelled_release_regression": "no labelled release on the platform yet",
    "platform_recent_regression_rate": "no labelled releases on the platform yet",
}


@lru_cache(maxsize=65536)  # 10k patches repeat most (feature, value) pairs
def _phrase(feature: str, value) -> str:
    """What a feature's value says about the patch, in words."""
    if feature == "platform_id":
        return f"platform {value}"
    if value is None:
        return _UNKNOWN.get(feature, f"{feature} unknown")
    words = _WORDS.get(feature)
    if words is None or isinstance(value, str):
        return f"{feature} = {value}"
    return words(float(value))


def describe_factor(feature: str, value, contribution: float) -> str:
    """One SHAP factor in words, e.g. '1,339 lines changed (raises the risk, +0.41 log-odds)'."""
    effect = "raises" if contribution > 0 else "lowers" if contribution < 0 else "does not move"
    return f"{_phrase(feature, value)} ({effect} the risk, {contribution:+.2f} log-odds)"


# ---- renderers ---------------------------------------------------------------------------
def render_json(doc: dict) -> str:
    """Indented, with one result per line: readable, diffable, and fast for 10k patches
    (json's C encoder does not indent)."""
    placeholder = "\x00results\x00"
    head = json.dumps({**doc, "results": placeholder}, indent=2, allow_nan=False)
    encode = json.JSONEncoder(allow_nan=False).encode  # one encoder, not one per result
    rows = ",\n    ".join(map(encode, doc["results"]))
    results = f"[\n    {rows}\n  ]" if rows else "[]"
    return head.replace(json.dumps(placeholder), results, 1) + "\n"


def _patches(n: int) -> str:
    return f"{n:,} patch{'' if n == 1 else 'es'}"


def verdict(doc: dict) -> str:
    """The gate's outcome in words: PASSED, PASSED with reviews (a review passes unless
    --fail-on review), or FAILED."""
    reviews = doc["counts"]["review"]
    if not doc["passed"]:
        return "FAILED"
    return f"PASSED with {_patches(reviews)} to review" if reviews else "PASSED"


def headline(doc: dict) -> str:
    """One line: the verdict and the decisions' counts."""
    counts = doc["counts"]
    return (
        f"patchrisk gate {verdict(doc)}: {counts['block']} block, {counts['review']} review, "
        f"{counts['pass']} pass of {_patches(len(doc['results']))}"
    )


def change_summary(facts: dict) -> str:
    """Where a git candidate's facts came from, in one sentence."""
    components = ", ".join(facts["components"]) or "none"
    size = facts["package"]["size_kb"]
    package = f"{size:,} KiB" if size is not None else "unknown (no --package)"
    return (
        f"change {facts['range']} (head {facts['head_commit'][:12]}, "
        f"{_plural('commit', facts['commits'])}): {_plural('file', facts['files_changed'])}, "
        f"+{facts['lines_added']:,} / -{facts['lines_deleted']:,} lines, components "
        f"{components} ({facts['unmatched_files']:,} files match none), "
        f"{_plural('test file', facts['test_files_changed'])}; patch type "
        f"{facts['patch_type']['value']} from {facts['patch_type']['from']}; package size "
        f"{package}"
    )


def render_facts(facts: dict) -> str:
    """`--explain-facts`: each fact and where it came from, then every changed file with
    the components and test pattern it matched (100 columns)."""
    wrap = textwrap.TextWrapper(width=TEXT_WIDTH, subsequent_indent="  ")
    out = [wrap.fill(change_summary(facts)), f"config: {facts['config']}"]
    out.append(
        f"platforms {', '.join(facts['platforms']['ids'])} from {facts['platforms']['from']}"
    )
    out.extend(
        f"version {p}: {v['version']} from {v['from']}" for p, v in facts["versions"].items()
    )
    out.append(f"package size: {facts['package']['from']}")
    out.append(f"planned release date: {facts['planned_release_date']}")
    out.append("")
    for f in facts["files"]:
        lines = "binary" if f["is_binary"] else f"+{f['lines_added']} -{f['lines_deleted']}"
        path = f["path"] if f["old_path"] is None else f"{f['old_path']} -> {f['path']}"
        matched = ", ".join(f["components"]) or "no component"
        out.append(f"{lines:>14}  {path}  [{matched}{', test' if f['is_test'] else ''}]")
    return "\n".join(out) + "\n"


def render_text(doc: dict) -> str:
    """The headline, the settings, the change's facts (--git), then each patch with its
    top factors (100 columns)."""
    t = doc["thresholds"]
    out = [
        headline(doc),
        f"model {doc['model']['version']}: review >= {t['review']:.3f}, block >= "
        f"{t['block']:.3f}, fails on {t['fail_on']}; warehouse as of "
        f"{doc['warehouse']['as_of_date']}",
    ]
    if "git" in doc["input"]:
        out.append(textwrap.fill(change_summary(doc["input"]["git"]), TEXT_WIDTH))
    out.append("")
    for r in doc["results"]:
        out.append(
            f"{r['decision'].upper():<6} {r['release_id']:<28} p={r['regression_probability']:.3f}"
            f"  predicted {r['predicted_errors_per_10k_device_days']:,.0f} errors/10k device-days"
        )
        out.extend(FACTOR_WRAP.fill(f["text"]) for f in r["top_factors"])
    return "\n".join(out) + "\n"


def render_junit(doc: dict) -> str:
    results = doc["results"]
    fail_on = doc["thresholds"]["fail_on"]
    failing = {"block", "review"} if fail_on == "review" else {"block"}
    suite = ET.Element(
        "testsuite",
        {
            "name": "patchrisk gate",
            "tests": str(len(results)),
            "failures": str(sum(r["decision"] in failing for r in results)),
            "errors": "0",
            "skipped": "0",
            "timestamp": doc["generated_at"],
        },
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("model_version", doc["model"]["version"]),
        ("model_sha256", doc["model"]["sha256"] or ""),
        ("review_threshold", f"{doc['thresholds']['review']:.6f}"),
        ("block_threshold", f"{doc['thresholds']['block']:.6f}"),
        ("fail_on", fail_on),
        ("as_of_date", doc["warehouse"]["as_of_date"]),
        *(
            [
                ("git_range", git["range"]),
                ("git_head_commit", git["head_commit"]),
                ("change", change_summary(git)),
            ]
            if (git := doc["input"].get("git"))
            else []
        ),
    ):
        ET.SubElement(props, "property", {"name": name, "value": str(value)})
    for r in results:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": f"patchrisk.gate.{r['platform_id']}",
                "name": r["release_id"],
                "time": "0",
            },
        )
        summary = (
            f"{r['decision']}: P(regression) {r['regression_probability']:.3f}, predicted "
            f"{r['predicted_errors_per_10k_device_days']:,.0f} errors per 10k device-days"
        )
        details = "\n".join(f"- {f['text']}" for f in r["top_factors"])
        if r["decision"] in failing:
            failure = ET.SubElement(case, "failure", {"message": summary, "type": r["decision"]})
            failure.text = details
        else:
            ET.SubElement(case, "system-out").text = f"{summary}\n{details}"
    suites = ET.Element(
        "testsuites",
        {"name": "patchrisk gate", "tests": suite.get("tests"), "failures": suite.get("failures")},
    )
    suites.append(suite)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(doc: dict) -> str:
    icon = {"pass": ":white_check_mark:", "review": ":warning:", "block": ":no_entry:"}
    counts = doc["counts"]
    t = doc["thresholds"]
    m = doc["model"]
    out = [
        f"## Patch risk gate: {verdict(doc)} {icon[doc['decision']]}",
        "",
        f"**{counts['block']} block, {counts['review']} review, {counts['pass']} pass** of "
        f"{len(doc['results'])}. Model `{m['version']}` (`{(m['sha256'] or '')[:12]}`), "
        f"review at p >= {t['review']:.3f}, block at p >= {t['block']:.3f}, "
        f"fails on {t['fail_on']}; warehouse as of {doc['warehouse']['as_of_date']}.",
        "",
    ]
    if "git" in doc["input"]:
        out += [f"**Facts from git**: {_md(change_summary(doc['input']['git']))}.", ""]
    out += [
        "| patch | decision | P(regression) | predicted errors / 10k device-days | top factors |",
        "|---|---|---:|---:|---|",
    ]
    order = {"block": 0, "review": 1, "pass": 2}
    ranked = sorted(
        doc["results"], key=lambda r: (order[r["decision"]], -r["regression_probability"])
    )
    for r in ranked[:MARKDOWN_MAX_ROWS]:
        factors = "; ".join(_md(f["text"]) for f in r["top_factors"])
        out.append(
            f"| `{_md(r['release_id'])}` | {icon[r['decision']]} {r['decision']} | "
            f"{r['regression_probability']:.3f} | "
            f"{r['predicted_errors_per_10k_device_days']:,.0f} | {factors} |"
        )
    if len(ranked) > MARKDOWN_MAX_ROWS:
        out.append(f"\n... and {len(ranked) - MARKDOWN_MAX_ROWS:,} more (see the JSON report)")
    return "\n".join(out) + "\n"


RENDERERS = {
    "json": render_json,
    "text": render_text,
    "junit": render_junit,
    "markdown": render_markdown,
}
