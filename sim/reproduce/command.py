"""The ``python -m sim reproduce`` command: run one published model and write its run folder.

Every run writes ``summary.json`` (with ``cooperator_density``), ``timeseries.parquet``,
``config.json`` and ``figures/density.{png,pdf,json}`` into the Hydra run folder. The models are
in :mod:`sim.reproduce.studies`, their configuration in :mod:`sim.reproduce.config`.
"""

from __future__ import annotations

from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from sim.errors import UserError
from sim.runs.failures import report_failure
from sim.files import SUMMARY_FILE, write_json, write_parquet
from sim.provenance import git_revision, package_version, package_versions
from sim.reproduce.config import CONFIG_MODULE, CONFIG_NAME, validate_study
from sim.reproduce.studies import StudyResult, run_study


def density_figure(result: StudyResult, study: DictConfig, out_dir: Path, sidecar: dict) -> list[Path]:
    """Cooperator fraction against time (log axis), with the averaging window shaded."""
    from sim.figures.style import NEUTRAL, PALETTE, new_figure, save_figure, use_style

    ts = result.timeseries
    step = "sweep" if "sweep" in ts else "generation"
    with use_style():
        fig, ax = new_figure("single", 2.4)
        if "network" in ts:
            for _, part in ts.groupby("network"):
                ax.plot(part[step] + 1, part["density"], color=NEUTRAL, lw=0.5, alpha=0.6)
            mean = ts.groupby(step)["density"].mean()
            ax.plot(mean.index + 1, mean.to_numpy(), color=PALETTE[0], label="mean of networks")
            ax.legend(loc="best")
        else:
            ax.plot(ts[step] + 1, ts["density"], color=PALETTE[0])
        steps = int(ts[step].max())
        first = steps - result.summary["timeseries"]["steps_averaged"] + 1
        ax.axvspan(first + 1, steps + 1, color=NEUTRAL, alpha=0.15, lw=0)
        ax.axhline(result.summary["cooperator_density"], color=PALETTE[1], lw=0.6, ls="--")
        ax.set_xscale("log")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(f"{'Monte Carlo step' if step == 'sweep' else 'generation'} + 1")
        ax.set_ylabel("fraction of cooperators")
        label = (f"r = {study.r:g}, L = {study.size}, K = {study.noise:g}" if result.name == "lattice_pgg"
                 else f"eta = {study.eta:g}, N = {study.nodes}, z = {study.mean_degree}, {study.cost}")
        ax.set_title(label)
    return save_figure(fig, out_dir / "figures", "density", sidecar=sidecar)


def write_study(result: StudyResult, cfg: DictConfig, out_dir: Path, command: str) -> None:
    """Run folder: time series, config, figure, and the summary last (its presence means complete)."""
    out_dir = Path(out_dir)
    container = OmegaConf.to_container(cfg, resolve=True)
    container.pop("hydra", None)
    write_parquet(result.timeseries, out_dir / "timeseries.parquet")
    write_json(container, out_dir / "config.json")
    versions = {**package_versions(), "numba": package_version("numba"), "networkx": package_version("networkx")}
    summary = {**result.summary, "command": command, "versions": versions, "git_revision": git_revision()}
    density_figure(result, cfg.study, out_dir, {"command": command, "seed": int(cfg.seed),
                                                "study": summary["parameters"]})
    write_json(summary, out_dir / SUMMARY_FILE)


def _print_headline(summary: dict, out_dir: Path) -> None:
    p = summary["parameters"]
    if summary["study"] == "lattice_pgg":
        what = f"r = {p['r']:g}, L = {p['size']}, {p['sweeps']} sweeps, K = {p['noise']:g}"
    else:
        what = (f"eta = {p['eta']:g} (r = {summary['r']:g}), N = {p['nodes']}, z = {p['mean_degree']}, "
                f"{p['cost']}, {p['update']}, {p['networks']} network(s)")
    print(f"Reproduced {summary['study']} ({what}), seed {summary['seed']}.")
    print(f"Results: {out_dir.resolve()}")
    print(f"  cooperator density (mean of last {summary['timeseries']['steps_averaged']} steps) "
          f"{summary['cooperator_density']:.4f}")


@hydra.main(version_base="1.3", config_path=f"pkg://{CONFIG_MODULE}", config_name=CONFIG_NAME)
def reproduce(cfg: DictConfig) -> None:
    """Run one published model (``study=NAME``) and write its run folder."""
    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    command = " ".join(["python -m sim reproduce", *hc.overrides.task])
    try:
        validate_study(cfg, hc.overrides.task, dict(hc.runtime.choices))
    except UserError as err:
        report_failure(err, out_dir, user_error=True)
        raise
    try:
        result = run_study(cfg.study, cfg.seed)
        write_study(result, cfg, out_dir, command)
    except UserError as err:
        report_failure(err, out_dir, user_error=True)
        raise
    except Exception as err:
        report_failure(err, out_dir, user_error=False)
        raise
    _print_headline(result.summary, out_dir)


if __name__ == "__main__":
    reproduce()
