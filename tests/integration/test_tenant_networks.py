"""Tenant networks per node role (issue #24), against the lab running Ironic's neutron network
interface, networking-generic-switch (a fake switch per leaf) and networking-baremetal: a storage
node gets a VIF on the `storage` VLAN network (one segment per rack) on its second NIC, bound on its
rack's segment, and that NIC's leaf port carries the rack's storage VLAN; a changed role moves the
VLAN with VIF detach/attach and no re-image; re-runs write nothing; check mode writes nothing."""
import time

from lab.harness import run_module
from .test_vifs import IMG, NET, PROVISION, CHECK, LEAVES, _network_once, _node, _switch, _switch_state, _wait_mappings
from .test_vifs import netlab, nconn  # noqa: F401 pylint: disable=unused-import

STORAGE = "storage"
ROLE_NETWORKS = [{"name": NET, "provisioning": True},  # given as the site's routed_networks: no roles, ignored
                 {"name": STORAGE, "roles": ["storage"]}]


def _storage_network(netlab, nconn):
    if nconn.network.find_network(STORAGE) is not None:
        return
    segs = [dict(name="%s-r%02d" % (STORAGE, i), physical_network="leaf%d" % i, segmentation_id=200 + i,
                 subnets=[dict(name="%s-r%02d" % (STORAGE, i), cidr="10.20.%d.0/24" % i, gateway_ip="10.20.%d.1" % i)])
            for i in (1, 2, 3)]
    res, r = run_module(netlab, "spineleaf.baremetal.routed_network", dict(name=STORAGE, segments=segs))
    assert not r.get("failed"), r


def _ports(conn, network, name):
    return list(conn.network.ports(network_id=conn.network.find_network(network).id, name=name))


def _provision_updated_at(conn, name):
    """When the node last changed provision state (a re-image would change it); not in the SDK's Node."""
    return conn.baremetal.get("/nodes/%s" % name, microversion="1.80").json()["provision_updated_at"]


def _wait_port(netlab, leaf, port, vlan, timeout=30):
    """The switch driver's plug is logged a moment after the binding: wait for the port to carry
    ``vlan`` (None: to be unplugged)."""
    deadline = time.monotonic() + timeout
    while True:
        state = _switch(netlab, leaf)["ports"].get(port)
        if (state or {}).get("vlan") == vlan:
            return
        assert time.monotonic() < deadline, "%s %s: %s, wanted VLAN %s" % (leaf, port, state, vlan)
        time.sleep(1)


def test_role_network_vif_and_role_change_without_reimage(lab_module, netlab, nconn):
    _network_once(lab_module, netlab, nconn)
    _storage_network(netlab, nconn)
    st, cmp_ = _node(nconn, "tn-st", 1, 11), _node(nconn, "tn-cmp", 2, 12)
    _wait_mappings(nconn, [st.id, cmp_.id])
    nodes = [{"name": "tn-st", "role": "storage"}, {"name": "tn-cmp", "role": "compute"}]
    args = dict(nodes=nodes, image=IMG, network=NET, role_networks=ROLE_NETWORKS, poll_interval=0.5)

    # Check mode: the storage VIF planned on the second NIC, nothing written.
    res, r = run_module(netlab, PROVISION, args, check=True, diff=True)
    assert not r.get("failed") and r["api_writes"] == 0, r
    by = dict((n["name"], n) for n in r["nodes"])
    assert "attach VIF (new port) (network storage) to port 52:54:00:51:11:02" in by["tn-st"]["network_changes"], r
    assert not any("storage" in c for c in by["tn-cmp"]["network_changes"]), r
    assert _ports(nconn, STORAGE, "tn-st") == []

    # Deploy: the storage node has two VIFs, the storage one bound on rack r01's storage segment.
    res, r = run_module(netlab, PROVISION, args)
    assert not r.get("failed") and r["summary"] == {"deployed": 2}, r
    [sport] = _ports(nconn, STORAGE, "tn-st")
    [pport] = _ports(nconn, NET, "tn-st")
    assert sorted(nconn.baremetal.list_node_vifs("tn-st")) == sorted([sport.id, pport.id])
    assert sport.binding_host_id == st.id and sport.binding_vif_type not in ("binding_failed", "unbound"), sport
    assert sport.fixed_ips[0]["ip_address"].startswith("10.20.1.")
    nic2 = [p for p in nconn.baremetal.ports(node_id=st.id, details=True) if p.address == "52:54:00:51:11:02"][0]
    assert nic2.internal_info.get("tenant_vif_port_id") == sport.id
    assert _ports(nconn, STORAGE, "tn-cmp") == [] and len(nconn.baremetal.list_node_vifs("tn-cmp")) == 1
    by = dict((n["name"], n) for n in r["nodes"])
    assert [v["network"] for v in by["tn-st"]["vifs"] if v.get("network")] == [STORAGE]
    # The switches: provisioning VLAN on the PXE NIC's leaf port, the storage VLAN on the other one.
    _wait_port(netlab, "leaf-r01-b", "Ethernet1/31", 201)
    state = _switch_state(netlab)
    assert state["leaf-r01-a"]["ports"]["Ethernet1/31"]["vlan"] == 101
    assert "Ethernet1/32" not in state["leaf-r02-b"]["ports"]  # the compute node has no storage VLAN
    res, r = run_module(netlab, CHECK, dict(nodes=["tn-st", "tn-cmp"], switch_state=state, leaf_switches=LEAVES))
    assert not r.get("failed") and r["summary"] == {"checked": 2}, r
    rows = dict(((row["leaf"], row["port"]), row) for row in r["nodes"][0]["leaf_ports"])
    assert rows[("leaf-r01-b", "Ethernet1/31")]["intended"] == [201] == rows[("leaf-r01-b", "Ethernet1/31")]["programmed"]

    # A re-run: not one write.
    res, r = run_module(netlab, PROVISION, args)
    assert not r.get("failed") and r["changed"] is False and r["api_writes"] == 0, r

    # The roles change: the storage VLAN moves from tn-st to tn-cmp, no re-image.
    before = dict((n, _provision_updated_at(nconn, n)) for n in ("tn-st", "tn-cmp"))
    swapped = [{"name": "tn-st", "role": "compute"}, {"name": "tn-cmp", "role": "storage"}]
    moved = dict(args, nodes=swapped)
    res, r = run_module(netlab, PROVISION, moved, check=True, diff=True)
    assert not r.get("failed") and r["api_writes"] == 0 and r["changed"] is True, r
    assert dict((n["name"], n["action"]) for n in r["nodes"]) == {"tn-st": "networks_moved", "tn-cmp": "networks_moved"}
    assert "detach VIF %s (network storage)" % sport.id in r["diff"]["after"]["tn-st"]["network_changes"], r
    assert [p.id for p in _ports(nconn, STORAGE, "tn-st")] == [sport.id]  # check mode wrote nothing

    res, r = run_module(netlab, PROVISION, moved)
    assert not r.get("failed"), r
    assert r["summary"] == {"networks_moved": 2}, r
    for name in ("tn-st", "tn-cmp"):
        node = nconn.baremetal.get_node(name)
        assert node.provision_state == "active" and _provision_updated_at(nconn, name) == before[name]
        assert node.instance_info.get("image_source") == IMG["source"]
    assert _ports(nconn, STORAGE, "tn-st") == [] and nconn.baremetal.list_node_vifs("tn-st") == [pport.id]
    [cport] = _ports(nconn, STORAGE, "tn-cmp")
    assert cport.id in nconn.baremetal.list_node_vifs("tn-cmp") and cport.fixed_ips[0]["ip_address"].startswith("10.20.2.")
    _wait_port(netlab, "leaf-r02-b", "Ethernet1/32", 202)
    _wait_port(netlab, "leaf-r01-b", "Ethernet1/31", None)
    assert _switch(netlab, "leaf-r01-a")["ports"]["Ethernet1/31"]["vlan"] == 101  # provisioning untouched

    res, r = run_module(netlab, PROVISION, moved)
    assert not r.get("failed") and r["changed"] is False and r["api_writes"] == 0, r

    # Undeploy: no port left on either network.
    res, r = run_module(netlab, PROVISION, dict(nodes=swapped, state="available", undeploy=True, network=NET,
                                                role_networks=ROLE_NETWORKS, poll_interval=0.5))
    assert not r.get("failed") and r["summary"] == {"undeployed": 2}, r
    for name in ("tn-st", "tn-cmp"):
        assert _ports(nconn, STORAGE, name) == [] and _ports(nconn, NET, name) == []
        assert nconn.baremetal.list_node_vifs(name) == []
