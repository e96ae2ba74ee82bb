"""VIFs the way Nova and metalsmith attach them, against the lab running Ironic's and Neutron's real
network code (LAB_NETWORK_INTERFACE=neutron: networking-generic-switch with a fake switch per leaf,
networking-baremetal's host mappings, the lab deploy interface making a direct deploy's network
calls): ironic_provision attaches a VIF on the rack's segment (one on the port group of a bonded
node), the switch programs the rack's VLAN (a LAG for the bond), a re-run makes 0 writes, the
negative control fails with Ironic's own error, network_check passes on good nodes and fails a
mis-cabled one only, undeploy leaves no port behind."""
import json
import os
import shutil
import subprocess
import time

import pytest

from lab.harness import REPO, run_module

PROVISION = "spineleaf.baremetal.ironic_provision"
CHECK = "spineleaf.baremetal.network_check"
NET = "ctlplane"  # the lab Ironic's provisioning / cleaning network (inventory/lab routed_networks)
IMG = {"source": "http://images.lab/a.qcow2", "checksum": "a" * 32}
LEAVES = {"leaf-r01-a": {"rack": "r01", "chassis_id": "00:1c:73:01:00:0a"},
          "leaf-r01-b": {"rack": "r01", "chassis_id": "00:1c:73:01:00:0b"},
          "leaf-r02-a": {"rack": "r02", "chassis_id": "00:1c:73:02:00:0a"},
          "leaf-r02-b": {"rack": "r02", "chassis_id": "00:1c:73:02:00:0b"},
          "leaf-r03-a": {"rack": "r03", "chassis_id": "00:1c:73:03:00:0a"},
          "leaf-r03-b": {"rack": "r03", "chassis_id": "00:1c:73:03:00:0b"}}


@pytest.fixture(scope="module")
def netlab(lab):
    """The session's lab, restarted with Ironic's neutron network interface for this module (and
    put back as it was afterwards)."""
    before = lab.env.get("LAB_NETWORK_INTERFACE")
    if before != "neutron":
        _restart(lab, "neutron")
    try:
        yield lab
    finally:
        if before != "neutron":
            _restart(lab, before)


def _restart(lab, iface):
    if iface:
        lab.env["LAB_NETWORK_INTERFACE"] = iface
    else:
        lab.env.pop("LAB_NETWORK_INTERFACE", None)
    lab.ctl("down")
    shutil.rmtree(lab.state_dir, ignore_errors=True)
    lab.ctl("up")


@pytest.fixture(scope="module")
def nconn(netlab):
    return netlab.connect()


def _network(lab_module, netlab):
    segs = [dict(name="%s-r%02d" % (NET, i), physical_network="leaf%d" % i, segmentation_id=100 + i,
                 subnets=[dict(name="%s-r%02d" % (NET, i), cidr="10.10.%d.0/24" % i, gateway_ip="10.10.%d.1" % i)])
            for i in (1, 2, 3)]
    r = lab_module(netlab, "spineleaf.baremetal.routed_network", dict(name=NET, segments=segs))
    assert not r.get("failed"), r


def _port(conn, node, mac, rack, leaf, port, pxe=True, group=None):
    attrs = dict(node_id=node.id, address=mac, physical_network="leaf%d" % rack, is_pxe_enabled=pxe,
                 local_link_connection={"switch_id": LEAVES[leaf]["chassis_id"], "port_id": port, "switch_info": leaf})
    if group is not None:
        attrs["port_group_id"] = group.id
    return conn.baremetal.create_port(**attrs)


def _node(conn, name, rack, slot, bonded=False, leaf=None):
    node = conn.baremetal.create_node(name=name, driver="lab-hardware", network_interface="neutron",
                                      extra={"rack": "r%02d" % rack})
    mac1, mac2 = "52:54:00:5%d:%02d:01" % (rack, slot), "52:54:00:5%d:%02d:02" % (rack, slot)
    port = "Ethernet1/%d" % (20 + slot)
    group = None
    if bonded:
        group = conn.baremetal.create_port_group(node_id=node.id, name="%s-bond0" % name, address=mac1, mode="802.3ad")
    _port(conn, node, mac1, rack, leaf or "leaf-r%02d-a" % rack, port, group=group)
    _port(conn, node, mac2, rack, "leaf-r%02d-b" % rack, port, pxe=False, group=group)
    conn.baremetal.set_node_provision_state(node.id, "manage", wait=True, timeout=60)
    conn.baremetal.set_node_provision_state(node.id, "provide", wait=True, timeout=60)
    return node


def _wait_mappings(conn, uuids, timeout=90):
    """networking-baremetal maps a node to its rack's segment a few seconds after its ports exist."""
    deadline = time.monotonic() + timeout
    while True:
        hosts = set(a.host for a in conn.network.agents(agent_type="Baremetal Node"))
        if set(uuids) <= hosts:
            return
        assert time.monotonic() < deadline, "no Baremetal Node agent for %s" % sorted(set(uuids) - hosts)
        time.sleep(2)


def _switch(netlab, leaf):
    out = subprocess.run(["python3", os.path.join(REPO, "lab", "labctl.py"), "switch", leaf, "--json"], env=netlab.env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def _switch_state(netlab):
    return dict((leaf, _switch(netlab, leaf)) for leaf in LEAVES)


def _node_ports(conn, name):
    return list(conn.network.ports(network_id=conn.network.find_network(NET).id, name=name))


def test_vifs_bound_on_the_rack_segment_rerun_check_undeploy(netlab, nconn, lab_module):
    _network_once(lab_module, netlab, nconn)
    nodes = [_node(nconn, "vf-a", 1, 1), _node(nconn, "vf-b", 2, 1), _node(nconn, "vf-bond", 3, 1, bonded=True)]
    _wait_mappings(nconn, [n.id for n in nodes])
    names = [n.name for n in nodes]
    args = dict(nodes=names, image=IMG, network=NET, poll_interval=0.5)

    # Check mode plans the VIF attaches and writes nothing.
    res, r = run_module(netlab, PROVISION, args, check=True, diff=True)
    assert not r.get("failed") and r["api_writes"] == 0, r
    by = dict((n["name"], n) for n in r["nodes"])
    assert "attach VIF (new port) to port group vf-bond-bond0" in by["vf-bond"]["network_changes"]
    assert r["diff"]["after"]["vf-a"]["network_changes"][-1].startswith("attach VIF (new port) to port ")
    assert _node_ports(nconn, "vf-a") == []

    r = lab_module(netlab, PROVISION, args)
    assert not r.get("failed"), r
    by = dict((n["name"], n) for n in r["nodes"])
    assert r["summary"] == {"deployed": 3}, r
    for name, rack in (("vf-a", 1), ("vf-b", 2), ("vf-bond", 3)):
        [port] = _node_ports(nconn, name)  # one port, also for the bonded node
        assert nconn.baremetal.list_node_vifs(name) == [port.id]
        assert port.binding_host_id == nconn.baremetal.get_node(name).id
        assert port.binding_vif_type not in ("binding_failed", "unbound"), port
        assert port.fixed_ips[0]["ip_address"].startswith("10.10.%d." % rack)
        assert by[name]["vifs"][0]["port"] == port.id and by[name]["addresses"] == [port.fixed_ips[0]["ip_address"]]
    bond_group = nconn.baremetal.find_port_group("vf-bond-bond0")
    assert bond_group.internal_info.get("tenant_vif_port_id") == _node_ports(nconn, "vf-bond")[0].id

    # The switches: the rack's VLAN on the node's leaf port, a LAG on both leaves of the bond.
    state = _switch_state(netlab)
    assert state["leaf-r01-a"]["ports"]["Ethernet1/21"]["vlan"] == 101
    assert state["leaf-r02-a"]["ports"]["Ethernet1/21"]["vlan"] == 102
    for leaf in ("leaf-r03-a", "leaf-r03-b"):
        assert state[leaf]["ports"]["Ethernet1/21"]["vlan"] == 103 and state[leaf]["ports"]["Ethernet1/21"]["lag"]
    r = lab_module(netlab, CHECK, dict(nodes=names, switch_state=state, leaf_switches=LEAVES))
    assert not r.get("failed") and r["summary"] == {"checked": 3}, r
    for node in r["nodes"]:
        assert [f for f in node["findings"] if f["blocking"]] == [], node
    bond = [n for n in r["nodes"] if n["name"] == "vf-bond"][0]
    assert sorted((row["leaf"], row["intended"], row["programmed"], row["lag"]) for row in bond["leaf_ports"]) == [
        ("leaf-r03-a", [103], [103], True), ("leaf-r03-b", [103], [103], True)]

    # A re-run: nothing to do, not one write, the same ports.
    r = lab_module(netlab, PROVISION, args)
    assert not r.get("failed") and r["changed"] is False and r["api_writes"] == 0, r
    assert all(n["network_changes"] == [] for n in r["nodes"]), r

    # A VIF taken away from an active node comes back on the next run, without a re-image.
    vif = nconn.baremetal.list_node_vifs("vf-a")[0]
    nconn.baremetal.detach_vif_from_node("vf-a", vif)
    r = lab_module(netlab, CHECK, dict(nodes=["vf-a", "vf-b"], switch_state=_switch_state(netlab),
                                       leaf_switches=LEAVES))
    assert r["failed"] and r["failed_nodes"] == ["vf-a"], r  # the other node is not affected
    assert "no_vif" in [f["finding"] for f in r["nodes"][0]["findings"]]
    r = lab_module(netlab, PROVISION, args)
    assert not r.get("failed"), r
    assert dict((n["name"], n["action"]) for n in r["nodes"])["vf-a"] == "updated", r
    assert nconn.baremetal.list_node_vifs("vf-a") == [vif]  # the same port, the same address
    assert nconn.baremetal.get_node("vf-a").provision_state == "active"

    # Undeploy: VIFs detached, ports deleted, switch ports freed.
    r = lab_module(netlab, PROVISION, dict(nodes=names, state="available", undeploy=True, network=NET,
                                           poll_interval=0.5))
    assert not r.get("failed") and r["summary"] == {"undeployed": 3}, r
    for name in names:
        assert _node_ports(nconn, name) == [] and nconn.baremetal.list_node_vifs(name) == []
    r = lab_module(netlab, PROVISION, dict(nodes=names, state="available", network=NET))
    assert r["changed"] is False and r["api_writes"] == 0, r


def test_no_vif_fails_with_ironics_error(netlab, nconn, lab_module):
    """The negative control: without VIF attachment a deploy on the neutron interface fails as in production."""
    _network_once(lab_module, netlab, nconn)
    node = _node(nconn, "vf-novif", 1, 5)
    _wait_mappings(nconn, [node.id])
    r = lab_module(netlab, PROVISION, dict(nodes=["vf-novif"], image=IMG, network=NET, attach_vifs=False,
                                           retries=0, poll_interval=0.5))
    assert r["failed"] and r["nodes"][0]["action"] == "failed", r
    assert r["nodes"][0]["vifs"][0]["attached"] is False and nconn.baremetal.list_node_vifs("vf-novif") == []
    assert nconn.baremetal.get_node("vf-novif").provision_state == "deploy failed"
    # Ironic's own error (its power sync may clear last_error before the module reads it: the log keeps it).
    with open(os.path.join(netlab.state_dir, "ironic", "ironic.log")) as f:
        log = f.read()
    assert "No neutron ports or portgroups are associated with node %s" % node.id in log
    # Attaching its VIF converges it: the failed deploy is tried again. (Ironic's clean-up of the failed
    # deploy deleted the unattached port on its provisioning network: a new one is made.)
    r = lab_module(netlab, PROVISION, dict(nodes=["vf-novif"], image=IMG, network=NET, poll_interval=0.5))
    assert not r.get("failed") and r["nodes"][0]["action"] == "deployed", r
    assert nconn.baremetal.list_node_vifs("vf-novif") == [p.id for p in _node_ports(nconn, "vf-novif")]
    assert len(nconn.baremetal.list_node_vifs("vf-novif")) == 1


def test_miscabled_node_fails_the_check_alone(netlab, nconn, lab_module):
    """A node whose PXE port names a leaf of another rack: its VIF does not bind there (NGS serves a
    leaf for its own rack's physnet only) and network_check fails that node alone, next to a good one."""
    _network_once(lab_module, netlab, nconn)
    good = _node(nconn, "vf-good", 2, 6)
    bad = _node(nconn, "vf-miscabled", 2, 7, leaf="leaf-r01-a")
    _wait_mappings(nconn, [good.id, bad.id])
    r = lab_module(netlab, PROVISION, dict(nodes=["vf-good"], image=IMG, network=NET, poll_interval=0.5))
    assert not r.get("failed"), r
    # The mis-cabled node's VIF, attached as ironic_provision would before its deploy (not deployed here:
    # its provisioning port would never bind either).
    net = nconn.network.find_network(NET)
    vif = nconn.network.create_port(network_id=net.id, name="vf-miscabled", mac_address="52:54:00:52:07:01")
    nconn.baremetal.attach_vif_to_node("vf-miscabled", vif.id)
    state = _switch_state(netlab)
    assert "Ethernet1/27" not in state["leaf-r01-a"]["ports"]  # the binding never reached the wrong leaf
    r = lab_module(netlab, CHECK, dict(nodes=["vf-good", "vf-miscabled"], switch_state=state,
                                       leaf_switches=LEAVES))
    assert r["failed"] and r["failed_nodes"] == ["vf-miscabled"], r
    by = dict((n["name"], n) for n in r["nodes"])
    assert by["vf-good"]["action"] == "checked"
    kinds = set(f["finding"] for f in by["vf-miscabled"]["findings"] if f["blocking"])
    assert kinds & {"binding_failed", "not_bound"}, by["vf-miscabled"]


def _network_once(lab_module, netlab, nconn):
    if nconn.network.find_network(NET) is None:
        _network(lab_module, netlab)
