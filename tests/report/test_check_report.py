"""scripts/check_report.py (`make screenshot`'s last step) on generated screenshots: a
section cropped to its content passes; missing, blank, mostly blank and cut-off ones fail."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ml.report.html import SECTIONS
from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def check():
    spec = importlib.util.spec_from_file_location(
        "check_report", REPO_ROOT / "scripts" / "check_report.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def screenshot(path: Path, content_rows: int, height: int = 2000, top: int = 0) -> Path:
    """A white 1400 x `height` window with `content_rows` rows of noisy 'content' from `top`."""
    pixels = np.full((height, 1400, 3), 255, dtype=np.uint8)
    rng = np.random.default_rng(0)
    pixels[top : top + content_rows, 24:1376] = rng.integers(0, 200, (content_rows, 1352, 3))
    Image.fromarray(pixels).save(path)
    return path


def test_an_uncropped_section_is_mostly_background_until_cropped(check, tmp_path: Path) -> None:
    path = screenshot(tmp_path / "drift.png", content_rows=400)
    assert any("is mostly background" in p for p in check.screenshot_problems(tmp_path))
    assert check.crop(path) == []
    with Image.open(path) as cropped:
        assert cropped.size == (1352 + 2 * check.MARGIN, 400 + check.MARGIN)
    assert not any(str(path) in p for p in check.screenshot_problems(tmp_path))


def test_missing_blank_and_cut_off_sections_fail(check, tmp_path: Path) -> None:
    blank = Image.new("RGB", (1400, 2000), "white")
    blank.save(tmp_path / "model-card.png")
    assert check.crop(tmp_path / "model-card.png") == [
        f"{tmp_path / 'model-card.png'} is all background"
    ]
    cut = screenshot(tmp_path / "shap.png", content_rows=500, top=1500)
    assert "cut off" in check.crop(cut)[0]
    found = check.screenshot_problems(tmp_path)
    assert any("model-card.png looks blank" in p for p in found)
    missing = {sid for sid, _ in SECTIONS} - {"model-card", "shap"}
    assert {p for p in found if p.endswith("is missing")} == {
        f"{tmp_path / sid}.png is missing" for sid in missing
    }


def test_main_crops_then_checks_the_report(check, tmp_path: Path, capsys) -> None:
    report = tmp_path / "report.html"
    report.write_text("<html></html>")  # no sections
    for sid, _ in SECTIONS:
        screenshot(tmp_path / f"{sid}.png", content_rows=300)
    assert check.main([str(report), str(tmp_path)]) == 1
    assert "mostly background" in capsys.readouterr().err
    assert check.main(["--crop", str(report), str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "section 'model-card' is missing" in err and "mostly background" not in err
