"""Global sensitivity analysis (SALib): Morris screening and Sobol indices.

Two halves, joined by one file, ``<sweep dir>/sensitivity_design.json``:

1. **Running the design** is an ordinary sweep of ``python -m sim run``, with the Hydra sweeper
   ``hydra/sweeper=salib`` (:class:`SalibSweeper`, config ``configs/hydra/sweeper/salib.yaml``)::

       python -m sim run -m hydra/sweeper=salib +mechanism=[three_tier,enclave] \\
           hydra.sweeper.method=morris hydra.sweeper.samples=10 replicates=5 \\
           'hydra.sweeper.parameters={mechanism.three_tier.detection:[0.2,1.0],model.enforcement.detection:null}'

   The sweeper turns ``parameters`` (dotted key -> ``[lo, hi]``, or null for the schema's range)
   into a SALib problem, samples it (``SALib.sample.morris`` with r = ``samples`` trajectories
   of ``levels`` grid levels, or ``SALib.sample.sobol`` with N = ``samples`` base samples,
   ``second_order`` optional), writes the design, and launches one job per sample row through
   the configured launcher (basic, joblib, submitit_slurm), job number = row number, with the
   overrides ``key=value`` of the row after the command line's own overrides. Each job is a
   normal run folder (``replicates`` and ``resume`` work as in any sweep).

2. **Analysing** it never re-runs anything: ``python -m sim sensitivity SWEEP_DIR
   [--outputs a,b] [--out DIR]`` reads the design and the runs' ``summary.json`` and writes
   ``SWEEP_DIR/sensitivity/``: ``indices.csv`` and ``indices.md`` (plus ``second_order.csv``
   for Sobol with second order) and ``figures/`` (Morris: ``morris_mu_star_sigma`` and
   ``morris_ranking``; Sobol: ``sobol_indices``), PNG + PDF + JSON sidecar.

Seeds. Every row of the design runs the same model seeds ``seed, ..., seed + replicates - 1``
(common random numbers), and a row's output is the mean over its replicates. Differences
between rows are then differences of parameters, not of random streams, as far as the model's
draws stay aligned. The noise left in the seed means is reported (with ``replicates`` >= 2).
Morris: a *noise floor* per parameter, the mu* that seed noise alone would exceed with
probability 5% were the parameter without effect: each elementary effect is also computed seed
by seed, and their spread over seeds gives the noise of their mean (so a parameter whose
changes leave the model's draws aligned has a low floor, one that reshuffles them a high one). Sobol: the *noise share*, the
share of the output's variance over the design that is seed noise, from the rows x seeds
interaction (a seed's effect shared by all rows shifts every row alike and cancels).

Missing runs. A row counts only if all its replicates have a summary.json. Morris drops the
trajectories with a missing row, with a warning (at least two must remain); Sobol needs every
row and stops with an error naming the missing jobs (re-run the sweep command with
``resume=true`` to fill them in). An output that a run leaves undefined (null in its summary)
is treated like a missing row of that output only.

Ranges. An explicit ``[lo, hi]`` must lie inside the schema's allowed range. null takes the
schema's range only where that is a plausible sampling range, i.e. inside [0, 1] (shares and
probabilities); other schema ranges (e.g. [0, 100] for fines) are allowed values, not plausible
ones, and are refused with a message asking for an explicit range. Only float parameters can be
varied (integers, switches and choices cannot).

Why a Hydra sweeper: the design then runs with the same run function, folders, launchers,
``resume`` and progress log as every other sweep. Hydra only instantiates sweeper classes that
live in the ``hydra_plugins`` namespace; ``salib.yaml`` therefore also installs the callback
:class:`RegisterSalibSweeper`, which registers :class:`SalibSweeper` with Hydra under the name
``hydra_plugins.sim_salib.SalibSweeper`` before the sweeper is instantiated.
"""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import math
import shlex
import sys
import warnings
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd
from hydra.errors import CompactHydraException
from hydra.experimental.callback import Callback
from hydra.plugins.sweeper import Sweeper
from omegaconf import DictConfig, OmegaConf

from sim.errors import UserError
from sim.outputs import write_json, write_text
from sim.sweeper import ShapeValidation, publish

log = logging.getLogger("sim.sensitivity")

DESIGN_FILE = "sensitivity_design.json"
DESIGN_FORMAT = 1
METHODS = ("morris", "sobol")
DEFAULT_OUTPUTS = ("cooperation_index", "gdp_total_final", "theil_final", "subsidy_per_firm_mean")
CONFIDENCE = 0.95
RESAMPLES = 1000                  # bootstrap resamples of the confidence intervals
PLUGIN_MODULE = "hydra_plugins.sim_salib"
PLAUSIBLE = (0.0, 1.0)            # schema ranges inside this are sampled by default


class SensitivityError(CompactHydraException, UserError):
    """A mistake in a sensitivity design or sweep folder: one paragraph, no traceback."""


# ------------------------------------------------------------------------------- ranges


def _flatten(parameters: Any, prefix: str = "") -> dict[str, Any]:
    """``{a.b: [lo, hi]}`` and ``{a: {b: [lo, hi]}}`` (what a command-line override makes) alike."""
    if isinstance(parameters, DictConfig):
        parameters = OmegaConf.to_container(parameters, resolve=True)
    out: dict[str, Any] = {}
    for key, value in (parameters or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _schema_fields(cfg) -> dict[str, Any]:
    """Dotted key -> schema field, for the model and the selected mechanisms."""
    from sim.mechanisms import schemas
    from sim.schema import Config, leaf_fields

    found = dict(leaf_fields(Config))
    for name, schema in schemas().items():
        found.update(leaf_fields(schema, f"mechanism.{name}."))
    return found


def _type_name(f) -> str:
    return f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))


def _example(key: str) -> str:
    return f"'hydra.sweeper.parameters={{{key}:[lo,hi]}}' (or '{key}: [lo, hi]' under hydra.sweeper.parameters in YAML)"


def parameter_ranges(parameters: Any, cfg) -> list[dict]:
    """Check the requested parameters against the schema; one dict per parameter.

    ``parameters`` maps dotted keys to ``[lo, hi]`` or None (the schema's range, if plausible);
    ``cfg`` is the composed configuration (mechanisms must be selected in it). Raises
    :class:`SensitivityError` naming every problem.
    """
    flat = _flatten(parameters)
    if not flat:
        raise SensitivityError(
            "hydra.sweeper.parameters is empty: name the parameters to vary, e.g. "
            "'hydra.sweeper.parameters={model.enforcement.detection:[0.0,0.6]}', or use an experiment "
            "such as +experiment=sensitivity_mechanisms.")
    fields = _schema_fields(cfg)
    selected = set((cfg.get("mechanism") or {}).keys()) if cfg is not None else set()
    problems, out = [], []
    for key, spec in flat.items():
        f = fields.get(key)
        if f is None:
            near = difflib.get_close_matches(key, fields, n=3, cutoff=0.8)
            problems.append(f"'{key}' is not a parameter of the schema"
                            + (f" (did you mean {', '.join(near)}?)" if near else ""))
            continue
        parts = key.split(".")
        if parts[0] == "mechanism" and parts[1] not in selected:
            problems.append(f"'{key}' belongs to mechanism {parts[1]}, which is not selected: add it, "
                            f"e.g. +mechanism=[{','.join([*sorted(selected - {'none'}), parts[1]])}]")
            continue
        kind = _type_name(f)
        if kind not in ("float", "Optional[float]"):
            problems.append(f"'{key}' is a parameter of type {kind}; only float parameters can be varied "
                            "continuously (sweep integers, switches and choices with the basic sweeper)")
            continue
        lo_s, hi_s = float(f.metadata.get("lo", -math.inf)), float(f.metadata.get("hi", math.inf))
        if spec is None:
            if not (math.isfinite(lo_s) and math.isfinite(hi_s)):
                problems.append(f"'{key}' has no finite schema range ([{lo_s:g}, {hi_s:g}]); give an explicit "
                                f"range, e.g. {_example(key)}")
                continue
            if not (PLAUSIBLE[0] <= lo_s and hi_s <= PLAUSIBLE[1]):
                problems.append(f"'{key}': its schema range [{lo_s:g}, {hi_s:g}] is the range of allowed "
                                "values, too wide to sample as plausible ones (only schema ranges inside "
                                f"[{PLAUSIBLE[0]:g}, {PLAUSIBLE[1]:g}] are used by default); give an explicit "
                                f"range, e.g. {_example(key)}")
                continue
            lo, hi, source = lo_s, hi_s, "schema"
        else:
            try:
                lo, hi = (float(v) for v in spec)
            except (TypeError, ValueError):
                problems.append(f"'{key}': {spec!r} is not a range; give [lo, hi] (two numbers) or null "
                                "for the schema's range")
                continue
            if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
                problems.append(f"'{key}': [{lo:g}, {hi:g}] is not a range with finite lo < hi")
                continue
            if lo < lo_s or hi > hi_s:
                problems.append(f"'{key}': [{lo:g}, {hi:g}] leaves the schema's allowed range "
                                f"[{lo_s:g}, {hi_s:g}]")
                continue
            source = "explicit"
        value = OmegaConf.select(cfg, key) if cfg is not None else None
        out.append({"parameter": key, "lo": lo, "hi": hi, "source": source, "schema_lo": lo_s,
                    "schema_hi": hi_s, "value": value, "doc": f.metadata.get("doc", "")})
    if problems:
        raise SensitivityError("Invalid sensitivity parameters (hydra.sweeper.parameters): "
                               + "; ".join(problems) + ". Nothing was run.")
    return out


# ------------------------------------------------------------------------------- design


def make_design(method: str, ranges: list[dict], samples: int, levels: int = 4,
                second_order: bool = False, seed: int = 0) -> dict:
    """The SALib problem and sample matrix (rows = jobs), as written to the design file."""
    if method not in METHODS:
        raise SensitivityError(f"hydra.sweeper.method={method!r}: choose one of {', '.join(METHODS)}.")
    if method == "morris" and (int(samples) < 2 or int(levels) < 2):
        raise SensitivityError(f"Morris needs samples (trajectories) >= 2 and levels >= 2, not "
                               f"samples={samples}, levels={levels}.")
    if int(samples) < 1:
        raise SensitivityError(f"hydra.sweeper.samples={samples}: need at least 1.")
    problem = {"num_vars": len(ranges), "names": [r["parameter"] for r in ranges],
               "bounds": [[r["lo"], r["hi"]] for r in ranges]}
    if method == "morris":
        from SALib.sample import morris

        x = morris.sample(problem, int(samples), num_levels=int(levels), seed=int(seed))
    else:
        from SALib.sample import sobol

        with warnings.catch_warnings(record=True) as notes:
            warnings.simplefilter("always")
            x = sobol.sample(problem, int(samples), calc_second_order=bool(second_order), seed=int(seed))
        for note in notes:
            log.warning("SALib: %s", note.message)
    bounds = np.asarray(problem["bounds"], float)
    x = np.clip(x, bounds[:, 0], bounds[:, 1])   # no value one rounding step outside its range
    return {"format": DESIGN_FORMAT, "method": method, "problem": problem, "ranges": ranges,
            "options": {"samples": int(samples), "levels": int(levels), "second_order": bool(second_order),
                        "seed": int(seed)},
            "n_jobs": int(len(x)), "samples": x.tolist()}


def expected_jobs(method: str, k: int, samples: int, second_order: bool = False) -> int:
    """Rows of a design: Morris r(k+1); Sobol N(2k+2) with second order, else N(k+2)."""
    if method == "morris":
        return samples * (k + 1)
    return samples * (2 * k + 2 if second_order else k + 2)


def row_overrides(design: dict, base: Sequence[str] = ()) -> list[list[str]]:
    """The override list of every job: the command line's own, then ``key=value`` of the row."""
    names = design["problem"]["names"]
    return [[*base, *(f"{name}={float(v)!r}" for name, v in zip(names, row))] for row in design["samples"]]


def _same_design(a: dict, b: dict) -> bool:
    keys = ("method", "problem", "options")
    return all(a.get(k) == b.get(k) for k in keys) and np.allclose(a["samples"], b["samples"], rtol=1e-12, atol=0)


# ------------------------------------------------------------------------------- sweeper


class SalibSweeper(ShapeValidation, Sweeper):
    """Hydra sweeper that runs a SALib design: one job per sample row (see the module docstring).

    Config (``configs/hydra/sweeper/salib.yaml``): ``method`` (morris | sobol), ``samples``
    (Morris trajectories r, or Sobol base samples N), ``levels`` (Morris grid levels),
    ``second_order`` (Sobol), ``seed`` (of the sampler), ``parameters`` (dotted key -> [lo, hi]
    or null), ``outputs`` (default outputs of the analysis), ``max_batch_size``.
    """

    def __init__(self, method: str = "morris", samples: int = 10, parameters: Optional[dict] = None,
                 seed: int = 0, levels: int = 4, second_order: bool = False,
                 outputs: Optional[Sequence[str]] = None, max_batch_size: Optional[int] = None) -> None:
        super().__init__()
        self.method = str(method)
        self.samples = int(samples)
        self.parameters = _flatten(parameters)
        self.seed = int(seed)
        self.levels = int(levels)
        self.second_order = bool(second_order)
        self.outputs = list(outputs) if outputs else list(DEFAULT_OUTPUTS)
        self.max_batch_size = max_batch_size
        self.hydra_context = None
        self.config: Optional[DictConfig] = None
        self.launcher = None
        self.design: Optional[dict] = None

    def setup(self, *, hydra_context, task_function, config: DictConfig) -> None:
        from hydra.core.plugins import Plugins

        self.hydra_context = hydra_context
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config)

    def plan(self, arguments: Sequence[str]) -> tuple[dict, list[list[str]]]:
        """The design and every job's overrides, without running anything."""
        from hydra.core.override_parser.overrides_parser import OverridesParser

        assert self.config is not None
        parser = OverridesParser.create(
            config_loader=self.hydra_context.config_loader if self.hydra_context else None)
        parsed = parser.parse_overrides(list(arguments))
        sweeps = [o.input_line for o in parsed if o.is_sweep_override()]
        if sweeps:
            raise SensitivityError(
                f"The salib sweeper runs one job per design row and cannot also sweep {', '.join(sweeps)}. "
                "Average over seeds with replicates=R (every row runs seeds seed..seed+R-1), and run "
                "other variants as separate sensitivity sweeps.")
        ranges = parameter_ranges(self.parameters, self.config)
        clash = sorted({o.key_or_group for o in parsed} & {r["parameter"] for r in ranges})
        if clash:
            raise SensitivityError(f"{', '.join(clash)} is set on the command line and varied by the design; "
                                   "drop one of the two.")
        design = make_design(self.method, ranges, self.samples, self.levels, self.second_order, self.seed)
        design.update({
            "outputs": self.outputs,
            "model_seed": int(self.config.seed),
            "replicates": int(self.config.replicates),
            "base_overrides": list(arguments),
        })
        return design, row_overrides(design, arguments)

    def sweep(self, arguments: list[str]) -> Any:
        assert self.config is not None and self.launcher is not None
        design, jobs = self.plan(arguments)
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        path = sweep_dir / DESIGN_FILE
        if path.exists():
            try:
                old = json.loads(path.read_text())
            except ValueError:
                old = None
            if old is None or not _same_design(old, design):
                raise SensitivityError(
                    f"{path} holds a different design. Re-running a design (e.g. with resume=true) needs the "
                    "same method, parameters, ranges, samples and seed; for a new design choose another "
                    "folder (hydra.sweep.dir=...) or delete that one.")
        write_json(design, path)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        self._fix_progress_total(sweep_dir, len(jobs))
        log.info("SALib %s design: %d parameters, %d jobs x %d replicate(s), written to %s", design["method"],
                 design["problem"]["num_vars"], len(jobs), design["replicates"], path)
        self.design = design
        self.validate_batch_is_legal(jobs)   # rows differ only in numbers: one composition
        size = self.max_batch_size or len(jobs)
        returns, failures, start = [], [], 0
        for start in range(0, len(jobs), size):
            batch = jobs[start:start + size]
            results = self.launcher.launch(batch, initial_job_idx=start)
            for num, result in enumerate(results, start):
                try:
                    _ = result.return_value
                except Exception as err:   # keep going: the analysis says what is missing
                    failures.append((num, err))
            returns.append(results)
        if failures:
            log.error("%d of %d jobs of the design failed (first: job %d); 'python -m sim sensitivity %s' "
                      "reports what is missing", len(failures), len(jobs), failures[0][0], sweep_dir)
            raise failures[0][1]
        return returns

    def _fix_progress_total(self, sweep_dir: Path, n_jobs: int) -> None:
        """The progress callback counts jobs as the basic sweeper would; give it the design's count."""
        from sim.progress import STATE

        state_file = sweep_dir / STATE
        try:
            state = json.loads(state_file.read_text())
        except (OSError, ValueError):
            return
        state["total"] = n_jobs * int(self.config.replicates)
        state_file.write_text(json.dumps(state))


def register_plugin() -> None:
    """Make :class:`SalibSweeper` instantiable by Hydra as ``hydra_plugins.sim_salib.SalibSweeper``."""
    publish(SalibSweeper, PLUGIN_MODULE)


class RegisterSalibSweeper(Callback):
    """Installed by ``hydra/sweeper=salib``: registers the sweeper before Hydra instantiates it."""

    def __init__(self) -> None:
        register_plugin()


# ------------------------------------------------------------------------------ collect


def read_design(sweep_dir: Path) -> dict:
    path = sweep_dir / DESIGN_FILE
    if not sweep_dir.is_dir():
        what = "is not a folder" if sweep_dir.exists() else "does not exist"
        raise SensitivityError(f"'{sweep_dir}' {what}. Give the folder of a sweep run with "
                               "'python -m sim run -m hydra/sweeper=salib ...'.")
    if not path.exists():
        raise SensitivityError(f"'{sweep_dir}' has no {DESIGN_FILE}: it is not a sensitivity sweep. Run one with "
                               "'python -m sim run -m hydra/sweeper=salib ...' (e.g. +experiment=sensitivity_mechanisms).")
    try:
        design = json.loads(path.read_text())
    except ValueError as err:
        raise SensitivityError(f"{path} is not valid JSON ({err}).") from None
    if design.get("format") != DESIGN_FORMAT or design.get("method") not in METHODS:
        raise SensitivityError(f"{path} is not a design file of this version (format {DESIGN_FORMAT}).")
    return design


def _float(value) -> float:
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    return float(value)


def collect(sweep_dir: Path, design: dict, outputs: Sequence[str], out_dir: Path) -> tuple[dict, dict]:
    """Per output, an array (rows, replicates) of the runs' values (NaN where missing); and notes.

    Job ``i`` is row ``i`` of the design; its overrides are checked against the row.
    """
    from sim.report import discover, override_values

    jobs, _, _ = discover(sweep_dir, out_dir)
    by_num = {job.num: job for job in jobs if job.num is not None and job.folder is not None}
    n, reps = design["n_jobs"], int(design.get("replicates", 1))
    names = design["problem"]["names"]
    values = {o: np.full((n, reps), np.nan) for o in outputs}
    missing, failed, summaries = [], [], 0
    seen_keys: set[str] = set()
    revisions: set[str] = set()
    versions: dict[str, list[str]] = {}
    for i, row in enumerate(design["samples"]):
        job = by_num.get(i)
        if job is None:
            missing.append(i)
            continue
        given = override_values(job.overrides)
        for name, x in zip(names, row):
            if name not in given or not math.isclose(float(given[name]), float(x), rel_tol=1e-9, abs_tol=1e-12):
                raise SensitivityError(
                    f"job {i} ({job.folder}) ran {name}={given.get(name, '(not set)')}, but row {i} of the design "
                    f"has {name}={x!r}: the folder holds runs of another design. Nothing was written.")
        if len(job.run_dirs) != reps:
            raise SensitivityError(f"job {i} has {len(job.run_dirs)} replicate(s), the design {reps}: the sweep "
                                   "was re-run with another 'replicates'. Nothing was written.")
        for s, run_dir in enumerate(job.run_dirs):
            try:
                summary = json.loads((run_dir / "summary.json").read_text())
            except (OSError, ValueError):
                (failed if (run_dir / "error.txt").exists() or (job.folder / "error.txt").exists()
                 else missing).append(i)
                continue
            summaries += 1
            revisions.add(str(summary.get("git_revision")))
            for package, version in (summary.get("versions") or {}).items():
                if version not in versions.setdefault(package, []):
                    versions[package].append(version)
            seen_keys.update(k for k, v in summary.items() if isinstance(v, (int, float)) and not isinstance(v, bool))
            for o in outputs:
                values[o][i, s] = _float(summary.get(o))
    unknown = [o for o in outputs if o not in seen_keys]
    if summaries and unknown:
        raise SensitivityError(f"output(s) {', '.join(unknown)} are not numbers in the runs' summary.json; "
                               f"choose from {', '.join(sorted(seen_keys))}.")
    if not summaries:
        raise SensitivityError(f"'{sweep_dir}' holds no complete run of the design ({len(failed)} failed, "
                               f"{len(set(missing))} missing). Nothing was written.")
    return values, {"missing_jobs": sorted(set(missing)), "failed_jobs": sorted(set(failed)),
                    "runs": summaries, "git_revisions": sorted(revisions), "versions": versions}


# ------------------------------------------------------------------------------ analyse


def _morris_delta(levels: int) -> float:
    return levels / (2 * (levels - 1))


def elementary_effects(x: np.ndarray, y: np.ndarray, bounds: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Elementary effects of Morris trajectories, per full range of the parameter that moved.

    ``x`` (rows, k) holds whole trajectories of k + 1 points; ``y`` is (rows,) or (rows, seeds).
    Returns the effects, shape (steps,) or (steps, seeds), and the parameter of each step.
    """
    y = np.asarray(y, float)
    xt = x.reshape(-1, k + 1, k)
    yt = y.reshape(-1, k + 1, *y.shape[1:])
    dx = np.diff(xt, axis=1) / (bounds[:, 1] - bounds[:, 0])     # (trajectories, k, k), one non-zero per step
    which = np.abs(dx).argmax(axis=2)
    step = np.take_along_axis(dx, which[..., None], axis=2)[..., 0]
    dy = np.diff(yt, axis=1)
    effects = dy / (step if y.ndim == 1 else step[..., None])
    return effects.reshape(-1, *y.shape[1:]), which.reshape(-1)


def morris_noise_floor(x: np.ndarray, table: np.ndarray, bounds: np.ndarray, k: int,
                       seed: int = 0, draws: int = 4000) -> np.ndarray:
    """Per parameter, the mu* that seed noise alone exceeds with probability 5%.

    The effect of a step on the seed mean is the mean of its R per-seed effects; were the
    parameter without effect, that mean would be noise ~ N(0, s^2 / R), s the sd of the per-seed
    effects of that step. mu* under no effect is the mean of the absolute values of such noise
    over the parameter's steps; its 95% quantile is found by simulation. NaN with one seed.
    """
    reps = table.shape[1]
    if reps < 2:
        return np.full(k, np.nan)
    effects, which = elementary_effects(x, table, bounds, k)
    sd = effects.std(axis=1, ddof=1) / math.sqrt(reps)
    rng = np.random.default_rng(seed)
    out = np.full(k, np.nan)
    for j in range(k):
        steps = sd[which == j]
        if len(steps):
            null = np.abs(rng.standard_normal((draws, len(steps))) * steps).mean(axis=1)
            out[j] = float(np.quantile(null, CONFIDENCE))
    return out


def seed_noise_variance(table: np.ndarray) -> float:
    """Variance of the seed noise that differs between rows, from a (rows, seeds) table.

    Every row runs the same seeds, so a run's value is row effect + seed effect + residual. The
    seed effect is shared by all rows and cancels in every sensitivity index; the residual (the
    rows x seeds interaction) does not. Its variance is estimated by the two-way mean square
    SS_interaction / ((rows - 1)(seeds - 1)); NaN with one seed or fewer than two complete rows.
    """
    table = np.asarray(table, float)
    table = table[np.isfinite(table).all(axis=1)]
    rows, seeds = table.shape if table.ndim == 2 else (0, 0)
    if rows < 2 or seeds < 2:
        return math.nan
    resid = table - table.mean(axis=1, keepdims=True) - table.mean(axis=0, keepdims=True) + table.mean()
    return float((resid ** 2).sum() / ((rows - 1) * (seeds - 1)))


def analyze(design: dict, values: dict[str, np.ndarray], seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Indices per output and parameter (and Sobol second order), with notes on dropped rows.

    ``values`` maps output -> array (rows, replicates); a row is used only if all its
    replicates are finite, and its value is their mean.
    """
    method, problem = design["method"], design["problem"]
    names, k = problem["names"], problem["num_vars"]
    x = np.asarray(design["samples"], float)
    opts = design["options"]
    bounds = dict(zip(names, problem["bounds"]))
    rows, second, notes = [], [], []
    for output, table in values.items():
        table = np.asarray(table, float).reshape(len(x), -1)
        reps = table.shape[1]
        ok = np.isfinite(table).all(axis=1)
        y = np.where(ok, table.mean(axis=1) if reps else np.nan, np.nan)
        if method == "morris":
            size = k + 1
            keep = ok.reshape(-1, size).all(axis=1)
            if not keep.all():
                notes.append(f"{output}: dropped {int((~keep).sum())} of {len(keep)} Morris trajectories with "
                             f"missing or undefined runs (trajectories {', '.join(map(str, np.flatnonzero(~keep)))}).")
            if keep.sum() < 2:
                raise SensitivityError(f"{output}: only {int(keep.sum())} complete Morris trajectory(ies) of "
                                       f"{len(keep)}; at least 2 are needed. Re-run the sweep command with "
                                       "resume=true to fill in the missing runs.")
            mask = np.repeat(keep, size)
            from SALib.analyze import morris

            si = morris.analyze(problem, x[mask], y[mask], num_resamples=RESAMPLES, conf_level=CONFIDENCE,
                                num_levels=int(opts["levels"]), seed=seed)
            noise = morris_noise_floor(x[mask], table[mask], np.asarray(problem["bounds"], float), k, seed=seed)
            top = float(np.max(si["mu_star"])) or 1.0
            for j, name in enumerate(names):
                mu_star = float(si["mu_star"][j])
                rows.append({"output": output, "parameter": name, "lo": bounds[name][0], "hi": bounds[name][1],
                             "mu_star": mu_star, "mu_star_conf": float(si["mu_star_conf"][j]),
                             "mu": float(si["mu"][j]), "sigma": float(si["sigma"][j]),
                             "mu_star_norm": mu_star / top, "noise_floor": float(noise[j]),
                             "trajectories": int(keep.sum()), "replicates": reps})
        else:
            if not ok.all():
                raise SensitivityError(
                    f"{output}: Sobol indices need every row of the design, but {int((~ok).sum())} of {len(ok)} "
                    f"jobs lack a complete run with a defined value (jobs {', '.join(map(str, np.flatnonzero(~ok)[:20]))}"
                    f"{' ...' if (~ok).sum() > 20 else ''}). Re-run the sweep command with resume=true to fill in "
                    f"missing runs, or leave out {output} with --outputs.")
            from SALib.analyze import sobol

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                si = sobol.analyze(problem, y, calc_second_order=bool(opts["second_order"]),
                                   num_resamples=RESAMPLES, conf_level=CONFIDENCE, seed=seed)
            total = float(np.var(y))
            noise = seed_noise_variance(table) / reps / total if total > 0 else math.nan
            for j, name in enumerate(names):
                rows.append({"output": output, "parameter": name, "lo": bounds[name][0], "hi": bounds[name][1],
                             "S1": float(si["S1"][j]), "S1_conf": float(si["S1_conf"][j]),
                             "ST": float(si["ST"][j]), "ST_conf": float(si["ST_conf"][j]),
                             "noise_share": noise, "runs_used": int(len(y) * reps), "replicates": reps})
            if opts["second_order"]:
                for a in range(k):
                    for b in range(a + 1, k):
                        second.append({"output": output, "parameter_1": names[a], "parameter_2": names[b],
                                       "S2": float(si["S2"][a, b]), "S2_conf": float(si["S2_conf"][a, b])})
    table = pd.DataFrame(rows)
    key = "mu_star" if method == "morris" else "ST"
    table.insert(1, "rank", table.groupby("output", sort=False)[key].rank(ascending=False, method="min").astype(int))
    table["_order"] = table["output"].map(list(values).index)
    table = table.sort_values(["_order", "rank"], kind="stable").drop(columns="_order").reset_index(drop=True)
    table.insert(1, "method", method)
    return table, pd.DataFrame(second), notes


# ------------------------------------------------------------------------------- report


def _metric(output: str) -> tuple[str, str]:
    from sim.report import METRICS

    return METRICS.get(output, (output.replace("_", " ").capitalize(), ""))


def short_name(parameter: str) -> str:
    """``mechanism.three_tier.detection`` -> ``three_tier.detection``; ``model.x.y`` -> ``x.y``."""
    for prefix in ("mechanism.", "model."):
        if parameter.startswith(prefix):
            return parameter[len(prefix):]
    return parameter


def _num(value) -> str:
    return "" if value is None or pd.isna(value) else f"{value:.3g}"


def markdown(table: pd.DataFrame, design: dict, context: dict) -> str:
    method, opts = design["method"], design["options"]
    k = design["problem"]["num_vars"]
    if method == "morris":
        what = (f"Morris elementary effects: r = {opts['samples']} trajectories, {opts['levels']} levels, "
                f"{design['n_jobs']} jobs = r(k+1) with k = {k}")
    else:
        what = (f"Sobol indices (Saltelli sampling): N = {opts['samples']} base samples, "
                f"{'with' if opts['second_order'] else 'without'} second order, {design['n_jobs']} jobs")
    reps, seed = int(design.get("replicates", 1)), int(design.get("model_seed", 0))
    lines = [f"# Sensitivity analysis: {context['sweep_dir']}", "",
             f"- Sweep: `{context['sweep_command'] or 'unknown (no multirun.yaml)'}`",
             f"- Analysis: `{context['command']}`",
             f"- Design: {what}; sampler seed {opts['seed']}.",
             f"- Seeds: every job runs model seeds {seed}..{seed + reps - 1} ({reps} replicate(s), common random "
             "numbers); a job's output is the mean over its replicates.",
             f"- Runs: {context['runs']} complete; missing jobs: {context['missing_jobs'] or 'none'}; "
             f"failed jobs: {context['failed_jobs'] or 'none'}.", ""]
    lines += ["## Parameters", "", "| parameter | range | source | base value | meaning |", "|---|---|---|---:|---|"]
    for r in design["ranges"]:
        lines.append(f"| `{r['parameter']}` | [{r['lo']:g}, {r['hi']:g}] | {r['source']} | "
                     f"{'' if r['value'] is None else r['value']} | {r['doc']} |")
    lines.append("")
    if method == "morris":
        lines += ["mu*: mean absolute elementary effect, in output units per full range of the parameter "
                  f"(steps of {_morris_delta(int(opts['levels'])):.3g} of the range); 95% bootstrap interval "
                  "over trajectories; sigma/mu* > 1 suggests non-linearity or interactions. The noise floor is "
                  "the mu* that seed noise alone exceeds with probability 5% were the parameter without effect "
                  "(from the spread of its elementary effects over seeds); a parameter marked 'within noise' "
                  "(mu* at most its floor) cannot be told from no effect with these seeds.", ""]
    else:
        lines += ["S1: first-order (main effect) index, ST: total-order index (with interactions), each with its "
                  "95% bootstrap interval. The noise share is the share of the output's variance over the design "
                  "that is seed noise in the replicate means.", ""]
    for output, group in table.groupby("output", sort=False):
        name, unit = _metric(output)
        lines += [f"## {name} (`{output}`{', ' + unit if unit else ''})", ""]
        if method == "morris":
            lines += [f"Trajectories used: {group['trajectories'].iloc[0]}.", "",
                      "| rank | parameter | mu* | 95% CI | noise floor | mu | sigma | sigma/mu* | mu*/max |",
                      "|---:|---|---:|---|---:|---:|---:|---:|---:|"]
            for r in group.itertuples():
                ratio = r.sigma / r.mu_star if r.mu_star > 0 else math.nan
                flag = " (within noise)" if np.isfinite(r.noise_floor) and r.mu_star <= r.noise_floor else ""
                lines.append(f"| {r.rank} | `{short_name(r.parameter)}`{flag} | {_num(r.mu_star)} | "
                             f"[{_num(max(r.mu_star - r.mu_star_conf, 0.0))}, {_num(r.mu_star + r.mu_star_conf)}] | "
                             f"{_num(r.noise_floor) or 'n/a'} | {_num(r.mu)} | {_num(r.sigma)} | {_num(ratio)} | {_num(r.mu_star_norm)} |")
        else:
            lines += [f"Noise share: {_num(group['noise_share'].iloc[0]) or 'n/a (1 replicate)'}; "
                      f"sum of S1: {_num(group['S1'].sum())}.", "",
                      "| rank | parameter | S1 | 95% CI | ST | 95% CI |", "|---:|---|---:|---|---:|---|"]
            for r in group.itertuples():
                lines.append(f"| {r.rank} | `{short_name(r.parameter)}` | {_num(r.S1)} | "
                             f"[{_num(r.S1 - r.S1_conf)}, {_num(r.S1 + r.S1_conf)}] | {_num(r.ST)} | "
                             f"[{_num(r.ST - r.ST_conf)}, {_num(r.ST + r.ST_conf)}] |")
        lines.append("")
    if context["notes"]:
        lines += ["## Notes", ""] + [f"- {n}" for n in context["notes"]] + [""]
    return "\n".join(lines)


def _panels(n: int, height: float):
    from sim.plotting import new_figure

    ncols = 1 if n == 1 else 2
    nrows = -(-n // ncols)
    fig, axes = new_figure("double" if ncols == 2 else "single", nrows * height + 0.5, nrows=nrows, ncols=ncols)
    axes = np.atleast_1d(axes).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes


def _styles(names: list[str]) -> dict[str, tuple[str, str]]:
    from sim.plotting import PALETTE

    colors = [c for c in PALETTE if c != "#F0E442"]   # yellow is too faint for markers
    return {p: (colors[i % len(colors)], "osD^vPX<>"[i % 9]) for i, p in enumerate(names)}


def _within_noise(group: pd.DataFrame) -> pd.Series:
    return np.isfinite(group["noise_floor"]) & (group["mu_star"] <= group["noise_floor"])


def plot_morris(table: pd.DataFrame, names: list[str]):
    """mu* against sigma, one panel per output; hollow markers: within seed noise."""
    from matplotlib.lines import Line2D

    outputs = list(dict.fromkeys(table["output"]))
    styles = _styles(names)
    fig, axes = _panels(len(outputs), 2.3)
    for ax, output in zip(axes, outputs):
        group = table[table["output"] == output].set_index("parameter")
        noisy = _within_noise(group)
        top = max(float((group["mu_star"] + group["mu_star_conf"]).max()), float(group["sigma"].max()), 1e-300)
        lim = top * 1.08
        ax.plot([0, lim], [0, lim], color="#7f7f7f", linewidth=0.6, linestyle="--", zorder=1)
        for p in names:
            r = group.loc[p]
            color, marker = styles[p]
            xerr = [[min(r["mu_star_conf"], r["mu_star"])], [r["mu_star_conf"]]]   # mu* >= 0
            ax.errorbar(r["mu_star"], r["sigma"], xerr=xerr, fmt=marker, color=color, capsize=1.5,
                        elinewidth=0.7, markersize=4, zorder=3, markerfacecolor="white" if noisy[p] else color)
        ax.set_xlim(0, lim)
        ax.set_ylim(0, lim)
        name, unit = _metric(output)
        ax.set_title(name, fontweight="normal", loc="left")
        ax.set_xlabel(f"μ* ({unit} per range)" if unit else "μ* (per range)")
        ax.set_ylabel("σ")
    handles = [Line2D([], [], linestyle="", marker=styles[p][1], color=styles[p][0], markersize=4) for p in names]
    labels = [short_name(p) for p in names]
    handles.append(Line2D([], [], color="#7f7f7f", linestyle="--", linewidth=0.6))
    labels.append("σ = μ*")
    if np.isfinite(table["noise_floor"]).any():
        handles.append(Line2D([], [], linestyle="", marker="o", color="#333333", markerfacecolor="white", markersize=4))
        labels.append("hollow: μ* within seed noise")
    fig.legend(handles, labels, loc="outside lower center", ncols=min(4, len(labels)), frameon=False)
    return fig


def plot_morris_ranking(table: pd.DataFrame, names: list[str]):
    """mu* as a share of the largest mu* of each output, with its 95% interval and each
    parameter's noise floor; one panel per output."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    outputs = list(dict.fromkeys(table["output"]))
    order = (table.groupby("parameter")["mu_star_norm"].mean().reindex(names).sort_values().index.tolist())
    fig, axes = _panels(len(outputs), 0.5 + 0.17 * len(names))
    y = np.arange(len(order))
    signal, noise = "#0072B2", "#b9cfe0"
    for i, (ax, output) in enumerate(zip(axes, outputs)):
        group = table[table["output"] == output].set_index("parameter").reindex(order)
        top = float(group["mu_star"].max()) or 1.0
        low = np.minimum(group["mu_star_conf"], group["mu_star"])   # mu* >= 0
        colors = [noise if n else signal for n in _within_noise(group)]
        ax.barh(y, group["mu_star"] / top, xerr=[low / top, group["mu_star_conf"] / top], color=colors, height=0.6,
                error_kw={"elinewidth": 0.7, "capsize": 1.5, "ecolor": "#333333"})
        ax.plot(group["noise_floor"] / top, y, linestyle="", marker="|", markersize=7, markeredgewidth=1.2,
                color="#D55E00", zorder=4)
        name, _ = _metric(output)
        ax.set_title(name, fontweight="normal", loc="left")
        ax.set_xlabel("μ* / largest μ*")
        ax.set_yticks(y, [short_name(p) for p in order] if i % 2 == 0 else [""] * len(order))
        ax.set_xlim(0, None)
    if np.isfinite(table["noise_floor"]).any():
        fig.legend([Patch(color=signal), Patch(color=noise),
                    Line2D([], [], linestyle="", marker="|", markersize=7, markeredgewidth=1.2, color="#D55E00")],
                   ["above seed noise", "within seed noise", "noise floor"], loc="outside lower center", ncols=3,
                   frameon=False)
    return fig


def plot_sobol(table: pd.DataFrame, names: list[str]):
    """S1 and ST with 95% intervals, one panel per output."""
    from matplotlib.patches import Patch

    outputs = list(dict.fromkeys(table["output"]))
    order = table.groupby("parameter")["ST"].mean().reindex(names).sort_values().index.tolist()
    fig, axes = _panels(len(outputs), 0.5 + 0.22 * len(names))
    y = np.arange(len(order))
    for i, (ax, output) in enumerate(zip(axes, outputs)):
        group = table[table["output"] == output].set_index("parameter").reindex(order)
        err = {"elinewidth": 0.7, "capsize": 1.5, "ecolor": "#333333"}
        ax.barh(y + 0.18, group["S1"], xerr=group["S1_conf"], height=0.34, color="#0072B2", error_kw=err)
        ax.barh(y - 0.18, group["ST"], xerr=group["ST_conf"], height=0.34, color="#E69F00", error_kw=err)
        ax.axvline(0, color="#7f7f7f", linewidth=0.5)
        name, _ = _metric(output)
        ax.set_title(name, fontweight="normal", loc="left")
        ax.set_xlabel("Sobol index")
        ax.set_yticks(y, [short_name(p) for p in order] if i % 2 == 0 else [""] * len(order))
    fig.legend([Patch(color="#0072B2"), Patch(color="#E69F00")], ["S1 (first order)", "ST (total)"],
               loc="outside lower center", ncols=2, frameon=False)
    return fig


def figures(table: pd.DataFrame, design: dict, out_dir: Path, sidecar: dict) -> list[str]:
    from sim.plotting import save_figure, use_style

    names = design["problem"]["names"]
    stems = ["morris_mu_star_sigma", "morris_ranking"] if design["method"] == "morris" else ["sobol_indices"]
    with use_style():
        if design["method"] == "morris":
            save_figure(plot_morris(table, names), out_dir, stems[0], sidecar)
            save_figure(plot_morris_ranking(table, names), out_dir, stems[1], sidecar)
        else:
            save_figure(plot_sobol(table, names), out_dir, stems[0], sidecar)
    for stem in {"morris_mu_star_sigma", "morris_ranking", "sobol_indices"} - set(stems):
        for suffix in (".png", ".pdf", ".json"):   # an earlier analysis's figure of the other method
            (out_dir / f"{stem}{suffix}").unlink(missing_ok=True)
    return stems


# ---------------------------------------------------------------------------------- main


def provenance(design: dict, context: dict) -> dict:
    """Where the indices came from: both commands, the whole design, code and package versions."""
    from importlib import metadata

    from sim.provenance import git_revision, package_versions

    try:
        salib = metadata.version("SALib")
    except metadata.PackageNotFoundError:
        salib = "not installed"
    return {
        "sweep": {"dir": context["sweep_dir"], "command": context["sweep_command"], "runs": context["runs"],
                  "missing_jobs": context["missing_jobs"], "failed_jobs": context["failed_jobs"],
                  "git_revisions": context["git_revisions"], "versions": context["versions"]},
        "analysis": {"command": context["command"], "figures": context["figures"], "notes": context["notes"],
                     "git_revision": git_revision(), "versions": {**package_versions(), "SALib": salib},
                     "confidence": CONFIDENCE, "bootstrap_resamples": RESAMPLES},
        "design": design,
    }


def run_analysis(sweep_dir: Path, out_dir: Path, outputs: Sequence[str] | None, command: str) -> dict:
    """Read the design and the runs, compute the indices and write tables and figures."""
    from sim.report import _load_yaml, sweep_command

    design = read_design(sweep_dir)
    outputs = list(outputs or design.get("outputs") or DEFAULT_OUTPUTS)
    values, found = collect(sweep_dir, design, outputs, out_dir)
    table, second, notes = analyze(design, values, seed=int(design["options"]["seed"]))
    if found["missing_jobs"] or found["failed_jobs"]:
        notes.insert(0, f"{len(found['missing_jobs'])} job(s) missing and {len(found['failed_jobs'])} failed; "
                        "re-run the sweep command with resume=true to fill them in.")
    context = {"sweep_dir": str(sweep_dir), "command": command,
               "sweep_command": sweep_command(_load_yaml(sweep_dir / "multirun.yaml")), "notes": notes, **found}
    for note in notes:
        log.warning(note)
        print(f"warning: {note}", file=sys.stderr)
    reps, seed = int(design.get("replicates", 1)), int(design.get("model_seed", 0))
    sidecar = {"command": command, "sweep_command": context["sweep_command"], "method": design["method"],
               "options": design["options"], "ranges": {r["parameter"]: [r["lo"], r["hi"]] for r in design["ranges"]},
               "seeds": list(range(seed, seed + reps)), "jobs": design["n_jobs"], "runs": found["runs"],
               "design_file": str(sweep_dir / DESIGN_FILE)}
    write_text(table.to_csv(index=False), out_dir / "indices.csv")
    if not second.empty:
        write_text(second.to_csv(index=False), out_dir / "second_order.csv")
    write_text(markdown(table, design, context), out_dir / "indices.md")
    context["figures"] = figures(table, design, out_dir / "figures", sidecar)
    write_json(provenance(design, context), out_dir / "provenance.json")
    return {"table": table, "second": second, "context": context, "design": design}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m sim sensitivity", description=(
        "Morris or Sobol sensitivity indices (SALib) and their figures from a sweep run with "
        "'python -m sim run -m hydra/sweeper=salib ...' (e.g. +experiment=sensitivity_mechanisms). "
        "Reads the design and the runs' summary.json; never runs the model."))
    parser.add_argument("sweep_dir", metavar="SWEEP_DIR", type=Path,
                        help=f"folder of the sweep (holds {DESIGN_FILE})")
    parser.add_argument("--outputs", metavar="A,B,...", help="summary.json keys to analyse (default: the design's "
                        f"outputs, else {','.join(DEFAULT_OUTPUTS)})")
    parser.add_argument("--out", metavar="DIR", type=Path, help="output folder (default: SWEEP_DIR/sensitivity)")
    opts = parser.parse_args(argv)
    sweep_dir = opts.sweep_dir.resolve()
    out_dir = (opts.out or opts.sweep_dir / "sensitivity").resolve()
    outputs = [o.strip() for o in opts.outputs.split(",") if o.strip()] if opts.outputs else None
    command = shlex.join(["python", "-m", "sim", "sensitivity", *argv])
    try:
        result = run_analysis(sweep_dir, out_dir, outputs, command)
    except SensitivityError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    table, design = result["table"], result["design"]
    key = "mu_star" if design["method"] == "morris" else "ST"
    print(f"{design['method'].capitalize()} indices of {table['output'].nunique()} output(s) to "
          f"{design['problem']['num_vars']} parameter(s) from {result['context']['runs']} run(s): {out_dir}")
    for output, group in table.groupby("output", sort=False):
        ranked = ", ".join(f"{short_name(r.parameter)} {getattr(r, key):.3g}" for r in group.head(3).itertuples())
        print(f"  {output:<24} top {key}: {ranked}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
