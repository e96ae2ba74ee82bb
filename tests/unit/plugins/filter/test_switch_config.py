"""switch_config filter: NGS device sections from leaf_switches."""
import configparser

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.spineleaf.baremetal.plugins.filter.network import switch_config

LEAVES = {"leaf-r02-a": {"rack": "r02", "chassis_id": "00-1C-73-02-00-0A"},
          "leaf-r01-a": {"rack": "r01", "chassis_id": "00:1c:73:01:00:0a", "mlag_peer": "leaf-r01-b"},
          "leaf-r01-b": {"rack": "r01"}}
HOSTS = [{"inventory_hostname": "r01-n01", "rack": "r01", "rack_physnet": "leaf1"},
         {"inventory_hostname": "r02-n01", "rack": "r02", "rack_physnet": "leaf2", "bmc_password": "x"}]


def parse(text):
    cfg = configparser.ConfigParser()
    cfg.read_string(text)
    return cfg


def test_sections_from_hostvars():
    text = switch_config(LEAVES, HOSTS, ips={"leaf-r01-a": "192.0.2.11"}, username="ngs")
    cfg = parse(text)
    assert cfg.sections() == ["genericswitch:leaf-r01-a", "genericswitch:leaf-r01-b", "genericswitch:leaf-r02-a"]
    a = cfg["genericswitch:leaf-r01-a"]
    assert (a["device_type"], a["ip"], a["username"]) == ("netmiko_fake", "192.0.2.11", "ngs")
    assert a["ngs_mac_address"] == "00:1c:73:01:00:0a" and a["ngs_physical_networks"] == "leaf1"
    assert cfg["genericswitch:leaf-r02-a"]["ngs_mac_address"] == "00:1c:73:02:00:0a"  # normalized
    assert "ngs_mac_address" not in cfg["genericswitch:leaf-r01-b"]  # NGS then matches the section name
    assert cfg["genericswitch:leaf-r01-b"]["ip"] == "<management address of leaf-r01-b>"
    assert text.count("password") == 3 and text.count("# password = <from your vault>") == 3  # never a value


def test_racks_as_dict_options_and_device_type():
    text = switch_config({"leaf-r01-a": LEAVES["leaf-r01-a"]}, {"r01": "leaf1"}, device_type="netmiko_cisco_nxos",
                         options={"ngs_trunk_ports": ["Ethernet1/48", "Ethernet1/49"]},
                         leaf_options={"leaf-r01-a": {"ngs_port_default_vlan": 1}})
    sec = parse(text)["genericswitch:leaf-r01-a"]
    assert sec["device_type"] == "netmiko_cisco_nxos" and sec["ngs_trunk_ports"] == "Ethernet1/48,Ethernet1/49"
    assert sec["ngs_port_default_vlan"] == "1"


def test_errors_name_the_leaf():
    with pytest.raises(AnsibleFilterError, match="leaf leaf-r02-a: rack r02 has no rack_physnet"):
        switch_config(LEAVES, {"r01": "leaf1"})
    with pytest.raises(AnsibleFilterError, match="leaf-r01-a: option password is a secret"):
        switch_config({"leaf-r01-a": LEAVES["leaf-r01-a"]}, {"r01": "leaf1"}, options={"password": "s"})
    with pytest.raises(AnsibleFilterError, match="chassis_id 'nope' is not a MAC"):
        switch_config({"l": {"rack": "r01", "chassis_id": "nope"}}, {"r01": "leaf1"})
    with pytest.raises(AnsibleFilterError, match="expected leaf_switches"):
        switch_config(["x"], {})
    with pytest.raises(AnsibleFilterError, match="two physical networks"):
        switch_config(LEAVES, [{"rack": "r01", "rack_physnet": "leaf1"}, {"rack": "r01", "rack_physnet": "leafX"}])


def test_lab_inventory_sections(tmp_path):
    import yaml
    from pathlib import Path
    inv = Path(__file__).resolve().parents[4] / "inventory" / "lab" / "group_vars"
    leaves = yaml.safe_load((inv / "all.yml").read_text())["leaf_switches"]
    racks = [yaml.safe_load((inv / ("rack_r0%d.yml" % i)).read_text()) for i in (1, 2, 3)]
    cfg = parse(switch_config(leaves, racks))
    assert len(cfg.sections()) == 6
    assert cfg["genericswitch:leaf-r03-b"]["ngs_physical_networks"] == "leaf3"
