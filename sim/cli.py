"""Command line: ``python -m sim <command> [hydra arguments]``.

Hydra has no sub-commands, so :func:`main` takes the first word, checks it, and hands the
rest of the command line unchanged to that command's ``@hydra.main`` function
(``-m``, ``--cfg job``, ``--help`` and overrides all behave as in any Hydra app).
"""

from __future__ import annotations

import logging
import math
import os
import sys
import warnings
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from sim.config.loading import config_error, register_schema, unknown_override_keys, validate
from sim import interrupts
from sim.errors import UserError
from sim.extras import require
from sim.files import write_text
from sim.runs.failures import report_failure

log = logging.getLogger("sim")

HEADLINE = (
    ("cooperation_index", "cooperation index (mean of last 5 years, 0-1)", "{:.3f}"),
    ("cooperation_peak", "cooperation peak", "{:.3f}"),
    ("cooperation_peak_year", "cooperation peak year", "{}"),
    ("agreements_per_project", "agreements per delivered project", "{:.2f}"),
    ("gdp_total_final", "GDP in the last year (100 million yuan)", "{:,.0f}"),
    ("gdp_growth_mean", "mean yearly GDP growth", "{:.2%}"),
    ("theil_final", "Theil index, last year", "{:.4f}"),
    ("core_periphery_ratio_final", "core/periphery per-capita GDP ratio", "{:.2f}"),
    ("subsidy_per_firm_mean", "subsidy per firm (100 million yuan)", "{:.3f}"),
    ("firms_lost_share", "share of mobile firms lost to the outside", "{:.1%}"),
)


def _recorded_command(name: str) -> str:
    return " ".join(["python -m sim", name, *HydraConfig.get().overrides.task])


def _print_headline(summary: dict, out_dir: Path) -> None:
    mechs = ", ".join(summary["mechanisms"]) or "none (baseline)"
    lines = [f"Simulated {summary['region']} ({summary['n_cities']} cities), {summary['years']}, "
             f"mechanisms: {mechs}, seed {summary['seed']}.", f"Results: {out_dir.resolve()}"]
    for key, label, fmt in HEADLINE:
        value = summary.get(key)
        undefined = value is None or (isinstance(value, float) and math.isnan(value))
        lines.append(f"  {label:<45} {'n/a' if undefined else fmt.format(value)}")
    try:
        print("\n".join(lines), flush=True)
    except BrokenPipeError:   # e.g. 'sim run | head': the reader has gone, the run is complete
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


@hydra.main(version_base="1.3", config_path="pkg://sim.runs.configs", config_name="config")
def run(cfg: DictConfig) -> None:
    """Simulate one region under the selected mechanisms and write a run folder per replicate."""
    from sim.figures.processes import figure_drawer

    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    table = cfg.output.layout == "table"
    # Helper processes start drawing-ready now, while this one imports the model and simulates.
    with figure_drawer(bool(cfg.output.figures) and not table) as drawer:
        try:
            validate(cfg, hc.overrides.task, dict(hc.runtime.choices))
        except UserError as err:
            report_failure(err, out_dir, user_error=True)
            raise
        if table:
            failures = _run_table(cfg, out_dir)
        else:
            failures = [err for rep_dir in replicates(cfg, out_dir)
                        if (err := _run_one(cfg, rep_dir, drawer)) is not None]
    if failures:
        raise failures[0]


def _simulate(cfg: DictConfig):
    """Simulate one replicate, its warnings (e.g. imputed cities) sent to the run's log."""
    from sim.runs.runner import simulate  # after Hydra has handled --help

    with warnings.catch_warnings(record=True) as notes:
        warnings.simplefilter("always", UserWarning)
        result = simulate(cfg)
    for note in notes:
        log.warning("%s", note.message)
    return result


def _run_one(cfg: DictConfig, out_dir: Path, drawer) -> BaseException | None:
    """One replicate: skip it if resuming and complete, else simulate, write and report."""
    from sim.runs.layout import is_complete
    from sim.runs.runner import write_run

    # A complete run of this very config: resume=true, or a job the local launcher launched again after a
    # worker died (the sweep's preflight refused a folder with complete runs unless resume=true).
    if is_complete(out_dir, cfg):
        log.info("%s is complete, skipped", out_dir)
        return None
    result = None

    def work():
        nonlocal result
        if (out_dir / "summary.json").exists():   # never overwritten: another config's complete run
            raise UserError(f"{out_dir} holds a complete run of another configuration; resume=true continues "
                            "only the same sweep. Nothing was written there. Give another folder with "
                            "hydra.sweep.dir=PATH (or hydra.run.dir=PATH).")
        result = _simulate(cfg)
        write_run(result, cfg, out_dir, _recorded_command("run"), drawer)

    err = _attempt(work, out_dir)
    if err is None:
        _print_headline(result.summary, out_dir)
    return err


def _run_table(cfg: DictConfig, out_dir: Path) -> list[BaseException]:
    """A table-layout job (``output.layout=table``, :mod:`sim.runs.job_table`): every replicate
    simulated, then one table per kind and summaries.json written; skipped if resuming and complete."""
    from sim.runs.job_table import JobTable
    from sim.runs.layout import JOB_FILE, is_complete_job

    if is_complete_job(out_dir, cfg):
        log.info("%s is complete, skipped", out_dir)
        return []
    command = _recorded_command("run")
    job = JobTable(cfg, HydraConfig.get().overrides.task)
    failures = []
    for _ in replicates(cfg, out_dir):
        if (err := _attempt(lambda: job.add(_simulate(cfg), command), out_dir)) is not None:
            job.fail(int(cfg.seed), err)
            failures.append(err)
    if (err := _attempt(lambda: job.write(out_dir), out_dir)) is not None:
        return [err]
    first, count = int(cfg.seed), int(cfg.replicates)
    print(f"Simulated seeds {first}-{first + count - 1} ({count - len(failures)} complete, {len(failures)} failed), "
          f"one table per kind (output.layout=table).\nResults: {out_dir.resolve()} ({JOB_FILE} lists the runs)",
          flush=True)
    return failures


def _attempt(work, out_dir: Path) -> BaseException | None:
    """Run ``work()``; a failure is reported in ``out_dir`` as any run's is and returned."""
    try:
        work()
    except UserError as err:
        report_failure(err, out_dir, user_error=True)
        return err
    except OSError as err:   # the disk is full, the folder became read-only...: no traceback
        problem = UserError(f"Could not write the run folder {out_dir}: {err.strerror or err} "
                            f"({err.filename or out_dir}). The run is not complete (no summary.json). Free "
                            "space or choose another folder (hydra.run.dir=PATH), then run the command again.")
        report_failure(problem, out_dir, user_error=True)
        return problem
    except Exception as err:
        report_failure(err, out_dir, user_error=False)
        return err
    except KeyboardInterrupt as err:
        write_text(interrupts.message(err)[0] + "\n", out_dir / "error.txt")
        raise
    return None


def replicates(cfg: DictConfig, out_dir: Path):
    """The folder of each replicate, with ``cfg.seed`` set to its seed (seed, seed+1, ...) meanwhile.

    The replicates of a job run one after another, so they share one config whose seed is
    changed in place: copying the whole config per replicate cost ~12 ms a run.
    """
    first, count = int(cfg.seed), int(cfg.replicates)
    try:
        for k in range(count):
            cfg.seed = first + k
            yield out_dir if count == 1 else out_dir / f"seed_{cfg.seed}"
    finally:
        cfg.seed = first


def report() -> int:
    """Aggregate a sweep folder (imported lazily: it needs no model code)."""
    from sim.analysis.report import main as report_main

    return report_main()


def sensitivity() -> int:
    """Sensitivity indices of a sweep run with hydra/sweeper=salib (needs no model code)."""
    from sim.analysis.sensitivity import main as sensitivity_main

    return sensitivity_main()


def reproduce() -> None:
    """Published public-goods models on the shared engine (numba loads only for this command)."""
    require("numba", "reproduce", "python -m sim reproduce (its compiled kernels)")
    from sim.reproduce.command import reproduce as reproduce_main

    return reproduce_main()


def validate_patterns() -> int:
    """Pattern-oriented validation (the model loads only when it runs)."""
    from sim.analysis.validate import main as validate_main

    return validate_main()


def calibrate() -> int:
    """ABC-SMC posterior of the council's entry parameters (pyABC loads only for this command)."""
    from sim.analysis.posterior import main as calibrate_main

    return calibrate_main()


COMMANDS = {
    "run": (run, "simulate one region (or a Hydra multirun sweep with -m)"),
    "report": (report, "tables, effects against a baseline, figures and provenance of a sweep folder"),
    "reproduce": (reproduce, "published public-goods models (lattice, scale-free) on the city model's engine"),
    "validate": (validate_patterns, "run the validation patterns (docs/ODD.md section 1.1) over many seeds; exit 1 if one fails"),
    "sensitivity": (sensitivity, "Morris / Sobol indices and figures of a sweep run with hydra/sweeper=salib"),
    "calibrate": (calibrate, "posterior of the council's entry parameters given the calibration data (ABC-SMC, pyABC)"),
}


def usage() -> str:
    lines = ["usage: python -m sim <command> [hydra overrides and flags]", "", "commands:"]
    lines += [f"  {name:<12} {doc}" for name, (_, doc) in COMMANDS.items()]
    lines += ["", "Each command takes Hydra's flags: --help, --cfg job, -m/--multirun, key=value.",
              "Example: python -m sim run seed=3 region=yangtze_delta"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit code (0 done, 1 failed, 2 a mistake, 128 + N stopped by signal N)."""
    interrupts.install()
    try:
        code = _dispatch(list(sys.argv[1:] if argv is None else argv))
        interrupts.check()
        return code
    except KeyboardInterrupt as err:
        message, code = interrupts.message(err)
        print(message, file=sys.stderr)
        return code


def _dispatch(args: list[str]) -> int:
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if args else 2
    name = args[0]
    if name not in COMMANDS:
        print(f"error: unknown command '{name}'. Commands are: {', '.join(COMMANDS)}. "
              "Run 'python -m sim --help' for usage.", file=sys.stderr)
        return 2
    try:
        if name == "run":
            register_schema()   # the schema and the mechanisms' configs (reproduce has its own tree)
            typos = unknown_override_keys(args[1:])
            if typos:
                raise config_error(typos, args[1:], {}, command="run", example="key=value",
                                   listing="docs/ODD.md lists every parameter with its range")
            if any(a in ("--cfg", "-c") for a in args) and any(a.startswith("posterior=") for a in args):
                print("note: --cfg prints the configuration before the posterior draw is applied; each run's "
                      "config.json records the drawn values (posterior.draw, by default the seed, picks the draw).",
                      file=sys.stderr)
            if any(a.startswith(("hydra/launcher=slurm", "hydra/launcher=submitit")) for a in args):
                require("hydra_plugins.hydra_submitit_launcher", "slurm", "A sweep on SLURM (hydra/launcher=slurm)")
        if name == "run":
            interrupts.defer()   # until the preflight callback: Hydra is composing the config
        rest = _with_default_sweeper(args[1:]) if name == "run" else args[1:]
        sys.argv = [f"{sys.argv[0]} {name}", *rest]
        return COMMANDS[name][0]() or 0
    except UserError as err:   # before Hydra runs: a missing extra, a broken mechanism package
        print(f"error: {err}", file=sys.stderr)
        return 2


def _with_default_sweeper(args: list[str]) -> list[str]:
    """A ``-m`` sweep uses sim/sweeps/basic.py's sweeper unless the command line or an experiment
    chooses one. It is Hydra's basic sweeper checking jobs by shape; it cannot be the primary
    config's default, as that would override an experiment's own choice (Hydra keeps the first
    override of a group: command line, then primary config, then the configs it includes)."""
    multirun = any(a in ("-m", "--multirun") for a in args)
    chosen = any(a.lstrip("+~").startswith(("hydra/sweeper=", "experiment=")) for a in args)
    return [*args, "hydra/sweeper=sim_basic"] if multirun and not chosen else args


def console() -> int:
    """``python -m sim`` and the ``sim`` console script: :func:`main`, then ``gc.freeze()``: the
    ~1M objects that pandas, scipy and mesa create at import die with the process anyway, and
    freezing them spares the interpreter's last full collection (~0.2 s of every command).

    An interrupted command leaves through :func:`_leave`."""
    import gc

    try:
        code = main()
    finally:
        gc.freeze()
    if code >= 128:
        _leave(code)
    return code


def _leave(code: int) -> None:
    """Exit with ``code`` after the clean-up Python would do (atexit: joblib's workers and
    semaphores, logging), but without the interpreter's own ending, which re-raises the signal
    when a KeyboardInterrupt ever left code that C extensions ran (CPython's
    _Py_UnhandledKeyboardInterrupt), so that our exit code would be lost."""
    import atexit

    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
