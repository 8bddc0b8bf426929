"""The sweep check by shape (sim/sweeps/basic.py): one composition per shape, mistakes still caught."""

from types import SimpleNamespace

import pytest
from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra._internal.utils import create_config_search_path
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.plugins import Plugins
from hydra.types import RunMode

from sim.cli import _with_default_sweeper
from sim.config.loading import CONFIG_MODULE, register_schema
from sim.sweeps.basic import job_shape


class CountingLoader:
    """Hydra's config loader, counting the compositions of single jobs."""

    def __init__(self, loader) -> None:
        self.loader, self.composed = loader, []

    def load_sweep_config(self, master_config, sweep_overrides):
        self.composed.append(sweep_overrides)
        return self.loader.load_sweep_config(master_config=master_config, sweep_overrides=sweep_overrides)

    def __getattr__(self, name):
        return getattr(self.loader, name)


@pytest.fixture(scope="module")
def sweeper():
    register_schema()
    Plugins.instance()   # Hydra scans its plugins before it makes a sweeper; so do we
    from hydra_plugins.sim_sweepers import SimBasicSweeper

    loader = ConfigLoaderImpl(config_search_path=create_config_search_path(f"pkg://{CONFIG_MODULE}"))
    s = SimBasicSweeper(max_batch_size=None)
    s.config = loader.load_configuration("config", overrides=[], run_mode=RunMode.MULTIRUN)
    s.hydra_context = SimpleNamespace(config_loader=CountingLoader(loader))
    return s


def check(sweeper, batch) -> int:
    """Compositions made to check ``batch``."""
    sweeper.hydra_context.config_loader.composed = []
    sweeper.validate_batch_is_legal(batch)
    return len(sweeper.hydra_context.config_loader.composed)


def test_jobs_that_differ_in_numbers_compose_once_per_group_choice(sweeper):
    batch = [[f"+mechanism={m}", f"seed={s}", f"model.trust.rate={r}"]
             for m in ("none", "enclave") for s in (0, 10, 20) for r in (0.1, 0.3)]
    assert check(sweeper, batch) == 2


@pytest.mark.parametrize("bad", ["seed=abc", "seed=1.5", "model.trust.rat=0.2", "+mechanism=nonesuch"])
def test_a_job_that_does_not_compose_still_fails_the_check(sweeper, bad):
    with pytest.raises(Exception):
        sweeper.validate_batch_is_legal([["+mechanism=none", "seed=0"], ["+mechanism=none", bad]])


def test_shape_keeps_strings_group_choices_and_edits_whole():
    parser = OverridesParser.create()

    def shape(*overrides):
        return job_shape(parser.parse_overrides(list(overrides)), is_group=lambda key: key == "region")
    assert shape("seed=1", "x.y=0.5") == shape("seed=7", "x.y=0.25")
    assert shape("seed=1") != shape("seed=1.0")                       # int and float fields differ
    assert shape("rule=nash") != shape("rule=fixed")                  # a string may be an enum name
    assert shape("region=1") != shape("region=2")                     # group choices count whole
    assert shape("+extra=1") != shape("+extra=2")                     # so do added keys


@pytest.mark.parametrize("args, added", [
    (["-m", "seed=0,1"], True),
    (["--multirun", "seed=0,1"], True),
    (["seed=1"], False),                                              # a single run has no sweeper
    (["-m", "seed=0,1", "hydra/sweeper=basic"], False),               # the user's choice stands
    (["-m", "+experiment=sensitivity_mechanisms"], False),            # the experiment's choice stands
])
def test_the_command_line_defaults_sweeps_to_the_shape_check(args, added):
    assert _with_default_sweeper(args) == ([*args, "hydra/sweeper=sim_basic"] if added else args)
