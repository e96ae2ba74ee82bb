"""rolling_upgrade on the lab site: sliding window watched by an observer process, health gate
failures within and past the budget, and resume after SIGKILL of ansible-playbook."""
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from ..recap import recap
from lab.harness import REPO, VENV_BIN

SITE = ["r%02d-n%02d" % (r, n) for r in (1, 2, 3) for n in (1, 2, 3, 4)]
HEALTH = os.path.join(REPO, "playbooks", "tasks", "rollout_health_lab.yml")
UPGRADE = os.path.join(REPO, "playbooks", "tasks", "rollout_upgrade_lab.yml")
PROGRESS = re.compile(r"rack (r0[123]): (\d+)/4 upgraded, (\d+) failed, (\d+) in progress")


def image(version):
    return "http://images.lab.invalid/spineleaf-base-%s.qcow2" % version


def _playbook(lab, playbook, extra_vars=None, args=(), popen=False, **popen_args):
    cmd = [os.path.join(VENV_BIN, "ansible-playbook"), playbook, "-i", "inventory/lab"] + list(args)
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    if popen:
        return subprocess.Popen(cmd, cwd=REPO, env=lab.ansible_env(), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                text=True, **popen_args)
    return subprocess.run(cmd, cwd=REPO, env=lab.ansible_env(), capture_output=True, text=True, timeout=1800, check=False)


def nodes(conn):
    out = {}
    for n in conn.baremetal.get("/nodes/detail", microversion="1.81").json()["nodes"]:
        if n["name"] in SITE:
            out[n["name"]] = n
    return out


@pytest.fixture(scope="module")
def site(lab, conn):
    """The lab site deployed (site.yml), healthy and out of maintenance."""
    current = nodes(conn)
    if len(current) < 12 or any(n["provision_state"] != "active" for n in current.values()):
        proc = _playbook(lab, "playbooks/site.yml", {"deploy_progress_interval": 1})
        assert proc.returncode == 0, proc.stdout[-4000:]
        # the deploy role's progress lines while it waits (every 1 s here, 30 s by default)
        assert re.search(r"rack r0[123]: [0-4]/4 deployed, 0 failed, [1-4] in progress", proc.stdout), proc.stdout[-4000:]
    return lab


def _heal(conn):
    for name, n in nodes(conn).items():
        if n["maintenance"]:
            conn.baremetal.unset_node_maintenance(name)
        for key in ("lab_unhealthy", "lab_upgrade_fails"):
            if key in (n["extra"] or {}):
                conn.baremetal.patch_node(name, [{"op": "remove", "path": "/extra/%s" % key}])


def test_window_never_exceeds_max_unavailable(site, conn, tmp_path):
    record = tmp_path / "observer.jsonl"
    observer = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "observer.py"),
                                 site.ironic_url, str(record)])
    try:
        # --check first: the plan, nothing moves
        check = _playbook(site, "playbooks/rolling_upgrade.yml", {"rollout_image": image("2.0")}, ["--check"])
        assert check.returncode == 0, check.stdout[-4000:]
        assert "racks in order r01, r02, r03" in check.stdout
        assert "rack r02: 4 node(s); r02-n01, r02-n02, r02-n03, r02-n04 to rebuild" in check.stdout
        assert all(n["instance_info"]["image_source"] != image("2.0") for n in nodes(conn).values())
        proc = _playbook(site, "playbooks/rolling_upgrade.yml", {"rollout_image": image("2.0"), "rolling_upgrade_progress_interval": 1})
    finally:
        observer.terminate()
        observer.wait(10)
    assert proc.returncode == 0, proc.stdout[-6000:]
    polls = [json.loads(line) for line in record.read_text().splitlines()]
    assert len(polls) > 20
    worst = dict((rack, max(len(p["down"].get(rack, [])) for p in polls)) for rack in ("r01", "r02", "r03"))
    # max_unavailable 2 (the lab site's rollout): never more, and the window was used
    assert worst == {"r01": 2, "r02": 2, "r03": 2}, worst
    # racks one after another: never two racks out of service at once
    # (nodes of other tests sharing the lab are not the site's: only its racks count)
    assert all(len(set(p["down"]) & {"r01", "r02", "r03"}) <= 1 for p in polls)
    for name, n in nodes(conn).items():
        assert n["provision_state"] == "active" and not n["maintenance"], name
        assert n["instance_info"]["image_source"] == image("2.0"), name
    rc = recap(proc.stdout)
    assert set(SITE) <= set(rc) and all((rc[h]["changed"], rc[h]["failed"]) == (1, 0) for h in SITE), rc
    # progress lines with counts while a rack rolls (interval 1 s here; 30 s by default)
    lines = PROGRESS.findall(proc.stdout)
    assert set(line[0] for line in lines) == {"r01", "r02", "r03"}, proc.stdout[-3000:]
    assert any(int(line[-1]) > 0 for line in lines), lines


def test_unhealthy_node_fails_alone_then_budget_zero_stops_the_site(site, conn):
    _heal(conn)
    before = nodes(conn)["r02-n03"]["instance_info"]["image_source"]
    conn.baremetal.patch_node("r02-n03", [{"op": "add", "path": "/extra/lab_unhealthy", "value": True}])
    proc = _playbook(site, "playbooks/rolling_upgrade.yml", {"rollout_image": image("2.1"), "rollout_health_tasks": HEALTH})
    assert proc.returncode != 0
    rc = recap(proc.stdout)
    assert [h for h in SITE if rc[h]["failed"]] == ["r02-n03"], rc
    state = nodes(conn)
    bad = state["r02-n03"]
    assert bad["maintenance"] and "spineleaf rollout spineleaf-base-2.1.qcow2" in bad["maintenance_reason"]
    assert "unhealthy" in bad["maintenance_reason"] and bad["instance_info"]["image_source"] == before
    assert all(state[h]["instance_info"]["image_source"] == image("2.1") and not state[h]["maintenance"]
               for h in SITE if h != "r02-n03")

    # Budget 0: the first failure stops rack r01, and r02 / r03 never start.
    _heal(conn)
    conn.baremetal.patch_node("r01-n02", [{"op": "add", "path": "/extra/lab_unhealthy", "value": True}])
    strict = {"rollout_image": image("2.2"), "rollout_health_tasks": HEALTH,
              "rollout": {"rack_order": ["r01", "r02", "r03"], "max_unavailable": 2, "failure_budget": 0}}
    proc = _playbook(site, "playbooks/rolling_upgrade.yml", strict)
    assert proc.returncode != 0
    assert "rack r01 stopped: 1 of 4 nodes failed (budget 0)" in proc.stdout
    assert "rack r03 not started: rack r01 stopped" in proc.stdout
    rc = recap(proc.stdout)
    assert all(rc[h]["failed"] == 1 for h in SITE), rc
    state = nodes(conn)
    assert all(state[h]["instance_info"]["image_source"] == image("2.1") for h in SITE if h != "r02-n03")
    assert state["r01-n02"]["maintenance"]
    _heal(conn)


def test_plain_reimage_refused_node_fails_alone_then_budget_zero_stops_the_site(site, conn):
    """The path without gates (nothing runs per host until the end): a node the built-in pre-gate
    refuses (protected) fails alone within the budget; with budget 0 its rack stops and no later
    rack starts, each of their hosts saying so."""
    _heal(conn)
    conn.baremetal.patch_node("r02-n02", [{"op": "add", "path": "/protected", "value": True}])
    try:
        proc = _playbook(site, "playbooks/rolling_upgrade.yml", {"rollout_image": image("4.0")})
        assert proc.returncode != 0
        rc = recap(proc.stdout)
        assert [h for h in SITE if rc[h]["failed"]] == ["r02-n02"], proc.stdout[-6000:]
        assert "failed: node r02-n02: pre-gate: protected" in proc.stdout, [x for x in proc.stdout.splitlines() if "r02-n02" in x]
        assert all((rc[h]["changed"], rc[h]["failed"]) == (1, 0) for h in SITE if h != "r02-n02"), rc
        state = nodes(conn)
        assert all(state[h]["instance_info"]["image_source"] == image("4.0") and not state[h]["maintenance"]
                   for h in SITE if h != "r02-n02")
        assert state["r02-n02"]["instance_info"]["image_source"] != image("4.0")

        strict = {"rollout_image": image("4.1"),
                  "rollout": {"rack_order": ["r02", "r01", "r03"], "max_unavailable": 2, "failure_budget": 0}}
        proc = _playbook(site, "playbooks/rolling_upgrade.yml", strict)
        assert proc.returncode != 0
        assert "rack r02 stopped" in proc.stdout, proc.stdout[-6000:]
        for rack in ("r01", "r03"):
            assert "rack %s not started: rack r02 stopped" % rack in proc.stdout, proc.stdout[-6000:]
        rc = recap(proc.stdout)
        later = [h for h in SITE if not h.startswith("r02")]
        assert all(rc[h]["failed"] == 1 for h in later + ["r02-n02"]), rc
        state = nodes(conn)
        assert all(state[h]["instance_info"]["image_source"] == image("4.0") for h in later)
    finally:
        conn.baremetal.patch_node("r02-n02", [{"op": "add", "path": "/protected", "value": False}])
        _heal(conn)


def kill_after_two_done(site, conn, playbook, args, rollout_id):
    """Start the playbook, SIGKILL its whole process group as soon as two nodes carry ``rollout_id``'s
    done record, and return those nodes' provision_updated_at (a resume must not touch them again)."""
    proc = _playbook(site, playbook, args, popen=True, start_new_session=True)
    done_before = {}
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline:
            state = nodes(conn)
            done = [h for h in SITE if ((state[h]["extra"] or {}).get("spineleaf_rollout") or {}).get("state") == "done"
                    and state[h]["extra"]["spineleaf_rollout"].get("id") == rollout_id]
            if len(done) >= 2:
                done_before = dict((h, state[h]["provision_updated_at"]) for h in done)
                break
            assert proc.poll() is None, "ansible-playbook ended before two nodes were done"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    assert done_before, "no node finished within 600 s"
    return done_before


def test_sigkill_mid_rack_then_resume(site, conn):
    _heal(conn)
    new = image("3.0")
    args = {"rollout_image": new, "rollout": {"rack_order": ["r01", "r02", "r03"], "max_unavailable": 1, "failure_budget": 0}}
    done_before = kill_after_two_done(site, conn, "playbooks/rolling_upgrade.yml", args, "spineleaf-base-3.0.qcow2")
    again = _playbook(site, "playbooks/rolling_upgrade.yml", args)
    assert again.returncode == 0, again.stdout[-6000:]
    state = nodes(conn)
    for h in SITE:
        assert state[h]["provision_state"] == "active" and not state[h]["maintenance"], h
        assert state[h]["instance_info"]["image_source"] == new, h
    for h, stamp in done_before.items():
        assert state[h]["provision_updated_at"] == stamp, "%s was rebuilt again" % h


def test_upgrade_tasks_instead_of_a_rebuild(site, conn, tmp_path):
    """rollout_upgrade_tasks: the user's task file runs per node in maintenance, within the window,
    with gates before and after; a failing node stays in maintenance within budget; resume."""
    _heal(conn)
    before = nodes(conn)
    conn.baremetal.patch_node("r02-n03", [{"op": "add", "path": "/extra/lab_upgrade_fails", "value": True}])
    args = {"rollout_upgrade_tasks": UPGRADE, "rolling_upgrade_id": "fw-7", "rollout_health_tasks": HEALTH,
            "rollout": {"rack_order": ["r01", "r02", "r03"], "max_unavailable": 2, "failure_budget": 1}}
    record = tmp_path / "observer.jsonl"
    observer = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "observer.py"),
                                 site.ironic_url, str(record)])
    try:
        check = _playbook(site, "playbooks/rolling_upgrade.yml", args, ["--check"])
        assert check.returncode == 0, check.stdout[-4000:]
        assert "r02-n01, r02-n02, r02-n03, r02-n04 to upgrade (upgrade tasks)" in check.stdout
        assert not any("lab_upgraded" in (n["extra"] or {}) for n in nodes(conn).values())
        proc = _playbook(site, "playbooks/rolling_upgrade.yml", args)
    finally:
        observer.terminate()
        observer.wait(10)
    assert proc.returncode != 0, proc.stdout[-4000:]
    rc = recap(proc.stdout)
    assert [h for h in SITE if rc[h]["failed"]] == ["r02-n03"], rc
    assert "rack r02 within budget: 1 of 4 nodes failed (budget 1)" in proc.stdout
    state = nodes(conn)
    for h in SITE:
        rec = state[h]["extra"]["spineleaf_rollout"]
        assert rec["id"] == "fw-7" and rec["tasks"] == UPGRADE, (h, rec)
        # no rebuild: same image, provision state untouched since before
        assert state[h]["instance_info"]["image_source"] == before[h]["instance_info"]["image_source"]
        assert state[h]["provision_updated_at"] == before[h]["provision_updated_at"], h
        if h == "r02-n03":
            assert rec["state"] == "failed" and "lab_upgraded" not in state[h]["extra"]
            assert state[h]["maintenance"] and "spineleaf rollout fw-7: failed" in state[h]["maintenance_reason"]
            assert "upgrade tasks" in state[h]["maintenance_reason"]
        else:
            assert rec["state"] == "done" and state[h]["extra"]["lab_upgraded"] == "fw-7", h
            assert not state[h]["maintenance"], h
    polls = [json.loads(line) for line in record.read_text().splitlines()]
    worst = dict((rack, max(len(p["down"].get(rack, [])) for p in polls)) for rack in ("r01", "r02", "r03"))
    assert worst == {"r01": 2, "r02": 2, "r03": 2}, worst  # the window was used, never exceeded
    # racks one after another (r02-n03, failed, stays in maintenance while r03 rolls)
    busy = [set(r for r, names in p["down"].items() if set(names) - {"r02-n03"}) & {"r01", "r02", "r03"} for p in polls]
    assert all(len(racks) <= 1 for racks in busy), [b for b in busy if len(b) > 1][:5]
    lines = PROGRESS.findall(proc.stdout)
    assert ("r02", "0", "0", "2") in lines and ("r03", "2", "0", "2") in lines, lines

    # Resume after fixing the node: only r02-n03 runs its tasks again; finished nodes are left alone.
    conn.baremetal.patch_node("r02-n03", [{"op": "remove", "path": "/extra/lab_upgrade_fails"}])
    stamps = dict((h, n["extra"]["spineleaf_rollout"]["at"]) for h, n in nodes(conn).items())
    again = _playbook(site, "playbooks/rolling_upgrade.yml", args)
    assert again.returncode == 0, again.stdout[-4000:]
    rc = recap(again.stdout)
    assert [h for h in SITE if rc[h]["changed"]] == ["r02-n03"], rc
    state = nodes(conn)
    assert state["r02-n03"]["extra"]["lab_upgraded"] == "fw-7" and not state["r02-n03"]["maintenance"]
    assert all(state[h]["extra"]["spineleaf_rollout"]["at"] == stamps[h] for h in SITE if h != "r02-n03")
    _heal(conn)
