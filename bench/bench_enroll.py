"""Enrollment benchmark: ironic_nodes vs openstack.cloud baremetal_node vs a plain openstacksdk script.

All three enroll N fake-hardware nodes with 2 ports each into a fresh lab Ironic and take them to
`available`; then the idempotent re-runs of the two Ansible ways. Usage:

    python bench/bench_enroll.py [--nodes 200] [--peer-nodes N]

--peer-nodes (default 40) measures openstack.cloud on fewer nodes (it is slow: ~3.3 s per node,
one node after the other) and scales its time linearly to --nodes; the table says so when it does.
"""
import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402 pylint: disable=wrong-import-position


# The lab's Ironic is one sqlite-backed process: writes serialise, and past a few parallel
# requests they only queue. 4 is where it peaks here (1: 10.2 s, 4: 10.6 s, 16: 14.6 s for 50 nodes).
CONCURRENCY = int(os.environ.get("BENCH_ENROLL_CONCURRENCY", "4"))


def node_specs(n, prefix="bn"):
    out = []
    for i in range(n):
        out.append({
            "name": "%s-%04d" % (prefix, i),
            "driver": "fake-hardware",
            "driver_info": {"ipmi_address": "10.%d.%d.%d" % (i // 65536, (i // 256) % 256, i % 256),
                            "ipmi_username": "admin", "ipmi_password": "bench-secret"},
            "properties": {"cpu_arch": "x86_64"},
            "ports": [{"address": "52:54:01:%02x:%02x:%02x" % (i // 256 // 256, (i // 256) % 256, i % 256)},
                      {"address": "52:54:02:%02x:%02x:%02x" % (i // 256 // 256, (i // 256) % 256, i % 256)}],
        })
    return out


def run_ours(lab, specs, target_state, tmp):
    vars_file = os.path.join(tmp, "nodes.json")
    with open(vars_file, "w") as f:
        json.dump({"bench_nodes": specs}, f)
    out = os.path.join(tmp, "result.json")
    plays = [{"hosts": "localhost", "gather_facts": False, "connection": "local",
              "vars": {"ansible_python_interpreter": os.path.join(common.REPO, ".venv", "bin", "python")},
              "tasks": [
                  {"spineleaf.baremetal.ironic_nodes": {"nodes": "{{ bench_nodes }}", "target_state": target_state,
                                                        "concurrency": CONCURRENCY}, "register": "r"},
                  {"ansible.builtin.copy": {"content": "{{ r | to_json }}", "dest": out}},
              ]}]
    seconds, res = common.timed(common.run_playbook, lab, plays, extra_args=["-e", "@" + vars_file])
    if res.rc != 0:
        raise RuntimeError("ironic_nodes failed:\n" + res.output[-3000:])
    with open(out) as f:
        result = json.load(f)
    return seconds, result


def run_peer(lab, specs, tmp):
    pb = os.path.join(tmp, "peer.yml")
    loop = [{"name": s["name"], "driver_info": s["driver_info"], "nics": [{"mac": p["address"]} for p in s["ports"]]}
            for s in specs]
    with open(os.path.join(tmp, "peer_nodes.json"), "w") as f:
        json.dump({"peer_nodes": loop}, f)
    with open(pb, "w") as f:
        f.write("""- hosts: localhost
  gather_facts: false
  tasks:
    - openstack.cloud.baremetal_node:
        cloud: spineleaf-lab
        name: "{{ item.name }}"
        driver: fake-hardware
        driver_info: "{{ item.driver_info }}"
        nics: "{{ item.nics }}"
        properties: {cpu_arch: x86_64}
      loop: "{{ peer_nodes }}"
      loop_control: {label: "{{ item.name }}"}
""")
    seconds, proc = common.timed(common.run_peer_playbook, lab, pb,
                                 ["-e", "@" + os.path.join(tmp, "peer_nodes.json")])
    return seconds, proc.stdout.count("changed: [")


def run_sdk(lab, specs, poll=0.1):
    """The minimal sequential calls: create, 2 ports, manage, provide, polling every 0.1 s."""
    conn = lab.connect()
    bm = conn.baremetal

    def wait(node_id, state):
        while True:
            node = bm.get_node(node_id, fields=["provision_state", "target_provision_state"])
            if node.provision_state == state and not node.target_provision_state:
                return
            time.sleep(poll)

    start = time.perf_counter()
    for s in specs:
        node = bm.create_node(name=s["name"], driver=s["driver"], driver_info=s["driver_info"],
                              properties=s["properties"])
        for port in s["ports"]:
            bm.create_port(node_id=node.id, address=port["address"])
        bm.set_node_provision_state(node.id, "manage")
        wait(node.id, "manageable")
        bm.set_node_provision_state(node.id, "provide")
        wait(node.id, "available")
    return time.perf_counter() - start


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=int(os.environ.get("BENCH_ENROLL_NODES", "200")))
    parser.add_argument("--peer-nodes", type=int, default=int(os.environ.get("BENCH_ENROLL_PEER_NODES", "40")))
    args = parser.parse_args(argv)
    n = args.nodes
    peer_n = args.peer_nodes or n
    specs = node_specs(n)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        with common.fresh_lab() as lab:
            t_a, r_a = run_ours(lab, specs, "available", tmp)
            t_a2, r_a2 = run_ours(lab, specs, "available", tmp)
            assert r_a["summary"]["created"] == n, r_a["summary"]
            assert r_a2["changed"] is False and r_a2["api_writes"] == 0, (r_a2["changed"], r_a2["api_writes"])
        with common.fresh_lab() as lab:
            t_m, r_m = run_ours(lab, specs, "manageable", tmp)
        with common.fresh_lab() as lab:
            t_c = run_sdk(lab, specs)
        with common.fresh_lab() as lab:
            peer_specs = specs[:peer_n]
            t_b, changed_b = run_peer(lab, peer_specs, tmp)
            t_b2, changed_b2 = run_peer(lab, peer_specs, tmp)
    scale = float(n) / peer_n
    t_b_n, t_b2_n = t_b * scale, t_b2 * scale
    note = "" if peer_n == n else " (measured on %d nodes, scaled x%.0f)" % (peer_n, scale)
    rows.append("| (a) ironic_nodes -> available | %.1f s | %d writes |" % (t_a, r_a["api_writes"]))
    rows.append("| (a) ironic_nodes -> manageable | %.1f s | %d writes |" % (t_m, r_m["api_writes"]))
    rows.append("| (b) openstack.cloud baremetal_node loop -> available%s | %.1f s | |" % (note, t_b_n))
    rows.append("| (c) sequential openstacksdk script -> available | %.1f s | |" % t_c)
    rows.append("| re-run (a) | %.1f s | %d writes, changed=false |" % (t_a2, r_a2["api_writes"]))
    rows.append("| re-run (b)%s | %.1f s | %d tasks reported changed |" % (note, t_b2_n, changed_b2))
    md = ["## Enrollment: %d nodes x 2 ports (`python bench/bench_enroll.py --nodes %d%s`)" % (
        n, n, " --peer-nodes %d" % peer_n if peer_n != n else ""), "",
        "| run | time | notes |", "| --- | --- | --- |"] + rows + [
        "", "| ratio | value | goal |", "| --- | --- | --- |",
        "| (b) / (a) | %s | >= 40x |" % common.ratio(t_b_n, t_a),
        "| (c) / (a) | %s | >= 1x |" % common.ratio(t_c, t_a),
        "| re-run (b) / re-run (a) | %s | >= 40x |" % common.ratio(t_b2_n, t_a2), ""]
    markdown = "\n".join(md)
    common.write_result("enroll", markdown)
    return markdown


if __name__ == "__main__":
    main(sys.argv[1:])
