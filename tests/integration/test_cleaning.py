"""Manual cleaning campaigns and the drift report against the lab (issue #26): a campaign over a rack
applies BIOS settings and firmware (the drift report is then empty), a re-run makes 0 writes, check
mode writes nothing, an active node is refused, a node failing cleaning against a budget of 0 stops
its rack - through ironic_clean / ironic_drift and through playbooks/clean.yml rack by rack.

The lab's fake BIOS / firmware interfaces store what the clean steps set and report factory values
after manage (lab/ironic_run.py); driver_info lab_clean_fault fails both steps."""
import os
import subprocess
import tempfile

import yaml

from ..recap import recap
from lab.harness import REPO, VENV_BIN, run_module
from .test_node_truth import host_says

CLEAN = "spineleaf.baremetal.ironic_clean"
DRIFT = "spineleaf.baremetal.ironic_drift"
BIOS = {"HyperThreading": "Disabled", "SriovGlobalEnable": True}
FIRMWARE = {"bmc": {"version": "2.1.0", "url": "http://fw.lab/bmc-2.1.0.bin"}}


def _node(conn, name, state="manageable", driver_info=None):
    bm = conn.baremetal
    old = bm.find_node(name)
    if old:
        bm.set_node_maintenance(old.id, reason="test reset")
        bm.delete_node(old.id)
    node = bm.create_node(name=name, driver="lab-hardware", network_interface="noop", deploy_interface="fake",
                          driver_info=driver_info or {})
    bm.set_node_provision_state(node.id, "manage", wait=True, timeout=120)
    if state in ("available", "active"):
        bm.set_node_provision_state(node.id, "provide", wait=True, timeout=120)
    if state == "active":
        bm.patch_node(node.id, [{"op": "add", "path": "/instance_info/image_source", "value": "http://images.lab/a.qcow2"}])
        bm.set_node_provision_state(node.id, "active", wait=True, timeout=300)
    return node


def _bios(conn, name):
    body = conn.baremetal.get("/nodes/%s/bios" % name, microversion="1.86").json()["bios"]
    return dict((b["name"], b["value"]) for b in body)


def _firmware(conn, name):
    body = conn.baremetal.get("/nodes/%s/firmware" % name, microversion="1.86").json()["firmware"]
    return dict((f["component"], f["current_version"]) for f in body)


def _by_name(result):
    return dict((n["name"], n) for n in result["nodes"])


def test_campaign_drift_rerun_check_and_refusal(lab, conn):
    names = ["cl-a", "cl-b", "cl-c"]
    for name, state in zip(names, ("available", "available", "manageable")):
        _node(conn, name, state)
    _node(conn, "cl-act", "active")
    args = dict(nodes=names, rack="rc", bios_settings=BIOS, firmware=FIRMWARE, poll_interval=0.2)

    # the drift report before: factory settings of the lab BMC against the requested ones
    res, r = run_module(lab, DRIFT, dict(nodes=names + ["cl-act", "cl-none"], bios_settings=BIOS, firmware=FIRMWARE))
    assert not r["failed"] and not r["changed"], r
    by = _by_name(r)
    assert r["drifted"] == names + ["cl-act"], r
    assert [f["msg"] for f in by["cl-a"]["drift"]] == [
        "BIOS HyperThreading is Enabled, requested Disabled", "BIOS SriovGlobalEnable is Disabled, requested Enabled",
        "firmware bmc is 1.0.0, requested 2.1.0"], by["cl-a"]
    assert by["cl-none"]["action"] == "failed" and by["cl-none"]["failed"]

    # check mode: what would run where, no write
    res, r = run_module(lab, CLEAN, args, check=True, diff=True)
    assert r["changed"] and not r["failed"] and r["api_writes"] == 0, r
    by = _by_name(r)
    assert by["cl-a"]["phases"] == ["manage", "clean", "provide"] and by["cl-c"]["phases"] == ["clean"]
    assert [s["step"] for s in by["cl-c"]["clean_steps"]] == ["apply_configuration", "update"]
    assert by["cl-a"]["clean_steps"][0]["args"]["settings"] == [{"name": "HyperThreading", "value": "Disabled"},
                                                                {"name": "SriovGlobalEnable", "value": "Enabled"}]
    assert r["diff"]["after"]["cl-b"]["bios HyperThreading"] == "Disabled"
    assert _bios(conn, "cl-a")["HyperThreading"] == "Enabled" and conn.baremetal.get_node("cl-a").provision_state == "available"

    # the campaign: every node cleaned, back where it started, settings in place
    res, r = run_module(lab, CLEAN, args)
    assert r["changed"] and not r["failed"], r
    assert r["summary"] == {"cleaned": 3}, r
    assert [conn.baremetal.get_node(n).provision_state for n in names] == ["available", "available", "manageable"]
    for name in names:
        assert _bios(conn, name)["HyperThreading"] == "Disabled" and _bios(conn, name)["SriovGlobalEnable"] == "Enabled"
        assert _bios(conn, name)["BootMode"] == "Uefi"  # a setting not requested is kept
        assert _firmware(conn, name)["bmc"] == "2.1.0"

    # the drift report after: nothing
    res, r = run_module(lab, DRIFT, dict(nodes=names, bios_settings=BIOS, firmware=FIRMWARE))
    assert r["drifted"] == [] and r["summary"] == {"in_sync": 3}, r

    # re-run with the same settings: no drift, nothing to clean, 0 writes
    res, r = run_module(lab, CLEAN, args)
    assert not r["changed"] and not r["failed"] and r["api_writes"] == 0 and r["summary"] == {"unchanged": 3}, r

    # an active node that drifts is refused, never touched
    res, r = run_module(lab, CLEAN, dict(args, nodes=["cl-act"]))
    node = _by_name(r)["cl-act"]
    assert r["failed"] and node["action"] == "refused" and node["failed"], r
    assert "active" in node["msg"] and "never touches a workload" in node["msg"], node
    assert r["api_writes"] == 0 and conn.baremetal.get_node("cl-act").provision_state == "active"
    assert _bios(conn, "cl-act")["HyperThreading"] == "Enabled"


def test_failing_node_against_budget_zero_stops(lab, conn):
    names = ["cf-1", "cf-2", "cf-3"]
    _node(conn, "cf-1", driver_info={"lab_clean_fault": "flash chip"})
    for name in names[1:]:
        _node(conn, name)
    res, r = run_module(lab, CLEAN, dict(nodes=names, rack="rf", bios_settings=BIOS, concurrency=1,
                                         failure_budget=0, poll_interval=0.2))
    assert r["failed"], r
    by = _by_name(r)
    assert by["cf-1"]["action"] == "failed" and "lab clean fault: flash chip" in by["cf-1"]["msg"], by["cf-1"]
    assert [by[n]["action"] for n in names[1:]] == ["skipped", "skipped"], r
    assert by["cf-2"]["msg"] == "rack rf stopped: 1 of 3 nodes failed (budget 0)"
    assert r["verdict"]["stopped"] and "rack rf stopped" in r["msg"]
    assert conn.baremetal.get_node("cf-1").provision_state == "clean failed"
    assert _bios(conn, "cf-2")["HyperThreading"] == "Enabled"  # never started


def _inventory(racks, extra=None):
    py = os.path.join(REPO, ".venv", "bin", "python")
    all_vars = {"ansible_connection": "local", "ansible_python_interpreter": py, "bios_settings": BIOS,
                "clean_poll_interval": 0.2, "clean_progress_interval": 1, "rollout": {"failure_budget": 0}}
    all_vars.update(extra or {})
    children = dict(("rack_%s" % rack, {"vars": {"rack": rack, "rack_index": i + 1}, "hosts": hosts})
                    for i, (rack, hosts) in enumerate(racks.items()))
    return {"all": {"vars": all_vars, "children": {"baremetal": {"children": children}}}}


def _play(lab, inventory, extra_args=()):
    with tempfile.TemporaryDirectory() as tmp:
        inv = os.path.join(tmp, "hosts.yml")
        with open(inv, "w") as f:
            yaml.safe_dump(inventory, f)
        proc = subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), os.path.join(REPO, "playbooks", "clean.yml"),
                               "-i", inv] + list(extra_args), env=lab.ansible_env(), capture_output=True, text=True,
                              cwd=REPO, check=False, timeout=900)
    stats = recap(proc.stdout)
    assert stats, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.returncode, stats, proc.stdout + proc.stderr


def test_clean_playbook_rack_by_rack(lab, conn):
    # rack pa: one node of its own settings (host_vars win over the site's), one failing; rack pb after it
    _node(conn, "pa-1", "available")
    _node(conn, "pa-bad", driver_info={"lab_clean_fault": "bios locked"})
    _node(conn, "pb-1")
    racks = {"pa": {"pa-1": {"bios_settings": {"HyperThreading": "Disabled", "ProcVirtualization": "Disabled"}},
                    "pa-bad": {}},
             "pb": {"pb-1": {}}}

    rc, stats, doc = _play(lab, _inventory(racks), ["--check"])
    assert "rack pa: 2 would be cleaned" in doc and "pa-1: manage -> clean -> provide: bios.apply_configuration" in doc, doc[-4000:]
    assert _bios(conn, "pa-1")["HyperThreading"] == "Enabled"

    rc, stats, doc = _play(lab, _inventory(racks))
    assert rc != 0
    assert stats["pa-1"]["failed"] == 0 and stats["pa-1"]["changed"] == 1, stats
    assert stats["pa-bad"]["failed"] == 1 and host_says(doc, "[pa-bad]", "lab clean fault: bios locked"), doc[-4000:]
    assert stats["pb-1"]["failed"] == 1 and host_says(doc, "[pb-1]", "rack pb not started: rack pa stopped"), doc[-4000:]
    assert "rack pa: 1/2 cleaned, 1 failed, 0 in progress (done)" in doc, doc[-4000:]
    assert _bios(conn, "pa-1")["ProcVirtualization"] == "Disabled" and conn.baremetal.get_node("pa-1").provision_state == "available"
    assert _bios(conn, "pb-1")["HyperThreading"] == "Enabled"

    # the fault mended: the failed node is brought back (manage) and cleaned, rack pb goes on; pa-1 has no drift
    conn.baremetal.patch_node("pa-bad", [{"op": "remove", "path": "/driver_info/lab_clean_fault"}])
    rc, stats, doc = _play(lab, _inventory(racks))
    assert rc == 0, doc[-4000:]
    assert stats["pa-1"]["changed"] == 0 and stats["pa-bad"]["changed"] == 1 and stats["pb-1"]["changed"] == 1, stats
    assert conn.baremetal.get_node("pa-bad").provision_state == "manageable"


def test_drift_in_site_summary_and_report_file(lab, conn, tmp_path):
    from .test_node_truth import play
    _node(conn, "dx-1")
    _node(conn, "dx-2")
    conn.baremetal.set_node_provision_state("dx-1", "clean", wait=True, timeout=120, clean_steps=[
        {"interface": "bios", "step": "apply_configuration", "args": {"settings": [{"name": "HyperThreading", "value": "Disabled"}]}}])
    inventory = _inventory({"dx": {"dx-1": {}, "dx-2": {"firmware_versions": {"bmc": "2.1.0"}}}},
                           {"bios_settings": {"HyperThreading": "Disabled"}, "drift_report_dir": str(tmp_path)})
    rc, stats, doc = play(lab, ["drift", "summary"], inventory)
    assert rc == 0 and not any(s["failed"] or s["changed"] for s in stats.values()), doc[-4000:]
    assert ("rack dx: settings drift on 1 node(s): dx-2 (BIOS HyperThreading is Enabled, requested Disabled; "
            "firmware bmc is 1.0.0, requested 2.1.0)") in doc, doc[-4000:]
    with open(tmp_path / "drift.json") as f:
        report = yaml.safe_load(f)
    by = dict((n["name"], n) for n in report["nodes"])
    assert by["dx-1"]["action"] == "in_sync" and [d["name"] for d in by["dx-2"]["drift"]] == ["HyperThreading", "bmc"]
