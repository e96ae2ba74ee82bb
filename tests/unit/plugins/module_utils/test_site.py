from ansible_collections.spineleaf.baremetal.plugins.module_utils._site import site_errors
from ansible_collections.spineleaf.baremetal.plugins.module_utils._util import normalize_mac


def node(name="r01-n01", rack="r01", idx=1, **kw):
    d = {"inventory_hostname": name, "rack": rack, "rack_index": idx, "bmc_address": "10.0.0.1",
         "nics": [{"name": "eno1", "mac": "52:54:00:00:00:01", "pxe": True}]}
    d.update(kw)
    return d


def test_consistent_site_has_no_errors():
    assert site_errors([node(), node("r02-n01", "r02", 2, nics=[{"name": "eno1", "mac": "52:54:00:00:00:02", "pxe": True}])]) == []


def test_each_problem_names_node_and_field():
    errs = site_errors([
        node(bmc_address=None),
        node("r01-n02", nics=[{"name": "eno1", "mac": "52:54:00:00:00:01", "pxe": False},
                              {"name": "eno2", "mac": "zz", "pxe": False}],
             bonds=[{"name": "bond0", "members": ["eno1", "eno9"]}]),
        node("r02-n01", "r02", 1, nics=[{"name": "eno1", "mac": "52:54:00:00:00:03", "pxe": True}]),
        node("r03-n01", None),
    ])
    text = "\n".join(errs)
    assert "node r01-n01: bmc_address is missing" in text
    assert "node r01-n02 nic eno1: mac 52:54:00:00:00:01 is also on node r01-n01 nic eno1" in text
    assert "node r01-n02 nic eno2: mac 'zz' is not a MAC address" in text
    assert "node r01-n02: no NIC has pxe: true" in text
    assert "node r01-n02 bond bond0: member 'eno9' is not one of its nics" in text
    assert "rack_index 1 is used by racks r01 and r02" in text
    assert "node r03-n01: no rack" in text


def test_normalize_mac():
    assert normalize_mac("52-54-00-AA-bb-01") == "52:54:00:aa:bb:01"
    assert normalize_mac("52:54:00:aa:bb") is None
    assert normalize_mac(None) is None


LEAVES = {"a7-leaf-1": {"rack": "r01"}, "a7-leaf-2": {"rack": "r01"}, "b2-leaf-1": {"rack": "r02"}}


def test_nic_leaf_must_be_a_known_switch_of_the_nodes_rack():
    nics = [{"name": "eno1", "mac": "52:54:00:00:00:01", "pxe": True, "leaf": "a7-leaf-1"},
            {"name": "eno2", "mac": "52:54:00:00:00:02", "leaf": "a7-leef-2"},
            {"name": "eno3", "mac": "52:54:00:00:00:03", "leaf": "b2-leaf-1"}]
    errs = site_errors([node(nics=nics, leaf_switches=LEAVES)])
    assert errs == ["node r01-n01 nic eno2: leaf 'a7-leef-2' is not in leaf_switches (known: a7-leaf-1, a7-leaf-2, b2-leaf-1)",
                    "node r01-n01 nic eno3: leaf b2-leaf-1 is in rack r02, the node is in rack r01"]
    # without a switch map there is nothing to check against
    assert site_errors([node(nics=nics)]) == []


# ------------------------------------------------------------------ nodes to discover (no MACs)
def test_node_without_macs_and_bmc_is_identified_by_its_leaf_ports():
    nics = [{"name": "eno1", "pxe": True, "leaf": "a7-leaf-1", "port": "Ethernet1/1"},
            {"name": "eno2", "leaf": "a7-leaf-2", "port": "Ethernet1/1"}]
    assert site_errors([node(nics=nics, bmc_address=None, leaf_switches=LEAVES)]) == []


def test_nic_without_mac_needs_leaf_and_port():
    errs = site_errors([node(nics=[{"name": "eno1", "pxe": True, "leaf": "a7-leaf-1"}], bmc_address=None)])
    assert errs == ["node r01-n01 nic eno1: no mac, so leaf and port are required (a node without MACs is "
                    "identified by the leaf ports its NICs are cabled to)"]


def test_bmc_address_still_required_on_a_node_with_known_macs():
    errs = site_errors([node(bmc_address=None)])
    assert len(errs) == 1 and errs[0].startswith("node r01-n01: bmc_address is missing")


def test_two_nodes_on_one_leaf_port_name_both_nodes_and_the_port():
    a = node(nics=[{"name": "eno1", "pxe": True, "leaf": "a7-leaf-1", "port": "Ethernet1/3"}], bmc_address=None)
    b = node("r01-n02", nics=[{"name": "eno1", "mac": "52:54:00:00:00:02", "pxe": True,
                               "leaf": "a7-leaf-1", "port": "ethernet1/3"}])
    errs = site_errors([a, b])
    assert errs == ["node r01-n02 nic eno1: leaf a7-leaf-1 port ethernet1/3 is also claimed by node r01-n01 nic eno1 "
                    "(one leaf port, one NIC)"]
    # the same port number on another leaf is another port
    b["nics"][0]["leaf"] = "a7-leaf-2"
    assert site_errors([a, b]) == []


def test_two_nics_on_one_leaf_port_spelled_two_ways():
    """``Ethernet1/3`` and ``Eth1/3`` on one leaf are one port (the cabling check's port_key)."""
    a = node(nics=[{"name": "eno1", "mac": "52:54:00:00:00:01", "pxe": True,
                    "leaf": "a7-leaf-1", "port": "Ethernet1/3"}])
    b = node("r01-n02", nics=[{"name": "eno1", "mac": "52:54:00:00:00:02", "pxe": True,
                               "leaf": "a7-leaf-1", "port": "Eth1/3"}])
    errs = site_errors([a, b])
    assert errs == ["node r01-n02 nic eno1: leaf a7-leaf-1 port Eth1/3 is also claimed by node r01-n01 nic eno1 "
                    "(one leaf port, one NIC)"]
    # one node, two NICs on the one port
    c = node(nics=[{"name": "eno1", "mac": "52:54:00:00:00:01", "pxe": True, "leaf": "a7-leaf-1", "port": "Ethernet1/3"},
                   {"name": "eno2", "mac": "52:54:00:00:00:03", "leaf": "a7-leaf-1", "port": "eth1/3"}])
    assert len(site_errors([c])) == 1
    # Ethernet1/3 and Ethernet1/30 are two ports
    b["nics"][0]["port"] = "Eth1/30"
    assert site_errors([a, b]) == []
