"""The docs hold together: every relative link in README.md and docs/*.md resolves (an
#anchor to a heading of the markdown file it points into), the dbt docs name existing
pages, and every command the README's quickstart and jobs table, and the docs' bash blocks,
show exists: `patchrisk ...` answers `--help` and knows each option given, make targets are
in the Makefile, dbt subcommands and options are dbt's."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from ml.cli import main as patchrisk

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
PAGES = [README, *sorted((REPO / "docs").glob("*.md"))]
COMMAND_SECTIONS = ("Quickstart", "The main jobs")
PROGRAMS = ("patchrisk", "make", "dbt")

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
DOCS_PATH = re.compile(r"\bdocs/[^\s)`'\",;]*")


def _prose_and_code(text: str) -> tuple[list[str], list[str]]:
    """The lines outside fenced code blocks, and those inside them."""
    prose, code, fenced = [], [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif fenced:
            code.append(line)
        else:
            prose.append(line)
    return prose, code


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The #anchors of a markdown page's headings (GitHub numbers repeats -1, -2 ...)."""
    found: set[str] = set()
    for line in _prose_and_code(page.read_text())[0]:
        if m := HEADING.match(line):
            slug = base = _slug(m.group(2))
            n = 0
            while slug in found:
                n += 1
                slug = f"{base}-{n}"
            found.add(slug)
    return found


def broken_links(page: Path) -> list[str]:
    """The relative links (and anchors) of a markdown page that lead nowhere."""
    prose = "\n".join(_prose_and_code(page.read_text())[0])
    broken = []
    for target in LINK.findall(INLINE_CODE.sub("", prose)):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            broken.append(f"{target}: no {resolved.relative_to(REPO)}")
        elif anchor and (resolved.suffix != ".md" or anchor not in anchors(resolved)):
            broken.append(f"{target}: no heading #{anchor} in {resolved.relative_to(REPO)}")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(page: Path) -> None:
    assert not broken_links(page)


def test_dbt_docs_name_existing_pages() -> None:
    named = {
        match.rstrip(".")
        for path in (REPO / "dbt_project" / "models").rglob("*")
        if path.suffix in (".md", ".yml", ".sql")
        for match in DOCS_PATH.findall(path.read_text())
    }
    assert "docs/raw-telemetry.md" in named
    assert not [p for p in sorted(named) if not (REPO / p).exists()]


def _section(text: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README has no section '## {title}'"
    return match.group(1)


def _simple_commands(line: str) -> list[list[str]]:
    """A shell line split into simple commands (at && | < > ...), without leading VAR=value
    assignments and with the program's folder (.venv/bin/) dropped."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars="&|;<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    commands, current = [], []
    for token in lexer:
        if token and set(token) <= set("&|;<>"):
            commands.append(current)
            current = []
        else:
            current.append(token)
    commands.append(current)
    out = []
    for words in commands:
        while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
            words = words[1:]
        if words:
            out.append([Path(words[0]).name, *words[1:]])
    return out


def _bash_lines(text: str) -> list[str]:
    """The lines of the ```bash blocks, backslash continuations joined."""
    lines, fenced, pending = [], False, ""
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = line.strip() == "```bash"
        elif fenced and line.endswith("\\"):
            pending += line[:-1] + " "
        elif fenced:
            lines.append(pending + line)
            pending = ""
    return lines


def documented_commands() -> list[list[str]]:
    """The patchrisk / make / dbt commands of the README's quickstart and jobs table (code
    blocks and inline code), and of every ```bash block in README.md and docs/*.md."""
    text = README.read_text()
    lines = []
    for title in COMMAND_SECTIONS:
        prose, code = _prose_and_code(_section(text, title))
        lines += code + [span.strip("`") for span in INLINE_CODE.findall("\n".join(prose))]
    lines += [line for page in PAGES for line in _bash_lines(page.read_text())]
    commands = {tuple(c) for line in lines for c in _simple_commands(line) if c[0] in PROGRAMS}
    assert {c[0] for c in commands} == set(PROGRAMS)
    return [list(c) for c in sorted(commands)]


COMMANDS = documented_commands()


def arguments_of(program: str) -> list[list[str]]:
    """What follows the program in each documented command that runs it."""
    return [c[1:] for c in COMMANDS if c[0] == program]


def _resolve(group: click.Group, words: list[str]) -> tuple[list[str], click.Command]:
    """The longest chain of (sub)commands `words` starts with, and the command it names."""
    command, path = group, []
    for word in words:
        if not isinstance(command, click.Group) or word not in command.commands:
            break
        command = command.commands[word]
        path.append(word)
    return path, command


def unknown_options(command: click.Command, words: list[str]) -> list[str]:
    known = {"--help", *(o for p in command.params for o in (*p.opts, *p.secondary_opts))}
    given = (w.split("=")[0] for w in words if w.startswith("-") and w != "-")
    return [o for o in given if o not in known]


def _check(group: click.Group, words: list[str]) -> tuple[list[str], click.Command]:
    path, command = _resolve(group, words)
    if words and not words[0].startswith("-"):
        assert path, f"{words[0]!r} is not a command"
    assert not unknown_options(command, words[len(path) :])
    return path, command


@pytest.mark.parametrize(
    "words", arguments_of("patchrisk"), ids=lambda w: " ".join(["patchrisk", *w])
)
def test_patchrisk_commands_answer_help(words: list[str]) -> None:
    path, _ = _check(patchrisk, words)
    result = CliRunner().invoke(patchrisk, [*path, "--help"])
    assert result.exit_code == 0, result.output


def makefile_targets() -> set[str]:
    text = (REPO / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", text, re.M))


def test_make_targets_exist() -> None:
    targets = makefile_targets()
    wanted = {w for words in arguments_of("make") for w in words if "=" not in w}
    assert wanted, "the docs show no make command"
    assert not wanted - targets


def test_dbt_commands_exist() -> None:
    from dbt.cli.main import cli as dbt  # in-process: dbt's own click group

    for words in arguments_of("dbt"):
        _check(dbt, words)
