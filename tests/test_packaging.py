"""The package as installed by a user: every subpackage and config file ships, one version
everywhere, the ``sim`` console script, declared dependencies, optional extras and the docs."""

import ast
import importlib
import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

import sim
from sim.errors import UserError
from sim.extras import require

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
# Extras that make a part of sim work (the others are for developers: test, docs, bench).
RUNTIME_EXTRAS = ("reproduce", "sensitivity", "slurm", "calibrate")


def _name(requirement: str) -> str:
    """Normalised distribution name of a requirement string (PEP 503)."""
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", requirement).group()).lower()


def test_every_folder_that_holds_code_or_configs_ships():
    """A non-editable install ships only what setuptools' package discovery finds, and within a
    package only the files package-data names: every folder with code, configs or data must be
    found, and each of its files' kinds named."""
    from setuptools import find_namespace_packages

    find = PYPROJECT["tool"]["setuptools"]["packages"]["find"]
    shipped = set(find_namespace_packages(where=str(ROOT / find["where"][0]), include=find["include"]))
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["*"]
    for top in ("sim", "hydra_plugins"):
        for path in (ROOT / top).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                package = ".".join(path.parent.relative_to(ROOT).parts)
                assert package in shipped, f"{path.relative_to(ROOT)} would not ship: {package} is not found"
                assert path.suffix == ".py" or any(path.match(p) for p in patterns), \
                    f"{path.relative_to(ROOT)} would not ship: add its kind to [tool.setuptools.package-data]"


# ------------------------------------------------------------------------------- version
def test_version_has_one_source():
    assert "version" not in PROJECT and "version" in PROJECT["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "sim.__version__"}


def test_citation_version_is_the_package_version():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert str(citation["version"]) == sim.__version__, "update CITATION.cff's version (and date-released)"


def test_installed_version_is_the_package_version():
    assert importlib.metadata.version("sim") == sim.__version__, \
        "the installed metadata is stale: pip install -e . again"


def test_licence_is_mit_everywhere():
    assert PROJECT["license"] == "MIT"
    assert yaml.safe_load((ROOT / "CITATION.cff").read_text())["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n\nCopyright (c) 2026 The sim authors")


# ------------------------------------------------------------------------------- console script
def test_console_script_lists_the_commands():
    from sim.cli import COMMANDS

    script = Path(sys.executable).with_name("sim")
    assert script.exists(), f"no console script {script}: pip install -e . again"
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for name in COMMANDS:
        assert re.search(rf"^\s+{name}\s", done.stdout, re.M), f"'{name}' missing from sim --help"


# ------------------------------------------------------------------------------- dependencies
def _third_party_imports() -> dict[str, set[str]]:
    """Top-level modules imported anywhere in sim/ and hydra_plugins/ -> the files importing them."""
    found: dict[str, set[str]] = {}
    for path in [*(ROOT / "sim").rglob("*.py"), *(ROOT / "hydra_plugins").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("sim", "hydra_plugins", "__future__"):
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_imported_package_is_declared():
    declared = {_name(r) for r in PROJECT["dependencies"]}
    optional = {_name(r) for extra in RUNTIME_EXTRAS for r in PROJECT["optional-dependencies"][extra]}
    distributions = importlib.metadata.packages_distributions()
    missing = {}
    for module, files in _third_party_imports().items():
        names = {_name(d) for d in distributions.get(module, [module])}
        if not names & (declared | optional):
            missing[module] = sorted(files)
    assert not missing, f"imported but not in pyproject's dependencies or extras: {missing}"


def test_the_test_extra_installs_every_optional_part():
    extras = PROJECT["optional-dependencies"]
    assert set(RUNTIME_EXTRAS) <= set(extras)
    selves = [r for r in extras["test"] if _name(r) == "sim"]
    assert selves, "the test extra should include sim[...] with every runtime extra"
    included = {e.strip() for r in selves for e in re.search(r"\[(.*)\]", r).group(1).split(",")}
    assert included == set(RUNTIME_EXTRAS)


def test_the_docs_extra_pins_major_versions():
    docs = {_name(r): r for r in PROJECT["optional-dependencies"]["docs"]}
    assert set(docs) == {"mkdocs", "mkdocs-material", "mkdocstrings"}
    assert all("<" in r for r in docs.values()), docs


# ------------------------------------------------------------------------------- sim.extras
def test_require_returns_the_module():
    assert require("json", "none", "this test") is importlib.import_module("json")


def test_require_names_the_extra_when_the_package_is_missing(monkeypatch):
    def missing(name, package=None):
        raise ModuleNotFoundError(f"No module named '{name}'", name=name)

    monkeypatch.setattr(importlib, "import_module", missing)
    with pytest.raises(UserError) as err:
        require("SALib", "sensitivity", "sim sensitivity")
    message = str(err.value)
    assert message.startswith("sim sensitivity needs the optional package SALib")
    assert "pip install 'sim[sensitivity]'" in message
    assert "\n" not in message and "Traceback" not in message


def test_require_tells_a_broken_install_from_a_missing_one(monkeypatch):
    def broken(name, package=None):
        raise ModuleNotFoundError("No module named 'llvmlite'", name="llvmlite")

    monkeypatch.setattr(importlib, "import_module", broken)
    with pytest.raises(UserError, match=r"numba.*installed but does not import.*--force-reinstall 'sim\[reproduce\]'"):
        require("numba", "reproduce", "sim reproduce")


# ------------------------------------------------------------------------------- docs
def _hooks():
    pytest.importorskip("mkdocs", reason="the docs extra is not installed")
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        return importlib.import_module("hooks")
    finally:
        sys.path.remove(str(ROOT / "docs"))


def test_cli_reference_covers_every_command(monkeypatch):
    from sim.cli import COMMANDS

    hooks = _hooks()
    assert hooks.CLI_MARKER in (ROOT / "docs" / "cli.md").read_text()
    monkeypatch.setattr(hooks, "_help", lambda *args: f"help of {' '.join(args) or 'sim'}")
    page = hooks._cli_reference()
    for name in COMMANDS:
        assert f"## `sim {name}`" in page and f"help of {name}" in page


def test_lists_are_reindented_for_python_markdown():
    hooks = _hooks()
    commonmark = "Intro:\n1. **One.** text\n   more\n   - nested\n     still nested\n\n   Para of one.\n2. Two\n"
    assert hooks._four_space_lists(commonmark) == (
        "Intro:\n\n1. **One.** text\n    more\n    - nested\n        still nested\n\n    Para of one.\n\n2. Two\n")
    wrapped = "A sentence that wraps at the year\n2019. It goes on.\n"
    assert hooks._four_space_lists(wrapped) == wrapped


def test_every_doc_page_is_in_the_nav():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())

    def pages(nav):
        for entry in nav:
            for value in entry.values():
                yield from (pages(value) if isinstance(value, list) else [value])

    in_nav = set(pages(config["nav"]))
    on_disk = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert on_disk <= in_nav, f"add to mkdocs.yml's nav: {sorted(on_disk - in_nav)}"
    assert "ODD.md" in in_nav


@pytest.mark.parametrize("args, module, extra", [
    (["reproduce", "study.steps=10"], "numba", "reproduce"),
    (["run", "-m", "hydra/launcher=slurm", "seed=0,1"], "hydra_plugins.hydra_submitit_launcher", "slurm"),
])
def test_a_command_without_its_extra_says_which_to_install(tmp_path, args, module, extra):
    """The package is shadowed by one that fails to import as a missing package does."""
    shadow = tmp_path / "shadow" / Path(*module.split("."))
    shadow.mkdir(parents=True)
    message = f"No module named {module!r}"
    (shadow / "__init__.py").write_text(f"raise ModuleNotFoundError({message!r}, name={module!r})\n")
    for parent in shadow.relative_to(tmp_path / "shadow").parents:
        if parent != Path(".") and parent.name != "hydra_plugins":
            (tmp_path / "shadow" / parent / "__init__.py").touch()
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "shadow")}
    done = subprocess.run([sys.executable, "-m", "sim", *args], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert f"pip install 'sim[{extra}]'" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "results").exists()
