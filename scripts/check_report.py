"""`make screenshot`'s check: the report is whole and every section rendered.

Usage: check_report.py REPORT.html SCREENSHOT_DIR

Fails (exit 1, one line per problem) when the page lacks a section, an embedded image is not
a PNG, the page references anything outside itself, or a section's screenshot is missing,
tiny or nearly blank (a page that did not render).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

from ml.report.html import SECTIONS, problems

MIN_BYTES = 8_000  # a rendered section with text and a table or figure is far larger
MIN_COLOURS = 16  # a blank or error page has a handful


def screenshot_problems(folder: Path) -> list[str]:
    found = []
    for sid, _ in SECTIONS:
        path = folder / f"{sid}.png"
        if not path.is_file():
            found.append(f"{path} is missing")
            continue
        with Image.open(path) as image:
            colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
            size = image.size
        if path.stat().st_size < MIN_BYTES or (colours is not None and len(colours) < MIN_COLOURS):
            found.append(f"{path} looks blank ({path.stat().st_size} bytes, {size[0]}x{size[1]})")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    report, folder = Path(argv[0]), Path(argv[1])
    found = problems(report.read_text(encoding="utf-8")) + screenshot_problems(folder)
    for problem in found:
        print(f"error: {problem}", file=sys.stderr)
    if not found:
        shots = sorted(folder.glob("*.png"))
        print(f"{report}: {len(SECTIONS)} sections; {len(shots)} screenshots in {folder}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
