"""Atomic writing of run outputs: a crash never leaves a half-written file that looks complete."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # pandas is only needed by callers that already hold a DataFrame
    import pandas as pd

SUMMARY_FILE = "summary.json"   # written last: its presence marks a complete run


def atomic(path: Path, write) -> Path:
    """Write through ``write(tmp_path)`` to a temporary file beside ``path``, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)   # mkstemp makes files private; outputs are for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    return atomic(path, lambda tmp: frame.to_parquet(tmp, index=False))


def json_safe(value):
    """Replace NaN and infinities (not valid JSON) with null, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def write_json(data: dict, path: Path) -> Path:
    text = json.dumps(json_safe(data), indent=2, sort_keys=False, allow_nan=False)
    return atomic(path, lambda tmp: tmp.write_text(text + "\n"))


def write_text(text: str, path: Path) -> Path:
    return atomic(path, lambda tmp: tmp.write_text(text))
