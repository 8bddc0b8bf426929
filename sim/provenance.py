"""Where a result came from: package versions and the git revision of the code.

Both are looked up once per process (a sweep's replicates and jobs in one worker share them;
the look-ups cost ~25 ms, a sixth of a default run): a process runs the code it imported at
start, so what it reports cannot change while it lives.
"""

from __future__ import annotations

import functools
import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ("sim", "mesa", "numpy", "scipy", "pandas", "pyarrow", "matplotlib", "hydra-core", "omegaconf")


def package_versions() -> dict[str, str]:
    return dict(_package_versions())


@functools.cache
def _package_versions() -> tuple[tuple[str, str], ...]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        versions[name] = package_version(name)
    return tuple(versions.items())


@functools.cache
def package_version(name: str) -> str:
    """The installed version of the distribution ``name``, or "not installed"."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


@functools.cache
def git_revision() -> str | None:
    """The commit of the checkout the package runs from, '+dirty' if it has changes; None outside git."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return rev + ("+dirty" if dirty else "")
