"""Drawing a run's figures in helper processes, while the run is still being simulated.

Matplotlib and the figure code take about 1.2 s to import, and the figures of a run (PNG and
PDF each) about 3 s of processor time to draw: more than the whole simulation of a default
run. :class:`FigureHelpers` starts one helper process as soon as a run knows it wants figures.
The helper imports the figure code on a second core while this process imports the model and
simulates; it then forks a sibling, and the two draw the figures from one queue as soon as the
run's tables are sent. The figures are the same bytes as when drawn in this process
(:func:`sim.figures.run_figures.write_run_figure` draws them either way; tested).

Helpers need ``fork`` (Linux) and at least two usable cores; otherwise :func:`figure_drawer`
returns :class:`InProcess`, which draws them here, one after another.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import queue
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path

PROCESSES = 2          # helpers drawing at once: this machine's cores, and the payoff flattens after
POLL_SECONDS = 1.0     # how often a waiting helper checks that whoever started it still exists
STOP_SECONDS = 2.0     # how long an aborted run waits for its helper to end before killing it


class FigureError(RuntimeError):
    """A helper failed to draw a figure; the message carries its traceback."""


class InProcess:
    """Draws the figures in this process, one after another, when they are waited for."""

    def submit(self, out_dir: Path, mechanism_panels, timeseries, cities, links, sidecar: dict | None) -> None:
        """Ask for every figure of a run in ``out_dir``; ``mechanism_panels``: (name, panels) pairs."""
        self._job = (out_dir, timeseries, cities, links, sidecar, list(mechanism_panels))

    def wait(self) -> list[Path]:
        """The paths written for the submitted run, once all are written."""
        from sim.figures.run_figures import write_run_figures   # matplotlib only when figures are wanted

        return write_run_figures(*self._job)

    def close(self, abort: bool = False) -> None:
        pass


class FigureHelpers(InProcess):
    """Helper processes that import the figure code now and draw a run's figures when asked.

    Protocol: this process puts one ``("run", ...)`` job; the helper that takes it answers
    ``("expect", stems)`` and puts one ``("figure", ...)`` job per figure back on the queue, so
    that both helpers draw; each figure is answered ``("done", stem, paths, error)``.
    """

    def __init__(self, processes: int = PROCESSES) -> None:
        import pandas  # noqa: F401  both sides need it (~0.5 s): imported once, shared by the fork

        context = multiprocessing.get_context("fork")
        self.processes = processes
        self.jobs = context.Queue()
        self.results = context.Queue()
        self.helper = context.Process(target=_helper, args=(self.jobs, self.results, processes - 1),
                                      name="sim-figures", daemon=False)
        _fork_friendly()
        self.helper.start()

    def submit(self, out_dir: Path, mechanism_panels, timeseries, cities, links, sidecar: dict | None) -> None:
        self.jobs.put(("run", out_dir, list(mechanism_panels), timeseries, cities, links, sidecar))

    def wait(self) -> list[Path]:
        stems: list[str] | None = None
        done: dict[str, tuple[list[Path], str | None]] = {}
        while stems is None or len(done) < len(stems):
            reply = self._reply()
            if reply[0] == "expect":
                stems = reply[1]
            else:
                done[reply[1]] = reply[2:]
        failed = [f"{stem}:\n{error}" for stem, (_, error) in done.items() if error]
        if failed:
            raise FigureError("Drawing figures failed in a helper process:\n" + "\n".join(failed))
        return [path for stem in stems for path in done[stem][0]]

    def _reply(self):
        while True:
            try:
                return self.results.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not self.helper.is_alive():
                    raise FigureError(f"The figure helper process stopped (exit code "
                                      f"{self.helper.exitcode}) before drawing every figure.") from None

    def close(self, abort: bool = False) -> None:
        """Stop the helpers: at once if the run failed (a sibling notices its parent is gone)."""
        if abort or not self.helper.is_alive():
            self.helper.terminate()
            self.jobs.cancel_join_thread()   # what the helpers will never read must not block us
        else:
            for _ in range(self.processes):
                self.jobs.put(None)
        self.jobs.close()
        self.jobs.join_thread()   # the queue's feeder thread: later runs may fork again
        self.helper.join(timeout=None if not abort else STOP_SECONDS)
        if self.helper.is_alive():   # never hang on a helper stuck in a lock
            self.helper.kill()
            self.helper.join()


def can_use_helpers() -> bool:
    """Helpers pay off only with ``fork`` (cheap copies of the imported code) and a second core;
    forking is only safe while this process runs a single thread."""
    if not sys.platform.startswith("linux") or "fork" not in multiprocessing.get_all_start_methods():
        return False
    return len(os.sched_getaffinity(0)) >= 2 and threading.active_count() == 1


@contextlib.contextmanager
def figure_drawer(wanted: bool) -> Iterator[InProcess]:
    """What draws this run's figures: helpers started now if they pay off, else this process."""
    drawer = FigureHelpers() if wanted and can_use_helpers() else InProcess()
    try:
        yield drawer
    except BaseException:
        drawer.close(abort=True)
        raise
    drawer.close()


def _fork_friendly() -> None:
    """Move every object alive now out of the garbage collector's reach before forking, as the
    Python documentation of ``gc.freeze`` advises: otherwise a collection in the child touches
    them all and copies every memory page they live on."""
    gc.freeze()


# --------------------------------------------------------------------------- in the helpers

def _leave_interrupts_to_the_run() -> None:
    """Ctrl-C reaches every process of the terminal's group: a helper interrupted while it holds
    a queue's lock would leave the others waiting forever. The run alone handles it, and stops
    the helpers (SIGTERM), which end without a word (the run's own SIGTERM handler is not theirs)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)   # not the run's handler (sim.interrupts)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def _stop_now(siblings) -> None:
    for process in siblings:
        if process.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
    os._exit(1)


def _helper(jobs, results, siblings: int) -> None:
    """Import the figure code once, warm it up, fork the siblings, then draw until told to stop."""
    _leave_interrupts_to_the_run()
    from sim.figures.run_figures import warm_up

    warm_up()   # fonts and the PDF backend load now, while the run is still simulating
    context = multiprocessing.get_context("fork")
    others = [context.Process(target=_serve, args=(jobs, results), name="sim-figures", daemon=True)
              for _ in range(siblings)]
    _fork_friendly()
    for process in others:
        process.start()
    # Stopped by the run (an error or an interrupt): the siblings stop with us, mid-figure.
    signal.signal(signal.SIGTERM, lambda *_: _stop_now(others))
    if _serve(jobs, results, others):
        for process in others:
            process.join()
    elif any(process.exitcode for process in others):
        # A sibling died, perhaps with a figure or the queue's lock: stop at once (queued data
        # may never be read), so that the run, which only watches this process, fails.
        jobs.cancel_join_thread()
        results.cancel_join_thread()
        sys.exit(1)
    # else the run is gone: returning terminates the (daemonic) siblings


def _serve(jobs, results, siblings=()) -> bool:
    """Draw jobs until told to stop (True), or until whoever started us or a sibling is gone (False)."""
    from sim.figures.run_figures import run_figure_specs, write_run_figure

    starter = os.getppid()
    while True:
        try:
            job = jobs.get(timeout=POLL_SECONDS)
        except queue.Empty:
            if os.getppid() != starter or any(process.exitcode for process in siblings):
                return False
            continue
        if job is None:
            return True
        if job[0] == "run":
            _, out_dir, mechanism_panels, *tables, sidecar = job
            specs = run_figure_specs(mechanism_panels)
            results.put(("expect", [stem for stem, _ in specs]))
            for spec in specs:
                jobs.put(("figure", out_dir, spec, *tables, sidecar))
            continue
        _, out_dir, spec, timeseries, cities, links, sidecar = job
        try:
            paths, error = write_run_figure(out_dir, spec, timeseries, cities, links, sidecar), None
        except Exception:
            paths, error = [], traceback.format_exc()
        results.put(("done", spec[0], paths, error))
