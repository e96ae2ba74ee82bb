"""LLDP introspection end to end against the lab (Ironic + the lab ramdisk started by labctl):
a rack inspected, a deliberately mis-cabled node caught before apply, apply idempotent, ports and
traits verified through the API."""
import json
import os
import re

import pytest
import yaml

from lab.harness import REPO, run_module

GROUP_VARS = yaml.safe_load(open(os.path.join(REPO, "inventory", "lab", "group_vars", "all.yml")))
HOSTS = yaml.safe_load(open(os.path.join(REPO, "inventory", "lab", "hosts.yml")))
RACK = "r02"


def rack_hosts(rack):
    return HOSTS["all"]["children"]["baremetal"]["children"]["rack_" + rack]["hosts"]


def switches():
    out = {}
    for name, sw in GROUP_VARS["leaf_switches"].items():
        index = int(sw["rack"][1:])
        out[name] = dict(sw, physical_network="leaf%d" % index, provisioning_vlan=100 + index, mtu=9000)
    return out


def expected_nodes(rack):
    return [dict(name=name, rack=rack, nics=hv["nics"], bonds=hv.get("bonds", [])) for name, hv in rack_hosts(rack).items()]


def _delete(conn, name):
    existing = conn.baremetal.find_node(name)
    if existing:
        conn.baremetal.set_node_maintenance(existing.id, reason="test_lldp reset")
        conn.baremetal.delete_node(existing.id)


@pytest.fixture(scope="module")
def rack_nodes(conn):
    """Rack r02 enrolled with its ports (straight through the SDK); r02-n03 mis-cabled by the ramdisk.

    The nodes share names with the lab site (other tests enroll it): they are replaced here and
    removed afterwards, so the mis-cabling mark does not leak into later site.yml runs."""
    names = []
    for name, hv in rack_hosts(RACK).items():
        _delete(conn, name)
        extra = {"lab_miscabled": True} if name == "r02-n03" else {}
        node = conn.baremetal.create_node(name=name, driver="fake-hardware", extra=extra)
        for nic in hv["nics"]:
            conn.baremetal.create_port(node_id=node.id, address=nic["mac"])
        names.append(name)
    yield names
    for name in names:
        _delete(conn, name)


def test_inspect_rack_end_to_end(lab, conn, rack_nodes, lab_module):
    r = lab_module(lab, "spineleaf.baremetal.ironic_inspect", {"nodes": rack_nodes, "concurrency": 4, "timeout": 120})
    assert not r.get("failed"), r.get("msg")
    assert r["changed"] is True
    assert sorted(r["inspected"]) == sorted(rack_nodes)
    assert all(n["duration"] > 0 and n["provision_state"] == "manageable" for n in r["nodes"])
    inventory = conn.baremetal.get_node_inventory(conn.baremetal.find_node("r02-n01").id)
    assert inventory["plugin_data"]["parsed_lldp"]["eno1"]["switch_system_name"] == "leaf-r02-a"
    # second run: everything already inspected, no write
    r = lab_module(lab, "spineleaf.baremetal.ironic_inspect", {"nodes": rack_nodes})
    assert r["changed"] is False and r["api_writes"] == 0 and sorted(r["skipped_nodes"]) == sorted(rack_nodes)


def test_inspect_isolates_failures(lab, conn, rack_nodes, lab_module):
    r = lab_module(lab, "spineleaf.baremetal.ironic_inspect", {"nodes": ["r02-n01", "no-such-node"], "skip_inspected": True})
    assert r["failed"] and "no-such-node" in r["msg"]
    assert r["failed_nodes"] == ["no-such-node"] and r["skipped_nodes"] == ["r02-n01"]


def test_miscabled_node_caught_before_apply(lab, conn, rack_nodes, tmp_path):
    args = {"nodes": expected_nodes(RACK), "switches": switches(), "apply": True, "report_dir": str(tmp_path)}
    res, r = run_module(lab, "spineleaf.baremetal.lldp_topology", args, check=True, diff=True)
    assert not r.get("failed"), r.get("msg")
    assert r["api_writes"] == 0
    assert r["blocked"] == ["r02-n03"]
    kinds = sorted(set(f["finding"] for f in r["findings"] if f["node"] == "r02-n03"))
    assert "rack_mismatch" in kinds and "split_rack" in kinds, r["findings"]
    assert "r02-n03" not in r["diff"]["after"]
    assert os.path.exists(tmp_path / "topology.html") and "<svg" in (tmp_path / "topology.html").read_text()
    report = json.loads((tmp_path / "topology.json").read_text())
    assert any(f["finding"] == "rack_mismatch" for f in report["findings"])
    # readable port from a switch that sends the port's MAC as port ID
    n01 = [n for n in r["nodes"] if n["name"] == "r02-n01"][0]
    eno1 = [n for n in n01["nics"] if n["nic"] == "eno1"][0]
    assert eno1["port"] == "Ethernet1/1" and eno1["port_id"] != "Ethernet1/1"
    assert eno1["vlans"] == [102, 202] and eno1["mtu"] == 9000 and eno1["rack"] == RACK


def test_apply_is_idempotent_and_visible_in_api(lab, conn, rack_nodes, lab_module):
    args = {"nodes": expected_nodes(RACK), "switches": switches(), "apply": True}
    res, r = run_module(lab, "spineleaf.baremetal.lldp_topology", args, diff=True)
    assert not r.get("failed"), r.get("msg")
    assert r["changed"] is True and r["api_writes"] > 0
    node = conn.baremetal.find_node("r02-n01")
    node = conn.baremetal.get_node(node.id)
    assert "CUSTOM_RACK_R02" in node.traits and node.extra["rack"] == RACK
    ports = {p.address: p for p in conn.baremetal.ports(details=True, node_id=node.id)}
    llc = ports["52:54:00:02:01:01"].local_link_connection
    assert llc["switch_id"] == "00:1c:73:02:00:0a" and llc["port_id"] == "Ethernet1/1" and llc["switch_info"] == "leaf-r02-a"
    assert ports["52:54:00:02:01:01"].physical_network == "leaf2"
    # the mis-cabled node was not written
    bad = conn.baremetal.get_node(conn.baremetal.find_node("r02-n03").id)
    assert not any(t.startswith("CUSTOM_RACK_") for t in bad.traits or []) and "rack" not in (bad.extra or {})
    # second run: no change, no write
    r = lab_module(lab, "spineleaf.baremetal.lldp_topology", args)
    assert r["changed"] is False and r["api_writes"] == 0


def test_introspect_role_fails_only_the_miscabled_node(lab, conn, rack_nodes, tmp_path):
    from lab.harness import run_playbook
    plays = [{"name": "introspect", "hosts": "rack_r02", "gather_facts": False,
              "roles": [{"role": "spineleaf.baremetal.introspect",
                         "introspect_cloud": "spineleaf-lab", "introspect_report_dir": str(tmp_path)}]}]
    res = run_playbook(lab, plays, inventory=os.path.join(REPO, "inventory", "lab"))
    assert "rack r02" in res.output and "cables say rack r01" in res.output, res.output[-3000:]
    assert os.path.exists(tmp_path / "r02" / "topology.html")
    assert os.path.exists(tmp_path / "topology.html")  # the site-wide picture
    # host results are node results: only the mis-cabled node's host fails, with the report named
    failed = re.findall(r"^(\S+)\s+:.*failed=1", res.stdout, re.M)
    assert failed == ["r02-n03"], res.output[-3000:]
    assert "(report: %s/topology.html)" % tmp_path in res.stdout
