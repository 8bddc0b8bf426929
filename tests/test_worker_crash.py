"""A worker process of a local sweep dies (hydra/launcher=local, sim/sweeps/launcher.py).

A real sweep, as a user runs it: one loky worker is killed with SIGKILL (what the out-of-memory
killer sends) while it runs a job. The sweep must name the lost job in one paragraph (no traceback),
finish every other job, leave an error.txt in the lost job's folder and exit 1; the command it
prints (resume=true) must finish the sweep, which the report then finds complete. Without a death,
the launcher's run folders equal hydra/launcher=joblib's, byte for byte.
"""

import filecmp
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="finds the workers through /proc")

REPLICATES = 5
SEEDS = [0, 5, 10, 15, 20, 25]           # 6 jobs of 5 runs each, 2 at a time
SWEEP = [f"seed={','.join(map(str, SEEDS))}", f"replicates={REPLICATES}", "years=10", "output.figures=false",
         "output.events=false", "hydra.launcher.n_jobs=2"]
VARYING = {"run.log", "hydra.yaml"}      # timestamps; the launcher's name and the sweep folder


def command(launcher: str, sweep: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sim", "run", "-m", f"hydra/launcher={launcher}", *SWEEP,
            f"hydra.sweep.dir={sweep}", *extra]


def run(args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if parent == pid:
                found.append((int(entry.name), (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()))
        except (OSError, ValueError, IndexError):
            pass
    return found


def running_job(worker: int, sweep: Path) -> Path | None:
    """The job folder whose run.log the worker holds open, if that job is part-way (1 to R-2 of its
    R runs complete: the worker is busy and will be for a while) and not one of the first two jobs
    (the worker has finished a job before: the launcher must not take that one for lost)."""
    for fd in Path(f"/proc/{worker}/fd").iterdir():
        try:
            target = Path(os.readlink(fd))
        except OSError:
            continue
        if target.name == "run.log" and target.parent.parent == sweep and int(target.parent.name) >= 2:
            done = len(list(target.parent.glob("seed_*/summary.json")))
            return target.parent if 1 <= done <= REPLICATES - 2 else None
    return None


def kill_a_busy_worker(proc: subprocess.Popen, sweep: Path, timeout: float = 120) -> Path:
    """SIGKILL a loky worker of the sweep ``proc`` while it runs a job; that job's folder."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        for pid, cmdline in children(proc.pid):
            if "popen_loky_posix" not in cmdline:
                continue
            try:
                job = running_job(pid, sweep)
            except OSError:   # gone meanwhile
                continue
            if job is not None:
                os.kill(pid, signal.SIGKILL)
                return job
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"no worker ran a job to kill (sweep exit status {proc.poll()})")


def run_folders(sweep: Path, job: int) -> list[Path]:
    return [sweep / str(job) / f"seed_{SEEDS[job] + k}" for k in range(REPLICATES)]


def same_files(a: Path, b: Path, skip=VARYING) -> list[str]:
    """Relative paths of the files that differ between the trees ``a`` and ``b`` (or exist in one only)."""
    files = lambda root: {p.relative_to(root) for p in root.rglob("*") if p.is_file() and p.name not in skip}
    in_a, in_b = files(a), files(b)
    diff = sorted(str(p) for p in in_a ^ in_b)
    diff += sorted(str(p) for p in in_a & in_b if not filecmp.cmp(a / p, b / p, shallow=False))
    return diff


def without_resume(run: Path, name: str) -> dict:
    """A run's JSON file without what resume=true changes in it (the setting, the recorded command)."""
    data = json.loads((run / name).read_text())
    data.pop("resume", None)
    data["command"] = re.sub(r" resume=True$", "", data.get("command", ""))
    return data


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The sweep under hydra-joblib-launcher, without deaths."""
    root = tmp_path_factory.mktemp("reference")
    proc = run(command("joblib", root / "sweep"), cwd=root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root / "sweep"


def test_without_deaths_the_sweep_equals_joblibs(reference, tmp_path):
    sweep = tmp_path / "sweep"
    proc = run(command("local", sweep), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for job in range(len(SEEDS)):
        assert all((run / "summary.json").is_file() for run in run_folders(sweep, job))
        assert same_files(reference / str(job), sweep / str(job)) == []
    assert f"progress: {len(SEEDS) * REPLICATES}/{len(SEEDS) * REPLICATES} runs done" in (sweep / "progress.log").read_text()


def test_a_killed_worker_loses_only_its_job_and_resume_finishes_the_sweep(reference, tmp_path):
    sweep = tmp_path / "sweep"
    proc = subprocess.Popen(command("local", sweep), cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        killed = kill_a_busy_worker(proc, sweep)
        out, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    lost = int(killed.name)

    assert proc.returncode == 1, err[-3000:]
    assert "Traceback" not in err and "TerminatedWorkerError" not in err, err
    message = err.strip().splitlines()
    paragraph = next(line for line in message if "lost" in line)
    assert f"job #{lost} (seed={SEEDS[lost]} " in paragraph and "SIGKILL" in paragraph
    assert re.findall(r"job #(\d+) \(", paragraph) == [str(lost)]          # only the killed worker's job
    assert "resume=true" in paragraph
    for job in range(len(SEEDS)):                                          # every other job ran
        if job != lost:
            assert all((run / "summary.json").is_file() for run in run_folders(sweep, job)), job
    unfinished = [run for run in run_folders(sweep, lost) if not (run / "summary.json").is_file()]
    assert unfinished and all("worker process died" in (run / "error.txt").read_text() for run in unfinished)
    assert "resume=true" in (unfinished[0] / "error.txt").read_text()
    runs = len(SEEDS) * REPLICATES
    assert f"progress: {runs}/{runs} runs done" in (sweep / "progress.log").read_text()

    resume = shlex.split(paragraph[paragraph.index("python -m sim run"):])
    assert resume[:3] == ["python", "-m", "sim"] and resume[-1] == "resume=true"
    again = run([sys.executable, *resume[1:]], cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    for job in range(len(SEEDS)):
        assert all((run / "summary.json").is_file() and not (run / "error.txt").exists()
                   for run in run_folders(sweep, job)), job
        for ours, theirs in zip(run_folders(sweep, job), run_folders(reference, job)):   # joblib's runs
            assert same_files(theirs, ours, {"summary.json", "config.json"}) == [], ours
            assert without_resume(theirs, "summary.json") == without_resume(ours, "summary.json")
            assert without_resume(theirs, "config.json") == without_resume(ours, "config.json")
    report = run([sys.executable, "-m", "sim", "report", str(sweep)], cwd=tmp_path)
    assert report.returncode == 0, report.stderr[-3000:]
    assert f"Report of {runs} run(s)" in report.stdout and "(0 failed, 0 missing)" in report.stdout


def test_workers_that_die_at_start_stop_the_sweep_with_the_resume_command(tmp_path):
    """Workers that die before any job ends, pool after pool, stop the launcher (no endless relaunching)."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(   # every loky worker kills itself as it starts
        "import os, signal, sys\n"
        "if 'popen_loky_posix' in ' '.join(getattr(sys, 'orig_argv', sys.argv)):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")]))}
    sweep = tmp_path / "sweep"
    proc = subprocess.run(command("local", sweep), cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr
    assert f"so {len(SEEDS)} of its {len(SEEDS)} jobs did not run" in proc.stderr
    assert f"hydra.sweep.dir={sweep} resume=true" in proc.stderr
