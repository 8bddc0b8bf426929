"""Optional packages: import one, or tell the user which extra installs it.

The core install (``pip install sim``) runs, reports and draws simulations. A few commands need
more; their packages are the extras of pyproject.toml's ``[project.optional-dependencies]``
(``reproduce``, ``sensitivity``, ``slurm``), and the code that needs one imports it through
:func:`require`, so that a missing package is one paragraph saying how to install it rather
than a traceback.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
from types import ModuleType

from sim.errors import UserError


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module`` and return it, or raise :class:`~sim.errors.UserError` naming the extra.

    Args:
        module: the module to import, e.g. ``"SALib"`` or ``"numba"``.
        extra: the optional-dependency group of pyproject.toml that installs it, e.g. ``"sensitivity"``.
        purpose: what needs it, as the subject of a sentence, e.g. ``"sim sensitivity"``.

    Example:
        ``SALib = require("SALib", "sensitivity", "sim sensitivity")``
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        packages = " and ".join(_extra_packages(extra)) or module.split(".")[0]
        install = f"pip install 'sim[{extra}]' (in a checkout: pip install -e '.[{extra}]')"
        missing = getattr(err, "name", None)
        if missing is not None and not (module == missing or module.startswith(missing + ".")
                                        or missing.startswith(module + ".")):
            # The module is there but something it imports is not: a broken install.
            raise UserError(
                f"{purpose} needs the optional package {packages}; it is installed but does not "
                f"import ({err}). Reinstall it: pip install --force-reinstall 'sim[{extra}]'."
            ) from err
        raise UserError(
            f"{purpose} needs the optional package {packages}, which is not installed. "
            f"Install it with: {install}."
        ) from err


def _extra_packages(extra: str) -> list[str]:
    """Distribution names the installed sim's metadata lists for ``extra`` (empty if unknown)."""
    try:
        requirements = importlib.metadata.requires("sim") or []
    except importlib.metadata.PackageNotFoundError:
        return []
    names = []
    for requirement in requirements:
        spec, _, marker = requirement.partition(";")
        if re.search(rf"""extra\s*==\s*["']{re.escape(extra)}["']""", marker):
            name = re.match(r"[A-Za-z0-9._-]+", spec.strip())
            if name and name.group() != "sim":
                names.append(name.group())
    return names
