"""Where the time goes: pyinstrument profiles of the workloads the benchmarks time.

    python benchmarks/profile_runs.py [--only model scale sweep_job] [--out DIR]

The benchmarks say how fast; these profiles say why, and are what to read before optimising.
pyinstrument samples the call stack every ``INTERVAL`` seconds, but it tracks the stack through
a hook on every Python call, so call-heavy code (pandas, OmegaConf, Hydra) slows down more than
NumPy kernels do (measured: the sweep job takes about twice as long profiled). Read the shares
of each part, not absolute times: the benchmarks give the times.

* ``model``: ``CityModel`` set-up and 20 steps, default region, all three mechanisms, ``SEEDS``
  seeds (what "model time per simulated year" measures);
* ``scale``: the same at ``region=synthetic region.n_cities=4000`` (the scale target's run);
* ``sweep_job``: one job of the sweep path as a warm joblib worker runs it, in this process:
  ``python -m sim run +mechanism=three_tier replicates=50 output.figures=false
  output.events=false`` (Hydra's config composition, validation, then per replicate the model,
  its tables and the run folder).

Each workload runs once unprofiled first, so that imports, JIT and caches are warm, as they are
in a sweep's worker after its first job. Writes ``profile_<name>.txt`` (the call tree, for
reading and diffing) and ``profile_<name>.html`` (interactive) to ``benchmarks/results/profiles/``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import sys
import tempfile
import warnings
from pathlib import Path

try:
    from pyinstrument import Profiler
except ModuleNotFoundError:
    sys.exit("profile_runs.py needs pyinstrument, which the optional 'bench' extra installs: "
             "pip install -e '.[bench]' (in the environment sim is installed in), then run it again.")

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS  # noqa: E402

INTERVAL = 0.001   # seconds between samples (pyinstrument's default)
SEEDS = 10
REPLICATES = 50
ALL_MECHANISMS = "+mechanism=[three_tier,enclave,joint_investment]"


def _models(overrides: list[str], seeds: int):
    """Set-up and 20 years of ``seeds`` models, as the benchmarks time them."""
    from sim.config.loading import load_config
    from sim.model.city_model import CityModel
    from sim.data import load_region

    cfg = load_config([*overrides, "output.figures=false", "output.events=false", "years=20"])
    region = load_region(cfg.region)

    def run() -> None:
        for seed in range(seeds):
            cfg.seed = seed
            CityModel(cfg, region).run()
    return run


def _sweep_job(out: Path):
    """One job of ``replicates=REPLICATES`` runs through the command line, in this process."""
    from sim.cli import main

    jobs = itertools.count()

    def run() -> None:
        with contextlib.redirect_stdout(io.StringIO()):   # each replicate's headline
            main(["run", "+mechanism=three_tier", f"replicates={REPLICATES}", "output.figures=false",
                  "output.events=false", f"hydra.run.dir={out}/job_{next(jobs)}"])
    return run


# name -> (folder for outputs) -> the workload, ready to run
WORKLOADS = {
    "model": lambda tmp: _models([ALL_MECHANISMS], SEEDS),
    "scale": lambda tmp: _models([ALL_MECHANISMS, "region=synthetic", "region.n_cities=4000"], 1),
    "sweep_job": _sweep_job,
}


def profile(run) -> Profiler:
    run()   # warm: imports, numba, caches
    profiler = Profiler(interval=INTERVAL)
    profiler.start()
    try:
        run()
    finally:
        profiler.stop()
    return profiler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(WORKLOADS), default=list(WORKLOADS))
    parser.add_argument("--out", type=Path, default=RESULTS / "profiles")
    opts = parser.parse_args()
    opts.out.mkdir(parents=True, exist_ok=True)
    warnings.simplefilter("ignore", UserWarning)   # the region's imputation notice, once per run
    with tempfile.TemporaryDirectory() as tmp:
        for name in opts.only:
            profiler = profile(WORKLOADS[name](Path(tmp)))
            text = profiler.output_text(unicode=True, color=False)
            (opts.out / f"profile_{name}.txt").write_text(text)
            (opts.out / f"profile_{name}.html").write_text(profiler.output_html())
            print(f"== {name}: {opts.out / f'profile_{name}.txt'}\n{text}")


if __name__ == "__main__":
    main()
