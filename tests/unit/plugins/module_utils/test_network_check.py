"""network_check planner: host mappings, VIF bindings and segments, leaf VLANs intended vs programmed."""
from ansible_collections.spineleaf.baremetal.plugins.module_utils import _network_check as nc

LEAVES = {"leaf-r01-a": {"rack": "r01", "chassis_id": "00:1c:73:01:00:0a"},
          "leaf-r01-b": {"rack": "r01", "chassis_id": "00:1c:73:01:00:0b"}}
SEGMENTS = [{"id": "g1", "name": "ctlplane-r01", "network_id": "net", "physical_network": "leaf1",
             "network_type": "vlan", "segmentation_id": 101},
            {"id": "g2", "name": "ctlplane-r02", "network_id": "net", "physical_network": "leaf2",
             "network_type": "vlan", "segmentation_id": 102}]
SUBNETS = [{"id": "s1", "name": "ctlplane-r01", "segment_id": "g1", "cidr": "10.10.1.0/24"},
           {"id": "s2", "name": "ctlplane-r02", "segment_id": "g2", "cidr": "10.10.2.0/24"}]
AGENT = {"agent_type": "Baremetal Node", "host": "n1", "alive": True, "configurations": {"bridge_mappings": {"leaf1": "yes"}}}
NODE = {"uuid": "n1", "name": "r01-n01", "network_interface": "neutron", "provision_state": "active"}


def iport(uuid, mac, leaf_chassis, port, vif=None, pg=None):
    return {"uuid": uuid, "address": mac, "node_uuid": "n1", "physical_network": "leaf1", "portgroup_uuid": pg,
            "local_link_connection": {"switch_id": leaf_chassis, "port_id": port},
            "internal_info": {"tenant_vif_port_id": vif} if vif else {}}


def vport(vif_type="other", ip="10.10.1.7", subnet="s1", host="n1"):
    return {"id": "vif1", "network_id": "net", "mac_address": "52:54:00:01:01:01", "binding_vif_type": vif_type,
            "binding_host_id": host, "fixed_ips": [{"subnet_id": subnet, "ip_address": ip}]}


def site(agents=(AGENT,), vif_ports=None, ports=None, groups=()):
    ports = ports if ports is not None else [
        iport("p1", "52:54:00:01:01:01", "00:1c:73:01:00:0a", "Ethernet1/1", vif="vif1"),
        iport("p2", "52:54:00:01:01:02", "00:1c:73:01:00:0b", "Ethernet1/1")]
    return nc.Site(SEGMENTS, SUBNETS, list(agents), ports, list(groups),
                   [vport()] if vif_ports is None else vif_ports, leaf_switches=LEAVES)


def kinds(result):
    return sorted(f["finding"] for f in result["findings"])


def test_good_node_passes_with_switch_state():
    state = {"leaf-r01-a": {"Ethernet1/1": [101]}, "leaf-r01-b": {"Ethernet1/1": {"vlans": []}}}
    [res] = nc.check([NODE], site(), state)
    assert res["action"] == "checked" and not res["failed"] and res["findings"] == []
    assert res["leaf_ports"] == [
        {"leaf": "leaf-r01-a", "port": "Ethernet1/1", "nic": "52:54:00:01:01:01", "intended": [101], "programmed": [101],
         "lag": None, "lag_intended": False},
        {"leaf": "leaf-r01-b", "port": "Ethernet1/1", "nic": "52:54:00:01:01:02", "intended": [], "programmed": [],
         "lag": None, "lag_intended": False}]
    assert res["vifs"][0]["segment"] == "ctlplane-r01"


def test_without_switch_state_only_bindings_are_checked():
    [res] = nc.check([NODE], site())
    assert res["action"] == "checked" and res["leaf_ports"][0]["programmed"] is None


def test_no_host_mapping_and_wrong_physnet():
    assert kinds(nc.check([NODE], site(agents=()))[0]) == ["no_host_mapping"]
    other = dict(AGENT, configurations={"bridge_mappings": {"leaf2": "yes"}})
    res = nc.check([NODE], site(agents=(other,)))[0]
    assert kinds(res) == ["mapping_wrong_physnet"] and res["failed"]
    dead = dict(AGENT, alive=False)
    res = nc.check([NODE], site(agents=(dead,)))[0]
    assert kinds(res) == ["agent_down"] and not res["failed"]  # a warning: the mapping stays


def test_binding_failed_unbound_and_wrong_host():
    assert kinds(nc.check([NODE], site(vif_ports=[vport("binding_failed")]))[0]) == ["binding_failed"]
    assert kinds(nc.check([NODE], site(vif_ports=[vport("unbound")]))[0]) == ["not_bound"]
    assert kinds(nc.check([NODE], site(vif_ports=[vport(host="other")]))[0]) == ["wrong_host"]


def test_address_from_another_racks_subnet():
    res = nc.check([NODE], site(vif_ports=[vport(ip="10.10.2.9", subnet="s2")]))[0]
    assert kinds(res) == ["wrong_segment"] and "ctlplane-r02" in res["msg"]


def test_vif_port_missing_and_active_without_vif():
    assert kinds(nc.check([NODE], site(vif_ports=[]))[0]) == ["vif_port_missing"]
    bare = [iport("p1", "52:54:00:01:01:01", "00:1c:73:01:00:0a", "Ethernet1/1")]
    assert kinds(nc.check([NODE], site(ports=bare))[0]) == ["no_vif"]
    assert nc.check([dict(NODE, provision_state="available")], site(ports=bare))[0]["action"] == "checked"


def test_leaf_vlans_missing_extra_and_unreported():
    res = nc.check([NODE], site(), {"leaf-r01-a": {"Ethernet1/1": []}, "leaf-r01-b": {"Ethernet1/1": [101]}})[0]
    assert kinds(res) == ["vlan_extra", "vlan_missing"]
    missing = [f for f in res["findings"] if f["finding"] == "vlan_missing"][0]
    assert missing["leaf"] == "leaf-r01-a" and missing["port"] == "Ethernet1/1" and missing["intended"] == [101]
    res = nc.check([NODE], site(), {"leaf-r01-a": {"Ethernet1/1": [101]}})[0]
    assert kinds(res) == ["leaf_not_reported"] and not res["failed"]


def test_bond_vif_on_port_group_needs_vlan_on_both_members():
    group = {"uuid": "g", "name": "r01-n01-bond0", "node_uuid": "n1", "mode": "802.3ad",
             "internal_info": {"tenant_vif_port_id": "vif1"}}
    ports = [iport("p1", "52:54:00:01:01:01", "00:1c:73:01:00:0a", "Ethernet1/1", pg="g"),
             iport("p2", "52:54:00:01:01:02", "00:1c:73:01:00:0b", "Ethernet1/1", pg="g")]
    res = nc.check([NODE], site(ports=ports, groups=[group]),
                   {"leaf-r01-a": {"Ethernet1/1": [101]}, "leaf-r01-b": {"Ethernet1/1": []}})[0]
    assert kinds(res) == ["vlan_missing"] and res["findings"][0]["leaf"] == "leaf-r01-b"
    assert res["vifs"][0]["on"] == "r01-n01-bond0"


def test_noop_node_is_not_checked_and_switch_info_names_a_leaf():
    assert nc.check([dict(NODE, network_interface="noop")], site())[0]["action"] == "not_checked"
    port = iport("p1", "52:54:00:01:01:01", "aa:bb:cc:dd:ee:ff", "Ethernet1/1", vif="vif1")
    port["local_link_connection"]["switch_info"] = "leaf-x"
    res = nc.check([NODE], site(ports=[port]), {"leaf-x": {"Ethernet1/1": [101]}})[0]
    assert res["action"] == "checked" and res["leaf_ports"][0]["leaf"] == "leaf-x"


def test_labctl_switch_documents_and_lag():
    group = {"uuid": "g", "name": "r01-n01-bond0", "node_uuid": "n1", "mode": "802.3ad",
             "internal_info": {"tenant_vif_port_id": "vif1"}}
    ports = [iport("p1", "52:54:00:01:01:01", "00:1c:73:01:00:0a", "Ethernet1/1", pg="g"),
             iport("p2", "52:54:00:01:01:02", "00:1c:73:01:00:0b", "Ethernet1/1", pg="g")]
    lab = {"leaf-r01-a": {"switch": "leaf-r01-a", "ports": {"Ethernet1/1": {"vlan": 101, "tagged": [], "lag": True}}},
           "leaf-r01-b": {"switch": "leaf-r01-b", "ports": {"Ethernet1/1": {"vlan": 101, "tagged": [], "lag": False}}}}
    res = nc.check([NODE], site(ports=ports, groups=[group]), lab)[0]
    assert kinds(res) == ["not_lag"] and res["findings"][0]["leaf"] == "leaf-r01-b"
    lab["leaf-r01-b"]["ports"]["Ethernet1/1"]["lag"] = True
    res = nc.check([NODE], site(ports=ports, groups=[group]), lab)[0]
    assert res["findings"] == [] and [r["lag"] for r in res["leaf_ports"]] == [True, True]
    tagged = nc.normalize_switch_state({"l": {"ports": {"E1": {"vlan": 5, "tagged": [7, 6]}}}})
    assert tagged == {"l": {"E1": {"vlans": [5, 6, 7], "lag": None}}}


def test_flat_node_gets_every_check_but_the_leaf_vlans():
    """flat: Ironic sends no local_link_information, no switch driver programs the leaf ports - an
    empty switch state is no finding there, the binding and the segment still are."""
    flat = dict(NODE, network_interface="flat")
    empty = {"leaf-r01-a": {"Ethernet1/1": []}, "leaf-r01-b": {"Ethernet1/1": []}}
    res = nc.check([flat], site(), empty)[0]
    assert res["action"] == "checked" and res["findings"] == []
    assert [(r["leaf"], r["intended"], r["programmed"]) for r in res["leaf_ports"]] == [
        ("leaf-r01-a", [101], None), ("leaf-r01-b", [], None)]
    # Ironic's flat interface sends no link information: Neutron may leave the port binding_failed
    # (networking-baremetal 8 binds only ports with it) - a warning; the host Ironic set is checked.
    res = nc.check([flat], site(vif_ports=[vport("binding_failed")]), empty)[0]
    assert kinds(res) == ["flat_not_bound"] and not res["failed"] and res["action"] == "checked"
    assert kinds(nc.check([flat], site(vif_ports=[vport("unbound", host="")]), empty)[0]) == ["flat_not_bound", "not_bound"]
    assert kinds(nc.check([flat], site(vif_ports=[vport(host="other")]), empty)[0]) == ["wrong_host"]
    assert kinds(nc.check([flat], site(vif_ports=[vport(ip="10.10.2.9", subnet="s2")]), empty)[0]) == ["wrong_segment"]
    assert kinds(nc.check([flat], site(agents=()), empty)[0]) == ["no_host_mapping"]
    assert kinds(nc.check([NODE], site(), empty)[0]) == ["vlan_missing"]  # neutron: the same state is a finding


def test_vlan_not_created_on_a_leaf_is_a_finding_per_leaf_not_blocking():
    """NGS creates a network's VLAN only for its first segment: a leaf whose document lists the VLANs
    created on it and lacks an intended one gets a finding naming the leaf; the node still passes."""
    state = {"leaf-r01-a": {"switch": "leaf-r01-a", "ports": {"Ethernet1/1": {"vlan": 101, "tagged": [], "lag": False}},
                            "vlans": [100]},
             "leaf-r01-b": {"switch": "leaf-r01-b", "ports": {}, "vlans": []}}
    [res] = nc.check([NODE], site(), state)
    assert res["action"] == "checked" and not res["failed"]
    [finding] = res["findings"]
    assert finding["finding"] == "vlan_not_created" and finding["blocking"] is False
    assert finding["leaf"] == "leaf-r01-a" and finding["vlans"] == [101] and finding["created"] == [100]
    assert "leaf-r01-a was never told to create VLAN 101" in finding["msg"]
    # created there: no finding; a leaf reported by its ports only: nothing said
    state["leaf-r01-a"]["vlans"] = [101]
    assert nc.check([NODE], site(), state)[0]["findings"] == []
    assert nc.check([NODE], site(), {"leaf-r01-a": {"Ethernet1/1": [101]}, "leaf-r01-b": {}})[0]["findings"] == []
