"""Discovery planning (module_utils/_discover.py): which auto-discovered machine becomes which node,
and everything that cannot be matched reported, never guessed."""
import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils._discover import MARKER, plan, position_index
from ansible_collections.spineleaf.baremetal.plugins.module_utils._site import discover_spec

NOW = 1_800_000_000.0


def position(name, port, rack="r01", bmc=None):
    hv = {"inventory_hostname": name, "rack": rack, "bmc_driver": "ipmi", "bmc_username": "admin",
          "bmc_password": "s3cret", "rack_physnet": "leaf1",
          "nics": [{"name": "eno1", "pxe": True, "leaf": "leaf-%s-a" % rack, "port": "Ethernet1/%d" % port},
                   {"name": "eno2", "pxe": False, "leaf": "leaf-%s-b" % rack, "port": "Ethernet1/%d" % port}]}
    if bmc:
        hv["bmc_address"] = bmc
    return discover_spec(hv)


def machine(uuid, port, rack="r01", bmc="10.7.0.9", name=None, state="enroll", extra=None, ports=True,
            inventory=True, mac_base=None):
    """An Ironic node auto-discovery made: (node, ports, inspection). Its NICs are cabled to ``port``."""
    base = mac_base or uuid[-2:]
    macs = ["52:54:00:%s:00:01" % base, "52:54:00:%s:00:02" % base]
    node = {"uuid": uuid, "name": name, "provision_state": state, "driver": "fake-hardware",
            "extra": extra or {}, "created_at": "2027-01-01T00:00:00+00:00"}
    port_list = [{"uuid": "p-%s-%d" % (uuid, i), "address": mac, "node_uuid": uuid, "local_link_connection": {},
                  "extra": {}} for i, mac in enumerate(macs)] if ports else []
    inspection = None
    if inventory:
        inspection = {"inventory": {"bmc_address": bmc, "interfaces": [
            {"name": "eth0", "mac_address": macs[0]}, {"name": "eth1", "mac_address": macs[1]}]},
            "plugin_data": {"parsed_lldp": {
                "eth0": {"switch_system_name": "leaf-%s-a" % rack, "switch_port_id": "Ethernet1/%d" % port},
                "eth1": {"switch_system_name": "leaf-%s-b" % rack, "switch_port_id": "Ethernet1/%d" % port}}}}
    return node, port_list, inspection


def run(positions, machines, **kw):
    nodes = [m[0] for m in machines]
    ports = [p for m in machines for p in m[1]]
    inspections = dict((m[0]["uuid"], m[2]) for m in machines if m[2] is not None)
    return plan(positions, nodes, ports, inspections, now=kw.pop("now", NOW), **kw)


def by_name(result):
    return dict((n["name"], n) for n in result["nodes"])


def test_a_machine_is_named_after_the_position_it_is_cabled_to():
    out = run([position("r01-n01", 1), position("r01-n02", 2)],
              [machine("u-0a", 2), machine("u-0b", 1)])
    nodes = by_name(out)
    assert nodes["r01-n01"]["uuid"] == "u-0b" and nodes["r01-n02"]["uuid"] == "u-0a"
    claim = nodes["r01-n01"]
    assert claim["action"] == "claim"
    assert [n["mac"] for n in claim["nics"]] == ["52:54:00:0b:00:01", "52:54:00:0b:00:02"]
    ops = dict((op["path"], op["value"]) for op in claim["patch"])
    assert ops["/name"] == "r01-n01"
    assert ops["/extra/%s" % MARKER] == "leaf-r01-a Ethernet1/1, leaf-r01-b Ethernet1/1"
    assert ops["/extra/rack"] == "r01"
    assert ops["/driver"] == "ipmi" and claim["reset_interfaces"] is True
    # no BMC address in the inventory: the one the machine's ramdisk reported
    assert ops["/driver_info/ipmi_address"] == "10.7.0.9" and claim["bmc_address"] == "10.7.0.9"
    assert ops["/driver_info/ipmi_password"] == "s3cret"
    assert "s3cret" not in repr(claim["changes"]) and "s3cret" not in repr(claim["machine"])
    assert out["unmatched"] == [] and out["duplicates"] == [] and out["orphans"] == []


def test_the_inventory_bmc_address_wins_over_the_ramdisk():
    out = run([position("r01-n01", 1, bmc="10.1.1.1")], [machine("u-0a", 1)])
    claim = out["nodes"][0]
    assert dict((op["path"], op["value"]) for op in claim["patch"])["/driver_info/ipmi_address"] == "10.1.1.1"


def test_ports_local_link_connection_is_enough_without_inspection_data():
    node, ports, _inspection = machine("u-0a", 3, inventory=False)
    ports[0]["local_link_connection"] = {"switch_info": "leaf-r01-a", "port_id": "Ethernet1/3", "switch_id": "00:1c:73:01:00:0a"}
    ports[1]["local_link_connection"] = {"switch_id": "00:1c:73:01:00:0b", "port_id": "Eth1/3"}
    out = run([position("r01-n03", 3)], [(node, ports, None)],
              chassis_names={"00:1c:73:01:00:0b": "leaf-r01-b"})
    assert out["nodes"][0]["action"] == "claim" and out["nodes"][0]["uuid"] == "u-0a"
    assert out["nodes"][0]["msg"].startswith("no BMC address")


def test_a_machine_on_an_unclaimed_port_is_reported_and_the_rest_goes_on():
    out = run([position("r01-n01", 1), position("r01-n02", 2)],
              [machine("u-0a", 1), machine("u-0b", 2), machine("u-0c", 9, bmc="10.7.0.33")])
    assert [n["action"] for n in out["nodes"]] == ["claim", "claim"]
    [stray] = out["unmatched"]
    assert stray["uuid"] == "u-0c" and stray["bmc_address"] == "10.7.0.33"
    assert stray["macs"] == ["52:54:00:0c:00:01", "52:54:00:0c:00:02"]
    assert stray["reason"] == ("cabled to leaf-r01-a Ethernet1/9, leaf-r01-b Ethernet1/9, a port no inventory "
                               "node claims")


def test_two_machines_on_one_position_claim_neither():
    out = run([position("r01-n01", 1)], [machine("u-0a", 1), machine("u-0b", 1)])
    [entry] = out["nodes"]
    assert entry["action"] == "conflict" and "2 machines at leaf-r01-a Ethernet1/1" in entry["msg"]
    assert "u-0a" in entry["msg"] and "u-0b" in entry["msg"] and "patch" not in entry
    assert sorted(u["uuid"] for u in out["unmatched"]) == ["u-0a", "u-0b"]


def test_a_machine_cabled_to_two_positions_is_not_guessed():
    node, ports, inspection = machine("u-0a", 1)
    inspection["plugin_data"]["parsed_lldp"]["eth1"]["switch_port_id"] = "Ethernet1/2"
    out = run([position("r01-n01", 1), position("r01-n02", 2)], [(node, ports, inspection)])
    assert [n["action"] for n in out["nodes"]] == ["missing", "missing"]
    assert out["unmatched"][0]["reason"].startswith("cabled to the positions of several nodes (r01-n01, r01-n02)")


def test_a_position_with_no_machine_says_where_it_looked():
    out = run([position("r01-n04", 4)], [])
    assert out["nodes"][0]["action"] == "missing"
    assert out["nodes"][0]["msg"].startswith("no machine reported at leaf-r01-a Ethernet1/4, leaf-r01-b Ethernet1/4")


def test_a_nic_whose_port_no_nic_of_the_machine_reports_blocks_the_claim():
    node, ports, inspection = machine("u-0a", 1)
    inspection["plugin_data"]["parsed_lldp"]["eth1"]["switch_port_id"] = "Ethernet1/40"
    out = run([position("r01-n01", 1)], [(node, ports, inspection)])
    assert out["nodes"][0]["action"] == "conflict"
    assert "reports no NIC on eno2 (leaf-r01-b Ethernet1/1)" in out["nodes"][0]["msg"]


def test_two_nodes_for_one_machine_are_merged_by_mac():
    a = machine("u-0a", 1, mac_base="aa")
    b = machine("u-0b", 1, mac_base="aa")
    a[1].pop()       # the race: each node got one of the two ports
    b[1].pop(0)
    b[0]["created_at"] = "2027-01-01T00:00:01+00:00"
    out = run([position("r01-n01", 1)], [a, b])
    assert out["duplicates"] == [{"kept": "u-0a", "name": None, "macs": ["52:54:00:aa:00:01", "52:54:00:aa:00:02"],
                                  "deleted": ["u-0b"], "kept_too": []}]
    [entry] = out["nodes"]
    assert entry["action"] == "claim" and entry["uuid"] == "u-0a"
    assert [n["mac"] for n in entry["nics"]] == ["52:54:00:aa:00:01", "52:54:00:aa:00:02"]


def test_a_duplicate_that_holds_something_is_kept():
    a = machine("u-0a", 1, mac_base="aa")
    b = machine("u-0b", 1, mac_base="aa")
    b[0]["instance_uuid"] = "i-1"
    out = run([position("r01-n01", 1)], [a, b])
    assert out["duplicates"][0]["deleted"] == [] and out["duplicates"][0]["kept_too"] == ["u-0b"]


def test_orphans_are_reported_pruned_on_request_and_young_nodes_wait():
    orphan = machine("u-0a", 1, ports=False, inventory=False)
    orphan[0]["last_error"] = "validate-interfaces: no name"
    young = machine("u-0b", 2, ports=False, inventory=False)
    young[0]["created_at"] = "2027-01-15T08:00:00+00:00"
    now = 1_800_000_000.0  # 2027-01-15T08:00:00Z
    out = run([position("r01-n01", 1)], [orphan, young], now=now)
    assert out["orphans"] == [{"uuid": "u-0a", "last_error": "validate-interfaces: no name",
                               "created_at": "2027-01-01T00:00:00+00:00", "action": "report"}]
    assert out["pending"] == ["u-0b"]
    assert run([position("r01-n01", 1)], [orphan], prune=True)["orphans"][0]["action"] == "delete"


def test_a_claimed_node_is_unchanged_and_still_reports_its_macs():
    node, ports, inspection = machine("u-0a", 1, name="r01-n01", state="manageable",
                                      extra={MARKER: "leaf-r01-a Ethernet1/1"})
    out = run([position("r01-n01", 1)], [(node, ports, inspection), machine("u-0b", 1)])
    [entry] = out["nodes"]
    assert entry["action"] == "unchanged" and entry["uuid"] == "u-0a"
    assert [n["mac"] for n in entry["nics"]] == ["52:54:00:0a:00:01", "52:54:00:0a:00:02"]
    # a second machine on that position is reported, not claimed
    assert out["unmatched"][0]["uuid"] == "u-0b" and "already node u-0a" in out["unmatched"][0]["reason"]


def test_named_nodes_of_other_sites_are_left_alone():
    other = machine("u-0a", 1, name="somebody-else", state="available")
    out = run([position("r01-n01", 1)], [other])
    assert out["nodes"][0]["action"] == "missing" and out["unmatched"] == []


@pytest.mark.parametrize("nics, message", [
    ([{"name": "eno1"}], "node x NIC eno1: no mac, so leaf and port are required"),
    ([{"name": "eno1", "leaf": "l", "port": "1"}, {"name": "eno2", "leaf": "l", "port": "1"}],
     None),
])
def test_position_index_errors(nics, message):
    index, errors = position_index([{"name": "x", "nics": nics}])
    if message:
        assert message in errors
    else:
        assert index == {("l", "1"): ("x", "eno1")}


def test_a_machine_inspected_without_lldp_names_ipa_collect_lldp():
    node, ports, inspection = machine("u-0d", 4)
    inspection["plugin_data"] = {}  # a ramdisk booted without ipa-collect-lldp=1: interfaces, no LLDP
    out = run([position("r01-n04", 4)], [(node, ports, inspection)])
    [stray] = out["unmatched"]
    assert stray["uuid"] == "u-0d" and stray["reason"].startswith("reports no LLDP neighbour: it cannot be placed")
    assert "ipa-collect-lldp=1" in stray["reason"] and "[inspector] extra_kernel_params" in stray["reason"]
