"""``python -m sim validate --robustness``: the validation under learning-rule and network variants."""

from __future__ import annotations

import json

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
