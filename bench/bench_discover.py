"""Discovery benchmark: N machines known only by their leaf ports, discovered by Ironic, named by
ironic_discover and made manageable by ironic_nodes, against the enrollment of the same N machines
with known MACs (ironic_nodes alone). Usage:

    python bench/bench_discover.py [--nodes 200]

(a) discovery: the N machines post their inspection data with no node (what their ramdisks do when
    they boot on the provisioning network; the lab ramdisk's post_inspection), Ironic enrolls and
    inspects each (auto-discovery, server side; timed apart), then ironic_discover claims them
    (name, driver_info, marker, rack) and ironic_nodes takes them to manageable with the MACs learned.
(b) known MACs: ironic_nodes creates the same N nodes with their ports and takes them to manageable.
Both in a fresh lab each, in the same run; then the idempotent re-run of (a)'s two tasks.
"""
import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402 pylint: disable=wrong-import-position

sys.path.insert(0, os.path.join(common.REPO, "lab"))
import ramdisk  # noqa: E402 pylint: disable=wrong-import-position,wrong-import-order

CONCURRENCY = int(os.environ.get("BENCH_ENROLL_CONCURRENCY", "4"))
PER_RACK = 40


def machine(i):
    """Machine i: its name, rack, two NICs (MAC, leaf, port) and BMC address."""
    rack = "b%02d" % (i // PER_RACK + 1)
    port = "Ethernet1/%d" % (i % PER_RACK + 1)
    nics = [{"name": "eno%d" % (k + 1), "mac": "52:54:%02x:%02x:%02x:%02x" % (k + 1, i // 65536, (i // 256) % 256, i % 256),
             "pxe": k == 0, "leaf": "leaf-%s-%s" % (rack, "ab"[k]), "port": port} for k in range(2)]
    return {"name": "%s-n%02d" % (rack, i % PER_RACK + 1), "rack": rack, "nics": nics,
            "bmc_address": "10.%d.%d.%d" % (i // 65536, (i // 256) % 256, i % 256)}


def post_all(lab, machines):
    """Every machine posts its inventory + LLDP with no node (as its ramdisk would)."""
    for m in machines:
        nics = [dict(name=n["name"], mac=n["mac"], lldp=ramdisk.encode_lldp(
            {"system_name": n["leaf"], "chassis_id": "02:00:00:00:%02x:%02x" % (int(m["rack"][1:]), ord(n["leaf"][-1])),
             "port": n["port"]})) for n in m["nics"]]
        ramdisk.post_inspection(lab.ironic_url, None, ramdisk.make_inventory(m["name"], nics, bmc_address=m["bmc_address"]))


def _list(lab, collection, fields):
    """Every item of an Ironic collection (following ``next``), raw API."""
    items, path = [], "/v1/%s?fields=%s&limit=1000" % (collection, fields)
    while path:
        body = ramdisk._request(lab.ironic_url, "GET", path)  # pylint: disable=protected-access
        items.extend(body.get(collection) or [])
        nxt = body.get("next") if body.get(collection) else None
        path = "/v1/%s?%s" % (collection, nxt.split("?", 1)[1]) if nxt and "?" in nxt else None
    return items


def _stored(lab, uuid):
    try:
        ramdisk._request(lab.ironic_url, "GET", "/v1/nodes/%s/inventory" % uuid)  # pylint: disable=protected-access
        return True
    except ramdisk.urllib.error.HTTPError:
        return False


def wait_stored(lab, n, timeout=600):
    """Until Ironic has stored the inspection data of n discovered nodes (2 ports each)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        # Discovered nodes stay in enroll with no inspection_finished_at: a stored inventory is the sign.
        nodes = _list(lab, "nodes", "uuid")
        if len(_list(lab, "ports", "uuid")) >= 2 * n and len(nodes) >= n and all(_stored(lab, x["uuid"]) for x in nodes):
            return
        time.sleep(0.5)
    raise RuntimeError("Ironic did not store %d discovered machines within %ds" % (n, timeout))


def run_tasks(lab, tasks, data, tmp):
    vars_file = os.path.join(tmp, "vars.json")
    with open(vars_file, "w") as f:
        json.dump(data, f)
    out = os.path.join(tmp, "result.json")
    plays = [{"hosts": "localhost", "gather_facts": False, "connection": "local",
              "vars": {"ansible_python_interpreter": os.path.join(common.REPO, ".venv", "bin", "python")},
              "tasks": tasks + [{"ansible.builtin.copy": {"content": "{{ results | to_json }}", "dest": out}}]}]
    seconds, res = common.timed(common.run_playbook, lab, plays, extra_args=["-e", "@" + vars_file])
    if res.rc != 0:
        raise RuntimeError("benchmark playbook failed:\n" + res.output[-3000:])
    with open(out) as f:
        return seconds, json.load(f)


DISCOVER_TASKS = [
    {"spineleaf.baremetal.ironic_discover": {
        "nodes": "{{ hvs | map('spineleaf.baremetal.discover_node') | list }}", "concurrency": CONCURRENCY},
     "register": "d"},
    # What the discover role hands to enrollment: each host's nics (MACs learned) and BMC address.
    {"spineleaf.baremetal.ironic_nodes": {
        "nodes": "{%- set ns = namespace(out=[]) -%}{%- for hv in hvs -%}{%- set ns.out = ns.out + [hv | combine("
                 "{'nics': d.nodes[loop.index0].nics, 'bmc_address': d.nodes[loop.index0].bmc_address})] -%}"
                 "{%- endfor -%}{{ ns.out | map('spineleaf.baremetal.enroll_node') | list }}",
        "target_state": "manageable", "concurrency": CONCURRENCY}, "register": "e"},
    {"ansible.builtin.set_fact": {"results": {"discover": "{{ d }}", "enroll": "{{ e }}"}}},
]
KNOWN_TASKS = [
    {"spineleaf.baremetal.ironic_nodes": {
        "nodes": "{{ hvs | map('spineleaf.baremetal.enroll_node') | list }}",
        "target_state": "manageable", "concurrency": CONCURRENCY}, "register": "e"},
    {"ansible.builtin.set_fact": {"results": {"enroll": "{{ e }}"}}},
]


def hostvars(m, with_macs):
    """The machine as inventory hostvars (site model): without MACs and BMC address for (a)."""
    hv = {"inventory_hostname": m["name"], "rack": m["rack"], "bmc_driver": "fake-hardware",
          "bmc_username": "admin", "bmc_password": "bench-secret",
          "nics": [dict(n) if with_macs else dict((k, v) for k, v in n.items() if k != "mac") for n in m["nics"]]}
    if with_macs:
        hv["bmc_address"] = m["bmc_address"]
    return hv


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=int(os.environ.get("BENCH_DISCOVER_NODES", "200")))
    args = parser.parse_args(argv)
    n = args.nodes
    machines = [machine(i) for i in range(n)]
    hvs_a = [hostvars(m, False) for m in machines]
    hvs_b = [hostvars(m, True) for m in machines]
    with tempfile.TemporaryDirectory() as tmp:
        with common.fresh_lab() as lab:
            t_post, _none = common.timed(post_all, lab, machines)
            t_server, _none = common.timed(wait_stored, lab, n)
            t_a, r_a = run_tasks(lab, DISCOVER_TASKS, {"hvs": hvs_a}, tmp)
            t_a2, r_a2 = run_tasks(lab, DISCOVER_TASKS, {"hvs": hvs_a}, tmp)
        with common.fresh_lab() as lab:
            t_b, r_b = run_tasks(lab, KNOWN_TASKS, {"hvs": hvs_b}, tmp)
    d = r_a["discover"]
    assert d["summary"]["claimed"] == n and not d["unmatched"], (d["summary"], d["unmatched"][:3])
    assert r_a["enroll"]["summary"]["updated"] == n, r_a["enroll"]["summary"]
    assert r_a2["discover"]["changed"] is False and r_a2["discover"]["api_writes"] == 0
    assert r_a2["enroll"]["changed"] is False and r_a2["enroll"]["api_writes"] == 0
    assert r_b["enroll"]["summary"]["created"] == n, r_b["enroll"]["summary"]
    rows = [
        "| machines post inspection data with no node (ramdisks booting) | %.1f s | |" % t_post,
        "| Ironic auto-discovery until every machine is stored (server side) | %.1f s | |" % t_server,
        "| (a) ironic_discover + ironic_nodes -> named, manageable | %.1f s | %d + %d writes |" % (
            t_a, d["api_writes"], r_a["enroll"]["api_writes"]),
        "| (b) ironic_nodes with known MACs -> manageable | %.1f s | %d writes |" % (t_b, r_b["enroll"]["api_writes"]),
        "| re-run (a) | %.1f s | 0 writes, changed=false |" % t_a2,
    ]
    md = ["## Discovery: %d machines x 2 NICs, no MACs in the inventory (`python bench/bench_discover.py --nodes %d`)"
          % (n, n), "", "| run | time | notes |", "| --- | --- | --- |"] + rows + [
        "", "| ratio | value | goal |", "| --- | --- | --- |",
        "| (a) / (b): naming by cabling vs typing MACs | %s | <= 2x |" % common.ratio(t_a, t_b),
        "| ((a) + server side) / (b) | %s | informational |" % common.ratio(t_a + t_server, t_b), ""]
    markdown = "\n".join(md)
    common.write_result("discover", markdown)
    return markdown


if __name__ == "__main__":
    main(sys.argv[1:])
