"""Per-node truth, continued (issue #11): recovery of failed nodes, maintenance reported and skipped,
progress while racks inspect, and --limit as operators use it (a rack, one node) through site.yml.
Same style as test_node_truth: a site of the test's own, read through the per-host recap stats.

The lab's fake-hardware BMC fails on demand (driver_info lab_bmc_fault, lab/ironic_run.py), so
"manage" fails its verify as with an unreachable BMC; a manual clean with a step the driver lacks
leaves a node in clean failed; extra.lab_silent makes the lab ramdisk ignore a node."""
import json
import os
import subprocess
import tempfile

import yaml

from lab.harness import REPO, VENV_BIN
from ..recap import recap
from .test_node_truth import host, host_says, play, site

# Nodes get no LLDP of a known switch here: the cabling check only reports (these tests are about
# states and results, test_cabling is about cabling).
QUIET = {"introspect_blocking_findings": [], "introspect_progress_interval": 1, "introspect_poll_interval": 0.2}


def _delete(conn, name):
    node = conn.baremetal.find_node(name)
    if node:
        conn.baremetal.set_node_maintenance(node.id, reason="test reset")
        conn.baremetal.delete_node(node.id)


def _state(conn, name):
    node = conn.baremetal.find_node(name)
    return node.provision_state, node.is_maintenance, node.last_error


def test_recovery_maintenance_and_progress(lab, conn, tmp_path):
    racks = {"rv": {"rv-ok": host(6, 1), "rv-clean": host(6, 2), "rv-maint": host(6, 3),
                    "rv-verify": host(6, 4, bmc_driver_info={"lab_bmc_fault": "unreachable"})},
             "rw": {"rw-silent": host(7, 1, extra={"lab_silent": True})}}
    for rack in racks.values():
        for name in rack:
            _delete(conn, name)
    inventory = site(racks, budget=2)
    inventory["all"]["vars"].update(QUIET, introspect_timeout=30, introspect_retries=0,
                                    introspect_report_dir=str(tmp_path / "reports"))

    # run 1: the unreachable BMC fails its host with Ironic's last_error, at once (not after a timeout)
    rc, stats, doc = play(lab, ["enroll", "introspect", "summary"], inventory)
    assert stats["rv-verify"]["failed"] == 1, stats
    assert host_says(doc, "[rv-verify]", "BMC did not answer (lab BMC fault: unreachable)"), doc[-4000:]
    assert _state(conn, "rv-verify")[0] == "enroll"
    assert stats["rw-silent"]["failed"] == 1 and host_says(doc, "[rw-silent]", "still inspect wait after 30s")
    for name in ("rv-ok", "rv-clean", "rv-maint"):
        assert not stats[name]["failed"] and _state(conn, name)[0] == "manageable", (name, stats)
    # progress per rack while waiting: the silent rack is seen in progress, then done
    assert "rack rw: 0/1 inspected, 0 failed, 1 in progress" in doc, doc[-6000:]
    assert "rack rw: 0/1 inspected, 1 failed, 0 in progress (done)" in doc
    assert "rack rv: 3/3 inspected, 0 failed, 0 in progress (done)" in doc  # rv-verify never reached inspection

    # between the runs: a cleaning fails, an operator puts a node in maintenance, the BMC is fixed
    bm = conn.baremetal
    bm.set_node_provision_state(bm.find_node("rv-clean").id, "clean",
                                clean_steps=[{"interface": "deploy", "step": "no_such_step"}], wait=False)
    bm.set_node_maintenance(bm.find_node("rv-maint").id, reason="disk replacement")
    bm.patch_node(bm.find_node("rv-verify").id, [{"op": "remove", "path": "/driver_info/lab_bmc_fault"}])
    assert _state(conn, "rv-clean")[0] == "clean failed"

    # run 2 (inspection only, as playbooks/inspect.yml): both are brought back and inspected, with the
    # earlier last_error in their hosts' messages; the maintenance node is reported and skipped
    rc, stats, doc = play(lab, ["introspect", "summary"], inventory)
    assert host_says(doc, "[rv-clean]", "recovered from clean failed (last_error: Cannot clean node"), doc[-6000:]
    assert host_says(doc, "[rv-verify]", "manage retried after a failed verify (last_error: Failed to get power state")
    assert host_says(doc, "[rv-verify]", "BMC did not answer")
    for name in ("rv-clean", "rv-verify"):
        assert not stats[name]["failed"] and stats[name]["changed"] == 1, (name, stats)
        assert _state(conn, name)[0] == "manageable"
        assert bm.get_node_inventory(bm.find_node(name).id)["inventory"]
    assert not stats["rv-maint"]["failed"] and stats["rv-maint"]["changed"] == 0, stats
    assert host_says(doc, "[rv-maint]", "in maintenance (disk replacement)"), doc[-6000:]
    assert _state(conn, "rv-maint")[:2] == ("manageable", True)
    assert "rack rv: 3 done, 0 failed, 1 skipped; skipped: rv-maint (node rv-maint: in maintenance (disk replacement)" in doc, doc[-3000:]
    assert stats["rv-ok"]["changed"] == 0 and not stats["rv-ok"]["failed"]  # already inspected: skipped
    # the silent node's inspect failed is retried by this run too (and fails again, on its own host)
    assert host_says(doc, "[rw-silent]", "still inspect wait after 30s") and stats["rw-silent"]["failed"] == 1

    for rack in racks.values():
        for name in rack:
            _delete(conn, name)


def _site_yml(lab, inventory, limit, report_dir):
    """site.yml on the inventory with --limit: (rc, recap stats, output)."""
    with tempfile.TemporaryDirectory() as tmp:
        inv = os.path.join(tmp, "hosts.yml")
        with open(inv, "w") as f:
            yaml.safe_dump(inventory, f)
        proc = subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), os.path.join(REPO, "playbooks", "site.yml"),
                               "-i", inv, "--limit", limit, "-e", "introspect_report_dir=%s" % report_dir],
                              env=lab.ansible_env(), capture_output=True, text=True, cwd=REPO, check=False, timeout=900)
    return proc.returncode, recap(proc.stdout), proc.stdout + proc.stderr


def test_limit_a_rack_then_one_node(lab, conn, tmp_path):
    names = {"ra": ["ra-n1", "ra-n2"], "rb": ["rb-n1", "rb-n2", "rb-n3"]}
    for nodes in names.values():
        for name in nodes:
            _delete(conn, name)
    racks = dict((rack, dict((n, host(8 + i, j + 1)) for j, n in enumerate(nodes)))
                 for i, (rack, nodes) in enumerate(sorted(names.items())))
    inventory = site(racks)
    for i, rack in enumerate(sorted(names)):
        inventory["all"]["children"]["baremetal"]["children"]["rack_" + rack]["vars"].update(
            rack_index=40 + i, rack_physnet="leaf%d" % (1 + i))
    inventory["all"]["vars"].update(QUIET, site_name="limits", leaf_switches={}, tag_rules=[],
                                    routed_networks=[{"name": "limits-prov", "provisioning": True,
                                                      "supernet": "10.77.0.0/16", "prefix_per_rack": 24,
                                                      "vlan_base": 700}])  # physnets: each rack's rack_physnet
    report_dir = str(tmp_path / "reports")

    # --limit rack_rb: preflight and routed networks run (no localhost in the limit), every step for rb only
    rc, stats, doc = _site_yml(lab, inventory, "rack_rb", report_dir)
    assert rc == 0, doc[-5000:]
    assert sorted(stats) == names["rb"], stats
    assert "TASK [spineleaf.baremetal.preflight : Check the OpenStack APIs]" in doc
    assert "TASK [spineleaf.baremetal.routed_networks : Routed provider networks]" in doc
    segments = dict((s.name, s) for s in conn.network.segments(network_id=conn.network.find_network("limits-prov").id))
    assert "limits-prov-rb" in segments and segments["limits-prov-rb"].segmentation_id == 741, segments
    assert conn.baremetal.find_node("ra-n1") is None and conn.baremetal.find_node("ra-n2") is None  # no other rack's node
    for name in names["rb"]:
        assert conn.baremetal.find_node(name).provision_state == "available", name
    assert "rack rb: 3/3 inspected, 0 failed, 0 in progress" in doc  # progress lines of the waits
    assert "rack rb: 3/3 made available, 0 failed, 0 in progress (done)" in doc  # the available step (deploy role)
    rack_report = os.path.join(report_dir, "rb", "topology.json")
    assert sorted(n["name"] for n in json.load(open(rack_report))["nodes"]) == names["rb"]

    # --limit rb-n3: that node only, and the rack's report still has the others (merged, not overwritten)
    rc, stats, doc = _site_yml(lab, inventory, "rb-n3", report_dir)
    assert rc == 0, doc[-5000:]
    assert sorted(stats) == ["rb-n3"], stats
    assert "TASK [spineleaf.baremetal.preflight : Check the OpenStack APIs]" in doc
    assert sorted(n["name"] for n in json.load(open(rack_report))["nodes"]) == names["rb"], doc[-3000:]
    with open(os.path.join(report_dir, "topology.html")) as f:
        page = f.read()
    assert all(name in page for name in names["rb"])

    # the whole site: rack ra joins, rack rb's segment and nodes stay
    rc, stats, doc = _site_yml(lab, inventory, "baremetal", report_dir)
    assert rc == 0, doc[-5000:]
    assert sorted(stats) == sorted(names["ra"] + names["rb"])
    assert all(stats[n]["changed"] == 0 for n in names["rb"]), stats
    segments = set(s.name for s in conn.network.segments(network_id=conn.network.find_network("limits-prov").id))
    assert {"limits-prov-ra", "limits-prov-rb"} <= segments

    for nodes in names.values():
        for name in nodes:
            _delete(conn, name)
