"""Enrollment without known MACs, end to end on the real lab: the lab site without MACs and BMC
addresses (tests/integration/sites/discovery), its machines posted by the lab ramdisk with no node
(`labctl.py discover`, Ironic auto-discovery), then `site.yml` - discover, enroll, introspect, tag,
available. The cabling defines the name (two machines swapped between positions take the names of
the positions they are cabled to); a machine on a port no node claims is reported with its switch and
port and the rest of its rack goes on; a second run changes nothing."""
import json
import os
import re
import shutil
import sys

import pytest

from ..recap import recap
from lab.harness import REPO, run_playbook

sys.path.insert(0, os.path.join(REPO, "lab"))
import ramdisk  # noqa: E402  (the lab's MACs and BMC addresses of machines the inventory gives none)

SITE = os.path.join(REPO, "tests", "integration", "sites", "discovery")
NODES = ["r0%d-d0%d" % (r, n) for r in (1, 2, 3) for n in (1, 2)]
ROLES = {"d01": "controller", "d02": "compute"}
# r01-d01's and r01-d02's machines are cabled to each other's positions (the site's lab_cabling).
MACHINE = dict((n, n) for n in NODES)
MACHINE.update({"r01-d01": "r01-d02", "r01-d02": "r01-d01"})


def _clean(conn):
    """Nodes of this site's names and unnamed (auto-discovered) ones (the lab site's nodes, r0X-nNN, stay)."""
    for node in list(conn.baremetal.nodes(details=True)):
        if node.name in NODES or (node.name is None and node.provision_state == "enroll"):
            conn.baremetal.set_node_maintenance(node.id, reason="test_discovery reset")
            conn.baremetal.delete_node(node.id)


@pytest.fixture(scope="module")
def site(lab, conn, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("discovery-site") / "site")
    shutil.copytree(SITE, path)
    _clean(conn)
    lab.ctl("up", "--site", path)
    lab.ctl("discover")  # the machines boot the ramdisk: Ironic enrolls each as an unnamed node
    yield path
    _clean(conn)
    lab.ctl("up")  # back to the lab site


def run_site(lab, site, **extra_vars):
    return run_playbook(lab, [{"ansible.builtin.import_playbook": os.path.join(REPO, "playbooks", "site.yml")}],
                        inventory=site, extra_vars=extra_vars)


def node_stats(res):
    """The recap's counts of the nodes (localhost, which runs the rack-level tasks, left out)."""
    return dict((host, counts) for host, counts in recap(res.stdout).items() if host != "localhost")


def positions():
    """The ironic_discover nodes of the site, as the discover role builds them."""
    return ("{{ groups['baremetal'] | map('extract', hostvars) | spineleaf.baremetal.to_discover"
            " | map('spineleaf.baremetal.discover_node') | list }}")


def test_check_mode_shows_which_machine_becomes_which_node(lab, conn, site):
    plays = [{"name": "discover (check)", "hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "wait until Ironic stored every machine", "spineleaf.baremetal.ironic_discover": {
            "cloud": "spineleaf-lab", "nodes": positions(), "timeout": 60, "poll_interval": 1},
         "register": "r", "check_mode": True},
        {"name": "record", "ansible.builtin.copy": {"content": "{{ r | to_json }}", "dest": "%s/check.json" % site},
         "check_mode": False}]}]
    res = run_playbook(lab, plays, inventory=site, check=True, diff=True)
    assert res.rc == 0, res.output[-4000:]
    result = json.load(open(os.path.join(site, "check.json")))
    assert result["changed"] is True and result["api_writes"] == 0
    nodes = dict((n["name"], n) for n in result["nodes"])
    assert sorted(nodes) == NODES and set(n["action"] for n in nodes.values()) == {"would_claim"}
    for name in NODES:
        want = [ramdisk.lab_mac(MACHINE[name], nic) for nic in ("eno1", "eno2")]
        assert [nic["mac"] for nic in nodes[name]["nics"]] == want, name
        assert nodes[name]["bmc_address"] == ramdisk.lab_bmc(MACHINE[name])
    [stray] = result["unmatched"]
    assert stray["macs"] == sorted(ramdisk.lab_mac("stray-r02", nic) for nic in ("eno1", "eno2"))
    assert "leaf-r02-a Ethernet1/9" in stray["reason"] and "no inventory node claims" in stray["reason"]
    assert "lab-bmc-secret" not in res.output
    # nothing was written: every machine is still an unnamed node in enroll
    assert not [n for n in conn.baremetal.nodes() if n.name in NODES]


def test_site_with_discovery_reaches_the_state_of_the_site_with_macs(lab, conn, site, tmp_path):
    res = run_site(lab, site, discover_timeout=60, discover_report_dir=str(tmp_path))
    stats = node_stats(res)
    assert sorted(stats) == NODES, res.output[-6000:]
    assert [n for n, s in stats.items() if s["failed"]] == [], res.output[-6000:]
    # the machine on the unclaimed port is reported with its switch and port; rack r02 went on
    assert re.search(r"machine \S+ \(MACs [^)]*, BMC %s\) not claimed: cabled to [^;]*leaf-r02-a Ethernet1/9"
                     % re.escape(ramdisk.lab_bmc("stray-r02")), res.stdout), res.stdout[-6000:]
    stray = [n for n in conn.baremetal.nodes(details=True) if n.name is None]
    assert len(stray) == 1 and stray[0].provision_state == "enroll"
    groups = dict((g.id, g.name) for g in conn.baremetal.port_groups(details=True))
    for name in NODES:
        node = conn.baremetal.get_node(name)
        rack, role = name[:3], ROLES[name[4:]]
        assert node.provision_state == "available", (name, node.provision_state, node.last_error)
        assert node.extra["rack"] == rack and node.extra["role"] == role
        assert node.extra["spineleaf_discovery"] == "leaf-%s-a Ethernet1/%s, leaf-%s-b Ethernet1/%s" % (
            rack, name[-1], rack, name[-1])
        assert node.resource_class == "baremetal.%s" % role
        assert {"CUSTOM_RACK_%s" % rack.upper(), "CUSTOM_ROLE_%s" % role.upper(), "CUSTOM_CPU_X86_64",
                "CUSTOM_MEM_64G", "CUSTOM_NIC_2X25G", "CUSTOM_DISK_HDD"} <= set(node.traits), (name, node.traits)
        # the cabling defines the name: the machine cabled to the position, its BMC address
        assert node.driver_info["ipmi_address"] == ramdisk.lab_bmc(MACHINE[name])
        ports = sorted(conn.baremetal.ports(details=True, node_id=node.id), key=lambda p: p.extra.get("nic", ""))
        assert [(p.address, p.extra.get("nic"), p.is_pxe_enabled, p.physical_network) for p in ports] == [
            (ramdisk.lab_mac(MACHINE[name], "eno1"), "eno1", True, "leaf%s" % rack[-1]),
            (ramdisk.lab_mac(MACHINE[name], "eno2"), "eno2", False, "leaf%s" % rack[-1])], name
        assert all(p.local_link_connection.get("switch_info") == "leaf-%s-%s" % (rack, nic)
                   for p, nic in zip(ports, "ab")), name
        want_group = "%s-bond0" % name if rack == "r03" else None
        assert [groups.get(p.port_group_id) for p in ports] == [want_group, want_group], name
    snippet = open(os.path.join(str(tmp_path), "r01", "discovered-macs.yml")).read()
    assert ramdisk.lab_mac("r01-d02", "eno1") in snippet and "r01-d01:" in snippet


def test_second_run_changes_nothing(lab, conn, site):
    res = run_site(lab, site, discover_timeout=5)
    stats = node_stats(res)
    assert sorted(stats) == NODES, res.output[-6000:]
    assert [n for n, s in stats.items() if s["failed"] or s["changed"]] == [], res.output[-6000:]
    assert "leaf-r02-a Ethernet1/9" in res.stdout  # still reported, still not guessed
