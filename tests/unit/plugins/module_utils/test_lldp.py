"""LLDP decoding: every public vector (expectations from Ironic's own parser), every subtype,
every malformed case, the data-source order and the readable helpers."""
import json
import os

import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils import _lldp
from ansible_collections.spineleaf.baremetal.plugins.module_utils._lldp import parse_lldp

VECTORS = json.load(open(os.path.join(os.path.dirname(__file__), "fixtures", "lldp_vectors.json")))["vectors"]


def tlvs_of(vector):
    return vector["lldp"] if "lldp" in vector else _lldp.tlvs_from_frame(vector["frame_hex"])


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_public_vectors_match_ironic(name):
    warnings = []
    assert parse_lldp(tlvs_of(VECTORS[name]), warnings) == VECTORS[name]["expected"]
    assert warnings == []


def test_cisco_details():
    nv = parse_lldp(VECTORS["cisco_nxos_n9k"]["lldp"])
    assert nv["switch_chassis_id"] == "70:ea:1a:73:28:a0"
    assert nv["switch_mgmt_addresses"] == ["10.30.129.250", "70:ea:1a:73:28:a0"]
    assert nv["switch_capabilities_enabled"] == ["Bridge", "Router"]


def test_juniper_vlans_mtu_lag():
    nv = parse_lldp(VECTORS["juniper_ex4200_em1"]["lldp"])
    assert nv["switch_port_vlans"][0] == {"id": 101, "name": "vlan101"}
    assert nv["switch_port_mtu"] == 9216 and isinstance(nv["switch_port_mtu"], int)
    assert nv["switch_port_untagged_vlan_id"] == 102
    assert nv["switch_port_link_aggregation_support"] is True
    assert nv["switch_port_link_aggregation_enabled"] is False


def test_frame_split():
    tlvs = _lldp.tlvs_from_frame(VECTORS["ipa_fake_frame"]["frame_hex"])
    assert [t[0] for t in tlvs] == [0, 1, 2, 3]
    warnings = []
    assert _lldp.tlvs_from_frame("0180c200000e885a92365a3988cc0207", warnings) == []
    assert warnings and "truncated" in warnings[0]
    assert _lldp.tlvs_from_frame("zz", warnings) == []


def h(text):
    return text.encode().hex()


@pytest.mark.parametrize("payload,expected", [
    ("01" + h("chassis-comp"), "chassis-comp"),
    ("02" + h("ifalias"), "ifalias"),
    ("03" + h("port-comp"), "port-comp"),
    ("04001c7301000a", "00:1c:73:01:00:0a"),
    ("05010a000102", "10.0.1.2"),
    ("050220010db8000000000000000000000001", "2001:db8::1"),
    ("06" + h("Ethernet1"), "Ethernet1"),
    ("07" + h("FDO2301A0AA"), "FDO2301A0AA"),
])
def test_chassis_id_subtypes(payload, expected):
    assert parse_lldp([[1, payload]]) == {"switch_chassis_id": expected}


@pytest.mark.parametrize("payload,expected", [
    ("01" + h("alias"), "alias"),
    ("02" + h("entphys"), "entphys"),
    ("03001c73020001", "00:1c:73:02:00:01"),
    ("04010a000102", "10.0.1.2"),
    ("05" + h("Ethernet1/1"), "Ethernet1/1"),
    ("07" + h("436211712"), "436211712"),
])
def test_port_id_subtypes(payload, expected):
    assert parse_lldp([[2, payload]]) == {"switch_port_id": expected}


def test_strings_capabilities_mgmt():
    nv = parse_lldp([
        [4, h("Ethernet1/1")], [5, h("leaf-r01-a")], [6, h("EOS")], [7, "07ff0014"],
        [8, "05010a000102020000000000"], [8, "1102fd000003000000000000000000000002020000000000"],
        [8, "0706001c7303000a020000000000"], [8, "0209ffff"], [3, "0078"], [0, ""], [42, "00"],
    ])
    assert nv == {
        "switch_port_description": "Ethernet1/1", "switch_system_name": "leaf-r01-a",
        "switch_system_description": "EOS",
        "switch_capabilities_support": ["Repeater", "Bridge", "WLAN", "Router", "Telephone",
                                        "DOCSIS cable device", "Station only", "C-Vlan", "S-Vlan", "TPMR"],
        "switch_capabilities_enabled": ["Bridge", "Router"],
        "switch_mgmt_addresses": ["10.0.1.2", "fd00:3::2", "00:1c:73:03:00:0a"],
    }


def test_dot1_subtypes():
    nv = parse_lldp([
        [127, "0080c2010065"],
        [127, "0080c20206012c"],
        [127, "0080c203006507766c616e313031"],
        [127, "0080c20300c900"],
        [127, "0080c2040288cc"],
        [127, "0080c2060064"],
        [127, "0080c2070300000400"],
        [127, "0080c2ff00"],
    ])
    assert nv == {
        "switch_port_untagged_vlan_id": 101,
        "switch_port_protocol_vlan_enabled": True, "switch_port_protocol_vlan_support": True,
        "switch_port_protocol_vlan_ids": [300],
        "switch_port_vlans": [{"id": 101, "name": "vlan101"}, {"id": 201, "name": ""}],
        "switch_protocol_identities": ["88cc"],
        "switch_port_management_vlan_id": 100,
        "switch_port_link_aggregation_enabled": True, "switch_port_link_aggregation_support": True,
        "switch_port_link_aggregation_id": 1024,
    }


def test_dot3_subtypes():
    nv = parse_lldp([[127, "00120f01036c11001e"], [127, "00120f030100000000"], [127, "00120f042328"]])
    assert nv == {
        "switch_port_autonegotiation_enabled": True, "switch_port_autonegotiation_support": True,
        "switch_port_physical_capabilities": ["1000BASE-T fdx", "100BASE-TX fdx", "100BASE-TX hdx",
                                              "10BASE-T fdx", "10BASE-T hdx", "Asym and Sym PAUSE fdx"],
        "switch_port_mau_type": "1000BASE-T full duplex",
        "switch_port_link_aggregation_enabled": False, "switch_port_link_aggregation_support": True,
        "switch_port_link_aggregation_id": 0,
        "switch_port_mtu": 9000,
    }


def test_first_value_wins_lists_accumulate():
    nv = parse_lldp([[5, h("a")], [5, h("b")], [8, "05010a000001"], [8, "05010a000002"]])
    assert nv == {"switch_system_name": "a", "switch_mgmt_addresses": ["10.0.0.1", "10.0.0.2"]}


GOOD = [5, h("leaf-r01-a")]


@pytest.mark.parametrize("bad,why", [
    ([1, "zz"], "not hex"),
    ([1, "04001c73"], "truncated MAC"),
    ([1, "04001c7301000"], "odd-length hex"),
    ([1, ""], "empty chassis ID"),
    ([1, "00aabb"], "unknown chassis subtype"),
    ([2, "08aabb"], "unknown port subtype"),
    ([1, "0509010203"], "unsupported address family"),
    ([2, "0401"], "IPv4 truncated"),
    ([4, "ff" + "00" * 3], "invalid UTF-8"),
    ([6, "41" * 512], "oversized"),
    ([7, "0014"], "capabilities short"),
    ([8, "05"], "mgmt short"),
    ([8, "050101"], "mgmt IPv4 truncated"),
    ([127, "0080"], "org short"),
    ([127, "0080c201"], "pvid truncated"),
    ([127, "0080c2030065ff766c616e"], "vlan name truncated"),
    ([127, "0080c203006504ffffffff"], "vlan name invalid UTF-8"),
    ([127, "0080c2020600"], "protocol VLAN short"),
    ([127, "0080c20405"], "protocol identity truncated"),
    ([127, "0080c20703000004"], "lag short"),
    ([127, "00120f0103"], "macphy short"),
    ([127, "00120f01036c1100ff"], "unknown MAU type"),
    ([127, "00120f04"], "mtu truncated"),
    (["x", "00"], "type not a number"),
    ([1], "not a pair"),
    (None, "not a pair"),
    ([1, None], "value not a string"),
])
def test_malformed_tlv_is_skipped_with_warning(bad, why):
    warnings = []
    assert parse_lldp([bad, GOOD], warnings, where="n1 eth0: ") == {"switch_system_name": "leaf-r01-a"}, why
    assert len(warnings) == 1 and warnings[0].startswith("n1 eth0: "), why


def test_vendor_oui_is_ignored_silently():
    warnings = []
    assert parse_lldp([[127, "abcdef0100"], GOOD], warnings) == {"switch_system_name": "leaf-r01-a"}
    assert warnings == []


def test_not_a_list():
    warnings = []
    assert parse_lldp("0102", warnings) == {}
    assert warnings


def test_neighbour_sources_in_order():
    raw = {"eth0": [GOOD]}
    parsed = {"eth0": {"switch_system_name": "from-ironic"}}
    inv = {"interfaces": [{"name": "eth0", "lldp": [[5, h("from-inventory")]]}]}
    legacy = {"eth0": {"lldp_processed": {"switch_system_name": "legacy"}}}
    assert _lldp.neighbours({"plugin_data": {"parsed_lldp": parsed, "lldp_raw": raw}, "inventory": inv}) == ("parsed_lldp", parsed)
    assert _lldp.neighbours({"plugin_data": {"lldp_raw": raw}, "inventory": inv}) == (
        "lldp_raw", {"eth0": {"switch_system_name": "leaf-r01-a"}})
    assert _lldp.neighbours({"plugin_data": {}, "inventory": inv}) == ("inventory", {"eth0": {"switch_system_name": "from-inventory"}})
    assert _lldp.neighbours({"all_interfaces": legacy}) == ("lldp_processed", {"eth0": {"switch_system_name": "legacy"}})
    assert _lldp.neighbours({}) == (None, {})
    assert _lldp.neighbours(None) == (None, {})


def test_switch_mac_and_readable_port():
    assert _lldp.switch_mac({"switch_chassis_id": "00:1C:73:01:00:0A"}) == "00:1c:73:01:00:0a"
    assert _lldp.switch_mac({"switch_chassis_id": "FDO1", "switch_mgmt_addresses": ["10.0.0.1", "00:1c:73:03:00:0a"]}) == "00:1c:73:03:00:0a"
    assert _lldp.switch_mac({"switch_chassis_id": "FDO1"}) is None
    assert _lldp.readable_port({"switch_port_id": "Ethernet1/1", "switch_port_description": "uplink"}) == "Ethernet1/1"
    assert _lldp.readable_port({"switch_port_id": "00:1c:73:02:00:01", "switch_port_description": "Ethernet1/1"}) == "Ethernet1/1"
    assert _lldp.readable_port({"switch_port_id": "436211712", "switch_port_description": "Ethernet1/1"}) == "Ethernet1/1"
    assert _lldp.readable_port({"switch_port_id": "436211712"}) == "436211712"


def test_source_is_chosen_per_interface_and_an_empty_capture_falls_back():
    """Ironic's parse-lldp hook: a NIC's lldp_raw entry if it has one, else that NIC's inventory lldp;
    ironic-python-agent records [] for a NIC whose capture timed out, the others are still decoded."""
    inv = {"interfaces": [{"name": "eth0", "lldp": [[5, h("inv-eth0")]]},
                          {"name": "eth1", "lldp": [[5, h("inv-eth1")]]},
                          {"name": "eth2", "lldp": None}]}
    raw = {"eth0": [[5, h("raw-eth0")]], "eth1": [], "eth2": [], "eth3": [[5, h("raw-only")]]}
    source, nbrs = _lldp.neighbours({"plugin_data": {"lldp_raw": raw}, "inventory": inv})
    assert source == "inventory+lldp_raw"
    assert nbrs == {"eth0": {"switch_system_name": "raw-eth0"}, "eth1": {"switch_system_name": "inv-eth1"},
                    "eth3": {"switch_system_name": "raw-only"}}


def test_at_most_64_interfaces_with_a_warning():
    inv = {"interfaces": [{"name": "eth%d" % i, "lldp": [[5, h("sw%d" % i)]]} for i in range(70)]}
    warnings = []
    _source, nbrs = _lldp.neighbours({"inventory": inv}, warnings, "n1 ")
    assert len(nbrs) == 64 and "eth63" in nbrs and "eth64" not in nbrs
    assert len(warnings) == 1 and warnings[0].startswith("n1 70 interfaces carry LLDP data; only the first 64")
    assert "eth69" in warnings[0]


@pytest.mark.parametrize("tlvs", [[[float("inf"), "00"]], [[float("nan"), "00"]], [[-1, "00"]], [[1e308, "00"]],
                                  [[5, 5]], [[5, None]], [["x", "00"]], [[5, "0"]], [{"a": 1, "b": 2}], ["ab"],
                                  [[5]], [[5, "00", "00"]], [None], [[True, "00"]], [[128, "00"]], {"a": 1}, "x", 5])
def test_any_json_never_raises(tlvs):
    warnings = []
    assert isinstance(parse_lldp(tlvs, warnings), dict)
    assert isinstance(_lldp.neighbours({"plugin_data": {"lldp_raw": {"eth0": tlvs}},
                                        "inventory": {"interfaces": [{"name": "eth0", "lldp": tlvs}]}}, warnings), tuple)


def test_random_json_never_raises():
    import random
    rnd = random.Random(10)
    atoms = [None, True, False, 0, -1, 2 ** 70, 1.5, float("inf"), float("-inf"), float("nan"), "", "00", "zz",
             "0a0b", "eth0", [], {}]

    def value(depth=0):
        kind = rnd.random()
        if depth > 3 or kind < 0.5:
            return rnd.choice(atoms)
        if kind < 0.75:
            return [value(depth + 1) for _n in range(rnd.randint(0, 4))]
        return dict((rnd.choice(["name", "lldp", "interfaces", "lldp_raw", "eth0", "parsed_lldp", "all_interfaces"]),
                     value(depth + 1)) for _k in range(rnd.randint(0, 4)))

    for _round in range(3000):
        doc = {"inventory": {"interfaces": [value(1) for _i in range(3)] + [{"name": "eth0", "lldp": value(1)}]},
               "plugin_data": {"lldp_raw": {"eth0": value(1), "eth1": [[value(3), value(3)]]}}}
        _lldp.neighbours(doc, [])
        _lldp.neighbours(value(), [])
        parse_lldp(value(), [])
