"""Neutron SIGKILLed (gunicorn and its worker) during a multi-rack routed network build: the same
build run again converges, with no duplicate segment or subnet, and the run after that makes no
write. FAULTS_RACKS racks (default 8; the issue's figure is 16)."""
import collections

from .conftest import ENROLL, RACK_NODES, RACKS, module, nodes, restart, settled, sigkill, start_module, wait_until

MODULE = "spineleaf.baremetal.routed_network"
NET = "fault-ctlplane"


def request():
    segments = []
    for rack in range(1, RACKS + 1):
        segments.append({"name": "%s-r%02d" % (NET, rack), "physical_network": "leaf%d" % rack,
                         "segmentation_id": 160 + rack,
                         "subnets": [{"name": "%s-r%02d" % (NET, rack), "cidr": "10.77.%d.0/24" % rack,
                                      "gateway_ip": "10.77.%d.1" % rack}]})
    return {"name": NET, "segments": segments}


def _built(conn):
    nets = [n for n in conn.network.networks() if n.name == NET]
    if len(nets) != 1:
        return nets, [], []
    segs = list(conn.network.segments(network_id=nets[0].id))
    subs = list(conn.network.subnets(network_id=nets[0].id))
    return nets, segs, subs


def test_sigkill_mid_routed_network_build(lab, conn):
    args = request()

    def half_built():
        try:
            return len(_built(conn)[2]) >= 2
        except Exception:  # noqa: BLE001 - Neutron busy answering the build; try again
            return False

    run = start_module(lab, MODULE, args)
    wait_until("two subnets created", lambda: half_built() or not run.running() and "ended", 240, interval=0.1)
    assert run.running(), "the build ended before the fault: make FAULTS_RACKS bigger"
    sigkill(lab, "neutron")
    rc, first, elapsed, output = run.finish(300)
    restart(lab)
    assert first is not None and first.get("failed"), "the interrupted build must report the failure"

    again, _secs = module(lab, MODULE, args)
    assert not again.get("failed"), again.get("msg")
    third, _secs = module(lab, MODULE, args)
    assert not third.get("failed") and third["changed"] is False and third["api_writes"] == 0, third

    nets, segs, subs = _built(conn)
    assert len(nets) == 1, "duplicate networks %s" % [n.id for n in nets]
    names = collections.Counter(s.name for s in segs if s.name)
    assert sorted(names) == sorted(s["name"] for s in args["segments"]) and max(names.values()) == 1, names
    # the network's first segment is the implicit one (no name) only until named: none left unnamed
    assert all(s.name for s in segs), [(s.id, s.segmentation_id) for s in segs]
    assert sorted((s.physical_network, s.segmentation_id) for s in segs) == sorted(
        ("leaf%d" % r, 160 + r) for r in range(1, RACKS + 1))
    cidrs = collections.Counter(s.cidr for s in subs)
    assert sorted(cidrs) == sorted("10.77.%d.0/24" % r for r in range(1, RACKS + 1)) and max(cidrs.values()) == 1
    seg_of = dict((s.id, s.name) for s in segs)
    assert all(seg_of[s.segment_id] == s.name for s in subs), "a subnet on the wrong segment"


# ------------------------------------------------------------------ mid-deploy, with VIFs (issue 24)
VIF_NET = "ctlplane"  # the lab Ironic's provisioning / cleaning network
VIF_IMAGE = {"source": "http://images.lab.invalid/fault-vif.qcow2", "checksum": "c" * 32}


def _vif_network(lab):
    segs = [{"name": "%s-r%02d" % (VIF_NET, r), "physical_network": "leaf%d" % r, "segmentation_id": 100 + r,
             "subnets": [{"name": "%s-r%02d" % (VIF_NET, r), "cidr": "10.10.%d.0/24" % r, "gateway_ip": "10.10.%d.1" % r}]}
            for r in (1, 2, 3)]
    made, _secs = module(lab, MODULE, {"name": VIF_NET, "segments": segs})
    assert not made.get("failed"), made.get("msg")


def _vif_specs(count):
    """lab-hardware nodes (the lab deploy interface runs a direct deploy's network steps) on the
    neutron network interface, spread over racks r01-r03, cabled to the lab site's leaves (the
    chassis IDs of inventory/lab's leaf_switches, which the lab's fake switches answer to)."""
    specs = []
    for i in range(count):
        rack = i % 3 + 1
        slot = 30 + i
        ports = []
        for nic, side in ((1, "a"), (2, "b")):
            ports.append({"address": "52:54:00:7%d:%02x:%02x" % (rack, slot, nic), "pxe_enabled": nic == 1,
                          "physical_network": "leaf%d" % rack,
                          "local_link_connection": {"switch_id": "00:1c:73:%02d:00:0%s" % (rack, side),
                                                    "port_id": "Ethernet1/%d" % slot,
                                                    "switch_info": "leaf-r%02d-%s" % (rack, side)}})
        specs.append({"name": "fv-%02d" % i, "driver": "lab-hardware", "network_interface": "neutron",
                      "resource_class": "baremetal.compute", "properties": {"cpu_arch": "x86_64"},
                      "extra": {"rack": "r%02d" % rack}, "ports": ports})
    return specs


def _node_ports_by_name(conn, net_id, names):
    out = collections.defaultdict(list)
    for port in conn.network.ports(network_id=net_id):
        if port.name in names:
            out[port.name].append(port)
    return out


def test_sigkill_mid_deploy_with_vifs_no_duplicate_port(lab, conn):
    """Neutron dies while ironic_provision creates and attaches VIFs and Ironic runs its network
    steps; after `labctl up` the same run converges with exactly one port per node, each the
    node's VIF on its rack's subnet, and the run after that makes no write."""
    _vif_network(lab)
    specs = _vif_specs(RACK_NODES)
    names = [s["name"] for s in specs]
    made, _secs = module(lab, ENROLL, {"nodes": specs, "target_state": "available"})
    assert not made.get("failed"), made.get("msg")
    uuids = dict((n["name"], n["uuid"]) for n in nodes(conn, "fv-"))
    wait_until("segment host mappings of the nodes",
               lambda: set(uuids.values()) <= set(a.host for a in conn.network.agents(agent_type="Baremetal Node")),
               120, interval=1)
    net_id = conn.network.find_network(VIF_NET).id
    # concurrency 2: the window creates each node's port as it enters, so the kill lands while
    # some nodes deploy, some have a port just created and some have none yet.
    args = {"nodes": names, "image": VIF_IMAGE, "network": VIF_NET, "concurrency": 2, "poll_interval": 0.2,
            "timeout": 180}

    def some_ports():
        try:
            return len(_node_ports_by_name(conn, net_id, set(names))) >= 3
        except Exception:  # noqa: BLE001 - Neutron busy; try again
            return False

    run = start_module(lab, "spineleaf.baremetal.ironic_provision", args)
    wait_until("three nodes' ports created", lambda: some_ports() or not run.running() and "ended", 240, interval=0.05)
    assert run.running(), "the deploy ended before the fault: make FAULTS_RACK_NODES bigger"
    sigkill(lab, "neutron")
    rc, first, elapsed, output = run.finish(300)
    restart(lab)
    assert first is not None and first.get("failed"), "the interrupted deploy must report the failure:\n" + output[-3000:]

    again, _secs = module(lab, "spineleaf.baremetal.ironic_provision", args)
    assert not again.get("failed"), again.get("msg")
    third, _secs = module(lab, "spineleaf.baremetal.ironic_provision", args)
    assert not third.get("failed") and third["changed"] is False and third["api_writes"] == 0, third

    by_name = _node_ports_by_name(conn, net_id, set(names))
    assert dict((n, len(p)) for n, p in by_name.items() if len(p) != 1) == {}, "duplicate or missing ports"
    assert sorted(by_name) == sorted(names)
    # Nothing else of the nodes' left on the network (Ironic's provisioning ports removed, no orphan).
    macs = set(p["address"] for s in specs for p in s["ports"])
    strays = [(p.id, p.name, p.mac_address) for p in conn.network.ports(network_id=net_id)
              if p.name not in names and (p.mac_address in macs or p.binding_host_id in uuids.values())]
    assert strays == [], strays
    for node in nodes(conn, "fv-"):
        assert settled(node, "active") == [], settled(node, "active")
        [port] = by_name[node["name"]]
        assert conn.baremetal.list_node_vifs(node["uuid"]) == [port.id], node["name"]
        assert port.binding_host_id == node["uuid"] and port.binding_vif_type not in ("binding_failed", "unbound")
        rack = int(node["extra"]["rack"][1:])
        assert port.fixed_ips[0]["ip_address"].startswith("10.10.%d." % rack), (node["name"], port.fixed_ips)
