"""`patchrisk report` on a scored warehouse of a generated small world."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result

from ml.cli import main
from ml.modeling.registry import Registry
from ml.report.html import SECTIONS, problems


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["report", *args], catch_exceptions=False)


def assert_one_line_error(result: Result, code: int, text: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.output)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and text in lines[0], lines
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def page(report_warehouse: Path, trained_registry: Path, ml_world: Path, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("report") / "sub" / "report.html"
    result = run(
        "--warehouse",
        str(report_warehouse),
        "--registry",
        str(trained_registry),
        "--raw-dir",
        str(ml_world),
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out.resolve())
    return out.read_text(encoding="utf-8")


def test_every_section_is_there_in_order(page: str) -> None:
    assert problems(page) == []
    positions = [page.index(f'<section id="{sid}"><h2>{title}</h2>') for sid, title in SECTIONS]
    assert positions == sorted(positions)
    for sid, _ in SECTIONS:
        assert f'<a href="#{sid}">' in page


def test_figures_are_embedded_pngs_and_nothing_is_fetched(page: str) -> None:
    images = re.findall(
        r'<img class="figure" alt="([^"]+)" src="data:image/png;base64,([^"]+)"', page
    )
    alts = {alt for alt, _ in images}
    assert {
        "ROC and precision-recall curves",
        "reliability diagram",
        "SHAP summary",
        "risk distribution of pending releases",
        "fleet watchlist heatmap",
        "latest drift check",
    } <= alts
    for _, data in images:
        assert base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n")
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page and "<link" not in page
    assert re.findall(r'(?:src|href)="(?!data:image/png;base64,|#)', page) == []


def test_model_card_shows_the_champion_and_its_metrics(page: str, trained_registry: Path) -> None:
    meta = Registry(trained_registry).metadata("champion")
    assert f"champion {meta['version']}</h1>" in page
    clf = meta["metrics"]["classifier"]
    for name in ("model", "oracle", "logistic_regression", "random_forest", "prototype_recipe"):
        assert f"<th>{name}</th>" in page
    model = clf["model"]
    assert f">{model['roc_auc']:.3f}<" in page
    assert f">{model['roc_auc_ci_low']:.3f}-{model['roc_auc_ci_high']:.3f}<" in page
    assert f">{clf['oracle']['roc_auc']:.3f}<" in page
    test = meta["splits"]["test"]
    assert f"{test['release_date_min']} .. {test['release_date_max']}" in page
    # the curves' slice is the one training evaluated on: same size, same oracle AUC
    assert f"test slice: {test['rows']} releases, {test['positives']} regressions" in page
    assert f"oracle {clf['oracle']['roc_auc']:.3f}" in page
    assert "the warehouse has changed" not in page


def test_tables_hold_the_marts(page: str, report_warehouse: Path) -> None:
    with duckdb.connect(str(report_warehouse), read_only=True) as con:
        queue = con.execute(
            "select release_id from marts.fct_qa_priority_queue order by priority_rank limit 3"
        ).fetchall()
        (watched,) = con.execute(
            "select release_id from marts.fct_fleet_watchlist order by watch_rank limit 1"
        ).fetchone()
        (runs,) = con.execute("select count(*) from marts.fct_drift_runs").fetchone()
    # ids break at their hyphens unless told not to
    assert queue and all(f'<td class="nowrap">{r}</td>' in page for (r,) in queue)
    assert f'<td class="nowrap">{watched}</td>' in page
    assert runs == 1 and "1 drift check recorded" in page
    assert "<td>register</td>" in page and "<td>promote</td>" in page


def test_without_oracle_or_drift_checks_it_says_so(
    ml_warehouse: Path,
    trained_registry: Path,
    tmp_path: Path,
) -> None:
    out = tmp_path / "report.html"
    result = run(
        "--warehouse",
        str(ml_warehouse),
        "--registry",
        str(trained_registry),
        "--raw-dir",
        str(tmp_path),
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert problems(page) == []
    assert "no oracle curve" in page
    assert "no drift checks yet — run patchrisk drift" in page
    assert "no scored release awaits QA" in page


def test_missing_warehouse_is_an_environment_failure(
    trained_registry: Path, tmp_path: Path
) -> None:
    result = run(
        "--warehouse",
        str(tmp_path / "none.duckdb"),
        "--registry",
        str(trained_registry),
        "--out",
        str(tmp_path / "r.html"),
    )
    assert_one_line_error(result, 3, "no warehouse at")
    assert not (tmp_path / "r.html").exists()


def test_no_champion_is_an_environment_failure(report_warehouse: Path, tmp_path: Path) -> None:
    result = run(
        "--warehouse",
        str(report_warehouse),
        "--registry",
        str(tmp_path / "empty_registry"),
        "--out",
        str(tmp_path / "r.html"),
    )
    assert_one_line_error(result, 3, "no champion")


def test_unwritable_output_is_an_environment_failure(
    report_warehouse: Path, trained_registry: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run(
        "--warehouse",
        str(report_warehouse),
        "--registry",
        str(trained_registry),
        "--out",
        str(blocker / "report.html"),
    )
    assert_one_line_error(result, 3, "cannot write the report")


def test_bad_option_is_bad_input() -> None:
    assert run("--top", "0").exit_code == 2


def test_problems_names_what_breaks_a_page(page: str) -> None:
    first_id, first_title = SECTIONS[0]
    broken = page.replace(f'<section id="{first_id}"><h2>{first_title}</h2>', "<section>", 1)
    broken = broken.replace("data:image/png;base64,", "data:image/png;base64,AAAA", 1)
    broken = broken.replace("</body>", '<img src="https://example.org/x.png"></body>')
    found = problems(broken)
    assert f"section {first_id!r} is missing" in found
    assert "image 0 is not a PNG" in found
    assert any(p.startswith("external reference") for p in found)


def test_no_path_outside_the_repo_is_shown(
    page: str, report_warehouse: Path, trained_registry: Path, ml_world: Path
) -> None:
    source = Registry(trained_registry).metadata("champion")["source"]
    for path in (report_warehouse, trained_registry, ml_world, *source.values()):
        if isinstance(path, str | Path):
            assert str(path) not in page
    assert f"from .../{report_warehouse.name} and the registry .../{trained_registry.name}" in page


def test_each_column_has_one_number_format(page: str, report_warehouse: Path) -> None:
    with duckdb.connect(str(report_warehouse), read_only=True) as con:
        expected = con.execute(
            "select expected_daily_errors from marts.fct_qa_priority_queue "
            "order by priority_rank limit 20"
        ).fetchall()
    assert expected and all(f">{v:,.1f}</td>" in page for (v,) in expected)


def test_queue_explains_probability_against_expected_errors(page: str) -> None:
    assert "<th>P(regression): chance it regresses</th>" in page
    assert "<th>expected errors / day (whole fleet)</th>" in page
    assert "Two different predictions" in page


def test_drift_section_shows_the_latest_run_and_says_the_history_is_short(page: str) -> None:
    assert 'alt="latest drift check"' in page
    assert "alpha = 0.05" in page
    assert "only one drift check so far" in page
    assert 'alt="drift over time"' not in page
