"""A pull request in a temporary firmware repository, with its facts counted by hand."""

from __future__ import annotations

from pathlib import Path

from tests.gate.conftest import FirmwareRepo, lines

CONFIG = """\
test_paths = ["tests/**"]

[components]
ui = ["src/ui/**"]
drm = ["src/drm/**"]
video = ["src/video/**"]
network = ["src/net/**"]

[platforms]
{first} = ["**"]
{second} = ["src/drm/**"]

[patch_type]
default = "bugfix"
"""
BINARY = bytes(range(256)) * 4  # NUL bytes: git counts it as binary
# main...feature by hand: menu.c +5 -2, test_menu.c +4, new_keys.c +6, logo.bin (binary),
# icons.c renamed ui -> video +1 -1, old.c deleted -8, readme.md +1.
EXPECTED = {
    "files_changed": 7,
    "lines_added": 17,
    "lines_deleted": 11,
    "binary_files": 1,
    "renamed_files": 1,
    "test_files_changed": 1,
    "components": {"drm": 1, "network": 1, "ui": 2, "video": 1},
    "unmatched_files": 3,
    "commits": 5,
}


def pull_request_repo(root: Path, platforms: tuple[str, str]) -> FirmwareRepo:
    """main with a tagged release per platform, and a `feature` branch: edits under ui/,
    drm/ and tests/, a binary file, a rename, a deletion and a merge of main."""
    first, second = platforms
    repo = FirmwareRepo(root)
    menu = lines(20, "menu")
    repo.commit(
        "chore: initial",
        **{
            ".patchrisk.toml": CONFIG.format(first=first, second=second),
            "src__ui__menu.c": menu,
            "src__ui__icons.c": lines(30, "icon"),
            "src__drm__keys.c": lines(10, "key"),
            "src__video__decode.c": lines(10, "frame"),
            "src__net__old.c": lines(8, "net"),
            "docs__readme.md": lines(5, "doc"),
            "tests__test_menu.c": lines(4, "test"),
        },
    )
    for tag in (f"{first}-95.9.0", f"{first}-95.10.0", f"{second}-92.0.3", "unrelated-9.9.9"):
        repo.git("tag", tag)
    repo.git("checkout", "-q", "-b", "feature")
    edited = menu.replace("menu 3\n", "menu three\n").replace("menu 7\n", "menu seven\n")
    repo.commit(
        "feat(ui): a new menu",
        **{
            "src__ui__menu.c": edited + lines(3, "new"),
            "tests__test_menu.c": lines(4, "test") + lines(4, "more"),
        },
    )
    repo.commit(
        "fix: drm keys", **{"src__drm__new_keys.c": lines(6, "k"), "firmware__logo.bin": BINARY}
    )
    repo.git("mv", "src/ui/icons.c", "src/video/icons.c")
    repo.write("src/video/icons.c", lines(30, "icon").replace("icon 0\n", "icon zero\n"))
    repo.git("rm", "-q", "src/net/old.c")
    repo.commit("refactor: move the icons")
    repo.git("checkout", "-q", "main")
    repo.commit(
        "fix(video): decode", **{"src__video__decode.c": lines(10, "frame") + lines(2, "fix")}
    )
    repo.git("checkout", "-q", "feature")
    repo.git("merge", "-q", "--no-edit", "main")
    repo.commit("docs: readme", **{"docs__readme.md": lines(6, "doc")})
    return repo
