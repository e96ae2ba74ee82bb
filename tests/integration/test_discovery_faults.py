"""Discovery when racking went wrong, end to end on the real lab (Ironic 39 auto-discovery): what
cannot be matched is reported, never guessed, the rest of each rack goes on, and the operator's
fix-and-re-run converges.

The discovery test site (tests/integration/sites/discovery) with, in its `lab_cabling`:
- r02-d01's ramdisk posts twice at the same moment: Ironic enrolls that machine twice (one node with
  the ports, one with none). The duplicate is merged: one node kept (and named), the empty one deleted.
- a second machine (`twin-r02`) is cabled to r02-d02's leaf ports: two machines on one position,
  none claimed, both reported; r02-d02 fails alone, r02-d01 goes on (the rack's budget is 1).
- r03-d02's machine never boots the ramdisk (`silent`): its position has no machine after the
  timeout; r03-d01 goes on.
- an orphan of a failed post (a node in enroll with no name, ports or inspection data): reported,
  removed only with `discover_prune=true`.
Then the fix: the twin is unplugged (its node deleted), r03-d02 boots, `discover_prune=true`: every
node ends available and the orphan is gone."""
import os
import re
import shutil
import sys

import pytest
import yaml

from lab.harness import REPO, run_module
from .test_discovery import NODES, node_stats, run_site, _clean

sys.path.insert(0, os.path.join(REPO, "lab"))
import ramdisk  # noqa: E402

SITE = os.path.join(REPO, "tests", "integration", "sites", "discovery")
TWIN = "twin-r02"


def _macs(machine):
    return set(ramdisk.lab_mac(machine, nic) for nic in ("eno1", "eno2"))


def _nodes_with(conn, macs):
    """Ironic nodes holding any of these MACs, on a port or in their stored inventory."""
    found = set()
    for port in conn.baremetal.ports(details=True):
        if port.address.lower() in macs:
            found.add(port.node_id)
    for node in conn.baremetal.nodes():
        if node.id in found or node.name is not None:
            continue
        try:
            inventory = conn.baremetal.get_node_inventory(node.id).get("inventory") or {}
        except Exception:  # pylint: disable=broad-except
            continue  # no inspection data
        if set(i.get("mac_address", "").lower() for i in inventory.get("interfaces") or []) & macs:
            found.add(node.id)
    return found


def _edit_cabling(site, change):
    path = os.path.join(site, "group_vars", "all.yml")
    with open(path) as f:
        data = yaml.safe_load(f)
    change(data["lab_cabling"])
    with open(path, "w") as f:
        yaml.safe_dump(data, f, sort_keys=False)


@pytest.fixture(scope="module")
def site(lab, conn, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("discovery-faults") / "site")
    shutil.copytree(SITE, path)

    def wrong(cabling):
        cabling["twice"] = ["r02-d01"]
        cabling["silent"] = ["r03-d02"]
        cabling["machines"][TWIN] = {"nics": [{"name": "eno1", "leaf": "leaf-r02-a", "port": "Ethernet1/2"},
                                              {"name": "eno2", "leaf": "leaf-r02-b", "port": "Ethernet1/2"}]}
    _edit_cabling(path, wrong)
    _clean(conn)
    lab.ctl("up", "--site", path)
    lab.ctl("discover")
    yield path
    _clean(conn)
    lab.ctl("up")


@pytest.fixture(scope="module")
def orphan(conn, site):
    """What a failed auto-discovery post leaves: an unnamed node in enroll, no ports, no inventory."""
    return conn.baremetal.create_node(driver="fake-hardware").id


def test_racking_mistakes_are_reported_and_the_rest_goes_on(lab, conn, site, orphan, tmp_path):
    # The lab did enroll r02-d01's machine twice (else this test would prove nothing about duplicates).
    twice = _nodes_with(conn, _macs("r02-d01"))
    assert len(twice) == 2, twice
    res = run_site(lab, site, discover_timeout=8, discover_poll_interval=1, discover_orphan_age=0,
                   discover_report_dir=str(tmp_path))
    stats = node_stats(res)
    out = res.stdout
    assert sorted(stats) == NODES, res.output[-6000:]
    assert sorted(n for n, s in stats.items() if s["failed"]) == ["r02-d02", "r03-d02"], res.output[-8000:]
    # two machines on one position: none claimed, each reported with where it is cabled
    assert re.search(r"r02-d02.*2 machines at leaf-r02-a Ethernet1/2, leaf-r02-b Ethernet1/2, none claimed", out), out[-8000:]
    for machine in ("r02-d02", TWIN):
        mac = ramdisk.lab_mac(machine, "eno1")
        assert re.search(r"machine \S+ \(MACs [^)]*%s[^)]*\) not claimed: one of 2 machines on the position of r02-d02"
                         % mac, out), (machine, out[-8000:])
    # a position with no machine after the timeout, named by its leaf ports
    assert re.search(r"r03-d02.*no machine reported at leaf-r03-a Ethernet1/2, leaf-r03-b Ethernet1/2", out), out[-8000:]
    # the machine enrolled twice: one node kept and named, the empty one deleted
    kept = conn.baremetal.get_node("r02-d01")
    [deleted] = twice - {kept.id}
    assert re.search(r"machine enrolled twice: kept %s, deleted %s" % (kept.id, deleted), out), out[-8000:]
    assert _nodes_with(conn, _macs("r02-d01")) == {kept.id}
    # the orphan: reported with what to do, not deleted without discover_prune
    assert re.search(r"orphan node %s \(no ports, no inspection data\):\s+set discover_prune=true" % orphan, out), out[-8000:]
    assert conn.baremetal.get_node(orphan).provision_state == "enroll"
    # the rest of every rack went on: the four others are available, with their own machines' MACs
    for name in ("r01-d01", "r01-d02", "r02-d01", "r03-d01"):
        node = conn.baremetal.get_node(name)
        assert node.provision_state == "available", (name, node.provision_state, node.last_error)
    macs = sorted(p.address for p in conn.baremetal.ports(details=True, node_id=kept.id))
    assert macs == sorted(_macs("r02-d01")), macs
    # nothing was guessed: no node took the failed positions' names
    assert not [n for n in conn.baremetal.nodes() if n.name in ("r02-d02", "r03-d02")]


def test_fix_and_rerun_converges(lab, conn, site, orphan, tmp_path):
    # The operator unplugs the twin (and deletes the node Ironic made for it), r03-d02 boots.
    for uuid in _nodes_with(conn, _macs(TWIN)):
        conn.baremetal.delete_node(uuid)

    def fixed(cabling):
        cabling.pop("silent")
        cabling["machines"].pop(TWIN)
    _edit_cabling(site, fixed)
    lab.ctl("discover")
    res = run_site(lab, site, discover_timeout=30, discover_poll_interval=1, discover_orphan_age=0,
                   discover_prune=True, discover_report_dir=str(tmp_path))
    stats = node_stats(res)
    assert sorted(stats) == NODES, res.output[-6000:]
    assert [n for n, s in stats.items() if s["failed"]] == [], res.output[-8000:]
    assert sorted(n for n, s in stats.items() if s["changed"]) == ["r02-d02", "r03-d02"], \
        "\n".join(line for line in res.stdout.splitlines() if line.startswith(("TASK", "changed")))
    for name in NODES:
        node = conn.baremetal.get_node(name)
        assert node.provision_state == "available", (name, node.provision_state, node.last_error)
    assert re.search(r"orphan node %s .*deleted" % orphan, res.stdout), res.stdout[-8000:]
    assert orphan not in set(n.id for n in conn.baremetal.nodes())
    assert sorted(p.address for p in conn.baremetal.ports(details=True, node_id=conn.baremetal.get_node("r02-d02").id)) \
        == sorted(_macs("r02-d02"))
    # and again: nothing left to do
    res = run_site(lab, site, discover_timeout=5, discover_orphan_age=0, discover_prune=True)
    stats = node_stats(res)
    assert [n for n, s in stats.items() if s["failed"] or s["changed"]] == [], res.output[-6000:]
    assert "orphan node" not in res.stdout and "enrolled twice" not in res.stdout


def test_prune_in_check_mode_deletes_nothing(lab, conn, site):
    stray = conn.baremetal.create_node(driver="fake-hardware").id
    try:
        res, result = run_module(lab, "spineleaf.baremetal.ironic_discover",
                                 {"cloud": "spineleaf-lab", "nodes": [], "prune": True, "orphan_age": 0},
                                 check=True, diff=True)
        assert res.rc == 0 and not result.get("failed"), res.output[-4000:]
        assert result["changed"] is True and result["api_writes"] == 0
        assert [o["action"] for o in result["orphans"] if o["uuid"] == stray] == ["delete"]
        assert "orphan %s" % stray in str(result["diff"])
        assert conn.baremetal.get_node(stray).provision_state == "enroll"
    finally:
        conn.baremetal.delete_node(stray)
