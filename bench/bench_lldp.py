"""LLDP benchmarks.

1. Decode + port-level map 10,000 nodes x 4 NICs with our pure-Python decoder and cabling check
   (plugins/module_utils/_lldp.py + _topology.py: MAC matching, intended leaf/port comparison,
   findings) vs Ironic's own parser, decode only (construct-based, run in the lab's Ironic venv on
   the same vectors, via subprocess). Goal: >= 10x faster.
2. Inspect N lab nodes (the lab ramdisk answers): ironic_inspect vs a plain openstacksdk script
   (sequential, polling every 0.1 s: the lab's floor) vs a sequential openstack.cloud
   baremetal_inspect loop (peer venv; measured on a smaller N and extrapolated, said so in the table).

Usage: python bench/bench_lldp.py [--nodes 10000] [--inspect-nodes 200] [--peer-nodes 10] [--skip-inspect]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from common import REPO, fresh_lab, ratio, run_module, run_peer_playbook, timed, write_result

sys.path.insert(0, os.path.join(REPO, "lab"))
sys.path.insert(0, os.path.join(REPO, ".collections"))
from ansible_collections.spineleaf.baremetal.plugins.module_utils._lldp import parse_lldp, readable_port  # noqa: E402
from ansible_collections.spineleaf.baremetal.plugins.module_utils._topology import analyse  # noqa: E402

IRONIC_PY = os.path.join(os.environ.get("LAB_CACHE_DIR") or os.path.join(REPO, ".lab"), "venv-ironic", "bin", "python")
FIXTURES = os.path.join(REPO, "tests", "unit", "plugins", "module_utils", "fixtures", "lldp_vectors.json")


def vectors(nodes=0, nics=4):
    """Realistic per-NIC TLV lists, one per NIC of the benchmark site: every NIC on its own port (the
    lab ramdisk's encoder, in the lab's three switch styles: port ID as name, as MAC, as ifIndex),
    and one NIC in 40 from the public captures (Cisco, Juniper, Arista, ... see the fixtures).
    Without ``nodes``: the distinct vectors only."""
    import ramdisk  # lab/ramdisk.py
    public = [v["lldp"] for v in json.load(open(FIXTURES))["vectors"].values() if "lldp" in v]
    site = ramdisk.load_site()
    for name in sorted(site.nodes):
        public.extend(i["lldp"] for i in site.inventory(name)["interfaces"])
    if not nodes:
        return public
    styles = [sw for _name, sw in sorted(site.switches.items())]
    vlans = {"untagged": 101, "tagged": [{"id": 101, "name": "ctlplane"}, {"id": 201, "name": "storage"}]}
    out = []
    for n in range(nodes):
        rack = n // 40
        for i in range(nics):
            k = n * nics + i
            if k % 40 == 39:
                out.append(public[(k // 40) % len(public)])
                continue
            leaf = "leaf-b%03d-%s" % (rack, "ab"[i % 2])
            switches = {leaf: dict(styles[(rack * 2 + i % 2) % len(styles)],
                                   chassis_id="02:1c:%02x:%02x:00:0%d" % (rack >> 8, rack & 255, i % 2))}
            link = ramdisk._link(switches, leaf, "Ethernet%d/%d" % (1 + i // 2, 1 + n % 40), vlans, 9000)  # pylint: disable=protected-access
            out.append(ramdisk.encode_lldp(link))
    return out


IRONIC_SCRIPT = r'''
import json, logging, sys, time
logging.disable(logging.CRITICAL)
from ironic.drivers.modules.inspector.hooks.parse_lldp import ParseLLDPHook
vecs, nodes, nics = json.load(open(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3])
hook = ParseLLDPHook()
t = time.perf_counter()
racks = {}
k = 0
for n in range(nodes):
    for i in range(nics):
        nv = hook._parse_lldp_tlvs(vecs[k % len(vecs)], "x"); k += 1
        racks[nv.get("switch_system_name")] = racks.get(nv.get("switch_system_name"), 0) + 1
print(json.dumps({"seconds": time.perf_counter() - t}))
'''


def bench_decode(nodes, nics=4):
    vecs = vectors(nodes, nics)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "v.json")
        with open(path, "w") as f:
            json.dump(vecs, f)
        script = os.path.join(tmp, "ironic_parse.py")
        with open(script, "w") as f:
            f.write(IRONIC_SCRIPT)
        proc = subprocess.run([IRONIC_PY, "-W", "ignore", script, path, str(nodes), str(nics)],
                              capture_output=True, text=True, check=True)
        ironic_s = json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]
    # Port-level check as lldp_topology does it: every node's inventory NICs (MAC, intended leaf and
    # port) matched to its inspected interfaces by MAC, observed leaf/port compared with intended.
    # The intended placement is what each vector says, with every 50th node's eth0 on another port
    # (wrong_port findings to report), all prepared before the clock starts.
    # One rack of every switch the vectors name.
    seen = [parse_lldp(v) for v in vecs]
    switches = dict((p["switch_system_name"], {"rack": "r01"}) for p in seen if p.get("switch_system_name"))
    prepared = []
    k = 0
    for n in range(nodes):
        interfaces, expected = [], []
        for i in range(nics):
            mac = "52:54:%02x:%02x:%02x:%02x" % (n >> 16 & 255, n >> 8 & 255, n & 255, i)
            parsed = seen[k % len(vecs)]
            port = readable_port(parsed) or "Ethernet1/1"
            if n % 50 == 0 and i == 0:
                port = "Ethernet9/%d" % (n % 48)
            interfaces.append({"name": "eth%d" % i, "mac_address": mac, "has_carrier": True})
            expected.append({"name": "eth%d" % i, "mac": mac, "leaf": parsed.get("switch_system_name"), "port": port})
            k += 1
        prepared.append((interfaces, expected))
    start = time.perf_counter()
    k = 0
    inputs = []
    for n in range(nodes):
        nbrs = {}
        for i in range(nics):
            nbrs["eth%d" % i] = parse_lldp(vecs[k % len(vecs)])
            k += 1
        interfaces, expected = prepared[n]
        inputs.append({"name": "n%05d" % n, "neighbours": nbrs, "interfaces": interfaces,
                       "expected": {"nics": expected}})
    decode_s = time.perf_counter() - start
    _topologies, findings = analyse(inputs, switches)
    ours_s = time.perf_counter() - start
    return ironic_s, decode_s, ours_s, len(vectors()), len(findings)


PREFIX_BYTE = {"ours": 0xa1, "sdk": 0xa2, "peer": 0xa3}


def create_nodes(conn, prefix, count):
    ids = []
    for i in range(count):
        node = conn.baremetal.create_node(name="%s-%04d" % (prefix, i), driver="fake-hardware")
        conn.baremetal.create_port(node_id=node.id, address="52:54:%02x:%02x:%02x:01" % (PREFIX_BYTE[prefix], i // 256, i % 256))
        conn.baremetal.set_node_provision_state(node, "manage")
        ids.append(node.id)
    conn.baremetal.wait_for_nodes_provision_state(ids, "manageable")
    return ids


def sdk_script(conn, ids):
    """The floor: sequential, wait=False, poll every 0.1 s."""
    for node_id in ids:
        conn.baremetal.set_node_provision_state(node_id, "inspect")
        while True:
            node = conn.baremetal.get_node(node_id, fields=["provision_state", "target_provision_state"])
            if node.provision_state in ("manageable", "inspect failed") and not node.target_provision_state:
                break
            time.sleep(0.1)


def bench_inspect(lab, count, peer_count):
    conn = lab.connect()
    ours_ids = create_nodes(conn, "ours", count)
    ours_s, (res, r) = timed(run_module, lab, "spineleaf.baremetal.ironic_inspect",
                             {"nodes": ["ours-%04d" % i for i in range(count)], "concurrency": 32, "timeout": 600})
    if r.get("failed"):
        raise RuntimeError("ironic_inspect failed: %s" % r.get("msg"))
    script_ids = create_nodes(conn, "sdk", count)
    script_s = timed(sdk_script, conn, script_ids)[0]
    peer_ids = create_nodes(conn, "peer", peer_count)
    with tempfile.TemporaryDirectory() as tmp:
        pb = os.path.join(tmp, "peer.yml")
        with open(pb, "w") as f:
            f.write("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                    "    - openstack.cloud.baremetal_inspect:\n        cloud: spineleaf-lab\n        name: \"{{ item }}\"\n"
                    "      loop: %s\n" % json.dumps(["peer-%04d" % i for i in range(peer_count)]))
        peer_s = timed(run_peer_playbook, lab, pb)[0]
    del ours_ids, peer_ids
    return ours_s, script_s, peer_s


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=10000)
    parser.add_argument("--inspect-nodes", type=int, default=200)
    parser.add_argument("--peer-nodes", type=int, default=10)
    parser.add_argument("--skip-inspect", action="store_true")
    args = parser.parse_args(argv)
    ironic_s, decode_s, ours_s, nvec, nfind = bench_decode(args.nodes)
    lines = ["## LLDP decode + port-level map (%d nodes x 4 NICs: every NIC on its own port, 1 in 40 from %d public "
             "captures)" % (args.nodes, nvec), "",
             "| implementation | seconds | vs ours |", "|---|---|---|",
             "| Ironic's parser (construct), decode only | %.2f | %s slower |" % (ironic_s, ratio(ironic_s, ours_s)),
             "| ours: decode + MAC matching + leaf/port check + findings (%d) | %.2f | 1.0x |" % (nfind, ours_s),
             "| ours: decode only | %.2f | |" % decode_s, ""]
    if not args.skip_inspect:
        os.environ.setdefault("LAB_RAMDISK_INTERVAL", "0.05")
        with fresh_lab() as lab:
            ours, script, peer = bench_inspect(lab, args.inspect_nodes, args.peer_nodes)
        peer_full = peer / args.peer_nodes * args.inspect_nodes
        lines += ["## Inspect %d lab nodes (lab ramdisk answering)" % args.inspect_nodes, "",
                  "| implementation | seconds | per node | vs ironic_inspect |", "|---|---|---|---|",
                  "| spineleaf.baremetal.ironic_inspect (concurrency 32) | %.1f | %.3f | 1.0x |" % (ours, ours / args.inspect_nodes),
                  "| openstacksdk script, sequential, polls every 0.1 s (floor) | %.1f | %.3f | %s |" % (
                      script, script / args.inspect_nodes, ratio(script, ours)),
                  "| openstack.cloud baremetal_inspect loop (measured on %d nodes, extrapolated) | %.1f | %.3f | %s |" % (
                      args.peer_nodes, peer_full, peer / args.peer_nodes, ratio(peer_full, ours)), ""]
    markdown = "\n".join(lines)
    write_result("lldp", markdown)
    return markdown


if __name__ == "__main__":
    main(sys.argv[1:])
