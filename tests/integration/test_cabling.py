"""Port-level cabling truth end to end, on a two-rack site of its own (tests/integration/sites/cabling):
the lab ramdisk rehearses that inventory (`labctl.py up --site`), its lab_cabling says where the cables
really are. Through the enroll and introspect roles: every fault gives exactly its finding on exactly its
node and fails exactly that host; the rest of each rack is mapped and written; fixing the cabling and
running again, with no flag, clears every finding."""
import json
import os
import re
import shutil

import pytest
import yaml

from ..recap import recap
from lab.harness import REPO, run_playbook

SITE = os.path.join(REPO, "tests", "integration", "sites", "cabling")
NODES = ["c1-n%02d" % i for i in range(1, 8)] + ["c2-n%02d" % i for i in range(1, 4)]
# node -> the one kind of finding its fault must give (none for the others)
FAULTS = {"c1-n01": "wrong_port", "c1-n02": "wrong_port", "c1-n03": "not_mlag_pair", "c1-n04": "wrong_leaf",
          "c1-n05": "mac_not_seen"}
CLEAN = ["c1-n06", "c1-n07", "c2-n01", "c2-n02"]
SILENT = "c2-n03"


def _delete(conn, name):
    node = conn.baremetal.find_node(name)
    if node:
        conn.baremetal.set_node_maintenance(node.id, reason="test_cabling reset")
        conn.baremetal.delete_node(node.id)


@pytest.fixture(scope="module")
def site(lab, conn, tmp_path_factory):
    """A copy of the test site (the tests edit its cabling); the lab ramdisk answers for it."""
    path = str(tmp_path_factory.mktemp("cabling-site") / "site")
    shutil.copytree(SITE, path)
    for name in NODES:
        _delete(conn, name)
    lab.ctl("up", "--site", path)
    yield path
    for name in NODES:
        _delete(conn, name)
    lab.ctl("up")  # back to the lab site


def run_site(lab, site, report_dir):
    plays = [{"name": "enroll", "hosts": "baremetal", "gather_facts": False,
              "roles": [{"role": "spineleaf.baremetal.enroll"}]},
             {"name": "introspect", "hosts": "baremetal", "gather_facts": False,
              "roles": [{"role": "spineleaf.baremetal.introspect", "introspect_report_dir": str(report_dir),
                         "introspect_timeout": 20, "introspect_retries": 0}]}]
    res = run_playbook(lab, plays, inventory=site)
    stats = recap(res.stdout)
    assert sorted(stats) == sorted(NODES), res.output[-4000:]
    return res, stats


def findings_by_node(report_dir):
    out = dict((n, set()) for n in NODES)
    for rack in ("c1", "c2"):
        path = os.path.join(str(report_dir), rack, "topology.json")
        if os.path.exists(path):
            for f in json.load(open(path))["findings"]:
                for node in f.get("nodes") or [f["node"]]:
                    out[node].add(f["finding"])
    return out


def ports(conn, name):
    node = conn.baremetal.find_node(name)
    return dict((p.address, p) for p in conn.baremetal.ports(details=True, node_id=node.id))


def test_each_fault_fails_exactly_its_node_and_a_plain_rerun_clears_it(lab, conn, site, tmp_path):
    res, stats = run_site(lab, site, tmp_path / "run1")
    failed = sorted(n for n, s in stats.items() if s["failed"])
    assert failed == sorted(list(FAULTS) + [SILENT]), res.output[-6000:]

    found = findings_by_node(tmp_path / "run1")
    for node in NODES:
        assert found[node] == ({FAULTS[node]} if node in FAULTS else set()), (node, found[node])
    # the swap is one finding naming both nodes, in the host messages too
    assert re.search(r"cables swapped on c1-leaf-a: node c1-n01 NIC eno1 is on Ethernet1/2 \(intended Ethernet1/1\), "
                     r"node c1-n02 NIC eno1 is on Ethernet1/1", res.stdout), res.stdout[-6000:]
    assert "c1-n05 NIC eno2: MAC 52:54:00:c1:05:20 was not seen" in res.stdout
    assert "c2-n03: still inspect wait after 20s" in res.stdout

    # the rest of each rack is mapped and written; blocked nodes got no port write
    for node in CLEAN:
        for port in ports(conn, node).values():
            assert port.local_link_connection.get("switch_info", "").startswith(node[:2] + "-leaf-"), (node, port)
        assert conn.baremetal.get_node(conn.baremetal.find_node(node).id).extra.get("cabling_fingerprint")
    eno2 = ports(conn, "c1-n06")["52:54:00:c1:06:02"].local_link_connection
    assert eno2["switch_info"] == "c1-leaf-b" and eno2["port_id"] == "Ethernet1/6"  # NIC under another name
    assert ports(conn, "c2-n01")["52:54:00:c2:01:01"].physical_network == "leaf22"
    for node in FAULTS:
        assert all(not p.local_link_connection for p in ports(conn, node).values()), node
        assert not conn.baremetal.get_node(conn.baremetal.find_node(node).id).extra.get("cabling_fingerprint")

    # the site-wide picture: mis-cabled links red, from the data
    html = (tmp_path / "run1" / "topology.html").read_text()
    assert 'class="link" data-node="c1-n01" data-nic="eno1" data-switch="c1-leaf-a" data-port="Ethernet1/2" ' \
           'data-state="miscabled"' in html
    assert 'data-state="miscabled" x1' in html and "#d32f2f" in html

    # fix the cables (and the typo'd MAC in the inventory), let the silent node answer; run again as is
    all_yml = os.path.join(site, "group_vars", "all.yml")
    data = yaml.safe_load(open(all_yml))
    data["lab_cabling"]["links"] = {k: v for k, v in data["lab_cabling"]["links"].items() if k in ("c1-n06", "c2-n01")}
    data["lab_cabling"]["silent"] = []
    with open(all_yml, "w") as f:
        yaml.safe_dump(data, f)
    hosts_yml = os.path.join(site, "hosts.yml")
    text = open(hosts_yml).read().replace("52:54:00:c1:05:20", "52:54:00:c1:05:02")
    with open(hosts_yml, "w") as f:
        f.write(text)

    res, stats = run_site(lab, site, tmp_path / "run2")
    assert [n for n, s in stats.items() if s["failed"]] == [], res.output[-6000:]
    assert findings_by_node(tmp_path / "run2") == dict((n, set()) for n in NODES)
    # changed only where the node changed: the fixed ones were inspected again and written
    assert sorted(n for n, s in stats.items() if s["changed"]) == sorted(list(FAULTS) + [SILENT]), stats
    for node in FAULTS:
        assert all(p.local_link_connection.get("switch_info") for p in ports(conn, node).values()), node
