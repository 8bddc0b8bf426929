"""MkDocs hooks (mkdocs.yml ``hooks:``): what the site generates at build time.

- ``gallery/...``: every PNG under ``results/reference/``, served from where it is (a virtual
  file backed by the real one: nothing is copied into ``docs/`` or committed twice), and
  ``gallery.md``, one section per reference folder with the command that made each figure
  (from the figure's JSON sidecar).
- ``readme.md``: the repository's README.md, with its links rewritten for the site (``docs/X``
  -> ``X``, figures -> the gallery's copies, other repository files -> plain code text).
- ``cli.md``: the marker ``<!-- cli-help -->`` becomes the ``--help`` of ``python -m sim`` and of
  every command in ``sim.cli.COMMANDS``, so the reference cannot fall behind the code.
- Every page: Sphinx roles left in docstrings (``:func:`x```) are shown as plain code.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "results" / "reference"
GALLERY = "gallery"
CLI_MARKER = "<!-- cli-help -->"
LONG_HELP = 40   # lines; longer --help outputs are shown folded


# ------------------------------------------------------------------------------- files
def on_files(files, config):
    for png in _reference_figures():
        files.append(File.generated(config, _gallery_uri(png), abs_src_path=str(png)))
    files.append(File.generated(config, "gallery.md", content=_gallery_page()))
    files.append(File.generated(config, "readme.md", content=_readme_page()))
    return files


def _reference_figures() -> list[Path]:
    return sorted(REFERENCE.glob("*/**/*.png"))


def _gallery_uri(png: Path) -> str:
    return f"{GALLERY}/{png.relative_to(REFERENCE).as_posix()}"


def _gallery_page() -> str:
    lines = ["# Gallery", "",
             "The reference figures committed in `results/reference/` of the repository, by folder. "
             "Each folder also holds the tables the figures were drawn from, and each figure a PDF "
             "version and a JSON sidecar with the command, the seeds and the settings that produced it.",
             ""]
    folders: dict[str, list[Path]] = {}
    for png in _reference_figures():
        folders.setdefault(png.relative_to(REFERENCE).parts[0], []).append(png)
    if not folders:
        lines.append("No reference figures are in this checkout.")
    for folder, pngs in folders.items():
        lines += [f"## `{folder}`", ""]
        for png in pngs:
            title = png.stem.replace("_", " ").capitalize()
            lines += [f"### {title}", "", f"![{title} ({folder})]({_gallery_uri(png)})", ""]
            lines += _commands(png.with_suffix(".json"))
    return "\n".join(lines)


def _commands(sidecar: Path) -> list[str]:
    try:
        meta = json.loads(sidecar.read_text())
    except (OSError, ValueError):
        return []
    lines = []
    if meta.get("sweep_command"):
        lines.append(f"Sweep: `{meta['sweep_command']}`  ")
    if meta.get("command"):
        lines.append(f"Figure: `{meta['command']}`  ")
    if meta.get("note"):
        lines.append(f"Note: {meta['note']}")
    return [*lines, ""] if lines else []


def _readme_page() -> str:
    """README.md with links that work on the site."""

    def link(match: re.Match) -> str:
        bang, text, target = match.group(1), match.group(2), match.group(3)
        if re.match(r"[a-z]+:|#", target):                 # web address or anchor: as is
            return match.group(0)
        path, _, anchor = target.partition("#")
        if path.startswith("docs/") and (ROOT / path).is_file():
            return f"{bang}[{text}]({path.removeprefix('docs/')}{'#' + anchor if anchor else ''})"
        if (ROOT / path).is_file() and (ROOT / path).resolve().is_relative_to(REFERENCE) \
                and path.endswith(".png"):
            return f"{bang}[{text}]({_gallery_uri((ROOT / path).resolve())})"
        # Another file of the repository: not on the site, so named rather than linked.
        return f"`{path}`" if text.strip("`") == path else f"{text} (`{path}`)"

    text = (ROOT / "README.md").read_text()
    return re.sub(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)", link, text)


# ------------------------------------------------------------------------------- lists
_ITEM = re.compile(r"(\d{1,9}[.)]|[-*+])( {1,4})(?=\S)")
_FENCE = re.compile(r"(```|~~~)")


def _four_space_lists(markdown: str) -> str:
    """Re-indent list contents written for CommonMark/GitHub (content aligned with the text after
    the marker: 2 spaces under "- ", 3 under "1. ") to Python-Markdown's rule of 4 spaces per
    level, so that continuation paragraphs, nested lists and code blocks stay in their item.
    Only leading spaces change (and a blank line is added before a list that follows a
    paragraph), so the page is the same text as the file in the repository."""
    out: list[str] = []
    stack: list[list] = []   # per open item: [content indent in the file, on the page, loose, marker indent]
    blank, fence = True, None
    for line in markdown.split("\n"):
        text = line.lstrip(" ")
        indent = len(line) - len(text)
        if fence is not None:             # inside a fenced block: shifted like its opening line
            out.append(" " * max(0, indent + fence) + text if text else "")
            if _FENCE.match(text):
                fence = None
            continue
        if not text:
            out.append("")
            blank = True
            for level in stack:
                level[2] = True           # the item holds several blocks
            continue
        item = _ITEM.match(text)
        if item and not blank and item.group(1)[0].isdigit() and int(item.group(1)[:-1]) != 1 \
                and not any(level[3] == indent for level in stack):
            item = None                   # "2019. ..." in a paragraph: only "1." starts a list there
        in_list, loose = bool(stack), bool(stack) and stack[-1][2]
        if item or blank:
            while stack and indent < stack[-1][0]:
                stack.pop()
        if item and not blank and loose:
            out.append("")                # else the item would continue the previous block
        if stack:
            src, dst = stack[-1][:2]
            new = dst + max(0, indent - src)
        else:
            new = indent
            if item and not blank and not in_list:
                out.append("")            # Python-Markdown needs a blank line before a list
        if item:
            stack.append([indent + len(item.group(0)), new + 4, False, indent])
        if _FENCE.match(text):
            fence = new - indent
        out.append(" " * new + text)
        blank = False
    return "\n".join(out)


# ------------------------------------------------------------------------------- CLI reference
def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri in ("ODD.md", "readme.md"):
        return _four_space_lists(markdown)
    if page.file.src_uri != "cli.md":
        return markdown
    if CLI_MARKER not in markdown:
        raise PluginError(f"docs/cli.md lost its marker {CLI_MARKER}: the command reference goes there")
    return markdown.replace(CLI_MARKER, _cli_reference())


def _help(*args: str) -> str:
    with tempfile.TemporaryDirectory() as cwd:   # Hydra may create folders where it runs
        done = subprocess.run([sys.executable, "-m", "sim", *args, "--help"], cwd=cwd, capture_output=True,
                              text=True, timeout=600, env={**os.environ, "COLUMNS": "100"})
    if done.returncode != 0:
        raise PluginError(f"'python -m sim {' '.join(args)} --help' failed ({done.returncode}):\n{done.stderr}")
    return done.stdout.rstrip()


def _fenced(text: str, title: str) -> str:
    block = f"```text\n{text}\n```"
    if text.count("\n") < LONG_HELP:
        return block
    return f'??? example "{title} (full output)"\n\n{textwrap.indent(block, "    ")}'


def _cli_reference() -> str:
    from sim.cli import COMMANDS

    parts = ["## `sim --help`", "", _fenced(_help(), "sim --help"), ""]
    for name, (_, doc) in COMMANDS.items():
        parts += [f"## `sim {name}`", "", doc[:1].upper() + doc[1:] + ".", "",
                  _fenced(_help(name), f"sim {name} --help"), ""]
    return "\n".join(parts)


# ------------------------------------------------------------------------------- docstrings
_ROLE = re.compile(r":(?:func|class|meth|attr|mod|data|obj|exc|const):(<code>|<a [^>]*><code>)~?")


def on_page_content(html, page, config, files):
    return _ROLE.sub(r"\1", html)
