"""Topology mapping and every cabling finding, without a server."""
from ansible_collections.spineleaf.baremetal.plugins.module_utils._topology import (
    SwitchMap, analyse, plan_node_writes)
from ansible_collections.spineleaf.baremetal.plugins.module_utils._topology_report import render_report

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
    assert plan["node"] == {"add_traits": ["CUSTOM_RACK_R01"], "remove_traits": ["CUSTOM_RACK_R09"], "extra": {"rack": "r01"}}
    patch = plan["ports"][0]["patch"]
    assert patch["local_link_connection"] == {"switch_id": "00:1c:73:01:00:0a", "port_id": "Ethernet1/1",
                                              "switch_info": "leaf-r01-a", "network_type": "x"}
    assert patch["physical_network"] == "leaf1"
    done = [{"uuid": "p1", "address": mac, "local_link_connection": patch["local_link_connection"], "physical_network": "leaf1"}]
    again = plan_node_writes(topo[0], {"uuid": "u1", "traits": ["CUSTOM_RACK_R01", "CUSTOM_GOLD"], "extra": {"rack": "r01"}}, done)
    assert again["node"] == {} and again["ports"] == []


def test_report_renders_findings():
    topo, findings = analyse([node("n<1>", {"eno1": nbr("leaf-r02-a", "Ethernet1/1")})], SWITCHES)
    html = render_report(topo, SWITCHES)
    assert "<svg" in html and "rack_mismatch" in html and "n&lt;1&gt;" in html


# ---------------------------------------------------------------- port-level cabling (inventory nics)
def mac(n, i):
    return "52:54:00:00:%02x:%02x" % (n, i)


def placed(name, n, cabled, rack="r01", intended=None, names=None, bonds=()):
    """A node whose NICs eno1/eno2 are intended on leaf-r01-a/-b port n (or ``intended``) and cabled
    as ``cabled`` says ({nic: (switch, port)}); ``names`` renames the inspected interfaces."""
    intended = intended or {"eno1": ("leaf-r01-a", "Ethernet1/%d" % n), "eno2": ("leaf-r01-b", "Ethernet1/%d" % n)}
    names = names or {}
    nics = [{"name": nic, "mac": mac(n, i), "leaf": leaf, "port": port} for i, (nic, (leaf, port)) in enumerate(sorted(intended.items()))]
    interfaces, neighbours = [], {}
    for i, nic in enumerate(sorted(intended)):
        iface = names.get(nic, nic)
        interfaces.append({"name": iface, "mac_address": mac(n, i).upper(), "has_carrier": True})
        if cabled.get(nic):
            neighbours[iface] = nbr(cabled[nic][0], cabled[nic][1])
    return {"name": name, "neighbours": neighbours, "interfaces": interfaces,
            "expected": {"rack": rack, "nics": nics, "bonds": list(bonds)}}


def straight(n):
    return {"eno1": ("leaf-r01-a", "Ethernet1/%d" % n), "eno2": ("leaf-r01-b", "Ethernet1/%d" % n)}


def test_port_names_across_switch_styles():
    from ansible_collections.spineleaf.baremetal.plugins.module_utils._topology import port_key, same_port
    assert port_key("Ethernet1/3") == port_key("Eth1/3") == port_key("et1/3") == port_key("ethernet 1/3")
    assert port_key("xe-0/0/3") == port_key("ge-0/0/3.0") == port_key("et-0/0/3")
    assert port_key("swp3") == port_key("SWP3") and port_key("swp3") != port_key("swp30")
    assert port_key("Ethernet1/3") != port_key("Ethernet1/30") and port_key("xe-0/0/3") != port_key("xe-0/0/30")
    assert same_port("3", "swp3") and same_port("3", "Ethernet1/3") and not same_port("3", "swp13")
    assert not same_port("Ethernet1/3", "swp3")
    assert same_port(None, "swp3")


def test_clean_rack_by_mac_and_abbreviated_port():
    topo, findings = analyse([placed("n1", 1, {"eno1": ("leaf-r01-a", "Eth1/1"), "eno2": ("leaf-r01-b", "Ethernet1/1")})], SWITCHES)
    assert findings == [] and topo[0]["rack"] == "r01"
    assert [(n["nic"], n["matched_by"]) for n in topo[0]["nics"]] == [("eno1", "mac"), ("eno2", "mac")]


def test_swap_within_a_leaf_is_one_finding_naming_both_nodes():
    nodes = [placed("n1", 1, {"eno1": ("leaf-r01-a", "Ethernet1/2"), "eno2": ("leaf-r01-b", "Ethernet1/1")}),
             placed("n2", 2, {"eno1": ("leaf-r01-a", "Ethernet1/1"), "eno2": ("leaf-r01-b", "Ethernet1/2")}),
             placed("n3", 3, straight(3))]
    topo, findings = analyse(nodes, SWITCHES)
    assert [f["finding"] for f in findings] == ["wrong_port"]
    swap = findings[0]
    assert swap["nodes"] == ["n1", "n2"] and "n1" in swap["msg"] and "n2" in swap["msg"] and "swapped" in swap["msg"]
    assert swap["intended_port"] == "Ethernet1/1" and swap["observed_port"] == "Ethernet1/2"
    assert [t["blocked"] for t in topo] == [True, True, False]
    assert kinds(topo[0]["findings"]) == kinds(topo[1]["findings"]) == ["wrong_port"] and topo[2]["findings"] == []


def test_wrong_port_not_a_swap():
    _t, findings = analyse([placed("n1", 1, {"eno1": ("leaf-r01-a", "Ethernet1/7"), "eno2": ("leaf-r01-b", "Ethernet1/1")})], SWITCHES)
    assert kinds(findings) == ["wrong_port"] and findings[0]["nic"] == "eno1"
    assert "intended leaf-r01-a Ethernet1/1" in findings[0]["msg"] and "leaf-r01-a Ethernet1/7" in findings[0]["msg"]


def test_both_nics_on_one_leaf_of_the_mlag_pair():
    topo, findings = analyse([placed("n1", 1, {"eno1": ("leaf-r01-a", "Ethernet1/1"), "eno2": ("leaf-r01-a", "Ethernet1/31")})], SWITCHES)
    assert kinds(findings) == ["not_mlag_pair"] and findings[0]["nic"] == "eno2" and topo[0]["blocked"]
    assert findings[0]["intended_leaf"] == "leaf-r01-b" and findings[0]["observed_leaf"] == "leaf-r01-a"


def test_wrong_leaf_of_the_same_rack():
    _t, findings = analyse([placed("n1", 1, {"eno1": ("leaf-r01-a", "Ethernet1/1"), "eno2": ("leaf-r01-c", "Ethernet1/1")})], SWITCHES)
    assert kinds(findings) == ["wrong_leaf"] and findings[0]["nic"] == "eno2"
    assert "cabled to leaf-r01-c Ethernet1/1, intended leaf-r01-b Ethernet1/1" in findings[0]["msg"]


def test_wrong_leaf_of_another_rack_is_rack_mismatch():
    _t, findings = analyse([placed("n1", 1, {"eno1": ("leaf-r02-a", "Ethernet1/1"), "eno2": ("leaf-r01-b", "Ethernet1/1")})], SWITCHES)
    assert kinds(findings) == ["rack_mismatch", "split_rack"]


def test_typo_mac_is_mac_not_seen_only():
    node = placed("n1", 1, straight(1))
    node["expected"]["nics"][1]["mac"] = "52:54:00:00:01:99"  # still a valid MAC
    topo, findings = analyse([node], SWITCHES)
    assert kinds(findings) == ["mac_not_seen"] and findings[0]["nic"] == "eno2" and topo[0]["blocked"]
    assert "52:54:00:00:01:99" in findings[0]["msg"] and "52:54:00:00:01:01" in findings[0]["msg"]


def test_nic_under_another_name_is_matched_by_mac():
    topo, findings = analyse([placed("n1", 1, straight(1), names={"eno2": "ens2f1"})], SWITCHES)
    assert findings == []
    eno2 = [n for n in topo[0]["nics"] if n["nic"] == "eno2"][0]
    assert eno2["interface"] == "ens2f1" and eno2["switch"] == "leaf-r01-b" and eno2["matched_by"] == "mac"


def test_name_fallback_only_without_macs():
    node = placed("n1", 1, straight(1))
    for iface in node["interfaces"]:
        iface["mac_address"] = None
    topo, findings = analyse([node], SWITCHES)
    assert findings == [] and [n["matched_by"] for n in topo[0]["nics"]] == ["name", "name"]


def test_unexpected_nic_is_reported_not_blocking():
    node = placed("n1", 1, straight(1))
    node["interfaces"].append({"name": "eno3", "mac_address": "52:54:00:00:01:33", "has_carrier": True})
    node["neighbours"]["eno3"] = nbr("leaf-r01-a", "Ethernet1/40")
    node["interfaces"].append({"name": "eno4", "mac_address": "52:54:00:00:01:34", "has_carrier": False})
    topo, findings = analyse([node], SWITCHES)
    assert kinds(findings) == ["unexpected_nic"] and findings[0]["nic"] == "eno3" and not topo[0]["blocked"]


def test_no_lldp_and_unknown_switch_on_inventory_nics():
    _t, findings = analyse([placed("n1", 1, {"eno1": ("leaf-r01-a", "Ethernet1/1")})], SWITCHES)
    assert kinds(findings) == ["no_lldp"] and findings[0]["nic"] == "eno2"
    _t, findings = analyse([placed("n1", 1, {"eno1": ("leaf-r01-a", "Ethernet1/1"), "eno2": ("mystery", "Gi0/1")})], SWITCHES)
    assert kinds(findings) == ["unknown_switch"]


def test_blocked_node_gets_no_port_write_plan_is_still_computed():
    nodes = [placed("n1", 1, {"eno1": ("leaf-r01-a", "Ethernet1/2"), "eno2": ("leaf-r01-b", "Ethernet1/1")}),
             placed("n2", 2, {"eno1": ("leaf-r01-a", "Ethernet1/1"), "eno2": ("leaf-r01-b", "Ethernet1/2")})]
    topo, _f = analyse(nodes, SWITCHES)
    plan = plan_node_writes(topo[0], {"uuid": "u1", "traits": [], "extra": {}},
                            [{"uuid": "p1", "address": mac(1, 0), "local_link_connection": {}, "physical_network": None}])
    # the plan says what the cables show; the module skips it because the node is blocked
    assert plan["ports"][0]["patch"]["local_link_connection"]["port_id"] == "Ethernet1/2"


def test_merge_report_keeps_the_nodes_a_limited_run_did_not_map():
    from ansible_collections.spineleaf.baremetal.plugins.module_utils._topology_report import merge_report
    previous = {"nodes": [{"name": "n1", "v": "old"}, {"name": "n2", "v": "old"}, {"name": "gone", "v": "old"}],
                "findings": [{"node": "n2", "finding": "no_lldp"}, {"node": "gone", "finding": "no_lldp"}]}
    nodes, findings, kept = merge_report(previous, [{"name": "n2", "v": "new"}], [], keep=["n1", "n3"])
    assert nodes == [{"name": "n1", "v": "old"}, {"name": "n2", "v": "new"}]  # n2 from this run; gone dropped
    assert findings == [] and kept == ["n1"]
    nodes, findings, kept = merge_report(previous, [{"name": "n1", "v": "new"}], [], keep=["n2"])
    assert [n["name"] for n in nodes] == ["n1", "n2"] and findings == [{"node": "n2", "finding": "no_lldp"}]
    assert merge_report(None, [{"name": "x"}], [], ["n1"]) == ([{"name": "x"}], [], [])
    assert merge_report(previous, [{"name": "x"}], [], []) == ([{"name": "x"}], [], [])
