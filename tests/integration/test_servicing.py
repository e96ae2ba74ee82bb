"""rolling_upgrade's servicing mode on the lab site (#26): Ironic servicing (API 1.87) of the 12
active nodes with service steps or a runbook, in the sliding window watched by the 0.2 s observer
(out of service = maintenance or not active: `servicing` / `service wait` count); a node failing
servicing (driver_info lab_service_fault, lab/ironic_run.py) against a budget of 0 stops its rack
and the site; resume after SIGKILL of ansible-playbook; --check and a bad choice write nothing."""
import json
import os
import re
import subprocess
import sys
import time

import pytest

from ..recap import recap
from .test_rolling_upgrade import SITE, _playbook, kill_after_two_done, nodes

STEPS = [{"interface": "vendor", "step": "log_passthrough", "args": {}}]
PROGRESS = re.compile(r"rack (r0[123]): (\d+)/4 serviced, (\d+) failed, (\d+) in progress")
PLAYBOOK = "playbooks/rolling_upgrade.yml"


@pytest.fixture(scope="module")
def site(lab, conn):
    """The lab site's 12 nodes active, enrolled straight through the API (servicing needs no network:
    the noop network interface and fake deploy keep the loaded lab's VIF calls out of the picture)."""
    api = conn.baremetal
    current = nodes(conn)
    for h, n in list(current.items()):
        # a site node another test left short of active (its network half set up): made anew here
        if n["provision_state"] != "active":
            if n["provision_state"] not in ("available", "manageable", "enroll"):
                api.set_node_maintenance(h, reason="test_servicing reset")
            api.delete_node(h)
            del current[h]
    created = [h for h in SITE if h not in current]
    for h in SITE:
        if h not in current:
            node = api.create_node(name=h, driver="lab-hardware", deploy_interface="fake", network_interface="noop",
                                   instance_info={"image_source": "http://images.lab.invalid/spineleaf-base-1.0.qcow2"})
            api.set_node_provision_state(node, "manage", wait=True, timeout=120)
            api.set_node_provision_state(node, "provide", wait=True, timeout=120)
    for h in created:
        api.set_node_provision_state(h, "active")
    api.wait_for_nodes_provision_state(SITE, "active", timeout=300)
    yield lab
    # The nodes made here carry the lab site's names without its network (noop, no ports): a later
    # site.yml in this lab (same worker) must find them gone, not half-enrolled.
    _heal(conn)
    for h in created:
        api.set_node_provision_state(h, "deleted", wait=True, timeout=300)
        api.delete_node(h)


def _record(node):
    return (node["extra"] or {}).get("spineleaf_rollout") or {}


def _heal(conn):
    """Every node of the site active, out of maintenance, without the lab's fault knobs."""
    for name, n in nodes(conn).items():
        if "lab_service_fault" in (n["driver_info"] or {}):
            conn.baremetal.patch_node(name, [{"op": "remove", "path": "/driver_info/lab_service_fault"}])
        if n["maintenance"]:
            conn.baremetal.unset_node_maintenance(name)
        if n["provision_state"] == "service failed":
            conn.baremetal.set_node_provision_state(name, "abort")
    deadline = time.monotonic() + 120
    while any(n["provision_state"] != "active" for n in nodes(conn).values()):
        assert time.monotonic() < deadline, dict((h, n["provision_state"]) for h, n in nodes(conn).items())
        time.sleep(0.5)


def _observe(lab, record):
    return subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "observer.py"),
                             lab.ironic_url, str(record)])


def _snapshot(conn):
    return dict((h, (n["updated_at"], n["provision_updated_at"], n["extra"], n["maintenance"])) for h, n in nodes(conn).items())


def test_servicing_rollout_over_the_site_within_the_window(site, conn, tmp_path):
    _heal(conn)
    before = nodes(conn)
    untouched = _snapshot(conn)
    # exactly one of image / upgrade tasks / service steps / runbook: a clear error before any write
    both = _playbook(site, PLAYBOOK, {"rollout_image": "http://images.lab.invalid/x.qcow2", "rollout_service_steps": STEPS})
    assert both.returncode != 0
    assert "set exactly one of rollout_image, rollout_upgrade_tasks, rollout_service_steps and rollout_runbook; " \
           "got rollout_image and rollout_service_steps" in both.stdout, both.stdout[-3000:]
    bad = _playbook(site, PLAYBOOK, {"rollout_service_steps": [{"step": "log_passthrough"}]})
    assert bad.returncode != 0 and "rollout_service_steps must be a list of Ironic service steps" in bad.stdout, bad.stdout[-3000:]
    # --check: what would run where, nothing moves
    check = _playbook(site, PLAYBOOK, {"rollout_service_steps": STEPS}, ["--check"])
    assert check.returncode == 0, check.stdout[-4000:]
    assert "servicing with vendor.log_passthrough: racks in order r01, r02, r03" in check.stdout, check.stdout[-4000:]
    assert "rack r02: 4 node(s); r02-n01, r02-n02, r02-n03, r02-n04 to service (vendor.log_passthrough)" in check.stdout
    assert _snapshot(conn) == untouched

    record = tmp_path / "observer.jsonl"
    observer = _observe(site, record)
    try:
        proc = _playbook(site, PLAYBOOK, {"rollout_service_steps": STEPS, "rolling_upgrade_id": "svc-1",
                                          "rolling_upgrade_progress_interval": 1})
    finally:
        observer.terminate()
        observer.wait(10)
    assert proc.returncode == 0, proc.stdout[-6000:]
    polls = [json.loads(line) for line in record.read_text().splitlines()]
    assert len(polls) > 20
    worst = dict((rack, max(len(p["down"].get(rack, [])) for p in polls)) for rack in ("r01", "r02", "r03"))
    assert worst == {"r01": 2, "r02": 2, "r03": 2}, worst  # max_unavailable 2: never more, and used
    assert all(len(set(p["down"]) & {"r01", "r02", "r03"}) <= 1 for p in polls)  # racks one after another
    after = nodes(conn)
    for h in SITE:
        n = after[h]
        assert n["provision_state"] == "active" and not n["maintenance"], h
        assert _record(n)["id"] == "svc-1" and _record(n)["state"] == "done" and _record(n)["service"].startswith("steps:"), h
        # serviced (Ironic moved it), not rebuilt (same image)
        assert n["provision_updated_at"] != before[h]["provision_updated_at"], h
        assert n["instance_info"].get("image_source") == before[h]["instance_info"].get("image_source"), h
    rc = recap(proc.stdout)
    assert all((rc[h]["changed"], rc[h]["failed"]) == (1, 0) for h in SITE), rc
    lines = PROGRESS.findall(proc.stdout)
    assert set(line[0] for line in lines) == {"r01", "r02", "r03"}, proc.stdout[-3000:]
    assert any(int(line[-1]) > 0 for line in lines), lines

    # the same rollout again: every node finished earlier, no write, nothing changed
    stamps = _snapshot(conn)
    again = _playbook(site, PLAYBOOK, {"rollout_service_steps": STEPS, "rolling_upgrade_id": "svc-1"})
    assert again.returncode == 0, again.stdout[-4000:]
    assert not any(recap(again.stdout)[h]["changed"] for h in SITE)
    assert _snapshot(conn) == stamps


def test_a_node_failing_servicing_with_budget_zero_stops_its_rack_then_recovers(site, conn):
    _heal(conn)
    conn.baremetal.patch_node("r01-n02", [{"op": "add", "path": "/driver_info/lab_service_fault", "value": "fw refused"}])
    args = {"rollout_service_steps": STEPS, "rolling_upgrade_id": "svc-fail",
            "rollout": {"rack_order": ["r01", "r02", "r03"], "max_unavailable": 2, "failure_budget": 0}}
    try:
        proc = _playbook(site, PLAYBOOK, args)
        assert proc.returncode != 0
        assert "rack r01 stopped: 1 of 4 nodes failed (budget 0)" in proc.stdout, proc.stdout[-6000:]
        for rack in ("r02", "r03"):
            assert "rack %s not started: rack r01 stopped" % rack in proc.stdout, proc.stdout[-6000:]
        # the result says what to do with the node
        assert "lab service fault: fw refused" in proc.stdout
        assert "baremetal node maintenance unset r01-n02 && baremetal node abort r01-n02" in proc.stdout
        rc = recap(proc.stdout)
        assert all(rc[h]["failed"] == 1 for h in SITE), rc
        state = nodes(conn)
        bad = state["r01-n02"]
        assert bad["provision_state"] == "service failed" and bad["maintenance"]
        assert "spineleaf rollout svc-fail: failed" in bad["maintenance_reason"] and _record(bad)["state"] == "failed"
        assert all(_record(state[h]).get("id") != "svc-fail" for h in SITE if not h.startswith("r01"))
        assert all(state[h]["provision_state"] == "active" for h in SITE if h != "r01-n02")

        # fixed: the same rollout services the failed node again and carries on
        conn.baremetal.patch_node("r01-n02", [{"op": "remove", "path": "/driver_info/lab_service_fault"}])
        again = _playbook(site, PLAYBOOK, args)
        assert again.returncode == 0, again.stdout[-6000:]
        state = nodes(conn)
        for h in SITE:
            assert state[h]["provision_state"] == "active" and not state[h]["maintenance"], h
            assert _record(state[h])["id"] == "svc-fail" and _record(state[h])["state"] == "done", h
    finally:
        _heal(conn)


def test_sigkill_mid_rack_then_resume(site, conn):
    _heal(conn)
    args = {"rollout_service_steps": STEPS, "rolling_upgrade_id": "svc-kill",
            "rollout": {"rack_order": ["r01", "r02", "r03"], "max_unavailable": 1, "failure_budget": 0}}
    done_before = kill_after_two_done(site, conn, PLAYBOOK, args, "svc-kill")
    again = _playbook(site, PLAYBOOK, args)
    assert again.returncode == 0, again.stdout[-6000:]
    state = nodes(conn)
    for h in SITE:
        assert state[h]["provision_state"] == "active" and not state[h]["maintenance"], h
        assert _record(state[h])["id"] == "svc-kill" and _record(state[h])["state"] == "done", h
    for h, stamp in done_before.items():
        assert state[h]["provision_updated_at"] == stamp, "%s was serviced again" % h


def test_runbook_on_one_rack(site, conn):
    """rollout_runbook: an Ironic runbook (API 1.92) instead of steps; Ironic runs it only on nodes
    with its trait (the runbook's name, before API 1.112)."""
    _heal(conn)
    name = "CUSTOM_SPINELEAF_SVC_TEST"
    api = conn.baremetal
    rb = api.post("/runbooks", json={"name": name, "steps": [dict(STEPS[0], order=0)]}, microversion="1.92")
    assert rb.status_code in (200, 201), rb.text
    rack = ["r03-n%02d" % i for i in (1, 2, 3, 4)]
    try:
        for h in rack:
            api.add_node_trait(h, name)
        proc = _playbook(site, PLAYBOOK, {"rollout_runbook": name, "rollout_racks": "r03"})
        assert proc.returncode == 0, proc.stdout[-6000:]
        assert "servicing with runbook %s" % name in proc.stdout
        state = nodes(conn)
        for h in rack:
            assert _record(state[h])["id"] == "service-%s" % name and _record(state[h])["service"] == "runbook:%s" % name, h
            assert state[h]["provision_state"] == "active" and not state[h]["maintenance"], h
        assert all(_record(state[h]).get("id") != "service-%s" % name for h in SITE if h not in rack)
    finally:
        for h in rack:
            api.remove_node_trait(h, name, ignore_missing=True)
        api.delete("/runbooks/%s" % name, microversion="1.92")
        _heal(conn)
