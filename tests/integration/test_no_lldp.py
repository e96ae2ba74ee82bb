"""A real cloud's inspection without LLDP (issue 22), on the lab: the lab ramdisk posts what
ironic-python-agent posts when the ramdisk is booted without ipa-collect-lldp=1 (interfaces with MACs
and carrier, every lldp null, no lldp_raw), for one node (lab_cabling.no_lldp) and for a whole rack
(no_lldp_racks). The node gets one finding naming the fix; the rack gets it once, not per node; with
LLDP back (the fix), a plain rerun inspects them again and clears it."""
import json
import os
import re
import shutil

import pytest
import yaml

from lab.harness import REPO, run_playbook

SITE = os.path.join(REPO, "tests", "integration", "sites", "cabling")
NODES = ["c1-n%02d" % i for i in range(1, 8)] + ["c2-n%02d" % i for i in range(1, 4)]
RACK_C2 = ["c2-n01", "c2-n02", "c2-n03"]
RECAP = re.compile(r"^(\S+)\s+:\s+ok=\d+\s+changed=\d+\s+unreachable=\d+\s+failed=(\d+)", re.M)


def _delete(conn, name):
    node = conn.baremetal.find_node(name)
    if node:
        conn.baremetal.set_node_maintenance(node.id, reason="test_no_lldp reset")
        conn.baremetal.delete_node(node.id)


def _set_cabling(path, **changes):
    all_yml = os.path.join(path, "group_vars", "all.yml")
    with open(all_yml) as f:
        data = yaml.safe_load(f)
    data["lab_cabling"].update(changes)
    with open(all_yml, "w") as f:
        yaml.safe_dump(data, f)


@pytest.fixture(scope="module")
def site(lab, conn, tmp_path_factory):
    """The cabling test site, cabled as intended (no faults), every node answering; c1-n07 and rack c2
    inspected without LLDP."""
    path = str(tmp_path_factory.mktemp("no-lldp-site") / "site")
    shutil.copytree(SITE, path)
    _set_cabling(path, links={}, silent=[], no_lldp=["c1-n07"], no_lldp_racks=["c2"])
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
                         "introspect_timeout": 60, "introspect_retries": 0}]}]
    res = run_playbook(lab, plays, inventory=site)
    failed = dict((m.group(1), int(m.group(2))) for m in RECAP.finditer(res.stdout))
    assert sorted(failed) == sorted(NODES), res.output[-4000:]
    return res, failed


def test_no_lldp_node_and_rack_findings_name_the_fix_and_clear_after_it(lab, conn, site, tmp_path):
    report = tmp_path / "reports"
    res, failed = run_site(lab, site, report)
    out = res.stdout
    # the inspection data really has no LLDP (what Ironic stored, as a real cloud's would)
    stored = conn.baremetal.get("/nodes/c2-n01/inventory", microversion="1.81").json()
    assert stored["inventory"]["interfaces"] and all(not i.get("lldp") for i in stored["inventory"]["interfaces"])
    assert not (stored.get("plugin_data") or {}).get("parsed_lldp")

    assert [n for n, f in failed.items() if f] == sorted(["c1-n07"] + RACK_C2), out[-4000:]
    c1 = json.load(open(os.path.join(str(report), "c1", "topology.json")))["findings"]
    c2 = json.load(open(os.path.join(str(report), "c2", "topology.json")))["findings"]
    # c1-n07: one node finding with the advice, not one per NIC, not "inspect it first"
    assert [(f["node"], f["finding"], f["cause"]) for f in c1] == [("c1-n07", "no_lldp", "lldp_not_collected")], c1
    assert "ipa-collect-lldp=1" in c1[0]["msg"] and "[inspector] extra_kernel_params" in c1[0]["msg"]
    assert "inspect it first" not in out
    # rack c2: one finding for the rack
    assert len(c2) == 1 and c2[0]["scope"] == "rack" and c2[0]["nodes"] == RACK_C2, c2
    assert c2[0]["msg"].startswith("rack c2: none of its 3 inspected nodes") and "ipa-collect-lldp=1" in c2[0]["msg"]
    # ... said once in the output (the per-rack line), each node's host points to it in a short line
    assert out.count("rack c2: none of its 3 inspected nodes") == 1, out[-6000:]
    for name in RACK_C2:
        assert re.search(r"%s.*no LLDP in its inspection data, like every node of rack c2" % name, out), out[-6000:]

    # The fix: the ramdisk collects LLDP again; a plain rerun inspects them again and clears the findings.
    _set_cabling(site, no_lldp=[], no_lldp_racks=[])
    lab.ctl("up", "--site", site)
    res, failed = run_site(lab, site, report)
    assert not any(failed.values()), res.output[-4000:]
