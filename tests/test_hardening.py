"""Bad input, re-runs and interruptions, tried as a user would type them: a clear one-paragraph
message, a non-zero exit code, no traceback, and nothing complete damaged or left half-written."""

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.errors import UserError

QUICK = ["years=2", "output.figures=false"]


def sim(cwd, *args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def digest(folder: Path) -> dict[str, str]:
    """Every file below a folder (hidden ones too) and its hash."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def user_error(done, *needles):
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr, done.stderr
    message = done.stderr.strip().splitlines()[-1]
    for needle in needles:
        assert needle in message, message
    return message


@pytest.fixture(scope="module")
def complete_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("good")
    done = sim(root, "run", *QUICK, "hydra.run.dir=good")
    assert done.returncode == 0, done.stderr
    return root


# ---------------------------------------------------------------------------- a complete run's folder
@pytest.mark.parametrize("args, needle", [
    (["years=-5"], "years = -5 is outside its allowed range"),
    (["region=csv", "region.path=missing.csv"], "already holds a complete run"),
    (["years=3"], "already holds a complete run"),
    (["years=3", "resume=true"], "another configuration"),
])
def test_a_failed_rerun_leaves_a_complete_run_untouched(complete_run, args, needle):
    before = digest(complete_run / "good")
    done = sim(complete_run, "run", *QUICK[1:], *args, "hydra.run.dir=good")
    user_error(done, needle)
    assert digest(complete_run / "good") == before


def test_resume_of_a_complete_run_has_nothing_to_do(complete_run):
    before = digest(complete_run / "good")
    done = sim(complete_run, "run", *QUICK, "resume=true", "hydra.run.dir=good")
    assert done.returncode == 0 and "nothing to do" in done.stdout, done.stderr
    assert digest(complete_run / "good") == before


def test_a_mistake_in_a_new_folder_leaves_nothing(tmp_path):
    user_error(sim(tmp_path, "run", *QUICK, "model.trust.rate=7", "hydra.run.dir=new"), "model.trust.rate")
    assert not (tmp_path / "new").exists()


# ---------------------------------------------------------------------------- mistakes that gave tracebacks
@pytest.mark.parametrize("args, needles", [
    (["+mechanism.three_tier.detection=0.5"], ["not selected", "+mechanism=three_tier"]),
    (["+mechanism=[three_tier,three_tier]"], ["more than once", "three_tier"]),
    (["+model.trust.rat=0.5"], ["model.trust.rat is not a parameter", "model.trust.rate"]),
])
def test_config_mistakes_are_one_paragraph(tmp_path, args, needles):
    user_error(sim(tmp_path, "run", *QUICK, *args, "hydra.run.dir=out"), *needles)
    assert not (tmp_path / "out").exists()


def test_an_output_folder_under_a_file_is_refused(tmp_path):
    (tmp_path / "afile").write_text("x")
    user_error(sim(tmp_path, "run", *QUICK, "hydra.run.dir=afile/run"), "lies under a file")
    user_error(sim(tmp_path, "run", "-m", *QUICK, "seed=0,1", "hydra.sweep.dir=afile/sweep"), "lies under a file")
    assert (tmp_path / "afile").read_text() == "x"


@pytest.mark.parametrize("column, value", [("gdp_2015", "1e300"), ("population_2020", "1e300"),
                                           ("gdp_2015", "2500000000000")])
def test_implausible_city_values_are_refused(tmp_path, column, value):
    table = (Path(__file__).parents[1] / "sim" / "data" / "middle_yangtze.csv").read_text().splitlines()
    header = table[0].split(",")
    row = table[1].split(",")
    row[header.index(column)] = value
    (tmp_path / "cities.csv").write_text("\n".join([table[0], ",".join(row), *table[2:]]) + "\n", encoding="utf-8")
    user_error(sim(tmp_path, "run", *QUICK, "region=csv", "region.path=cities.csv", "hydra.run.dir=out"),
               column, "not plausible")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args, needle", [(["--seeds", "0"], "--seeds 0"), (["--seeds", "1"], "--seeds 1"),
                                          (["--jobs", "0"], "--jobs 0")])
def test_validate_refuses_meaningless_counts(tmp_path, args, needle):
    user_error(sim(tmp_path, "validate", *args, timeout=60), needle)
    assert not (tmp_path / "results").exists()


# ---------------------------------------------------------------------------- report of a damaged sweep
@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    done = sim(root, "run", "-m", *QUICK, "seed=0,1,2", "hydra.sweep.dir=sweep")
    assert done.returncode == 0, done.stderr
    return root / "sweep"


def copy_of(sweep, tmp_path) -> Path:
    import shutil

    return Path(shutil.copytree(sweep, tmp_path / "sweep"))


def test_report_on_a_corrupted_table_names_it(sweep, tmp_path):
    damaged = copy_of(sweep, tmp_path)
    (damaged / "1" / "timeseries.parquet").write_bytes(b"not a parquet file")
    message = user_error(sim(tmp_path, "report", str(damaged)), "1/timeseries.parquet", "resume=true")
    assert "Nothing was written" in message and not (damaged / "report").exists()


def test_report_lists_missing_runs_and_strict_fails_on_them(sweep, tmp_path):
    damaged = copy_of(sweep, tmp_path)
    (damaged / "2" / "summary.json").unlink()
    done = sim(tmp_path, "report", str(damaged))
    assert done.returncode == 0 and "1 missing" in done.stdout, done.stderr
    strict = sim(tmp_path, "report", str(damaged), "--strict", "--out", str(tmp_path / "strict"))
    assert strict.returncode == 1 and "--strict" in strict.stderr and "resume=true" in strict.stderr
    assert "Traceback" not in strict.stderr and (tmp_path / "strict" / "comparison.csv").is_file()
    assert sim(tmp_path, "report", str(sweep), "--strict", "--out", str(tmp_path / "whole")).returncode == 0


def test_report_help_states_the_exit_codes(tmp_path):
    done = sim(tmp_path, "report", "--help")
    assert done.returncode == 0 and "--strict" in done.stdout and "exits 0" in " ".join(done.stdout.split())


# ---------------------------------------------------------------------------- interruptions
def interrupt(tmp_path, i, sig, delay, group=False, after_start=False):
    """Run a 25-year run and signal it ``delay`` s after its start or, with ``after_start``, after Hydra
    has made its folder (the run is then under way, however fast or slow the machine starts Python)."""
    out = tmp_path / f"run{i}"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "run", "+mechanism=[three_tier,enclave]", "years=25",
                             f"hydra.run.dir={out}"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=group)
    waited = time.monotonic()
    while after_start and not out.exists() and time.monotonic() - waited < 30:
        time.sleep(0.02)
    time.sleep(delay)
    sent = time.monotonic()
    os.killpg(proc.pid, sig) if group else proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL) if group else proc.kill()
        pytest.fail(f"run {i} hung after a signal {delay:.2f} s into it")
    return proc.returncode, err, time.monotonic() - sent, out


def test_interrupts_at_random_moments_never_hang_or_print_a_traceback(tmp_path):
    """20 runs, each sent SIGINT (a few: to the whole process group, as Ctrl-C does; a few: SIGTERM)
    at a random moment from start-up to writing."""
    rng = random.Random(2026)
    for i in range(20):
        sig = signal.SIGTERM if i % 5 == 4 else signal.SIGINT
        code, err, took, out = interrupt(tmp_path, i, sig, rng.uniform(0.1, 4.0), group=i % 3 == 0)
        assert took < 5, f"run {i} took {took:.1f} s to stop"
        assert "Traceback" not in err and "Exception ignored" not in err, err
        if code == 0:   # it finished before the signal arrived
            assert (out / "summary.json").is_file()
            continue
        if code == -sig:
            # Killed by the signal itself: it arrived while the interpreter started, before any
            # handler (nothing written), or after the run, while the interpreter shut down (it
            # restores the default handlers then; the run is complete).
            assert (err == "" and not out.exists()) or (out / "summary.json").is_file(), (err, out)
            continue
        assert code == 128 + sig, (code, err)
        assert err.strip().splitlines()[-1].startswith(f"interrupted ({signal.Signals(sig).name})")
        if (out / "summary.json").exists():
            # The signal came after summary.json, written last, while the command was ending: the run is complete.
            assert all((out / f).is_file() for f in ("config.json", "timeseries.parquet", "cities.parquet"))
            assert json.loads((out / "summary.json").read_text())["years"] == "2015-2039"
        if (out / "error.txt").exists():
            assert "interrupted" in (out / "error.txt").read_text()
    leftovers = subprocess.run(["pgrep", "-f", "sim-figures"], capture_output=True, text=True).stdout.split()
    assert not leftovers, "figure helpers outlived their runs"


def test_an_interrupted_run_is_completed_by_running_it_again(tmp_path):
    code, _, _, out = interrupt(tmp_path, 0, signal.SIGINT, 0.3, after_start=True)
    assert code == 130 and not (out / "summary.json").exists()
    again = sim(tmp_path, "run", "+mechanism=[three_tier,enclave]", "years=25", f"hydra.run.dir={out}")
    assert again.returncode == 0
    assert json.loads((out / "summary.json").read_text())["years"] == "2015-2039"


# ---------------------------------------------------------------------------- sweeps
@pytest.mark.parametrize("args, needle", [
    (["years=2,0"], "years = 0 is outside"),
    (["model.learning.rule=fermi,foo"], "model.learning.rule = 'foo'"),
    (["region=csv", "region.path=missing.csv", "seed=0,1"], "missing.csv"),
    (["seed=0,1", "hydra/launcher=local", "hydra.launcher.n_jobs=0"], "n_jobs=0"),
])
def test_a_sweep_with_a_bad_job_stops_before_any_runs(tmp_path, args, needle):
    user_error(sim(tmp_path, "run", "-m", *QUICK, *args, "hydra.sweep.dir=sweep"), needle)
    assert not (tmp_path / "sweep").exists()


def test_a_sweep_never_overwrites_complete_runs(sweep, tmp_path):
    damaged = copy_of(sweep, tmp_path)
    before = digest(damaged)
    user_error(sim(tmp_path, "run", "-m", *QUICK, "seed=5,6", f"hydra.sweep.dir={damaged}"), "already holds",
               "resume=true")
    other = sim(tmp_path, "run", "-m", "years=3", "output.figures=false", "seed=0,1,2", "resume=true",
                f"hydra.sweep.dir={damaged}")
    user_error(other, "holds complete runs of another job", "hydra.sweep.dir")
    assert digest(damaged) == before


def test_a_users_folder_is_never_deleted(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("years of work")
    user_error(sim(tmp_path, "run", *QUICK, "hydra.run.dir=mine"), "holds files that no run writes")
    for where in (".", "..", ""):
        user_error(sim(tmp_path, "run", *QUICK, f"hydra.run.dir='{where}'"), "working folder")
    assert (tmp_path / "mine" / "thesis.txt").read_text() == "years of work"
    (tmp_path / "empty").mkdir()
    user_error(sim(tmp_path, "run", *QUICK, "region=csv", "region.path=missing.csv", "hydra.run.dir=empty"),
               "missing.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


@pytest.mark.parametrize("args, needle", [
    (["region.path=mine.csv"], "region=middle_yangtze does not use it"),
    (["region.n_cities=10"], "region=middle_yangtze does not use it"),
    (["seed=4294967295", "replicates=2"], "exceeds the largest seed"),
])
def test_settings_a_run_would_ignore_are_refused(tmp_path, args, needle):
    user_error(sim(tmp_path, "run", *QUICK, *args, "hydra.run.dir=out"), needle)


def test_report_refuses_a_run_folder_and_an_unwritable_output(complete_run, sweep, tmp_path):
    before = digest(complete_run / "good")
    user_error(sim(tmp_path, "report", str(complete_run / "good")), "one run's folder, not a sweep's")
    assert digest(complete_run / "good") == before
    (tmp_path / "afile").write_text("x")
    user_error(sim(tmp_path, "report", str(sweep), "--out", str(tmp_path / "afile")), "--out DIR")


def test_a_closed_pipe_ends_quietly(tmp_path):
    done = subprocess.run(f"{sys.executable} -m sim run years=2 output.figures=false hydra.run.dir=out | head -1",
                          shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.stdout and "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
    assert (tmp_path / "out" / "summary.json").is_file()


def test_two_commands_never_write_into_one_folder_at_once(tmp_path):
    first = subprocess.Popen([sys.executable, "-m", "sim", "run", "region=synthetic", "region.n_cities=3000",
                              "years=20", "output.figures=false", "hydra.run.dir=shared"], cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(200):   # until it holds the folder
            if (tmp_path / "shared" / ".hydra").exists():
                break
            time.sleep(0.05)
        second = sim(tmp_path, "run", *QUICK, "hydra.run.dir=shared")
    finally:
        _, err = first.communicate(timeout=300)
    if first.returncode == 0 and "Another sim command" not in second.stderr:
        pytest.skip("the first run finished before the second started; nothing was tested")
    user_error(second, "Another sim command", "is writing into shared")
    assert first.returncode == 0, err


def test_an_interrupted_sweep_is_finished_by_resume(tmp_path):
    args = ["-m", "sim", "run", "-m", "years=20", "+mechanism=three_tier", "output.figures=false", "seed=0,1,2,3",
            "hydra.sweep.dir=sweep"]
    proc = subprocess.Popen([sys.executable, *args], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    for _ in range(400):   # until the first job is under way
        if list((tmp_path / "sweep").glob("*/run.log")):
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "Traceback" not in err, err
    done = subprocess.run([sys.executable, *args, "resume=true"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "sweep").glob("*/summary.json"))) == 4
    assert not list((tmp_path / "sweep").glob("*/error.txt"))


@pytest.mark.parametrize("fault, code, needle", [
    (UserError("the folder is taken"), 2, "error: the folder is taken"),
    (KeyError("hydra"), 1, "fault in sim, not in your command"),
])
def test_a_failing_preflight_check_stops_the_run(fault, code, needle, capsys):
    """Hydra only warns when a callback raises; the run must stop instead of going on unchecked."""
    from sim.runs.preflight import checked

    def check(config):
        raise fault
    with pytest.raises(SystemExit) as stop:
        checked(check, None)
    assert stop.value.code == code and needle in capsys.readouterr().err


def test_a_signal_while_deferred_is_raised_on_resume():
    """While Hydra composes, a signal is only remembered (raised inside OmegaConf it would surface as
    an AttributeError with a traceback); resume() raises it."""
    from sim import interrupts

    previous = signal.getsignal(signal.SIGINT)
    interrupts.install()
    try:
        interrupts.defer()
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)                        # the handler ran and did not raise
        assert interrupts.received == signal.SIGINT
        with pytest.raises(interrupts.Interrupted):
            interrupts.resume()
        assert not interrupts.deferred
    finally:
        interrupts.received, interrupts.deferred = None, False
        signal.signal(signal.SIGINT, previous)
