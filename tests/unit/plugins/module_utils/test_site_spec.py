from ansible_collections.spineleaf.baremetal.plugins.module_utils._site import node_spec


def test_node_spec_from_site_model():
    hv = {"inventory_hostname": "r03-n02", "rack": "r03", "rack_physnet": "leaf3", "node_role": "compute",
          "bmc_driver": "redfish", "bmc_address": "https://10.0.3.2", "bmc_username": "admin", "bmc_password": "pw",
          "bmc_driver_info": {"redfish_verify_ca": False},
          "nics": [{"name": "eno1", "mac": "52:54:00:03:02:01", "pxe": True},
                   {"name": "eno2", "mac": "52-54-00-03-02-02", "pxe": False}],
          "bonds": [{"name": "bond0", "members": ["eno1", "eno2"], "mode": "802.3ad"}]}
    s = node_spec(hv)
    assert s["driver_info"] == {"redfish_address": "https://10.0.3.2", "redfish_username": "admin",
                                "redfish_password": "pw", "redfish_verify_ca": False}
    assert s["traits"] == ["CUSTOM_RACK_R03", "CUSTOM_ROLE_COMPUTE"]
    assert s["resource_class"] == "baremetal.compute"
    assert s["extra"] == {"rack": "r03", "role": "compute"}
    assert s["port_groups"] == [{"name": "r03-n02-bond0", "mode": "802.3ad", "address": "52:54:00:03:02:01"}]
    assert s["ports"][1] == {"address": "52:54:00:03:02:02", "pxe_enabled": False, "physical_network": "leaf3",
                             "port_group": "r03-n02-bond0", "extra": {"nic": "eno2"}}


def test_node_traits_are_the_specs_rack_and_role_traits():
    from ansible_collections.spineleaf.baremetal.plugins.module_utils._site import node_traits
    hv = {"inventory_hostname": "r01-n01", "rack": "r01", "node_role": "compute", "traits": ["CUSTOM_X"]}
    assert node_traits(hv) == ["CUSTOM_RACK_R01", "CUSTOM_ROLE_COMPUTE"]
    assert node_traits(hv, role=False) == ["CUSTOM_RACK_R01"]
    assert node_traits({"rack": "r01"}, rack=False) == []
    assert set(node_traits(hv)) < set(node_spec(dict(hv, nics=[]))["traits"])


def test_network_interface_site_rack_node():
    base = {"inventory_hostname": "r01-n01", "rack": "r01", "nics": []}
    assert "network_interface" not in node_spec(base)  # Ironic's default
    assert node_spec(dict(base, network_interface="neutron"))["network_interface"] == "neutron"
    assert node_spec(dict(base, network_interface="neutron", rack_network_interface="flat"))["network_interface"] == "flat"


def test_bond_standalone_ports_supported_only_when_given():
    hv = {"inventory_hostname": "r03-n01", "rack": "r03",
          "nics": [{"name": "eno1", "mac": "52:54:00:03:01:01"}, {"name": "eno2", "mac": "52:54:00:03:01:02"}]}
    bond = {"name": "bond0", "members": ["eno1", "eno2"], "mode": "802.3ad"}
    assert "standalone_ports_supported" not in node_spec(dict(hv, bonds=[bond]))["port_groups"][0]
    pg = node_spec(dict(hv, bonds=[dict(bond, standalone_ports_supported=False)]))["port_groups"][0]
    assert pg["standalone_ports_supported"] is False and pg["mode"] == "802.3ad"


def test_network_interfaces_filter():
    from ansible_collections.spineleaf.baremetal.plugins.filter.site import network_interfaces
    nodes = [{"inventory_hostname": "a", "network_interface": "neutron"},
             {"inventory_hostname": "b", "network_interface": "neutron", "rack_network_interface": "flat"},
             {"inventory_hostname": "c"}]
    assert network_interfaces(nodes) == ["flat", "neutron"]
    assert network_interfaces([{"inventory_hostname": "c"}]) == []


def test_driver_info_provisioning_and_cleaning_networks_per_node():
    """Site / rack / node variables provisioning_network and cleaning_network -> driver_info (true: the
    routed network marked provisioning); unset: nothing, ironic.conf's [neutron] applies."""
    import pytest
    hv = {"inventory_hostname": "r01-n01", "bmc_driver": "ipmi", "bmc_address": "10.0.1.1", "nics": [],
          "routed_networks": [{"name": "ctlplane", "provisioning": True}, {"name": "storage", "roles": ["storage"]}]}
    assert set(node_spec(hv)["driver_info"]) == {"ipmi_address"}
    info = node_spec(dict(hv, provisioning_network=True, cleaning_network="cleaning-r01"))["driver_info"]
    assert info["provisioning_network"] == "ctlplane" and info["cleaning_network"] == "cleaning-r01"
    assert "cleaning_network" not in node_spec(dict(hv, provisioning_network=True, cleaning_network=False))["driver_info"]
    with pytest.raises(ValueError, match="provisioning_network is true but no routed_networks entry is marked"):
        node_spec(dict(hv, routed_networks=[], provisioning_network=True))
