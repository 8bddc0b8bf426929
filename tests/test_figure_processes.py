"""Figures drawn by helper processes: the same files as drawn in process, failures reported."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.figures.processes import FigureError, FigureHelpers, InProcess, can_use_helpers, figure_drawer
from test_figures import make_cities, make_links, make_timeseries

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="helpers fork (Linux only)")

PANELS = [("three_tier", (("cooperation_index", "Cooperation"), ("gdp_total", "GDP")))]


@pytest.fixture(scope="module")
def frames():
    rng = np.random.default_rng(7)
    years = range(2015, 2025)
    return make_timeseries(years, rng), make_cities(6, years, rng), make_links(6, 9, rng)


def draw(drawer, out_dir, frames, panels=PANELS):
    drawer.submit(out_dir, panels, *frames, {"command": "test", "seed": 1})
    return drawer.wait()


def test_helpers_write_the_same_files_as_this_process(tmp_path, frames):
    here = draw(InProcess(), tmp_path / "here", frames)
    could_fork = can_use_helpers()
    helpers = FigureHelpers()
    try:
        # two runs through the same helpers, as the replicates of one job
        there = draw(helpers, tmp_path / "there", frames)
        again = draw(helpers, tmp_path / "again", frames)
    finally:
        helpers.close()
    assert [p.name for p in here] == [p.name for p in there] == [p.name for p in again]
    assert {p.suffix for p in here} == {".png", ".pdf", ".json"} and "mechanism_three_tier.pdf" in {p.name for p in here}
    for a, b, c in zip(here, there, again):
        assert a.read_bytes() == b.read_bytes() == c.read_bytes(), a.name
    assert not helpers.helper.is_alive()
    assert can_use_helpers() == could_fork   # no thread left behind: the next job may fork again


def test_a_failing_figure_is_reported_and_the_helpers_carry_on(tmp_path, frames):
    ts, cities, links = frames
    helpers = FigureHelpers()
    try:
        with pytest.raises(FigureError, match=r"(?s)gdp_inequality:.*theil"):
            draw(helpers, tmp_path / "bad", (ts.drop(columns="theil"), cities, links))
        assert len(draw(helpers, tmp_path / "good", frames)) == 15   # nothing left over from the failure
    finally:
        helpers.close()


def test_a_helper_that_dies_fails_the_run_instead_of_hanging_it(tmp_path, frames):
    ts, _, links = frames
    large = (ts, make_cities(400, range(2015, 2025), np.random.default_rng(1)), links)  # > a pipe's buffer
    helpers = FigureHelpers()
    try:
        draw(helpers, tmp_path / "first", frames)   # both helpers are up
        children = Path(f"/proc/{helpers.helper.pid}/task/{helpers.helper.pid}/children").read_text().split()
        os.kill(int(children[0]), signal.SIGKILL)   # the sibling
        helpers.helper.join(timeout=30)   # the helper notices when idle, and stops
        with pytest.raises(FigureError, match="stopped"):
            draw(helpers, tmp_path / "second", large)
    finally:
        helpers.close()   # returns although nobody will read the job left in the queue
    assert not helpers.helper.is_alive()


def test_aborting_stops_the_helpers(frames):
    helpers = FigureHelpers()
    helpers.close(abort=True)
    assert not helpers.helper.is_alive()


def test_no_helpers_when_no_figures_are_wanted():
    with figure_drawer(False) as drawer:
        assert type(drawer) is InProcess
