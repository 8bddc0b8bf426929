"""Shared helpers of the benchmarks: machine description, load monitoring, timing.

The machine may be shared with other work, so every measurement records

* ``loadavg_before`` / ``loadavg_after``: :func:`os.getloadavg` (1, 5, 15 min) around it, and
* ``foreign_cores``: the mean number of CPU cores used by *other* processes during it, i.e.
  busy time from ``/proc/stat`` minus the CPU time of this process and its reaped children
  (:func:`resource.getrusage`), divided by the wall time. Children that are never reaped
  (rare) would be counted as foreign, so this errs towards "loaded".

:func:`verdict` turns a measured value and a target into PASS / FAIL / "n/a under load". Load
only slows a measurement down (by at most :func:`max_slowdown`), so each value has a range its
unloaded value may lie in: a time ``[t / s, t]``, a rate ``[r, r * s]``, a ratio of two
measurements wider still. The verdict is "n/a under load" only if that range straddles the
target, so a clear miss stays a FAIL and a ratio inflated by load on its denominator is no PASS.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from sim.provenance import git_revision, package_versions

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
PYTHON = sys.executable
LOADED_CORES = 0.2   # mean foreign CPU above which a measurement counts as taken under load


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _mem_total_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 ** 2, 1)
    except OSError:
        pass
    return None


def _versions() -> dict:
    """The project's provenance versions, plus the benchmark-specific packages."""
    from importlib import metadata

    extra = {name: metadata.version(name) for name in ("numba", "hydra-joblib-launcher", "joblib")}
    return {**package_versions(), **extra}


def machine() -> dict:
    return {"cpu": _cpu_model(), "cores": os.cpu_count(), "memory_gb": _mem_total_gb(),
            "platform": platform.platform(), "versions": _versions(), "git": git_revision(),
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]}


def _busy_seconds() -> float:
    """Busy CPU seconds of the whole machine since boot (all cores), from /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


class Load:
    """Load around one measurement (filled in when its ``with monitor()`` block ends)."""

    def __init__(self) -> None:
        self.loadavg_before = [round(x, 2) for x in os.getloadavg()]
        self._t, self._busy, self._own = time.perf_counter(), _busy_seconds(), _own_seconds()
        self.loadavg_after: list[float] = []
        self.foreign_cores = 0.0
        self.wall_s = 0.0

    def stop(self) -> None:
        self.wall_s = time.perf_counter() - self._t
        foreign = (_busy_seconds() - self._busy) - (_own_seconds() - self._own)
        self.foreign_cores = max(0.0, foreign / self.wall_s) if self.wall_s > 0 else 0.0
        self.loadavg_after = [round(x, 2) for x in os.getloadavg()]

    def as_dict(self) -> dict:
        return {"loadavg_before": self.loadavg_before, "loadavg_after": self.loadavg_after,
                "foreign_cores": round(self.foreign_cores, 2), "wall_s": round(self.wall_s, 2)}


@contextmanager
def monitor():
    load = Load()
    try:
        yield load
    finally:
        load.stop()


def merge_loads(loads: list[dict]) -> dict:
    """One load record for several measurements: the worst foreign load, first and last loadavg."""
    return {"loadavg_before": loads[0]["loadavg_before"], "loadavg_after": loads[-1]["loadavg_after"],
            "foreign_cores": max(x["foreign_cores"] for x in loads),
            "wall_s": round(sum(x["wall_s"] for x in loads), 2)}


def stats(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values),
            "values": [round(v, 6) for v in values]}


def run_cli(args: list[str], cwd: str | Path, env: dict | None = None) -> float:
    """Wall time of ``python -m sim <args>`` in a fresh process (start-up included)."""
    start = time.perf_counter()
    proc = subprocess.run([PYTHON, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})})
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"python -m sim {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return elapsed


def max_slowdown(foreign_cores: float, work_cores: float) -> float:
    """Largest slowdown that ``foreign_cores`` of other work can plausibly cause to work using
    ``work_cores``: the CPU share lost, ``(work + foreign) / cores``, but at least
    ``1 + foreign / cores`` (the vCPUs share an L3 cache and memory bandwidth and may share host
    cores, so even a spare core does not make foreign work free). 1 when not under load."""
    if foreign_cores < LOADED_CORES:
        return 1.0
    cores = os.cpu_count() or 1
    return max((min(work_cores, cores) + foreign_cores) / cores, 1.0 + foreign_cores / cores)


def verdict(value: float, limit: float, higher_is_better: bool, low: float, high: float) -> str:
    """PASS / FAIL if the target is met / missed by the measured value and by every value in
    [low, high], the range the true (unloaded) value may lie in given the load measured at the
    time (``low == high == value`` without load); "n/a under load" if the load could flip it."""
    def meets(v: float) -> bool:
        return v >= limit if higher_is_better else v <= limit

    outcomes = {meets(v) for v in (value, low, high)}
    if outcomes == {True}:
        return "PASS"
    if outcomes == {False}:
        return "FAIL"
    return "n/a under load"


def write_json(data: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


def publish(result: dict, name: str, markdown) -> None:
    """Write a benchmark's result to results/<name>.json and print its markdown table."""
    write_json(result, RESULTS / f"{name}.json")
    print("\n".join(markdown(result)))
