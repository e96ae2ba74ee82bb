"""Deploy benchmark: ironic_provision vs an openstack.cloud baremetal_node_action loop vs metalsmith.

N available fake-hardware nodes in a fresh lab whose fake deploy sleeps LAB_DEPLOY_DELAY seconds
per deploy step (default 2, the issue's: prepare + deploy, about 4 s per node) are deployed with
one image; then ironic_provision's re-run. Usage:

    python bench/bench_deploy.py [--nodes 200] [--peer-nodes 10] [--concurrency 16] [--delay 2]

--peer-nodes measures openstack.cloud on fewer nodes (one node after the other, waiting for each)
and scales its time linearly; metalsmith (pip `metalsmith`, own venv bench/.venv-metalsmith)
deploys all N with a thread pool of --concurrency, each thread provisioning and waiting for one
node at a time, the same concurrency as ironic_provision.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402 pylint: disable=wrong-import-position

IMAGE = {"source": "http://images.bench.invalid/base-1.0.qcow2", "checksum": "0" * 32}
METALSMITH_VENV = os.path.join(common.BENCH, ".venv-metalsmith")
METALSMITH_PACKAGES = ["metalsmith"]


def metalsmith_python():
    return os.path.join(common.bench_venv(METALSMITH_VENV, METALSMITH_PACKAGES), "python")


def metalsmith_version():
    return subprocess.run([metalsmith_python(), "-c", "import importlib.metadata as m; print(m.version('metalsmith'))"],
                          capture_output=True, text=True, check=True).stdout.strip()


METALSMITH_SCRIPT = r'''
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
import openstack
import yaml
from metalsmith import Provisioner, sources

clouds_yaml, names, url, checksum, concurrency = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
with open(clouds_yaml) as f:
    cloud = yaml.safe_load(f)["clouds"]["spineleaf-lab"]
conn = openstack.connect(load_yaml_config=False, load_envvars=False, **cloud)
prov = Provisioner(cloud_region=conn.config)
image = sources.HttpWholeDiskImage(url, checksum=checksum)


def one(name):
    prov.provision_node(name, image=image, wait=1800)

start = time.perf_counter()
with ThreadPoolExecutor(concurrency) as pool:
    list(pool.map(one, names))
print(json.dumps({"seconds": time.perf_counter() - start}))
'''


def make_nodes(lab, n, tmp):
    specs = [{"name": "bd-%04d" % i, "driver": "fake-hardware", "properties": {"cpu_arch": "x86_64"},
              "resource_class": "baremetal",
              "ports": [{"address": "52:54:05:%02x:%02x:%02x" % (i // 65536, (i // 256) % 256, i % 256), "pxe_enabled": True}]}
             for i in range(n)]
    vars_file = os.path.join(tmp, "nodes.json")
    with open(vars_file, "w") as f:
        json.dump({"bench_nodes": specs}, f)
    plays = [{"hosts": "localhost", "gather_facts": False, "connection": "local",
              "vars": {"ansible_python_interpreter": os.path.join(common.REPO, ".venv", "bin", "python")},
              "tasks": [{"spineleaf.baremetal.ironic_nodes": {"nodes": "{{ bench_nodes }}", "target_state": "available",
                                                              "concurrency": 4}}]}]
    res = common.run_playbook(lab, plays, extra_args=["-e", "@" + vars_file])
    if res.rc != 0:
        raise RuntimeError("creating nodes failed:\n" + res.output[-3000:])
    # Ironic allocations (metalsmith reserves nodes through them) only match nodes with a known
    # power state; fresh nodes get one at the first periodic power sync. Set it now, for everyone.
    conn = lab.connect()
    for spec in specs:
        conn.baremetal.set_node_power_state(spec["name"], "power off")
    return [s["name"] for s in specs]


def run_ours(lab, names, concurrency, tmp):
    out = os.path.join(tmp, "result.json")
    plays = [{"hosts": "localhost", "gather_facts": False, "connection": "local",
              "vars": {"ansible_python_interpreter": os.path.join(common.REPO, ".venv", "bin", "python")},
              "tasks": [
                  {"spineleaf.baremetal.ironic_provision": {"nodes": names, "image": IMAGE, "concurrency": concurrency,
                                                            "poll_interval": 0.5}, "register": "r"},
                  {"ansible.builtin.copy": {"content": "{{ r | to_json }}", "dest": out}},
              ]}]
    seconds, res = common.timed(common.run_playbook, lab, plays)
    if res.rc != 0:
        raise RuntimeError("ironic_provision failed:\n" + res.output[-3000:])
    with open(out) as f:
        return seconds, json.load(f)


def run_peer(lab, names, tmp):
    pb = os.path.join(tmp, "peer.yml")
    with open(pb, "w") as f:
        f.write("""- hosts: localhost
  gather_facts: false
  tasks:
    - openstack.cloud.baremetal_node_action:
        cloud: spineleaf-lab
        name: "{{ item }}"
        instance_info: {image_source: "%s", image_checksum: "%s"}
        deploy: true
        wait: true
        timeout: 1800
      loop: %s
""" % (IMAGE["source"], IMAGE["checksum"], json.dumps(names)))
    seconds, proc = common.timed(common.run_peer_playbook, lab, pb)
    return seconds


def run_metalsmith(lab, names, concurrency):
    proc = subprocess.run([metalsmith_python(), "-c", METALSMITH_SCRIPT, lab.clouds_yaml, json.dumps(names), IMAGE["source"],
                           IMAGE["checksum"], str(concurrency)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError("metalsmith failed:\n" + proc.stdout[-2000:] + proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]


def active(lab, names):
    conn = lab.connect()
    wanted = set(names)
    return sum(1 for n in conn.baremetal.nodes(details=True) if n.name in wanted and n.provision_state == "active")


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=int(os.environ.get("BENCH_DEPLOY_NODES", "200")))
    parser.add_argument("--peer-nodes", type=int, default=int(os.environ.get("BENCH_DEPLOY_PEER_NODES", "10")))
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--delay", default=os.environ.get("BENCH_DEPLOY_DELAY", "2"))
    args = parser.parse_args(argv)
    os.environ["LAB_DEPLOY_DELAY"] = args.delay  # read by the lab's Ironic config at start
    n, peer_n, c = args.nodes, min(args.peer_nodes, args.nodes), args.concurrency
    with tempfile.TemporaryDirectory() as tmp:
        with common.fresh_lab() as lab:
            names = make_nodes(lab, n, tmp)
            t_a, r_a = run_ours(lab, names, c, tmp)
            t_a2, r_a2 = run_ours(lab, names, c, tmp)
            assert r_a["summary"] == {"deployed": n}, r_a["summary"]
            assert r_a2["api_writes"] == 0 and r_a2["changed"] is False
            per_node = sum(x["duration"] for x in r_a["nodes"]) / n
        with common.fresh_lab() as lab:
            names = make_nodes(lab, n, tmp)
            t_m = run_metalsmith(lab, names, c)
            ok_m = active(lab, names)
        with common.fresh_lab() as lab:
            names = make_nodes(lab, peer_n, tmp)
            t_b = run_peer(lab, names, tmp)
            ok_b = active(lab, names)
    scale = float(n) / peer_n
    t_b_n = t_b * scale
    note = "" if peer_n == n else " (measured on %d nodes, scaled x%.0f)" % (peer_n, scale)
    md = ["## Deploy: %d lab nodes, fake deploy delay %s s per step (`python bench/bench_deploy.py --nodes %d --peer-nodes %d"
          " --concurrency %d --delay %s`)" % (n, args.delay, n, peer_n, c, args.delay), "",
          "| run | time | notes |", "| --- | --- | --- |",
          "| (a) ironic_provision, concurrency %d | %.1f s | %d writes, %.1f s per node, %d active |" % (
              c, t_a, r_a["api_writes"], per_node, n),
          "| (b) openstack.cloud baremetal_node_action loop%s | %.1f s | %d of %d active |" % (note, t_b_n, ok_b, peer_n),
          "| (c) metalsmith %s (provision_node + wait), thread pool of %d | %.1f s | %d of %d active |" % (
              metalsmith_version(), c, t_m, ok_m, n),
          "| re-run (a) | %.1f s | %d writes, changed=false |" % (t_a2, r_a2["api_writes"]),
          "", "| ratio | value | goal |", "| --- | --- | --- |",
          "| (b) / (a) | %s | >= 10x |" % common.ratio(t_b_n, t_a),
          "| (c) / (a) | %s | >= 1x |" % common.ratio(t_m, t_a), ""]
    markdown = "\n".join(md)
    common.write_result("deploy", markdown)
    return markdown


if __name__ == "__main__":
    main(sys.argv[1:])
