"""`make screenshot`'s check: the report is whole and every section rendered.

Usage: check_report.py [--crop] REPORT.html SCREENSHOT_DIR

With --crop, first crops each section's screenshot (a window taller than any section) to
its content, the bounding box of what differs from the page's background plus a margin.
Fails (exit 1, one line per problem) when the page lacks a section, an embedded image is not
a PNG, the page references anything outside itself, or a section's screenshot is missing,
tiny, nearly one colour (a page that did not render), mostly background (more than
MAX_BLANK_SHARE of its tiles: not cropped to its content) or, when cropping, its content
reaches the window's bottom edge (cut off: raise the Makefile's SCREENSHOT_HEIGHT).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageChops

from ml.report.html import SECTIONS, problems

MIN_BYTES = 8_000  # a rendered section with text and a table or figure is far larger
MIN_COLOURS = 16  # a blank or error page has a handful
MARGIN = 12  # pixels of background kept around the content when cropping
TILE = 64  # pixels: the blank share counts TILE x TILE squares of pure background
MAX_BLANK_SHARE = 0.7


def background(image: Image.Image) -> tuple[int, int, int]:
    """The most common colour: the page's background."""
    colours = image.getcolors(maxcolors=image.width * image.height)
    return max(colours)[1]


def content_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    """The bounding box (left, top, right, bottom) of what is not background; None when
    the image is all background."""
    solid = Image.new("RGB", image.size, background(image))
    return ImageChops.difference(image, solid).getbbox()


def blank_share(image: Image.Image) -> float:
    """The share of TILE x TILE tiles (the last row and column may be smaller) that are all
    background."""
    colour = background(image)
    tiles = [
        image.crop((x, y, min(x + TILE, image.width), min(y + TILE, image.height)))
        for y in range(0, image.height, TILE)
        for x in range(0, image.width, TILE)
    ]
    blank = sum(tile.getextrema() == tuple((c, c) for c in colour) for tile in tiles)
    return blank / len(tiles)


def crop(path: Path) -> list[str]:
    """Crop the screenshot at `path` in place to its content plus MARGIN; the problems found
    (all background, content reaching the bottom edge)."""
    with Image.open(path) as opened:
        image = opened.convert("RGB")
    box = content_box(image)
    if box is None:
        return [f"{path} is all background"]
    left, top, right, bottom = box
    found = []
    if bottom >= image.height:
        found.append(f"{path}: the section reaches the window's bottom edge (cut off?)")
    image.crop(
        (
            max(left - MARGIN, 0),
            max(top - MARGIN, 0),
            min(right + MARGIN, image.width),
            min(bottom + MARGIN, image.height),
        )
    ).save(path)
    return found


def screenshot_problems(folder: Path) -> list[str]:
    found = []
    for sid, _ in SECTIONS:
        path = folder / f"{sid}.png"
        if not path.is_file():
            found.append(f"{path} is missing")
            continue
        with Image.open(path) as opened:
            image = opened.convert("RGB")
        colours = image.getcolors(maxcolors=1 << 16)
        size = f"{path.stat().st_size} bytes, {image.width}x{image.height}"
        if path.stat().st_size < MIN_BYTES or (colours is not None and len(colours) < MIN_COLOURS):
            found.append(f"{path} looks blank ({size})")
        elif (share := blank_share(image)) > MAX_BLANK_SHARE:
            found.append(f"{path} is mostly background ({share:.0%} of it; {size})")
    return found


def main(argv: list[str]) -> int:
    cropping = argv[:1] == ["--crop"]
    args = argv[1:] if cropping else argv
    if len(args) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    report, folder = Path(args[0]), Path(args[1])
    found = problems(report.read_text(encoding="utf-8"))
    if cropping:
        for sid, _ in SECTIONS:
            if (folder / f"{sid}.png").is_file():
                found += crop(folder / f"{sid}.png")
    found += screenshot_problems(folder)
    for problem in found:
        print(f"error: {problem}", file=sys.stderr)
    if not found:
        shots = sorted(folder.glob("*.png"))
        print(f"{report}: {len(SECTIONS)} sections; {len(shots)} screenshots in {folder}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
