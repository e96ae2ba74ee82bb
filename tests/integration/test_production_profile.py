"""The production-shaped lab (LAB_PROFILE=production): PostgreSQL, two API workers, one conductor
per conductor group over JSON-RPC. Starts its own instance (marker ``production_lab``), so the
profile cannot rot: conductor groups, concurrent enrollment, enrollment and inspection flows.

Ports: TEST_PROD_IRONIC_PORT / TEST_PROD_NEUTRON_PORT / TEST_PROD_JSON_RPC_PORT (default: the
default test lab's ports + 50 (xdist workers use + 10 * N), JSON-RPC at the Ironic port + 2 and + 3).
"""
import json
import os
import shutil
import socket
import subprocess

import pytest
import yaml

from ..recap import changed_hosts
from lab.harness import REPO, Lab, run_playbook

pytestmark = pytest.mark.production_lab

GROUPS = {"r01": "group-a", "r02": "group-b", "r03": "group-b"}


def _ports():
    ironic = int(os.environ.get("TEST_PROD_IRONIC_PORT") or int(os.environ.get("TEST_IRONIC_PORT", "16385")) + 50)
    neutron = int(os.environ.get("TEST_PROD_NEUTRON_PORT") or int(os.environ.get("TEST_NEUTRON_PORT", "19696")) + 50)
    return ironic, neutron, int(os.environ.get("TEST_PROD_JSON_RPC_PORT") or ironic + 2)


@pytest.fixture(scope="module")
def prod_lab():
    ironic, neutron, json_rpc = _ports()
    state = os.environ.get("TEST_PROD_LAB_STATE_DIR") or os.path.join(REPO, ".lab", "test-run-production")
    instance = Lab(ironic, neutron, state)
    instance.env.update(LAB_PROFILE="production", LAB_JSON_RPC_PORT=str(json_rpc))
    instance.json_rpc_ports = (json_rpc, json_rpc + 1)
    with instance.fresh():
        yield instance


@pytest.fixture(scope="module")
def prod_conn(prod_lab):
    return prod_lab.connect()


@pytest.fixture(scope="module")
def site(prod_lab, tmp_path_factory):
    """The lab site with racks pinned to conductor groups (r01 -> group-a, r02 and r03 -> group-b)."""
    inventory = str(tmp_path_factory.mktemp("site") / "inventory")
    shutil.copytree(os.path.join(REPO, "inventory", "lab"), inventory)
    for rack, group in GROUPS.items():
        with open(os.path.join(inventory, "group_vars", "rack_%s.yml" % rack), "a") as f:
            f.write("rack_conductor_group: %s\n" % group)
    return inventory


def _status(lab):
    proc = subprocess.run(["python3", os.path.join(REPO, "lab", "labctl.py"), "status"], env=lab.env,
                          capture_output=True, text=True, check=False)
    return proc.returncode, json.loads(proc.stdout)


def test_status_shows_every_process_and_the_conductor_groups(prod_lab):
    rc, status = _status(prod_lab)
    assert rc == 0, status
    assert status["postgres"]["pid"] and status["conductor-group-a"]["pid"] and status["conductor-group-b"]["pid"]
    groups = sorted((c["conductor_group"], c["hostname"]) for c in status["conductors"] if c["alive"])
    assert groups == [("group-a", "127.0.0.1:%d" % prod_lab.json_rpc_ports[0]),
                      ("group-b", "127.0.0.1:%d" % prod_lab.json_rpc_ports[1])]
    # Two API worker processes listen on the one port (SO_REUSEPORT), beside the master.
    children = subprocess.run(["pgrep", "-g", str(status["ironic"]["pid"])], capture_output=True, text=True,
                              check=True).stdout.split()
    assert len(children) == 3, children


def test_preflight_checks_the_inventorys_groups(prod_lab, site, lab_module):
    r = lab_module(prod_lab, "spineleaf.baremetal.preflight", {
        "services": ["baremetal"], "required_drivers": ["fake-hardware"], "rack_conductor_groups": GROUPS})
    assert not r.get("failed"), r.get("msg")
    r = lab_module(prod_lab, "spineleaf.baremetal.preflight", {
        "services": ["baremetal"], "rack_conductor_groups": dict(GROUPS, r04="group-c")})
    assert r["failed"] and "rack r04: conductor group 'group-c' is served by no live conductor" in r["msg"]
    assert "groups served: 'group-a', 'group-b'" in r["msg"]


def test_concurrent_enrollment_spreads_over_both_conductors(prod_lab, prod_conn, lab_module):
    nodes = [{"name": "prod-n%02d" % i, "driver": "fake-hardware", "conductor_group": "group-" + "ab"[i % 2],
              "driver_info": {"ipmi_address": "10.9.0.%d" % i},
              "ports": [{"address": "52:54:00:9a:%02x:%02x" % (i, p), "pxe_enabled": p == 0} for p in range(2)]}
             for i in range(24)]
    args = {"nodes": nodes, "target_state": "available", "concurrency": 8}
    r = lab_module(prod_lab, "spineleaf.baremetal.ironic_nodes", args)
    assert not r.get("failed"), r.get("msg")
    assert r["summary"]["created"] == 24
    assert all(n["provision_state"] == "available" for n in r["nodes"])
    by_group = {}
    for node in prod_conn.baremetal.nodes(details=True):
        if node.name.startswith("prod-n"):
            by_group.setdefault(node.conductor_group, set()).add(node.conductor)
    assert by_group == {"group-a": {"127.0.0.1:%d" % prod_lab.json_rpc_ports[0]},
                        "group-b": {"127.0.0.1:%d" % prod_lab.json_rpc_ports[1]}}
    r = lab_module(prod_lab, "spineleaf.baremetal.ironic_nodes", args)
    assert r["changed"] is False and r["api_writes"] == 0, [(n["name"], n.get("action"), n.get("msg"), n.get("diff"))
                                                            for n in r["nodes"] if n.get("action") != "unchanged"]


def test_site_enrollment_and_inspection_follow_the_racks_groups(prod_lab, prod_conn, site):
    plays = [
        {"name": "preflight", "hosts": "localhost", "gather_facts": False,
         "roles": [{"role": "spineleaf.baremetal.preflight", "preflight_services": ["baremetal"]}]},
        {"name": "enroll", "hosts": "baremetal", "gather_facts": False,
         "roles": [{"role": "spineleaf.baremetal.enroll", "enroll_concurrency": 8}]},
        # r02 holds the lab's deliberately mis-cabled node: inspect the racks that pass.
        {"name": "introspect", "hosts": "rack_r01:rack_r03", "gather_facts": False,
         "roles": [{"role": "spineleaf.baremetal.introspect"}]},
    ]
    res = run_playbook(prod_lab, plays, inventory=site)
    assert res.rc == 0, res.explain()
    hosts = yaml.safe_load(open(os.path.join(site, "hosts.yml")))["all"]["children"]["baremetal"]["children"]
    for rack, group in GROUPS.items():
        for name in hosts["rack_%s" % rack]["hosts"]:
            node = prod_conn.baremetal.get_node(prod_conn.baremetal.find_node(name).id)
            assert node.conductor_group == group, name
            if rack != "r02":  # inspected: back in manageable, with the ramdisk's data
                assert node.provision_state == "manageable", name
                assert prod_conn.baremetal.get_node_inventory(node.id)["plugin_data"]["parsed_lldp"], name
    again = run_playbook(prod_lab, plays[:2], inventory=site)
    assert again.rc == 0 and changed_hosts(again.stdout) == [], again.output[-4000:]


def _listening(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_down_stops_every_process_postgres_included(prod_lab):
    rc, status = _status(prod_lab)
    pids = [v["pid"] for v in status.values() if isinstance(v, dict) and v.get("pid")]
    prod_lab.ctl("down")
    for pid in pids:
        assert not os.path.exists("/proc/%d" % pid) or open("/proc/%d/stat" % pid).read().split(")")[-1].split()[0] == "Z"
    ironic, neutron, json_rpc = _ports()
    assert not any(_listening(p) for p in (ironic, neutron, json_rpc, json_rpc + 1))
    assert not os.path.exists(os.path.join(prod_lab.state_dir, "postgres", "data", "postmaster.pid"))
