"""``python -m sim validate --robustness``: the validation under learning-rule and network variants."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from sim.analysis import robustness, validate


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory):
    out = tmp_path_factory.mktemp("robustness") / "out"
    code = validate.main(["--quick", "--robustness", "--variants", "logit", "--out", str(out), "--jobs", "1"])
    return out, code


def test_every_check_has_a_status_under_the_defaults_and_each_variant(ensemble):
    out, code = ensemble
    result = json.loads((out / "robustness.json").read_text())
    assert code == 0 and list(result["variants"]) == ["defaults", "logit"]
    ids = [c["id"] for p in result["results"]["defaults"]["patterns"] for c in p["checks"]]
    assert list(result["table"]) == ids
    for cid, row in result["table"].items():
        assert set(row) == {"defaults", "logit"}
        assert (cid in result["robust"]) == (row["defaults"]["status"] == row["logit"]["status"])
    assert sorted(result["robust"] + result["changed"]) == sorted(ids)
    report = (out / "robustness.md").read_text()
    assert all(f"| {cid} |" in report for cid in ids)


def test_a_variant_changes_every_design_and_every_null(ensemble):
    out, _ = ensemble
    result = json.loads((out / "robustness.json").read_text())
    for name, want in (("logit", True), ("defaults", False)):
        checks = [c for p in result["results"][name]["patterns"] for c in p["checks"]]
        overrides = [o for c in checks for design in c["overrides"].values() for o in design]
        overrides += [o for c in checks if c["null"] for design in c["null"]["overrides"].values() for o in design]
        designs = sum(len(c["overrides"]) + (len(c["null"]["overrides"]) if c["null"] else 0) for c in checks)
        assert (overrides.count("model.learning.rule=logit") == designs) == want
        assert result["results"][name]["variant"] == list(robustness.VARIANTS[name])


@pytest.mark.parametrize("args, needle", [
    (["--variants", "logit,no_such_variant"], "no_such_variant is not a variant"),
    (["--seeds", "1"], "at least 2 seeds"),
])
def test_bad_arguments_exit_2_and_write_nothing(tmp_path, capsys, args, needle):
    out = tmp_path / "out"
    assert validate.main(["--quick", "--robustness", *args, "--out", str(out)]) == 2
    assert needle in capsys.readouterr().err and not out.exists()


def test_the_designs_are_ranked_under_every_variant(ensemble):
    out, _ = ensemble
    result = json.loads((out / "robustness.json").read_text())
    for variant in ("defaults", "logit"):
        for key in robustness.OUTCOMES:
            assert set(result["effects"][variant][key]) == set(robustness.DESIGNS)
            assert result["ranking"][key]["best"][variant] in {robustness.BASELINE, *robustness.DESIGNS}
    report = (out / "robustness.md").read_text()
    assert report.count("### ") == len(robustness.OUTCOMES) and "survive" in report


def _record(seed, **summary):
    return SimpleNamespace(seed=seed, summary=summary)


def test_design_effects_are_paired_by_seed():
    base = [_record(s, **{k: float(s) for k in robustness.OUTCOMES}) for s in range(4)]
    runs = {robustness.BASELINE: base}
    for i, design in enumerate(robustness.DESIGNS):
        runs[design] = [_record(s, **{k: float(s) + i + (0.1 if s % 2 else -0.1) for k in robustness.OUTCOMES})
                        for s in reversed(range(4))]   # order does not matter, the seed pairs them
    effects = robustness.design_effects(runs)
    for i, design in enumerate(robustness.DESIGNS):
        e = effects["cooperation_index"][design]
        assert e["effect"] == pytest.approx(i) and e["n_seeds"] == 4 and e["interval"][0] < i < e["interval"][1]


def _effects(values):
    """variant -> outcome -> design -> effect with a narrow interval around it."""
    return {v: {k: {d: {"effect": x, "interval": [x - 0.01, x + 0.01], "n_seeds": 10}
                    for d, x in zip(robustness.DESIGNS, row)} for k in robustness.OUTCOMES}
            for v, row in values.items()}


def test_a_recommendation_survives_only_if_the_same_design_wins_clearly_everywhere():
    designs = list(robustness.DESIGNS)
    same = robustness.ranking(_effects({"a": (0.3, 0.1, 0.2), "b": (0.5, 0.0, 0.1)}))
    assert same["cooperation_index"]["best"] == {"a": designs[0], "b": designs[0]}
    assert same["cooperation_index"]["survives"]
    assert same["theil_final"]["best"]["a"] == robustness.BASELINE   # lower is better: nothing beats 0
    assert not same["theil_final"]["survives"]
    flipped = robustness.ranking(_effects({"a": (0.3, 0.1, 0.2), "b": (0.1, 0.4, 0.1)}))
    assert not flipped["cooperation_index"]["survives"]
    unclear = _effects({"a": (0.3, 0.1, 0.2), "b": (0.5, 0.0, 0.1)})
    unclear["b"]["cooperation_index"][designs[0]]["interval"] = [-0.1, 1.1]
    assert not robustness.ranking(unclear)["cooperation_index"]["survives"]
