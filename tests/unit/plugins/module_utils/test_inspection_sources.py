"""What a real Ironic's inspection data gives the cabling check (issue 22): agent inspection without
ipa-collect-lldp=1 (no LLDP anywhere) and out-of-band (redfish) inspection (LLDP from the BMC, keyed
by the BMC's port identity). Fixtures are shaped like GET /v1/nodes/{node}/inventory answers."""
import json
import os

from ansible_collections.spineleaf.baremetal.plugins.module_utils._lldp import neighbours
from ansible_collections.spineleaf.baremetal.plugins.module_utils._topology import analyse, node_message

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
SWITCHES = {
    "leaf-r01-a": {"rack": "r01", "chassis_id": "00:1c:73:01:00:0a", "mlag_peer": "leaf-r01-b", "physical_network": "leaf1"},
    "leaf-r01-b": {"rack": "r01", "chassis_id": "00:1c:73:01:00:0b", "mlag_peer": "leaf-r01-a", "physical_network": "leaf1"},
    "a7-leaf-1": {"rack": "a7"},
    "a7-leaf-2": {"rack": "a7"},
}


def load(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return json.load(f)


def inputs(nodes, expected):
    out = []
    for name, inspection in sorted(nodes.items()):
        source, nbrs = neighbours(inspection)
        out.append(dict(name=name, neighbours=nbrs, interfaces=inspection["inventory"]["interfaces"],
                        expected=expected(name, inspection), source=source))
    return out


def agent_expected(name, inspection):
    macs = [i["mac_address"] for i in inspection["inventory"]["interfaces"]]
    n = int(name[-2:])
    return {"rack": "a7", "nics": [{"name": "eno1", "mac": macs[0], "leaf": "a7-leaf-1", "port": "Ethernet1/%d" % n},
                                   {"name": "eno2", "mac": macs[1], "leaf": "a7-leaf-2", "port": "Ethernet1/%d" % n}]}


def test_agent_inspection_without_lldp_one_node_says_why_and_the_fix():
    data = load("inspection_agent_no_lldp.json")["nodes"]
    one = inputs({"a7-cmp-01": data["a7-cmp-01"]}, agent_expected)
    assert one[0]["source"] is None and one[0]["neighbours"] == {}
    topos, findings = analyse(one, SWITCHES)
    # one finding for the node, not one per NIC, and not "inspect it first"
    assert len(findings) == 1, findings
    f = findings[0]
    assert f["finding"] == "no_lldp" and f["cause"] == "lldp_not_collected" and f["blocking"] and f["nic"] is None
    assert "ipa-collect-lldp=1" in f["msg"] and "[inspector] extra_kernel_params" in f["msg"]
    assert "bifrost" in f["msg"] and "kayobe" in f["msg"] and "redfish" in f["msg"]
    assert "inspect it first" not in f["msg"]
    assert "none of its 3 inspected interfaces" in f["msg"] and "eno1" in f["msg"]
    assert topos[0]["blocked"]
    assert node_message(f, "a7-cmp-01") == f["msg"]


def test_agent_inspection_without_lldp_a_whole_rack_is_said_once():
    data = load("inspection_agent_no_lldp.json")["nodes"]
    topos, findings = analyse(inputs(data, agent_expected), SWITCHES)
    assert len(findings) == 1, [f["msg"] for f in findings]
    f = findings[0]
    assert f["scope"] == "rack" and f["rack"] == "a7" and f["nodes"] == ["a7-cmp-01", "a7-cmp-02", "a7-cmp-03"]
    assert f["msg"].startswith("rack a7: none of its 3 inspected nodes")
    assert "ipa-collect-lldp=1" in f["msg"] and "[inspector] extra_kernel_params = ipa-collect-lldp=1" in f["fix"]
    # every node is blocked by that one finding (the same dict), with a short message of its own
    assert all(t["blocked"] and t["findings"] == [f] for t in topos)
    short = node_message(f, "a7-cmp-02")
    assert short.startswith("node a7-cmp-02: no LLDP") and "rack a7" in short and len(short) < len(f["msg"])


def test_one_node_of_a_rack_with_lldp_keeps_findings_per_node():
    data = load("inspection_agent_no_lldp.json")["nodes"]
    nodes = inputs(data, agent_expected)
    nodes[0]["neighbours"] = {"eno1": {"switch_system_name": "a7-leaf-1", "switch_port_id": "Ethernet1/1"},
                              "eno2": {"switch_system_name": "a7-leaf-2", "switch_port_id": "Ethernet1/1"}}
    _topos, findings = analyse(nodes, SWITCHES)
    assert sorted(f["node"] for f in findings) == ["a7-cmp-02", "a7-cmp-03"]
    assert all(f.get("scope") is None and f["cause"] == "lldp_not_collected" for f in findings)


def test_a_node_never_inspected_is_told_to_inspect_first():
    topos, findings = analyse([dict(name="n1", neighbours={}, interfaces=[], expected={"rack": "a7"})], SWITCHES)
    assert [f["cause"] for f in findings] == ["not_inspected"] and "inspect it first" in findings[0]["msg"]


def redfish_expected(name, inspection):
    macs = [i["mac_address"] for i in inspection["inventory"]["interfaces"]]
    n = int(name[-2:])
    return {"rack": "r01", "nics": [{"name": "eno1", "mac": macs[0], "leaf": "leaf-r01-a", "port": "Ethernet1/%d" % n},
                                    {"name": "eno2", "mac": macs[1], "leaf": "leaf-r01-b", "port": "Ethernet1/%d" % n}],
            "bonds": [{"name": "bond0", "members": ["eno1", "eno2"]}]}


def test_redfish_dell_lldp_is_read_by_interface_name():
    data = load("inspection_redfish.json")["dell"]
    nodes = inputs(data, redfish_expected)
    assert {n["source"] for n in nodes} == {"parsed_lldp"}
    topos, findings = analyse(nodes, SWITCHES)
    assert findings == [], findings
    nic = topos[0]["nics"][0]
    assert nic["switch"] == "leaf-r01-a" and nic["port"] == "Ethernet1/1" and nic["interface"] == "NIC.Integrated.1-1-1"
    assert nic["matched_by"] == "mac" and nic["switch_mac"] == "00:1c:73:01:00:0a" and topos[0]["rack"] == "r01"


def test_redfish_generic_lldp_keyed_by_port_is_tied_to_the_nic_of_that_leaf_port():
    data = load("inspection_redfish.json")["generic"]
    topos, findings = analyse(inputs(data, redfish_expected), SWITCHES)
    assert findings == [], findings
    for topo in topos:
        assert [(n["nic"], n["switch"], n["lldp_interface"]) for n in topo["nics"]] == [
            ("eno1", "leaf-r01-a", "Port1"), ("eno2", "leaf-r01-b", "Port2")]


def test_redfish_generic_lldp_on_another_port_is_not_a_clean_nic():
    data = load("inspection_redfish.json")["generic"]
    data = {"r01-n01": data["r01-n01"]}
    data["r01-n01"]["plugin_data"]["parsed_lldp"]["Port2"]["switch_port_id"] = "Ethernet1/9"
    _topos, findings = analyse(inputs(data, redfish_expected), SWITCHES)
    by_kind = dict((f["finding"], f) for f in findings)
    assert set(by_kind) == {"no_lldp", "unexpected_nic"}, findings
    assert by_kind["no_lldp"]["nic"] == "eno2" and by_kind["no_lldp"]["blocking"]
    assert "Port2" in by_kind["no_lldp"]["msg"] and "out-of-band" in by_kind["no_lldp"]["msg"]
    assert "LLDP entry Port2" in by_kind["unexpected_nic"]["msg"] and "leaf-r01-b Ethernet1/9" in by_kind["unexpected_nic"]["msg"]
