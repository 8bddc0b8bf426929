"""The SALib sweeper: a global sensitivity design run as an ordinary Hydra sweep.

It turns ``hydra.sweeper.parameters`` into a SALib problem, samples it (Morris or Sobol),
writes the design to ``<sweep dir>/sensitivity_design.json`` and launches one job per sample
row through the configured launcher. Hydra finds it as a plugin
(``hydra_plugins.sim_sweepers.SalibSweeper``); :mod:`sim.analysis.sensitivity` analyses the
finished sweep. Config: ``sim/configs/hydra/sweeper/salib.yaml``.
"""

from __future__ import annotations

import difflib
import json
import logging
import math
import warnings
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
from hydra.errors import CompactHydraException
from hydra.plugins.sweeper import Sweeper
from omegaconf import DictConfig, OmegaConf

from sim.errors import UserError
from sim.extras import require
from sim.files import write_json
from sim.sweeps.basic import ShapeValidation

log = logging.getLogger("sim.sweeps.salib")

DESIGN_FILE = "sensitivity_design.json"
DESIGN_FORMAT = 1
METHODS = ("morris", "sobol")
DEFAULT_OUTPUTS = ("cooperation_index", "gdp_total_final", "theil_final", "subsidy_per_firm_mean")
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
    from sim.mechanisms.registry import schemas
    from sim.config.schema import Config, leaf_fields

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


def salib(submodule: str):
    """A module of SALib, an optional extra: without it, one paragraph saying how to install it."""
    try:
        return require(f"SALib.{submodule}", "sensitivity", "A sensitivity design (hydra/sweeper=salib, sim sensitivity)")
    except UserError as err:
        raise SensitivityError(str(err)) from None


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
        morris = salib("sample.morris")
        x = morris.sample(problem, int(samples), num_levels=int(levels), seed=int(seed))
    else:
        sobol = salib("sample.sobol")
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

    Config (``sim/configs/hydra/sweeper/salib.yaml``): ``method`` (morris | sobol), ``samples``
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
        from sim.sweeps.progress import STATE

        state_file = sweep_dir / STATE
        try:
            state = json.loads(state_file.read_text())
        except (OSError, ValueError):
            return
        state["total"] = n_jobs * int(self.config.replicates)
        state_file.write_text(json.dumps(state))


