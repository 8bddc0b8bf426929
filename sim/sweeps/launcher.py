"""The local launcher: hydra-joblib-launcher's sweeps on all cores, going on when a worker dies.

``hydra/launcher=local`` (``sim/configs/hydra/launcher/local.yaml``) runs a sweep's jobs exactly as
``hydra/launcher=joblib`` does (the same ``joblib.Parallel`` settings on loky processes, its
results taken as they come, the same steps in each job, so the same run folders, byte for byte),
except when a worker process dies, killed by
the out-of-memory killer, a ``kill -9`` or a crash. loky then kills every other worker too, fails all
jobs not yet returned with ``TerminatedWorkerError``, and hydra-joblib-launcher lets that traceback
end the sweep: finished jobs unreported, the healthy workers' jobs and the jobs not yet started
never run, no ``error.txt`` anywhere. Here instead:

* each job notes, in a scratch folder of the launcher, the worker that starts it and its
  ``JobReturn`` when it ends (until the launcher has it); so after the breakdown the launcher knows
  which jobs finished (even those whose results loky dropped), which were running and on which worker;
* loky reads the exit code of the worker(s) that died before it kills the others, for its error
  message; the launcher records them there (:func:`watch_dead_workers`). The job that was running
  on such a worker is *lost* (should loky change, every job running at the breakdown is). Its run folders that are not complete get an ``error.txt``
  saying so and how to re-run it, and Hydra's ``on_job_end`` callbacks run for it (the progress
  line counts its runs as failed);
* the other running jobs were only stopped by loky: they and the jobs not started yet are launched
  again in a fresh pool (their partial files are overwritten; leftover temporary files of
  interrupted writes are removed when a job starts);
* a lost job is not retried: one that ran out of memory would likely die again, and take the jobs
  of the other workers with it each time (retrying it later, with ``resume=true`` and perhaps
  fewer parallel jobs, is the user's choice);
* at the end every lost job is returned to the sweeper as failed, with one exception naming them
  and the command that finishes the sweep (``resume=true``): Hydra prints that paragraph, no
  traceback, and exits with status 1.

If workers keep dying before any job ends (twice in a row), the launcher stops, naming the command
to resume with. Hydra finds the launcher as a plugin, ``hydra_plugins.sim_sweepers.LocalLauncher``.
"""

from __future__ import annotations

import copy
import logging
import os
import pickle
import shlex
import signal
import tempfile
import threading
from pathlib import Path
from typing import Sequence

from hydra.core.hydra_config import HydraConfig
from hydra.core.singleton import Singleton
from hydra.core.utils import (JobReturn, JobStatus, configure_log, filter_overrides, run_job,
                              setup_globals)
from hydra.errors import CompactHydraException
from hydra_plugins.hydra_joblib_launcher.joblib_launcher import JoblibLauncher
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from sim.runs.layout import replicate_dirs

log = logging.getLogger(__name__)

LOST_NOTE = "Lost job: its worker process died"   # first line of the error.txt of a lost job
STALLS = 2   # pools in a row that broke before any job ended: the launcher gives up


class JobsLost(CompactHydraException):
    """Jobs of a sweep lost with their worker process: one paragraph, no traceback."""


# ------------------------------------------------------------------------- in the workers


def _note(ledger: str, name: str, data: bytes) -> None:
    path = Path(ledger) / name
    tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def job_dir(config: DictConfig) -> Path:
    """A job's output folder, as Hydra's ``run_job`` makes it (HydraConfig must hold ``config``)."""
    return Path(os.path.abspath(os.path.join(str(OmegaConf.select(config, "hydra.sweep.dir")),
                                             str(OmegaConf.select(config, "hydra.sweep.subdir")))))


def clear_leftovers(folder: Path) -> None:
    """Before a job (re)starts in ``folder``: remove what an earlier attempt killed on the way left,
    the error.txt of a lost job and temporary files of interrupted writes (``sim.files.atomic``)."""
    if not folder.is_dir():
        return
    for run in [folder, *folder.glob("seed_*")]:
        error = run / "error.txt"
        try:
            if error.read_text(errors="replace").startswith(LOST_NOTE):
                error.unlink()
        except OSError:
            pass
        for tmp in [*run.glob(".*.tmp"), *run.glob("figures/.*.tmp")]:
            tmp.unlink(missing_ok=True)


def execute_job(idx: int, overrides: Sequence[str], hydra_context, config: DictConfig, task_function,
                singleton_state: dict, ledger: str) -> JobReturn:
    """hydra-joblib-launcher's ``execute_job`` (the same steps), noting in ``ledger`` the worker's
    pid when the job starts and its pickled ``JobReturn`` when it ends."""
    _note(ledger, f"{idx}.pid", str(os.getpid()).encode())
    setup_globals()
    Singleton.set_state(singleton_state)
    sweep_config = hydra_context.config_loader.load_sweep_config(config, list(overrides))
    with open_dict(sweep_config):
        sweep_config.hydra.job.id = f"{sweep_config.hydra.job.name}_{idx}"
        sweep_config.hydra.job.num = idx
    HydraConfig.instance().set_config(sweep_config)
    clear_leftovers(job_dir(sweep_config))
    ret = run_job(hydra_context=hydra_context, config=sweep_config, task_function=task_function,
                  job_dir_key="hydra.sweep.dir", job_subdir_key="hydra.sweep.subdir")
    try:
        _note(ledger, f"{idx}.ret", pickle.dumps(ret))
    except Exception:   # an unpicklable result: the launcher gets it from joblib, or runs the job again
        pass
    return ret


# ------------------------------------------------------------------------- dead workers

_dead: dict[int, int] = {}     # pid -> exit code of workers loky found dead (before it kills the rest)
_dead_lock = threading.Lock()


def watch_dead_workers() -> bool:
    """Have loky tell which workers died: it reads their exit codes, for its error message, before
    it kills the others. False if this loky has no such step (then every running job is suspect)."""
    try:
        from joblib.externals.loky import process_executor as pe
    except ImportError:   # pragma: no cover
        return False
    original = getattr(pe, "get_exitcodes_terminated_worker", None)
    if original is None:
        return False
    if getattr(original, "_sim_records_dead", False):
        return True

    def recording(processes):
        text = original(processes)    # waits (up to 0.25 s) for the dead worker's exit code
        try:
            with _dead_lock:
                for pid, process in list(processes.items()):
                    if process is not None and process.exitcode is not None:
                        _dead[int(pid)] = int(process.exitcode)
        except Exception:   # pragma: no cover  (never let the record break loky)
            pass
        return text

    recording._sim_records_dead = True
    pe.get_exitcodes_terminated_worker = recording
    return True


def take_dead() -> dict[int, int]:
    with _dead_lock:
        found = dict(_dead)
        _dead.clear()
    return found


def how_it_died(code: int | None) -> str:
    if code is None:
        return "died"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if name == "SIGKILL":
            return "was killed by SIGKILL, the signal of the out-of-memory killer or of kill -9"
        if name == "SIGSEGV":
            return "crashed with SIGSEGV, a segmentation fault"
        return f"was killed by {name}"
    return f"exited with code {code}"


# ------------------------------------------------------------------------- the launcher


def resume_command(config: DictConfig) -> str:
    """The command that finishes the sweep: its own overrides, its folder, and resume=true."""
    task = [o for o in config.hydra.overrides.task if o.split("=", 1)[0].lstrip("+~") != "resume"]
    chosen = [o for o in config.hydra.overrides.hydra
              if o not in ("hydra.mode=MULTIRUN", "hydra/sweeper=sim_basic")]   # the latter: sim/cli.py adds it
    if not any(o.split("=", 1)[0] == "hydra.sweep.dir" for o in chosen):
        dir_ = OmegaConf.to_container(config.hydra.sweep, resolve=False).get("dir")
        if "${" in str(dir_):    # a timestamp: name the folder this sweep wrote
            chosen.append(f"hydra.sweep.dir={config.hydra.sweep.dir}")
    return shlex.join(["python", "-m", "sim", "run", "-m", *task, *chosen, "resume=true"])


class LocalLauncher(JoblibLauncher):
    """hydra-joblib-launcher that goes on when a worker process dies (see the module docstring).

    Config (``sim/configs/hydra/launcher/local.yaml``): every key of ``hydra/launcher=joblib``
    (``n_jobs`` etc.), passed to ``joblib.Parallel`` as that launcher does.
    """

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        from hydra_plugins.hydra_joblib_launcher._core import process_joblib_cfg
        from joblib import Parallel, delayed
        from joblib.externals.loky.process_executor import TerminatedWorkerError

        setup_globals()
        assert self.config is not None and self.task_function is not None and self.hydra_context is not None
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        joblib_cfg = dict(self.joblib)
        joblib_cfg["backend"] = "loky"    # as hydra-joblib-launcher: its threads backend cannot run Hydra jobs
        process_joblib_cfg(joblib_cfg)
        log.info("Joblib.Parallel({}) is launching {} jobs".format(
            ",".join(f"{k}={v}" for k, v in joblib_cfg.items()), len(job_overrides)))
        log.info("Launching jobs, sweep output dir : {}".format(sweep_dir))
        for k, overrides in enumerate(job_overrides):
            log.info("\t#{} : {}".format(k, " ".join(filter_overrides(overrides))))

        jobs = {initial_job_idx + k: list(o) for k, o in enumerate(job_overrides)}
        results: dict[int, JobReturn] = {}
        lost: dict[int, str] = {}                 # job number -> how its worker died
        error = JobsLost("jobs lost")             # shared by the lost jobs' returns; worded at the end
        knows_dead = watch_dead_workers()
        stalls = 0
        with tempfile.TemporaryDirectory(prefix="sim-launcher-") as ledger:
            pending = list(jobs)
            while pending:
                take_dead()
                singleton_state = Singleton.get_state()
                try:
                    runs = Parallel(**joblib_cfg, return_as="generator")(
                        delayed(execute_job)(idx, jobs[idx], self.hydra_context, self.config,
                                             self.task_function, singleton_state, ledger)
                        for idx in pending)
                    for idx, ret in zip(pending, runs):   # in job order, as they come
                        results[idx] = ret
                        Path(ledger, f"{idx}.ret").unlink(missing_ok=True)   # needed after a breakdown only
                    break
                except TerminatedWorkerError:
                    dead = take_dead()
                    ended, died, stopped = self._sort_out(pending, ledger, dead, knows_dead, results)
                    stalls = 0 if (ended or died) else stalls + 1
                    pending = [idx for idx in pending if idx not in results and idx not in died]
                    self._log_breakdown(jobs, pending, died, stopped, dead, go_on=stalls < STALLS)
                    for idx, how in died.items():
                        lost[idx] = how
                        results[idx] = self._lost_job(idx, jobs[idx], how, error)
                    if stalls >= STALLS and pending:
                        raise JobsLost(self._stalled_message(jobs, pending, lost, dead)) from None
                    for name in os.listdir(ledger):   # the next pool's notes only
                        os.unlink(os.path.join(ledger, name))
        returns = [results[idx] for idx in jobs]
        if lost:
            error.args = (self._lost_message(jobs, lost, results),)
            first_failed = next(idx for idx in jobs if results[idx].status == JobStatus.FAILED)
            if first_failed not in lost:   # the sweeper shows that job's error: say this here
                log.error("%s", error.args[0])
        return returns

    # --------------------------------------------------------------------- after a breakdown

    def _sort_out(self, pending, ledger, dead, knows_dead, results):
        """After loky broke down: jobs that ended (their returns added to ``results``), lost jobs
        (number -> how the worker died) and jobs stopped by loky (to launch again)."""
        ended, running = [], {}
        for idx in pending:
            if idx in results:   # collected before the breakdown
                continue
            ret_file, pid_file = Path(ledger, f"{idx}.ret"), Path(ledger, f"{idx}.pid")
            try:
                results[idx] = pickle.loads(ret_file.read_bytes())
                ended.append(idx)
                continue
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
                pass
            try:
                running[idx] = int(pid_file.read_text())
            except (OSError, ValueError):
                pass   # not started
        if knows_dead and dead:
            died = {idx: how_it_died(dead[pid]) for idx, pid in running.items() if pid in dead}
        else:   # cannot tell which worker died first: every running job is suspect
            died = {idx: how_it_died(None) for idx in running}
        stopped = [idx for idx in running if idx not in died]
        return ended, died, stopped

    def _lost_job(self, idx: int, overrides: list[str], how: str, error: JobsLost) -> JobReturn:
        """The failed return of a lost job, its error.txt notes, and Hydra's on_job_end callbacks."""
        assert self.hydra_context is not None and self.config is not None
        hydra_config = HydraConfig.instance()
        saved = hydra_config.cfg
        try:
            config = self.hydra_context.config_loader.load_sweep_config(self.config, list(overrides))
            with open_dict(config):
                config.hydra.job.id = f"{config.hydra.job.name}_{idx}"
                config.hydra.job.num = idx
            hydra_config.set_config(config)
            folder = job_dir(config)
            with read_write(config.hydra.runtime), open_dict(config.hydra.runtime):
                config.hydra.runtime.output_dir = str(folder)
            hydra_config.set_config(config)
            note = lost_note(idx, overrides, how, resume_command(self.config))
            runs = [folder] if OmegaConf.select(config, "output.layout") == "table" else \
                [run for _, run in replicate_dirs(config, folder)]
            for run in runs:
                if not (run / "summary.json").exists() and not (run / "error.txt").exists():
                    run.mkdir(parents=True, exist_ok=True)
                    (run / "error.txt").write_text(note)
            task_cfg = copy.deepcopy(config)
            with read_write(task_cfg), open_dict(task_cfg):
                del task_cfg["hydra"]
            ret = JobReturn(overrides=list(config.hydra.overrides.task), cfg=task_cfg,
                            hydra_cfg=copy.deepcopy(hydra_config.cfg), working_dir=os.getcwd(),
                            task_name=str(config.hydra.job.name), status=JobStatus.FAILED)
            ret.return_value = error
            self.hydra_context.callbacks.on_job_end(config=config, job_return=ret)
            return ret
        finally:
            hydra_config.cfg = saved

    @staticmethod
    def _label(jobs: dict, idx: int) -> str:
        shown = " ".join(filter_overrides(jobs[idx]))
        return f"#{idx} ({shown})" if shown else f"#{idx}"

    def _log_breakdown(self, jobs, pending, died, stopped, dead, go_on: bool) -> None:
        codes = " / ".join(how_it_died(code) for code in sorted(set(dead.values()))) or "died"
        if died:
            what = "; ".join(f"job {self._label(jobs, idx)}: its worker {how}" for idx, how in died.items())
            head = (f"Lost {what}. " + ("It is" if len(died) == 1 else "They are")
                    + " not retried (see error.txt in the job's folder).")
        else:
            head = f"A worker process {codes} while it ran no job; no job was lost."
        if pending and go_on:
            head += (f" loky stopped the other workers too: launching {len(pending)} job(s) again in a fresh "
                     f"pool (running when stopped: {', '.join(f'#{i}' for i in stopped) or 'none'}).")
        log.warning("%s", head)

    def _lost_message(self, jobs, lost, results) -> str:
        failed = [idx for idx, ret in results.items() if idx not in lost and ret.status == JobStatus.FAILED]
        items = "; ".join(f"job {self._label(jobs, idx)}, whose worker {how}" for idx, how in lost.items())
        others = len(jobs) - len(lost)
        return (
            f"{len(lost)} of the {len(jobs)} jobs of this sweep {'was' if len(lost) == 1 else 'were'} lost "
            f"when the worker process running {'it' if len(lost) == 1 else 'them'} died: {items}. "
            f"The other {others} job(s) ran to the end"
            + (f" ({len(failed)} of them failed: see error.txt in their folders)" if failed else "")
            + ". A lost job is not retried automatically (one that ran out of memory would likely die again, "
            "taking the other workers' jobs with it); its folder holds an error.txt saying so. If memory ran "
            "out (see 'dmesg'), run fewer jobs at once (e.g. add hydra.launcher.n_jobs=1). To finish the sweep "
            f"(complete runs are skipped), run it again with resume=true: {resume_command(self.config)}")

    def _stalled_message(self, jobs, pending, lost, dead) -> str:
        codes = " / ".join(how_it_died(code) for code in sorted(set(dead.values()))) or "died"
        return (
            f"The sweep stopped: its worker processes died {STALLS} times in a row before any job ended "
            f"(the last one {codes}), so {len(pending)} of its {len(jobs)} jobs did not run "
            f"({', '.join(f'#{i}' for i in pending)})"
            + (f" and {len(lost)} were lost ({', '.join(f'#{i}' for i in lost)})" if lost else "")
            + ". Finished jobs keep their folders. Check memory ('dmesg') and that a single run works, then "
            f"finish the sweep with: {resume_command(self.config)}")


def lost_note(idx: int, overrides: Sequence[str], how: str, command: str) -> str:
    """The error.txt of a run of a lost job (its last line is what ``sim report`` shows)."""
    shown = " ".join(filter_overrides(overrides)) or "(none)"
    return (f"{LOST_NOTE} before this run finished.\n\n"
            f"Job {idx} of the sweep (overrides: {shown}) was running when its worker process {how}. "
            "The run left no error of its own. The job was not retried automatically: one that ran out of "
            "memory would likely die again.\n\n"
            "To re-run it (and every other unfinished run of the sweep; complete runs are skipped):\n"
            f"  {command}\n"
            "If memory ran out (see 'dmesg'), run fewer jobs at once, e.g. hydra.launcher.n_jobs=1.\n\n"
            f"WorkerDied: the worker process of job {idx} {how}; re-run the sweep with resume=true\n")
