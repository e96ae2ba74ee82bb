"""The lab runs Ironic's and Neutron's own network code (issue 24, part 1).

A lab-hardware node (the lab's `lab` deploy interface makes a direct deploy's network calls) is
deployed against the lab's Neutron (ML2 genericswitch + baremetal, one netmiko_fake switch per
leaf, ironic-neutron-agent mapping each node to its rack's segment):

- with no VIF the deploy fails with Ironic's own error, as in production;
- with a VIF (a Neutron port on the routed provisioning network) it deploys, the port is bound on
  the node's rack segment with an address of the rack's subnet, and `labctl.py switch <leaf>`
  shows the plug on the node's leaf port; rebuild and undeploy replay the steps in reverse.

The lab these tests need runs with LAB_NETWORK_INTERFACE set. When the session's lab does not
(LAB_NETWORK_INTERFACE unset: noop and no DHCP provider, the lab default until the collection
attaches VIFs), the module starts a lab of its own on the session ports + 70.
"""
import ipaddress
import json
import os
import shutil
import subprocess
import time

import pytest

from lab.harness import REPO, Lab

NETWORK = "ctlplane"  # inventory/lab: the routed_networks entry with provisioning: true
RACKS = {  # rack -> (physnet, VLAN, subnet, leaf, leaf chassis ID as the lab ramdisk reports it)
    "r01": ("leaf1", 101, "10.10.1.0/24", "leaf-r01-a", "00:1c:73:01:00:0a"),
    "r02": ("leaf2", 102, "10.10.2.0/24", "leaf-r02-a", "00:1c:73:02:00:0a"),
    "r03": ("leaf3", 103, "10.10.3.0/24", "leaf-r03-a", "00:1c:73:03:00:0a"),
}
IMAGE = {"image_source": "http://images.lab.invalid/netlab-1.0.qcow2", "image_checksum": "0" * 32}
NO_VIF_ERRORS = {
    # Ironic's own errors for a deploy with no VIF, per network interface.
    "noop": "No VIFs found for node %s when attempting to update DHCP BOOT options",
    "flat": "Failed to bind any flat network ports for node %s",
    "neutron": "No neutron ports or portgroups are associated with node %s",
}


@pytest.fixture(scope="module")
def netlab(request):
    if os.environ.get("LAB_NETWORK_INTERFACE") in ("neutron", "flat", "noop"):
        yield request.getfixturevalue("lab")
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    offset = 70 + (10 * int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0)
    state = os.path.join(REPO, ".lab", "test-netlab" + ("-" + worker if worker else ""))
    instance = Lab(int(os.environ.get("TEST_IRONIC_PORT", "16385")) + offset,
                   int(os.environ.get("TEST_NEUTRON_PORT", "19696")) + offset, state)
    instance.env.update(LAB_NETWORK_INTERFACE="neutron", LAB_DEPLOY_DELAY="1")
    instance.env.setdefault("LAB_START_TIMEOUT", "240")  # a second lab on a loaded machine
    instance.env.pop("LAB_SITE", None)
    with instance.fresh():
        yield instance
    shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="module")
def nconn(netlab):
    return netlab.connect()


@pytest.fixture(scope="module")
def segments(nconn):
    """The routed provisioning network, one segment + subnet per rack: {rack: (segment, subnet)}.
    Created with one segment first: POST /networks with a segments list is a 500 with the
    baremetal mechanism driver."""
    net = nconn.network
    network = net.find_network(NETWORK)
    if network is None:
        physnet, vlan, _cidr, _leaf, _mac = RACKS["r01"]
        network = net.create_network(name=NETWORK, provider_network_type="vlan",
                                     provider_physical_network=physnet, provider_segmentation_id=vlan)
    out = {}
    for rack, (physnet, vlan, cidr, _leaf, _mac) in sorted(RACKS.items()):
        seg = next((s for s in net.segments(network_id=network.id) if s.physical_network == physnet), None)
        if seg is None:
            seg = net.create_segment(network_id=network.id, network_type="vlan", physical_network=physnet,
                                     segmentation_id=vlan, name="%s-%s" % (NETWORK, rack))
        subnet = next((s for s in net.subnets(network_id=network.id) if s.segment_id == seg.id), None)
        if subnet is None:
            subnet = net.create_subnet(network_id=network.id, segment_id=seg.id, cidr=cidr, ip_version=4,
                                       name="%s-%s" % (NETWORK, rack))
        out[rack] = (seg, subnet)
    return network, out


def switch(netlab, leaf):
    """`labctl.py switch LEAF --json` of this lab."""
    out = subprocess.run(["python3", os.path.join(REPO, "lab", "labctl.py"), "switch", leaf, "--json"],
                         env=netlab.env, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def wait_state(conn, node_id, states, timeout=240):
    deadline = time.time() + timeout
    while time.time() < deadline:
        node = conn.baremetal.get_node(node_id)
        # A failed deploy keeps its target ("deploy failed" -> active): settled all the same.
        # (Ironic moves a node to "deploy failed" a moment before it writes last_error.)
        if node.provision_state in states and (node.target_provision_state is None
                                               or node.provision_state.endswith("failed") and node.last_error):
            return node
        time.sleep(0.5)
    raise AssertionError("node %s still %s after %ss" % (node_id, node.provision_state, timeout))


def make_node(conn, name, rack, port, network_interface="neutron"):
    """An available lab-hardware node with one PXE port cabled to its rack's first leaf; waits for
    ironic-neutron-agent's report (the node's segment host mapping)."""
    physnet, _vlan, _cidr, leaf, chassis = RACKS[rack]
    bm = conn.baremetal
    old = bm.find_node(name)
    if old:
        if old.provision_state not in ("available", "manageable", "enroll"):
            bm.set_node_maintenance(old, True)
        bm.delete_node(old)
    node = bm.create_node(name=name, driver="lab-hardware", network_interface=network_interface)
    bm.create_port(node_id=node.id, address="52:54:00:aa:%02d:%02d" % (int(rack[1:]), int(port.split("/")[-1])),
                   physical_network=physnet, pxe_enabled=True,
                   local_link_connection={"switch_id": chassis, "port_id": port, "switch_info": leaf})
    bm.set_node_provision_state(node, "manage", wait=True, timeout=120)
    bm.set_node_provision_state(node, "provide", wait=True, timeout=120)
    deadline = time.time() + 60
    while time.time() < deadline:
        agents = list(conn.network.agents(host=node.id))
        if agents:
            assert agents[0].agent_type == "Baremetal Node"
            assert agents[0].configuration["bridge_mappings"] == {physnet: "yes"}
            return bm.get_node(node.id)
        time.sleep(1)
    raise AssertionError("ironic-neutron-agent never reported node %s" % name)


def deploy(conn, node):
    conn.baremetal.patch_node(node.id, [{"op": "add", "path": "/instance_info", "value": dict(IMAGE)}])
    conn.baremetal.set_node_provision_state(node.id, "active")
    return wait_state(conn, node.id, ("active", "deploy failed"))


@pytest.mark.parametrize("iface", ["noop", "flat", "neutron"])
def test_deploy_without_vif_fails_with_ironics_own_error(netlab, nconn, segments, iface):
    node = make_node(nconn, "nl-novif-%s" % iface, "r01", "Ethernet1/%d" % (10 + list(NO_VIF_ERRORS).index(iface)),
                     network_interface=iface)
    assert node.deploy_interface == "lab"
    assert node.network_interface == iface
    done = deploy(nconn, node)
    assert done.provision_state == "deploy failed"
    assert NO_VIF_ERRORS[iface] % node.id in done.last_error
    # Whatever was plugged for provisioning on the way was taken back off the leaf.
    assert "Ethernet1/%d" % (10 + list(NO_VIF_ERRORS).index(iface)) not in switch(netlab, "leaf-r01-a")["ports"]


def test_deploy_with_vif_binds_on_the_rack_segment_and_programs_the_leaf(netlab, nconn, segments):
    network, racks = segments
    seg, subnet = racks["r02"]
    node = make_node(nconn, "nl-vif", "r02", "Ethernet1/2")
    vif = nconn.network.create_port(network_id=network.id, name="nl-vif-ctlplane")
    assert vif.ip_allocation == "deferred"  # no host yet: the rack is not known
    nconn.baremetal.attach_vif_to_node(node, vif.id)
    assert list(nconn.baremetal.list_node_vifs(node)) == [vif.id]
    before = len(switch(netlab, "leaf-r02-a")["calls"])

    done = deploy(nconn, node)
    assert done.provision_state == "active", done.last_error

    port = nconn.network.get_port(vif.id)
    assert port.status == "ACTIVE"
    assert port.binding_host_id == node.id
    assert port.binding_vif_type not in ("binding_failed", "unbound")
    assert port.binding_profile["local_link_information"] == [
        {"switch_id": RACKS["r02"][4], "port_id": "Ethernet1/2", "switch_info": "leaf-r02-a"}]
    assert port.binding_profile["physical_network"] == "leaf2"
    # On the rack's segment: an address of the rack's subnet, the subnet of the rack's segment.
    (fixed,) = port.fixed_ips
    assert fixed["subnet_id"] == subnet.id and subnet.segment_id == seg.id
    assert ipaddress.ip_address(fixed["ip_address"]) in ipaddress.ip_network(RACKS["r02"][2])

    leaf = switch(netlab, "leaf-r02-a")
    assert leaf["ports"]["Ethernet1/2"] == {"vlan": 102, "tagged": [], "lag": False}
    # A direct deploy's order: provisioning port plugged, removed, then the tenant VIF plugged.
    ops = [(c["op"], c.get("port"), c.get("vlan")) for c in leaf["calls"][before:]]
    assert ops == [("plug", "Ethernet1/2", 102), ("unplug", "Ethernet1/2", 102), ("plug", "Ethernet1/2", 102)]
    # Nothing on another rack's leaf.
    assert "Ethernet1/2" not in switch(netlab, "leaf-r01-a")["ports"]

    # Rebuild (HTTP image: Ironic 39's rebuild bug does not apply) replays the network steps and
    # keeps the VIF and its address.
    before = len(leaf["calls"])
    nconn.baremetal.set_node_provision_state(node.id, "rebuild")
    done = wait_state(nconn, node.id, ("active", "deploy failed"))
    assert done.provision_state == "active", done.last_error
    ops = [(c["op"], c.get("port")) for c in switch(netlab, "leaf-r02-a")["calls"][before:]]
    assert ops == [("unplug", "Ethernet1/2"), ("plug", "Ethernet1/2"), ("unplug", "Ethernet1/2"),
                   ("plug", "Ethernet1/2")]
    assert nconn.network.get_port(vif.id).fixed_ips == port.fixed_ips

    # Undeploy takes the node off the leaf.
    nconn.baremetal.set_node_provision_state(node.id, "deleted")
    wait_state(nconn, node.id, ("available",))
    assert "Ethernet1/2" not in switch(netlab, "leaf-r02-a")["ports"]


def test_bonded_node_binds_a_lag_on_both_leaves(netlab, nconn, segments):
    """A VIF on an 802.3ad port group: NGS plugs the bond on each leaf of the MLAG pair."""
    network, racks = segments
    bm = nconn.baremetal
    old = bm.find_node("nl-bond")
    if old:
        bm.delete_node(old)
    node = bm.create_node(name="nl-bond", driver="lab-hardware", network_interface="neutron")
    group = bm.create_port_group(node_id=node.id, name="nl-bond-bond0", address="52:54:00:bb:03:05",
                                 mode="802.3ad", standalone_ports_supported=True)
    for i, (leaf, chassis) in enumerate((("leaf-r03-a", "00:1c:73:03:00:0a"), ("leaf-r03-b", "00:1c:73:03:00:0b"))):
        bm.create_port(node_id=node.id, port_group_id=group.id, address="52:54:00:bb:03:%02d" % (5 + i),
                       physical_network="leaf3", pxe_enabled=i == 0,
                       local_link_connection={"switch_id": chassis, "port_id": "Ethernet1/5", "switch_info": leaf})
    bm.set_node_provision_state(node, "manage", wait=True, timeout=120)
    bm.set_node_provision_state(node, "provide", wait=True, timeout=120)
    deadline = time.time() + 60
    while not list(nconn.network.agents(host=node.id)):
        assert time.time() < deadline, "ironic-neutron-agent never reported nl-bond"
        time.sleep(1)
    vif = nconn.network.create_port(network_id=network.id, name="nl-bond-ctlplane")
    bm.attach_vif_to_node(node, vif.id)
    done = deploy(nconn, node)
    assert done.provision_state == "active", done.last_error
    port = nconn.network.get_port(vif.id)
    assert port.status == "ACTIVE"
    assert sorted(link["switch_info"] for link in port.binding_profile["local_link_information"]) == [
        "leaf-r03-a", "leaf-r03-b"]
    assert port.binding_profile["local_group_information"]["bond_mode"] == "802.3ad"
    assert port.fixed_ips[0]["subnet_id"] == racks["r03"][1].id
    for leaf in ("leaf-r03-a", "leaf-r03-b"):
        assert switch(netlab, leaf)["ports"]["Ethernet1/5"] == {"vlan": 103, "tagged": [], "lag": True}, leaf


def test_rebuild_bug_needs_an_image_ironic_can_type(netlab, nconn, segments):
    """Ironic 39 answers 500 "cannot access local variable 'auto_lessee'" to a rebuild when it
    cannot tell the image's type: instance_info without image_source, or a Glance ID that Glance
    cannot describe, and no image_type. With image_type (or an HTTP image) the rebuild runs."""
    node = make_node(nconn, "nl-rebuild", "r03", "Ethernet1/3")
    bm = nconn.baremetal
    vif = nconn.network.create_port(network_id=segments[0].id, name="nl-rebuild-ctlplane")
    bm.attach_vif_to_node(node, vif.id)
    assert deploy(nconn, node).provision_state == "active"

    def rebuild(instance_info):
        bm.patch_node(node.id, [{"op": "replace", "path": "/instance_info", "value": instance_info}])
        return bm.put("/nodes/%s/states/provision" % node.id, json={"target": "rebuild"},
                      microversion="1.81", raise_exc=False)

    glance_id = "3f8e5c1a-6b2d-4e9f-8a7c-1d2e3f4a5b6c"
    for instance_info in ({"image_checksum": "0" * 32}, {"image_source": glance_id}):
        resp = rebuild(instance_info)
        assert resp.status_code == 500 and "auto_lessee" in resp.text, (instance_info, resp.status_code, resp.text)
        assert bm.get_node(node.id).provision_state == "active"
    resp = rebuild({"image_source": glance_id, "image_type": "whole-disk"})
    assert resp.status_code == 202, resp.text
    assert wait_state(nconn, node.id, ("active", "deploy failed")).provision_state == "active"


def test_labctl_switch_and_status(netlab, nconn, segments):
    env = netlab.env
    ctl = ["python3", os.path.join(REPO, "lab", "labctl.py")]
    text = subprocess.run(ctl + ["switch", "leaf-r02-a"], env=env, capture_output=True, text=True, check=True).stdout
    assert text.startswith("switch leaf-r02-a: ") and "ports now:" in text
    bad = subprocess.run(ctl + ["switch", "leaf-r09-z"], env=env, capture_output=True, text=True, check=False)
    assert bad.returncode != 0 and "leaf-r01-a" in bad.stderr  # names the leaves it has
    proc = subprocess.run(ctl + ["status"], env=env, capture_output=True, text=True, check=False)
    status = json.loads(proc.stdout)
    for name in ("ironic", "neutron", "neutron-rpc", "neutron-agent"):
        assert status[name]["pid"] and status[name]["answers"], (name, proc.stdout)
    assert proc.returncode == 0, proc.stdout
