"""rack_jobs: the rack-job pattern in one task (a background module call per rack, a progress line
per rack, every rack's result, the scratch directory removed), against the lab's real Ironic."""
import os

import pytest

from lab.harness import LabEnv, run_module

RACKS = {"r01": {"nodes": ["rj-r01-a", "rj-r01-b"]}, "r02": {"nodes": ["rj-r02-a"]}}


@pytest.fixture
def tlab(lab, tmp_path):
    (tmp_path / "tmp").mkdir()
    return LabEnv(lab, TMPDIR=str(tmp_path / "tmp"))


def _args(**extra):
    return dict(dict(module="spineleaf.baremetal.ironic_inspect", args={"skip_inspected": True, "poll_interval": 0.2},
                     racks=RACKS, verb="inspected", interval=0.1, timeout=600), **extra)


def _scratch_left(tlab):
    return [n for n in os.listdir(tlab.extra["TMPDIR"]) if n.startswith("spineleaf-rack-jobs-")]


def test_a_job_per_rack_each_rack_its_result_and_no_scratch_left(tlab):
    res, r = run_module(tlab, "spineleaf.baremetal.rack_jobs", _args())
    assert not r.get("failed"), r
    assert [x["rack"] for x in r["results"]] == ["r01", "r02"]
    assert all(x.get("ansible_job_id") for x in r["results"]), r["results"]  # they ran in the background
    # each rack's module got its own nodes (none is in Ironic: each fails alone, by name)
    assert sorted(r["results"][0]["failed_nodes"]) == ["rj-r01-a", "rj-r01-b"], r["results"][0]
    assert r["results"][1]["failed_nodes"] == ["rj-r02-a"], r["results"][1]
    # every rack's last counts, once, marked done
    for rack in ("r01", "r02"):
        assert "rack %s: " % rack in res.stdout and "(done)" in res.stdout, res.stdout[-3000:]
    assert _scratch_left(tlab) == []


def test_check_mode_runs_the_racks_in_the_foreground(tlab):
    _res, r = run_module(tlab, "spineleaf.baremetal.rack_jobs", _args(), check=True)
    assert not r.get("failed"), r
    assert [x["rack"] for x in r["results"]] == ["r01", "r02"]
    assert not any(x.get("ansible_job_id") for x in r["results"])
    # each rack's own nodes (not in Ironic yet: a check run of new nodes has nothing to inspect)
    assert [n["name"] for n in r["results"][1]["nodes"]] == ["rj-r02-a"], r["results"][1]
    assert _scratch_left(tlab) == []


@pytest.mark.parametrize("extra, needle", [
    ({"racks": {"r01": ["rj-r01-a"]}}, "racks r01: each rack takes a dict"),
    ({"module": "ansible.builtin.command"}, "is not a rack module"),
    ({"timeout": 0}, "timeout must be at least 1"),
])
def test_bad_input_is_a_clear_error_before_any_job(tlab, extra, needle):
    _res, r = run_module(tlab, "spineleaf.baremetal.rack_jobs", _args(**extra))
    assert r.get("failed") and needle in r["msg"], r
    assert _scratch_left(tlab) == []
