"""Ironic SIGKILLed (its whole process group) in the middle of each kind of run, restarted with
`labctl up`, and the same run made again: the end state is exactly what was asked (no duplicate
node or port, nothing half-configured, no node left in maintenance or locked, nothing stuck in a
`*ing` / `* failed` state), and the run after that makes 0 writes."""
import collections

from .conftest import NODES, RACK_NODES, module, nodes, ports, restart, settled, sigkill, start_module, wait_until

ENROLL = "spineleaf.baremetal.ironic_nodes"
RUN_BOUND = 300  # a run that meets a dead Ironic must end (failed) within this, never hang


def _mac(prefix, i):
    return "52:54:00:%02x:%02x:%02x" % (prefix, i // 256, i % 256)


def node_specs(prefix, count, mac_prefix, **extra):
    specs = []
    for i in range(count):
        spec = {"name": "%s%03d" % (prefix, i), "driver": "fake-hardware",
                "driver_info": {"ipmi_address": "10.%d.%d.%d" % (mac_prefix, i // 250, i % 250 + 1),
                                "ipmi_username": "admin", "ipmi_password": "fault-bmc-secret"},
                "resource_class": "baremetal.compute", "properties": {"cpu_arch": "x86_64"},
                "extra": {"rack": "f%02d" % (i % 4)},
                "ports": [{"address": _mac(mac_prefix, 2 * i), "pxe_enabled": True, "physical_network": "leaf1"},
                          {"address": _mac(mac_prefix, 2 * i + 1), "pxe_enabled": False, "physical_network": "leaf1"}]}
        spec.update(extra)
        specs.append(spec)
    return specs


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
    again, _ = module(lab, name, args)
    assert not again.get("failed"), again.get("msg")
    third, _ = module(lab, name, args)
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
