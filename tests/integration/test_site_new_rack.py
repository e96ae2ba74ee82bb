"""A rack added to a running site, as an operator previews it: `site.yml --check --diff` with rack r04
added to a copy of the lab inventory. The new rack's segment and subnet are reported as changes of
r04's node only (not of the play's first host, which a run-once network call would be credited to),
the node not yet in Ironic is planned through enrollment and inspection instead of failing, and
nothing is written."""
import os
import re
import shutil
import subprocess

import yaml

from ..recap import recap
from lab.harness import REPO, VENV_BIN

# site.yml reports each node once, at its end (spineleaf_results_at_end): its rack's network changes first
TASK = "TASK [Result of this node]"


def _site(lab, inventory, *args):
    cmd = [os.path.join(VENV_BIN, "ansible-playbook"), "playbooks/site.yml", "-i", inventory] + list(args)
    return subprocess.run(cmd, cwd=REPO, env=lab.ansible_env(), capture_output=True, text=True, timeout=1800, check=False)


def _with_rack_r04(path):
    shutil.copytree(os.path.join(REPO, "inventory", "lab"), path)
    hosts_file = os.path.join(path, "hosts.yml")
    with open(hosts_file) as f:
        hosts = yaml.safe_load(f)
    hosts["all"]["children"]["baremetal"]["children"]["rack_r04"] = {"hosts": {"r04-n01": {
        "bmc_address": "127.0.4.1", "node_role": "compute",
        "nics": [{"name": "eno1", "mac": "52:54:00:04:01:01", "pxe": True, "leaf": "leaf-r04-a", "port": "Ethernet1/1"},
                 {"name": "eno2", "mac": "52:54:00:04:01:02", "pxe": False, "leaf": "leaf-r04-b", "port": "Ethernet1/1"}]}}}
    with open(hosts_file, "w") as f:
        yaml.safe_dump(hosts, f, sort_keys=False)
    with open(os.path.join(path, "group_vars", "rack_r04.yml"), "w") as f:
        yaml.safe_dump({"rack": "r04", "rack_index": 4, "rack_physnet": "leaf4", "rack_leaves": ["leaf-r04-a", "leaf-r04-b"]}, f)
    all_file = os.path.join(path, "group_vars", "all.yml")
    with open(all_file) as f:
        site = yaml.safe_load(f)
    site["leaf_switches"]["leaf-r04-a"] = {"rack": "r04", "chassis_id": "00:1c:73:04:00:0a", "mlag_peer": "leaf-r04-b"}
    site["leaf_switches"]["leaf-r04-b"] = {"rack": "r04", "chassis_id": "00:1c:73:04:00:0b", "mlag_peer": "leaf-r04-a"}
    with open(all_file, "w") as f:
        yaml.safe_dump(site, f, sort_keys=False)


def _task_results(stdout):
    """{host: (status, msg)} of site.yml's per-node result task (its last)."""
    block = stdout[stdout.index(TASK):]
    block = block[:block.index("\nPLAY RECAP", 1)]
    out = {}
    for m in re.finditer(r'^(ok|changed): \[(\S+)\] => \{\n\s+"msg": "([^"]*)"', block, re.M):
        out[m.group(2)] = (m.group(1), m.group(3))
    return out


def test_new_rack_is_credited_to_its_own_node_and_previewed_without_failing(lab, conn, tmp_path):
    converge = _site(lab, "inventory/lab")
    assert converge.returncode == 0, converge.stdout[-4000:]
    segments = set(s.name for s in conn.network.segments())
    inventory = str(tmp_path / "site")
    _with_rack_r04(inventory)

    check = _site(lab, inventory, "--check", "--diff")
    assert check.returncode == 0, check.stdout[-6000:]
    results = _task_results(check.stdout)
    assert results["r04-n01"][0] == "changed", results
    assert results["r04-n01"][1].startswith("networks: segment ctlplane-r04 created, subnet ctlplane-r04 created; enroll: "), results
    others = dict((h, r) for h, r in results.items() if h != "r04-n01")
    assert len(others) == 12 and all(result[0] == "ok" for result in others.values()), others
    assert "would_inspect: node r04-n01: not in Ironic yet (a real run enrolls it first)" in check.stdout
    stats = recap(check.stdout)
    assert stats["r04-n01"]["changed"] > 0 and stats["r04-n01"]["failed"] == 0, stats
    # the play's first host: nothing of r04 credited to it
    assert (stats["r01-n01"]["changed"], stats["r01-n01"]["failed"]) == (0, 0), stats
    # a preview: nothing written
    assert set(s.name for s in conn.network.segments()) == segments
    assert "r04-n01" not in set(n.name for n in conn.baremetal.nodes())
