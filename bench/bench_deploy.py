"""Deploy benchmark: ironic_provision vs an openstack.cloud baremetal_node_action loop vs metalsmith.

N available nodes in a fresh lab whose fake deploy sleeps LAB_DEPLOY_DELAY seconds per deploy step
(default 2, the issue's: prepare + deploy, about 4 s per node) are deployed with one image; then
ironic_provision's re-run. Usage:

    python bench/bench_deploy.py [--nodes 200] [--peer-nodes 10] [--concurrency 16] [--delay 2]
                                 [--network-interface neutron|off]

--network-interface neutron (default, issue 24): the lab runs Ironic's `neutron` network interface
and Neutron's switch driver; the nodes (lab-hardware, whose deploy runs a direct deploy's network
steps) are spread over the lab site's three racks, cabled to its leaves, on the routed network
`ctlplane` (one segment and subnet per rack). Each contender attaches a VIF per node on it:
ironic_provision with `network: ctlplane`; metalsmith with `nics=[{network: ctlplane}]` (it
creates the port and attaches it); the openstack.cloud loop with openstack.cloud.port, a VIF
attach through Ironic's API (openstack.cloud has no VIF module) and baremetal_node_action, per
node. --network-interface off: the old fake (fake-hardware, no VIF, LAB_NETWORK_INTERFACE=off).

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
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402 pylint: disable=wrong-import-position

IMAGE = {"source": "http://images.bench.invalid/base-1.0.qcow2", "checksum": "0" * 32}
METALSMITH_VENV = os.path.join(common.BENCH, ".venv-metalsmith")
METALSMITH_PACKAGES = ["metalsmith"]
NETWORK = "ctlplane"  # the lab Ironic's provisioning / cleaning network
RACKS = (1, 2, 3)  # the lab site's racks (inventory/lab): the lab's fake switches are its leaves


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
nics = json.loads(sys.argv[6]) if len(sys.argv) > 6 else None
with open(clouds_yaml) as f:
    cloud = yaml.safe_load(f)["clouds"]["spineleaf-lab"]
conn = openstack.connect(load_yaml_config=False, load_envvars=False, **cloud)
prov = Provisioner(cloud_region=conn.config)
image = sources.HttpWholeDiskImage(url, checksum=checksum)


def one(name):
    prov.provision_node(name, image=image, nics=nics, wait=1800)

start = time.perf_counter()
with ThreadPoolExecutor(concurrency) as pool:
    list(pool.map(one, names))
print(json.dumps({"seconds": time.perf_counter() - start}))
'''


def _mac(i):
    return "52:54:05:%02x:%02x:%02x" % (i // 65536, (i // 256) % 256, i % 256)


def node_specs(n, network_interface):
    """The nodes: fake-hardware with one PXE NIC (``off``), or lab-hardware on the ``neutron``
    interface, node i in rack i % 3 + 1, its NIC cabled to the rack's leaf A (the chassis IDs of
    inventory/lab's leaf_switches, which the lab's fake switches answer to)."""
    specs = []
    for i in range(n):
        spec = {"name": "bd-%04d" % i, "driver": "fake-hardware", "properties": {"cpu_arch": "x86_64"},
                "resource_class": "baremetal", "ports": [{"address": _mac(i), "pxe_enabled": True}]}
        if network_interface != "off":
            rack = RACKS[i % len(RACKS)]
            spec.update(driver="lab-hardware", network_interface=network_interface, extra={"rack": "r%02d" % rack})
            spec["ports"][0].update(physical_network="leaf%d" % rack, local_link_connection={
                "switch_id": "00:1c:73:%02d:00:0a" % rack, "port_id": "Ethernet2/%d" % (i // len(RACKS) + 1),
                "switch_info": "leaf-r%02d-a" % rack})
        specs.append(spec)
    return specs


def make_network(lab):
    """The routed provisioning network, one segment and subnet per rack (routed_network)."""
    segments = [{"name": "%s-r%02d" % (NETWORK, r), "physical_network": "leaf%d" % r, "segmentation_id": 100 + r,
                 "subnets": [{"name": "%s-r%02d" % (NETWORK, r), "cidr": "10.10.%d.0/24" % r,
                              "gateway_ip": "10.10.%d.1" % r}]} for r in RACKS]
    _res, result = common.run_module(lab, "spineleaf.baremetal.routed_network", {"name": NETWORK, "segments": segments})
    if result.get("failed"):
        raise RuntimeError("creating the routed network failed: %s" % result.get("msg"))


def wait_mappings(conn, uuids, timeout=600):
    """networking-baremetal maps each node to its rack's segment a few seconds after its ports exist:
    a port bound before that is refused (not part of any contender's time)."""
    deadline = time.monotonic() + timeout
    while True:
        hosts = set(a.host for a in conn.network.agents(agent_type="Baremetal Node"))
        if set(uuids) <= hosts:
            return
        if time.monotonic() > deadline:
            raise RuntimeError("no segment host mapping for %d nodes after %ds" % (len(set(uuids) - hosts), timeout))
        time.sleep(2)


def make_nodes(lab, n, tmp, network_interface="off"):
    specs = node_specs(n, network_interface)
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
    if network_interface != "off":
        make_network(lab)
        wait_mappings(conn, [conn.baremetal.get_node(s["name"]).id for s in specs])
    return [s["name"] for s in specs]


def run_ours(lab, names, concurrency, tmp, network_interface="off"):
    out = os.path.join(tmp, "result.json")
    args = {"nodes": names, "image": IMAGE, "concurrency": concurrency, "poll_interval": 0.5}
    if network_interface != "off":
        args["network"] = NETWORK
    plays = [{"hosts": "localhost", "gather_facts": False, "connection": "local",
              "vars": {"ansible_python_interpreter": os.path.join(common.REPO, ".venv", "bin", "python")},
              "tasks": [
                  # kept on failure too, so the failed nodes' messages can be named
                  {"spineleaf.baremetal.ironic_provision": args, "register": "r", "ignore_errors": True},
                  {"ansible.builtin.copy": {"content": "{{ r | to_json }}", "dest": out}},
              ]}]
    seconds, res = common.timed(common.run_playbook, lab, plays)
    if not os.path.exists(out):
        raise RuntimeError("ironic_provision failed:\n" + res.output[-3000:])
    with open(out) as f:
        result = json.load(f)
    if result.get("failed"):
        failed = [(n.get("name"), n.get("action"), n.get("msg")) for n in result.get("nodes", []) if n.get("failed")]
        raise RuntimeError("ironic_provision failed: %s; nodes: %s" % (result.get("msg"), failed[:20]))
    return seconds, result


PEER_DEPLOY = """- openstack.cloud.baremetal_node_action:
    cloud: spineleaf-lab
    name: "{{ item }}"
    instance_info: {image_source: "%s", image_checksum: "%s"}
    deploy: true
    wait: true
    timeout: 1800
"""
# What a user of openstack.cloud writes to deploy with a VIF: a port per node, the VIF attach
# through Ironic's API (no openstack.cloud module does it), then the deploy.
PEER_VIF = """- openstack.cloud.port:
    cloud: spineleaf-lab
    name: "{{ item }}"
    network: %s
  register: peer_port
- ansible.builtin.uri:
    url: "%s/v1/nodes/{{ item }}/vifs"
    method: POST
    body_format: json
    body: {id: "{{ peer_port.port.id }}"}
    headers: {X-OpenStack-Ironic-API-Version: "1.28"}
    status_code: 204
  # A node's segment host mapping can lag its agent: Neutron refuses the binding until it exists
  # ("not connected to any segments", Ironic's 500). A user of this loop retries as ironic_provision does.
  register: peer_vif
  until: peer_vif.status == 204
  retries: 30
  delay: 2
"""


def run_peer(lab, names, tmp, network_interface="off"):
    """One node after the other, each waited for: the tasks of one node in a file included per node."""
    tasks = os.path.join(tmp, "peer-node.yml")
    with open(tasks, "w") as f:
        f.write("---\n")
        if network_interface != "off":
            f.write(PEER_VIF % (NETWORK, lab.ironic_url))
        f.write(PEER_DEPLOY % (IMAGE["source"], IMAGE["checksum"]))
    pb = os.path.join(tmp, "peer.yml")
    with open(pb, "w") as f:
        f.write("""- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.include_tasks: %s
      loop: %s
""" % (tasks, json.dumps(names)))
    seconds, _proc = common.timed(common.run_peer_playbook, lab, pb)
    return seconds


def run_metalsmith(lab, names, concurrency, network_interface="off"):
    cmd = [metalsmith_python(), "-c", METALSMITH_SCRIPT, lab.clouds_yaml, json.dumps(names), IMAGE["source"],
           IMAGE["checksum"], str(concurrency)]
    if network_interface != "off":
        cmd.append(json.dumps([{"network": NETWORK}]))
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError("metalsmith failed:\n" + proc.stdout[-2000:] + proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]


def bound_vifs(lab, names):
    """Nodes with exactly one VIF, a port bound on the node (not binding_failed) on its rack's subnet."""
    conn = lab.connect()
    ports = dict((p.id, p) for p in conn.network.ports(network_id=conn.network.find_network(NETWORK).id))
    ok = 0
    for node in conn.baremetal.nodes(details=True):
        if node.name not in names:
            continue
        vifs = conn.baremetal.list_node_vifs(node.id)
        port = ports.get(vifs[0]) if len(vifs) == 1 else None
        rack = int((node.extra or {}).get("rack", "r0")[1:] or 0)
        if port is not None and port.binding_host_id == node.id and port.binding_vif_type not in (
                "binding_failed", "unbound") and port.fixed_ips and port.fixed_ips[0]["ip_address"].startswith(
                "10.10.%d." % rack):
            ok += 1
    return ok


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
    parser.add_argument("--network-interface", choices=("neutron", "off"), default="neutron",
                        help="neutron: VIFs on the routed network, attached by all three; off: no VIF (the old fake)")
    args = parser.parse_args(argv)
    os.environ["LAB_DEPLOY_DELAY"] = args.delay  # read by the lab's Ironic config at start
    os.environ["LAB_NETWORK_INTERFACE"] = args.network_interface
    os.environ.pop("LAB_SITE", None)  # the lab site's leaves are the fake switches the nodes are cabled to
    iface = args.network_interface
    n, peer_n, c = args.nodes, min(args.peer_nodes, args.nodes), args.concurrency
    vifs = iface != "off"
    with tempfile.TemporaryDirectory() as tmp:
        with common.fresh_lab() as lab:
            names = make_nodes(lab, n, tmp, iface)
            t_a, r_a = run_ours(lab, names, c, tmp, iface)
            t_a2, r_a2 = run_ours(lab, names, c, tmp, iface)
            assert r_a["summary"] == {"deployed": n}, r_a["summary"]
            assert r_a2["api_writes"] == 0 and r_a2["changed"] is False
            per_node = sum(x["duration"] for x in r_a["nodes"]) / n
            vif_a = bound_vifs(lab, names) if vifs else None
            # each contender's figures as soon as measured: a later contender's failure keeps them
            print("(a) ironic_provision: %.1f s, %d writes; re-run %.1f s, %d writes" % (
                t_a, r_a["api_writes"], t_a2, r_a2["api_writes"]), flush=True)
        with common.fresh_lab() as lab:
            names = make_nodes(lab, n, tmp, iface)
            t_m = run_metalsmith(lab, names, c, iface)
            ok_m = active(lab, names)
            vif_m = bound_vifs(lab, names) if vifs else None
            print("(c) metalsmith: %.1f s, %d of %d active" % (t_m, ok_m, n), flush=True)
        with common.fresh_lab() as lab:
            names = make_nodes(lab, peer_n, tmp, iface)
            t_b = run_peer(lab, names, tmp, iface)
            ok_b = active(lab, names)
            vif_b = bound_vifs(lab, names) if vifs else None
    scale = float(n) / peer_n
    t_b_n = t_b * scale
    note = "" if peer_n == n else " (measured on %d nodes, scaled x%.0f)" % (peer_n, scale)

    def bound(count, of):
        return ", %d of %d with a bound VIF on the rack's subnet" % (count, of) if vifs else ""
    title = ("%d lab-hardware nodes with VIFs on the `neutron` network interface" % n) if vifs else ("%d lab nodes" % n)
    peer = ("openstack.cloud port + VIF attach (uri) + baremetal_node_action loop" if vifs
            else "openstack.cloud baremetal_node_action loop")
    md = ["## Deploy: %s, fake deploy delay %s s per step (`python bench/bench_deploy.py --nodes %d --peer-nodes %d"
          " --concurrency %d --delay %s --network-interface %s`)" % (title, args.delay, n, peer_n, c, args.delay, iface), "",
          "| run | time | notes |", "| --- | --- | --- |",
          "| (a) ironic_provision%s, concurrency %d | %.1f s | %d writes, %.1f s per node, %d active%s |" % (
              " (network: %s)" % NETWORK if vifs else "", c, t_a, r_a["api_writes"], per_node, n, bound(vif_a, n)),
          "| (b) %s%s | %.1f s | %d of %d active%s |" % (peer, note, t_b_n, ok_b, peer_n, bound(vif_b, peer_n)),
          "| (c) metalsmith %s (provision_node%s + wait), thread pool of %d | %.1f s | %d of %d active%s |" % (
              metalsmith_version(), " with nics=[{network: %s}]" % NETWORK if vifs else "", c, t_m, ok_m, n,
              bound(vif_m, n)),
          "| re-run (a) | %.1f s | %d writes, changed=false |" % (t_a2, r_a2["api_writes"]),
          "", "| ratio | value | goal |", "| --- | --- | --- |",
          "| (b) / (a) | %s | >= 10x |" % common.ratio(t_b_n, t_a),
          "| (c) / (a) | %s | >= 1x |" % common.ratio(t_m, t_a), ""]
    markdown = "\n".join(md)
    common.write_result("deploy" if not vifs else "deploy-vifs", markdown)
    return markdown


if __name__ == "__main__":
    main(sys.argv[1:])
