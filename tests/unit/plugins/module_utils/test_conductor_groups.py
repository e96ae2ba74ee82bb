"""Conductor groups in the site model: rack_conductor_group -> node spec, name checks, and the
preflight / ironic_nodes check that a live conductor serves every group the inventory names."""
from unittest import mock

from ansible_collections.spineleaf.baremetal.plugins.module_utils._enroll import plan_node
from ansible_collections.spineleaf.baremetal.plugins.module_utils._ironic import IronicAdapter
from ansible_collections.spineleaf.baremetal.plugins.module_utils._site import (
    conductor_group_errors, node_conductor_group, node_spec, rack_conductor_groups, site_errors)

CONDUCTORS = [{"hostname": "127.0.0.1:8089", "conductor_group": "group-a", "alive": True},
              {"hostname": "127.0.0.1:8090", "conductor_group": "group-b", "alive": True},
              {"hostname": "old", "conductor_group": "group-c", "alive": False}]


def hv(name="r01-n01", rack="r01", **kw):
    d = {"inventory_hostname": name, "rack": rack, "rack_index": 1, "bmc_address": "10.0.0.1",
         "bmc_driver": "fake-hardware", "nics": [{"name": "eno1", "mac": "52:54:00:00:00:01", "pxe": True}]}
    d.update(kw)
    return d


def test_node_spec_takes_the_racks_conductor_group():
    assert node_spec(hv(rack_conductor_group="group-a"))["conductor_group"] == "group-a"


def test_a_nodes_own_conductor_group_wins_over_its_racks():
    node = hv(rack_conductor_group="group-a", conductor_group="group-b")
    assert node_conductor_group(node) == "group-b"
    assert node_spec(node)["conductor_group"] == "group-b"


def test_no_group_leaves_the_field_alone():
    assert "conductor_group" not in node_spec(hv())
    assert node_conductor_group(hv(rack_conductor_group="")) is None


def test_enrollment_plan_sets_and_then_keeps_the_group():
    spec = node_spec(hv(rack_conductor_group="group-a"))
    created = plan_node(spec, None, [], [], {})
    assert created.create_attrs["conductor_group"] == "group-a"
    current = {"uuid": "u1", "name": "r01-n01", "conductor_group": "", "driver": "fake-hardware",
               "driver_info": {"ipmi_address": "10.0.0.1"}, "extra": {"rack": "r01"},
               "traits": ["CUSTOM_RACK_R01"], "properties": {}}
    moved = plan_node(spec, current, [], [], {})
    assert {"op": "replace", "path": "/conductor_group", "value": "group-a"} in moved.node_patch
    assert moved.before["conductor_group"] == "" and moved.after["conductor_group"] == "group-a"
    settled = plan_node(spec, dict(current, conductor_group="group-a"), [], [], {})
    assert not any(op["path"] == "/conductor_group" for op in settled.node_patch)
    assert "conductor_group" not in settled.changes


def test_site_errors_refuse_group_names_ironic_would_change():
    errors = site_errors([hv(rack_conductor_group="Group-A"), hv("r01-n02", conductor_group="a b",
                                                                 nics=[{"name": "eno1", "mac": "52:54:00:00:00:02", "pxe": True}])])
    assert any("rack r01: rack_conductor_group 'Group-A'" in e for e in errors)
    assert any("node r01-n02: conductor_group 'a b'" in e for e in errors)
    assert site_errors([hv(rack_conductor_group="group-a.1_x")]) == []


def test_rack_conductor_groups_of_an_inventory():
    nodes = [hv(rack_conductor_group="group-a"), hv("r01-n02", rack_conductor_group="group-a"),
             hv("r02-n01", rack="r02", rack_conductor_group="group-b"), hv("r03-n01", rack="r03"),
             hv("r03-n02", rack="r03", conductor_group="group-c")]
    assert rack_conductor_groups(nodes) == {"r01": "group-a", "r02": "group-b", "r03 (node r03-n02)": "group-c"}


def test_every_served_group_passes():
    assert conductor_group_errors({"r01": "group-a", "r02": "group-b"}, CONDUCTORS) == []


def test_a_group_without_live_conductor_names_rack_and_group():
    errors = conductor_group_errors({"r01": "group-a", "r07": "group-c", "r09": "group-x"}, CONDUCTORS)
    assert len(errors) == 2
    assert errors[0].startswith("rack r07: conductor group 'group-c' is served by no live conductor")
    assert "groups served: 'group-a', 'group-b'; registered but not alive: old ('group-c')" in errors[0]
    assert errors[1].startswith("rack r09: conductor group 'group-x'")


def test_no_conductor_at_all():
    errors = conductor_group_errors({"r01": "group-a"}, [], label="node %s")
    assert errors == ["node r01: conductor group 'group-a' is served by no live conductor (groups served: none): "
                      "start an ironic-conductor with [conductor] conductor_group = group-a or fix rack_conductor_group"]


def test_adapter_lists_conductors_as_plain_dicts():
    conn = mock.Mock()
    adapter = IronicAdapter(conn)
    adapter._microversion = "1.99"
    response = mock.Mock()
    response.json.return_value = {"conductors": [
        {"hostname": "h1", "conductor_group": "group-a", "alive": True, "links": []},
        {"hostname": "h2", "conductor_group": None, "alive": False, "links": []}]}
    response.status_code = 200
    conn.baremetal.get.return_value = response
    assert adapter.list_conductors() == [{"hostname": "h1", "conductor_group": "group-a", "alive": True},
                                         {"hostname": "h2", "conductor_group": "", "alive": False}]
    url = conn.baremetal.get.call_args[0][0]
    assert url == "/conductors"
    assert conn.baremetal.get.call_args[1]["params"]["fields"] == "hostname,conductor_group,alive"
    assert adapter.reads == 1 and adapter.writes == 0
