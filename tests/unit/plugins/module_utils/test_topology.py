"""Topology mapping and every cabling finding, without a server."""
from ansible_collections.spineleaf.baremetal.plugins.module_utils._topology import (
    SwitchMap, analyse, plan_node_writes, render_html)

SWITCHES = {
    "leaf-r01-a": {"rack": "r01", "chassis_id": "00:1c:73:01:00:0a", "mlag_peer": "leaf-r01-b",
                   "physical_network": "leaf1", "provisioning_vlan": 101, "mtu": 9000},
    "leaf-r01-b": {"rack": "r01", "chassis_id": "00:1c:73:01:00:0b", "mlag_peer": "leaf-r01-a",
                   "physical_network": "leaf1", "provisioning_vlan": 101, "mtu": 9000},
    "leaf-r01-c": {"rack": "r01", "physical_network": "leaf1"},
    "leaf-r02-a": {"rack": "r02", "physical_network": "leaf2"},
    "00:1c:73:09:00:0a": {"rack": "r09"},
    r"^spine-\d+$": {"rack": "spine"},
}


def nbr(switch, port, chassis=None, vlans=(101,), mtu=9000, port_id=None):
    out = {"switch_system_name": switch, "switch_port_id": port_id or port, "switch_port_description": port,
           "switch_port_vlans": [{"id": v, "name": "v%d" % v} for v in vlans], "switch_port_mtu": mtu}
    if chassis:
        out["switch_chassis_id"] = chassis
    return out


def node(name, nics, rack="r01", bonds=()):
    return {"name": name,
            "neighbours": {n: parsed for n, parsed in nics.items() if parsed},
            "interfaces": [{"name": n, "mac_address": "52:54:00:00:%02x:%02x" % (len(name), i)} for i, n in enumerate(nics)],
            "expected": {"rack": rack, "bonds": list(bonds)}}


def kinds(findings, who=None):
    return sorted(set(f["finding"] for f in findings if who is None or f["node"] == who))


def test_clean_node_has_no_findings():
    topo, findings = analyse([node("n1", {"eno1": nbr("leaf-r01-a", "Ethernet1/1"), "eno2": nbr("leaf-r01-b", "Ethernet1/1")},
                                   bonds=[{"name": "bond0", "members": ["eno1", "eno2"]}])], SWITCHES)
    assert findings == []
    assert topo[0]["rack"] == "r01" and not topo[0]["blocked"]
    assert topo[0]["nics"][0]["physical_network"] == "leaf1"
    assert topo[0]["nics"][0]["switch_mac"] == "00:1c:73:01:00:0a"  # from the map when LLDP has no MAC


def test_lookup_by_chassis_and_regex():
    smap = SwitchMap(SWITCHES)
    assert smap.match({"switch_system_name": "x", "switch_chassis_id": "00:1C:73:09:00:0A"})[0] == "00:1c:73:09:00:0a"
    assert smap.match({"switch_system_name": "renamed", "switch_mgmt_addresses": ["00:1c:73:01:00:0b"]})[0] == "leaf-r01-b"
    assert smap.match({"switch_system_name": "spine-12"})[0] == r"^spine-\d+$"
    assert smap.match({"switch_system_name": "spine-x"}) == (None, None)


def test_no_lldp():
    topo, findings = analyse([node("n1", {"eno1": None})], SWITCHES)
    assert kinds(findings) == ["no_lldp"] and topo[0]["blocked"]


def test_unknown_switch():
    _t, findings = analyse([node("n1", {"eno1": nbr("mystery", "Gi0/1")})], SWITCHES)
    assert kinds(findings) == ["unknown_switch"]


def test_rack_mismatch():
    _t, findings = analyse([node("n1", {"eno1": nbr("leaf-r02-a", "Ethernet1/1")}, rack="r01")], SWITCHES)
    assert kinds(findings) == ["rack_mismatch"]
    assert "inventory says rack r01, cables say rack r02" in findings[0]["msg"]


def test_split_rack():
    _t, findings = analyse([node("n1", {"eno1": nbr("leaf-r01-a", "Ethernet1/1"), "eno2": nbr("leaf-r02-a", "Ethernet1/1")},
                                 rack=None)], SWITCHES)
    assert kinds(findings) == ["split_rack"]


def test_bond_split():
    _t, findings = analyse([node("n1", {"eno1": nbr("leaf-r01-a", "Ethernet1/1"), "eno2": nbr("leaf-r01-c", "Ethernet1/1")},
                                 bonds=[{"name": "bond0", "members": ["eno1", "eno2"]}])], SWITCHES)
    assert kinds(findings) == ["bond_split"]


def test_duplicate_switch_port():
    _t, findings = analyse([node("n1", {"eno1": nbr("leaf-r01-a", "Ethernet1/1")}),
                            node("n2", {"eno1": nbr("leaf-r01-a", "Ethernet1/1")})], SWITCHES)
    assert kinds(findings, "n1") == ["duplicate_switch_port"] and kinds(findings, "n2") == ["duplicate_switch_port"]


def test_vlan_missing():
    _t, findings = analyse([node("n1", {"eno1": nbr("leaf-r01-a", "Ethernet1/1", vlans=(201,))})], SWITCHES)
    assert kinds(findings) == ["vlan_missing"]


def test_mtu_mismatch_is_not_blocking_by_default():
    topo, findings = analyse([node("n1", {"eno1": nbr("leaf-r01-a", "Ethernet1/1", mtu=1500)})], SWITCHES)
    assert kinds(findings) == ["mtu_mismatch"] and not topo[0]["blocked"]
    topo, findings = analyse([node("n1", {"eno1": nbr("leaf-r01-c", "Ethernet1/1", mtu=1500)})], SWITCHES, mtu=9000)
    assert kinds(findings) == ["mtu_mismatch"]


def test_plan_writes_and_idempotence():
    topo, _f = analyse([node("n1", {"eno1": nbr("leaf-r01-a", "Ethernet1/1", port_id="436207616")})], SWITCHES)
    mac = topo[0]["nics"][0]["mac"]
    ports = [{"uuid": "p1", "address": mac, "local_link_connection": {"port_id": "436207616", "network_type": "x"},
              "physical_network": None}]
    plan = plan_node_writes(topo[0], {"uuid": "u1", "traits": ["CUSTOM_RACK_R09", "CUSTOM_GOLD"], "extra": {}}, ports)
    assert plan["node"] == {"add_traits": ["CUSTOM_RACK_R01"], "remove_traits": ["CUSTOM_RACK_R09"], "extra_rack": "r01"}
    patch = plan["ports"][0]["patch"]
    assert patch["local_link_connection"] == {"switch_id": "00:1c:73:01:00:0a", "port_id": "Ethernet1/1",
                                              "switch_info": "leaf-r01-a", "network_type": "x"}
    assert patch["physical_network"] == "leaf1"
    done = [{"uuid": "p1", "address": mac, "local_link_connection": patch["local_link_connection"], "physical_network": "leaf1"}]
    again = plan_node_writes(topo[0], {"uuid": "u1", "traits": ["CUSTOM_RACK_R01", "CUSTOM_GOLD"], "extra": {"rack": "r01"}}, done)
    assert again["node"] == {} and again["ports"] == []


def test_report_renders_findings():
    topo, findings = analyse([node("n<1>", {"eno1": nbr("leaf-r02-a", "Ethernet1/1")})], SWITCHES)
    html = render_html(topo, findings, SWITCHES)
    assert "<svg" in html and "rack_mismatch" in html and "n&lt;1&gt;" in html
