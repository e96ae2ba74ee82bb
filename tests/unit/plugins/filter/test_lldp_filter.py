import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.spineleaf.baremetal.plugins.filter.lldp import FilterModule, parse_lldp


def test_filter_registered_and_decodes():
    assert FilterModule().filters()["parse_lldp"] is parse_lldp
    assert parse_lldp([[1, "0470ea1a7328a0"], [2, "0545746865726e6574312f31"], [1, "zz"]]) == {
        "switch_chassis_id": "70:ea:1a:73:28:a0", "switch_port_id": "Ethernet1/1"}


def test_filter_rejects_non_list():
    with pytest.raises(AnsibleFilterError):
        parse_lldp("0102")


def test_cabling_fingerprint_and_topology_html_filters():
    filters = FilterModule().filters()
    placement = {"rack": "r01", "nics": [{"name": "eno1", "mac": "52:54:00:00:00:01", "leaf": "l1", "port": "Eth1/1"}]}
    digest = filters["cabling_fingerprint"](placement)
    assert len(digest) == 16 and digest == filters["cabling_fingerprint"](dict(placement, bonds=[]))
    with pytest.raises(AnsibleFilterError):
        filters["cabling_fingerprint"]("r01")
    # lldp_topology results as the role registers them (JSON round trip: plain dicts)
    nic = {"nic": "eno1", "interface": "eno1", "mac": "52:54:00:00:00:01", "inventory": True, "intended_leaf": "l1",
           "intended_port": "Eth1/1", "switch": "l1", "system_name": "l1", "chassis_id": None, "switch_mac": None,
           "port": "Ethernet1/1", "port_id": "Ethernet1/1", "port_description": None, "untagged_vlan": 101, "vlans": [101],
           "mtu": 9000, "lag": False, "rack": "r01", "physical_network": "leaf1", "known": True, "matched_by": "mac"}
    results = [{"nodes": [{"name": "n1", "rack": "r01", "expected_rack": "r01", "nics": [nic], "findings": [], "blocked": False}]},
               {"skipped": True}]
    html = filters["topology_html"](results, {"l1": {"rack": "r01"}}, site="lab")
    assert html.startswith("<!DOCTYPE html>") and "Topology of site lab" in html
    assert 'class="link" data-node="n1" data-nic="eno1" data-switch="l1" data-port="Ethernet1/1" data-state="ok"' in html
    assert "Settings drift" not in html
    # the drift role's drift.json content: a section at the end of the page
    drift = {"nodes": [{"name": "n1", "rack": "r01", "drift": [
        {"node": "n1", "kind": "bios", "name": "HyperThreading", "requested": "Disabled", "reported": "Enabled", "msg": "x"}]}]}
    html = filters["topology_html"](results, {"l1": {"rack": "r01"}}, site="lab", drift=drift)
    assert '<section id="drift"><h2>Settings drift</h2><p>1 of 1 nodes checked drift' in html
    assert html.index('id="drift"') > html.index("Port map") and html.endswith("</body></html>\n")
    with pytest.raises(AnsibleFilterError):
        filters["topology_html"]("nope")


def test_topology_html_shows_leaf_port_vlans_intended_and_programmed():
    """network_check's leaf ports in the port map: intended and programmed VLANs per leaf port (port
    names matched across spellings), a row whose VLANs differ marked."""
    filters = FilterModule().filters()
    nic = {"nic": "eno1", "interface": "eno1", "mac": "52:54:00:00:00:01", "inventory": True, "intended_leaf": "l1",
           "intended_port": "Eth1/1", "switch": "l1", "system_name": "l1", "chassis_id": None, "switch_mac": None,
           "port": "Ethernet1/1", "port_id": "Ethernet1/1", "port_description": None, "untagged_vlan": 101, "vlans": [101],
           "mtu": 9000, "lag": False, "rack": "r01", "physical_network": "leaf1", "known": True, "matched_by": "mac"}
    nic2 = dict(nic, nic="eno2", interface="eno2", mac="52:54:00:00:00:02", intended_port="Eth1/2", port="Ethernet1/2",
                port_id="Ethernet1/2")
    results = [{"nodes": [{"name": "n1", "rack": "r01", "expected_rack": "r01", "nics": [nic, nic2], "findings": [],
                           "blocked": False}]}]
    network = [{"network_check_rack": "r01", "nodes": [{"name": "n1", "leaf_ports": [
        {"leaf": "l1", "port": "Eth1/1", "intended": [101], "programmed": [101]},
        {"leaf": "l1", "port": "Ethernet1/2", "intended": [201], "programmed": []}]}]}]
    html = filters["topology_html"](results, {"l1": {"rack": "r01"}}, site="lab", network=network)
    assert "<th>VLANs intended</th><th>VLANs programmed</th>" in html
    assert 'data-leaf="l1" data-port="Ethernet1/1" data-intended="101" data-programmed="101"' in html
    assert 'data-leaf="l1" data-port="Ethernet1/2" data-intended="201" data-programmed="none"' in html
    assert "ok (VLANs differ)" in html and html.count("VLANs differ") == 1
    assert "VLANs intended" not in filters["topology_html"](results, {"l1": {"rack": "r01"}}, site="lab")
    with pytest.raises(AnsibleFilterError, match="network must be"):
        filters["topology_html"](results, {}, network="x")
