"""Ironic SIGKILLed (its whole process group) in the middle of each kind of run, restarted with
`labctl up`, and the same run made again: the end state is exactly what was asked (no duplicate
node or port, nothing half-configured, no node left in maintenance or locked, nothing stuck in a
`*ing` / `* failed` state), and the run after that makes 0 writes."""
import collections
import json
import os
import subprocess
import sys

from lab.harness import REPO
from .conftest import (ENROLL, NODES, RACK_NODES, module, node_specs, nodes, ports, restart, settled, sigkill, start_module,
                       wait_until)

RUN_BOUND = 300  # a run that meets a dead Ironic must end (failed) within this, never hang


def assert_exact(conn, prefix, specs, state):
    """Exactly the nodes asked for, once each, each with exactly its ports, all in ``state``."""
    found = nodes(conn, prefix)
    names = collections.Counter(n["name"] for n in found)
    assert sorted(names) == sorted(s["name"] for s in specs), "nodes differ from the request"
    assert max(names.values()) == 1, "duplicate nodes: %s" % [k for k, v in names.items() if v > 1]
    problems = [p for n in found for p in settled(n, state)]
    assert not problems, problems
    by_uuid = dict((n["uuid"], n["name"]) for n in found)
    got = collections.defaultdict(list)
    for p in ports(conn, by_uuid):
        got[by_uuid[p["node_uuid"]]].append(p["address"])
    want = dict((s["name"], sorted(p["address"] for p in s.get("ports", []))) for s in specs)
    assert dict((k, sorted(v)) for k, v in got.items()) == dict((k, v) for k, v in want.items() if v)
    return found


def kill_ironic_during(lab, conn, name, args, when, what, timeout=240):
    """Start ``name`` with ``args``, SIGKILL Ironic once ``when()`` holds, restart it; return the
    interrupted run's (rc, result, seconds)."""
    run = start_module(lab, name, args)
    try:
        wait_until(what, lambda: when() or not run.running() and "ended", timeout, interval=0.05)
    except AssertionError:
        run.kill()
        raise
    assert run.running(), "the run ended before the fault (%s): make the case bigger" % what
    sigkill(lab, "ironic")
    rc, result, elapsed, output = run.finish(RUN_BOUND)
    restart(lab)
    return rc, result, elapsed


def rerun_converges(lab, name, args):
    """The same run again converges; the one after it makes no write. Returns both results."""
    again, _secs = module(lab, name, args)
    assert not again.get("failed"), again.get("msg")
    third, _secs = module(lab, name, args)
    assert not third.get("failed") and third["changed"] is False and third["api_writes"] == 0, third
    return again, third


def test_sigkill_mid_enrollment_to_available(lab, conn):
    specs = node_specs("fe-", NODES, 0xf1)
    args = {"nodes": specs, "target_state": "available", "concurrency": 8}
    rc, first, elapsed = kill_ironic_during(lab, conn, ENROLL, args, lambda: len(nodes(conn, "fe-")) >= NODES // 3,
                                            "a third of the nodes created")
    assert first is not None and first.get("failed"), "the interrupted run must report the failure"
    again, third = rerun_converges(lab, ENROLL, args)
    assert_exact(conn, "fe-", specs, "available")


def _field(conn, prefix, fields):
    found = conn.baremetal.get("/nodes?fields=name,%s&limit=1000" % fields, microversion="1.81").json()["nodes"]
    return [n for n in found if (n.get("name") or "").startswith(prefix)]


def test_sigkill_mid_inspection_of_a_rack(lab, conn):
    specs = node_specs("fi-", RACK_NODES, 0xf2)
    made, _secs = module(lab, ENROLL, {"nodes": specs, "target_state": "manageable"})
    assert not made.get("failed"), made.get("msg")
    names = [s["name"] for s in specs]
    args = {"nodes": names, "concurrency": 2, "timeout": 120, "poll_interval": 0.2}

    def inspecting():
        states = [n["provision_state"] for n in _field(conn, "fi-", "provision_state")]
        return "inspect wait" in states or "inspecting" in states

    rc, first, elapsed = kill_ironic_during(lab, conn, "spineleaf.baremetal.ironic_inspect", args, inspecting,
                                            "a node in inspection")
    assert first is not None and first.get("failed"), "the interrupted run must report the failure"
    again, third = rerun_converges(lab, "spineleaf.baremetal.ironic_inspect", args)
    found = assert_exact(conn, "fi-", specs, "manageable")
    for node in found:  # every node inspected once, data stored
        data = conn.baremetal.get("/nodes/%s/inventory" % node["uuid"], microversion="1.81").json()
        assert data["inventory"]["interfaces"], node["name"]


def test_sigkill_mid_tagging_run(lab, conn):
    """Tagging the enrollment test's nodes (one rule: a trait, an extra key and a property)."""
    rule = {"name": "fault-tag", "traits_add": ["CUSTOM_FAULT_TAGGED"], "extra": {"fault_tag": "yes"},
            "properties": {"fault_tag": "yes"}}
    args = {"rules": [rule], "selector": "[?starts_with(name, 'fe-')]", "concurrency": 1}
    assert len(nodes(conn, "fe-")) == NODES, "runs after test_sigkill_mid_enrollment_to_available"

    def some_tagged():
        return sum("CUSTOM_FAULT_TAGGED" in (n["traits"] or []) for n in _field(conn, "fe-", "traits")) >= 3

    rc, first, elapsed = kill_ironic_during(lab, conn, "spineleaf.baremetal.ironic_traits", args, some_tagged,
                                            "three nodes tagged")
    again, third = rerun_converges(lab, "spineleaf.baremetal.ironic_traits", args)
    found = nodes(conn, "fe-")
    assert len(found) == NODES and not [p for n in found for p in settled(n, "available")]
    for node in found:
        assert node["traits"] == ["CUSTOM_FAULT_TAGGED"], (node["name"], node["traits"])
        assert node["extra"]["fault_tag"] == "yes" and node["properties"]["fault_tag"] == "yes", node["name"]
        assert node["properties"]["cpu_arch"] == "x86_64", node["name"]  # what enrollment set survives


IMG_A = {"source": "http://images.lab.invalid/fault-a.qcow2", "checksum": "a" * 32}
IMG_B = {"source": "http://images.lab.invalid/fault-b.qcow2", "checksum": "b" * 32}


def _in_deploy(conn):
    return any(n["provision_state"] in ("deploying", "wait call-back", "deploy wait")
               for n in _field(conn, "fd-", "provision_state"))


def test_sigkill_mid_deployment(lab, conn):
    specs = node_specs("fd-", RACK_NODES, 0xf3)
    made, _secs = module(lab, ENROLL, {"nodes": specs, "target_state": "available"})
    assert not made.get("failed"), made.get("msg")
    args = {"nodes": [s["name"] for s in specs], "image": IMG_A, "poll_interval": 0.2, "timeout": 120}
    rc, first, elapsed = kill_ironic_during(lab, conn, "spineleaf.baremetal.ironic_provision", args,
                                            lambda: _in_deploy(conn), "a node deploying")
    assert first is not None and first.get("failed"), "the interrupted run must report the failure"
    again, third = rerun_converges(lab, "spineleaf.baremetal.ironic_provision", args)
    for node in assert_exact(conn, "fd-", specs, "active"):
        assert node["instance_info"]["image_source"] == IMG_A["source"], node["name"]


def test_sigkill_mid_rolling_upgrade(lab, conn, tmp_path):
    names = [n["name"] for n in nodes(conn, "fd-")]
    assert len(names) == RACK_NODES, "runs after test_sigkill_mid_deployment"
    args = {"nodes": sorted(names), "rack": "fd", "rollout_id": "fault-b", "image": IMG_B, "max_unavailable": 2,
            "poll_interval": 0.2, "timeout": 120}
    # The guard under the fault: an observer polling Ironic every 0.2 s (through the kill, the restart
    # and the resumed run) never sees more than max_unavailable nodes of the rack out of service.
    record = tmp_path / "observer.jsonl"
    observer = subprocess.Popen([sys.executable, os.path.join(REPO, "tests", "integration", "observer.py"),
                                 lab.ironic_url, str(record)])
    try:
        rc, first, elapsed = kill_ironic_during(lab, conn, "spineleaf.baremetal.ironic_rollout", args,
                                                lambda: _in_deploy(conn), "a node rebuilding")
        assert first is not None and first.get("failed"), "the interrupted run must report the failure"
        again, third = rerun_converges(lab, "spineleaf.baremetal.ironic_rollout", args)
    finally:
        observer.terminate()
        observer.wait(10)
    polls = [json.loads(line) for line in record.read_text().splitlines()]
    assert len(polls) > 10
    assert max(len(p["down"].get("fd", [])) for p in polls) <= 2, [p for p in polls if len(p["down"].get("fd", [])) > 2][:3]
    for node in nodes(conn, "fd-"):
        assert not settled(node, "active"), settled(node, "active")
        assert node["instance_info"]["image_source"] == IMG_B["source"], node["name"]
        assert node["extra"]["spineleaf_rollout"]["state"] == "done", node["extra"]
