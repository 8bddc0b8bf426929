"""The package as installed by a user: every subpackage and config file ships."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_declared():
    """A non-editable install only ships the packages (and config group folders) pyproject lists."""
    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "sim").rglob("__init__.py")}
    found |= {".".join(("sim", *p.parent.relative_to(ROOT).parts)) for p in (ROOT / "configs").rglob("*.yaml")}
    assert found <= declared, f"add to [tool.setuptools] packages: {sorted(found - declared)}"

