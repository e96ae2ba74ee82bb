"""Bad inputs to the filters (pure, nothing to write): each raises AnsibleFilterError naming the
object and field, never another exception."""
import itertools
import re

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.spineleaf.baremetal.plugins.filter import lldp, rollout, routed, site

NET = {"name": "prov", "supernet": "10.10.0.0/16", "prefix_per_rack": 24, "vlan_base": 100,
       "physnet_pattern": "leaf{rack_index}"}
RACKS = [{"rack": "r01", "rack_index": 1}, {"rack": "r02", "rack_index": 2}]


def _net(**kw):
    d = dict(NET)
    d.update(kw)
    return d


def _host(**kw):
    d = {"inventory_hostname": "r01-n01", "rack": "r01", "bmc_address": "10.1.0.1", "bmc_driver": "ipmi",
         "nics": [{"name": "eno1", "mac": "52:54:00:00:00:01", "pxe": True, "leaf": "leaf-r01-a"}],
         "leaf_switches": {"leaf-r01-a": {"rack": "r01"}}}
    d.update(kw)
    return d


CASES = [
    ("trait_name_empty", lambda: site.trait_name(""), [r"trait_name", r"no letters or digits"]),
    ("trait_name_punctuation", lambda: site.trait_name("---"), [r"trait_name", r"'---'"]),
    ("trait_name_too_long", lambda: site.trait_name("x" * 300), [r"trait_name", r"longer than"]),
    ("rack_subnets_bad_supernet", lambda: routed.rack_subnets("10.0.0.0/33", 24, RACKS),
     [r"rack_subnets", r"10.0.0.0/33"]),
    ("rack_subnets_prefix_smaller", lambda: routed.rack_subnets("10.0.0.0/24", 16, RACKS),
     [r"rack_subnets", r"16"]),
    ("rack_subnets_index_beyond", lambda: routed.rack_subnets("10.0.0.0/24", 26, [{"rack": "r09", "rack_index": 9}]),
     [r"rack_subnets", r"r09"]),
    ("rack_subnets_duplicate_index", lambda: routed.rack_subnets("10.0.0.0/16", 24, [
        {"rack": "r01", "rack_index": 1}, {"rack": "r02", "rack_index": 1}]), [r"rack_subnets", r"r0[12]", r"index"]),
    ("segments_vlan_0", lambda: routed.routed_network_segments(_net(vlan_base=0), RACKS[:1] + [{"rack": "r00", "rack_index": 0}]),
     [r"routed_network_segments", r"r00", r"rack_index 0"]),
    ("segments_vlan_4095", lambda: routed.routed_network_segments(_net(vlan_base=4094), RACKS),
     [r"routed_network_segments", r"r0[12]", r"VLAN 409[56]", r"1-4094"]),
    ("segments_not_a_dict", lambda: routed.routed_network_segments(["prov"], RACKS),
     [r"routed_network_segments", r"dict"]),
    ("segments_bad_physnet_pattern", lambda: routed.routed_network_segments(_net(physnet_pattern="leaf{nope}"), RACKS),
     [r"routed_network_segments", r"physnet_pattern", r"nope"]),
    ("leaf_routes_unknown_rack", lambda: routed.leaf_routes(routed.rack_subnets("10.0.0.0/16", 24, RACKS), "r77"),
     [r"leaf_routes", r"r77"]),
    ("failure_budget_garbage", lambda: rollout.failure_budget("lots", 10), [r"failure_budget", r"lots"]),
    ("failure_budget_percent_over", lambda: rollout.failure_budget("150%", 10), [r"failure_budget", r"150"]),
    ("enroll_node_not_dict", lambda: site.enroll_node("r01-n01"), [r"enroll_node", r"dict"]),
    ("node_traits_bad_role", lambda: site.node_traits(_host(node_role="!!")), [r"r01-n01", r"'!!'"]),
    ("site_errors_not_list", lambda: site.site_errors("r01-n01"), [r"site_errors", r"list"]),
    ("parse_lldp_not_list", lambda: lldp.parse_lldp({"1": "04"}), [r"parse_lldp", r"list"]),
    ("fingerprint_not_dict", lambda: lldp.cabling_fingerprint("r01"), [r"cabling_fingerprint", r"dict"]),
]


@pytest.mark.parametrize("case_id,call,patterns", CASES, ids=[c[0] for c in CASES])
def test_filter_case(case_id, call, patterns):
    with pytest.raises(AnsibleFilterError) as info:
        call()
    for pattern in patterns:
        assert re.search(pattern, str(info.value)), "%s: %r not in %s" % (case_id, pattern, info.value)


@pytest.mark.parametrize("case_id,host,patterns", [
    ("site_unknown_leaf", _host(nics=[{"name": "eno1", "mac": "52:54:00:00:00:01", "leaf": "leaf-r09-a"}]),
     [r"r01-n01", r"eno1", r"leaf-r09-a"]),
    ("site_leaf_of_other_rack", _host(leaf_switches={"leaf-r01-a": {"rack": "r02"}}),
     [r"r01-n01", r"leaf-r01-a", r"r02"]),
    ("site_no_rack", _host(rack=None), [r"r01-n01", r"rack"]),
    ("site_duplicate_mac", None, [r"52:54:00:00:00:01", r"r01-n0[12]"]),
], ids=lambda v: v if isinstance(v, str) else "")
def test_site_errors_case(case_id, host, patterns):
    hosts = [host] if host else [_host(), _host(inventory_hostname="r01-n02", bmc_address="10.1.0.2")]
    errors = site.site_errors(hosts)
    text = "\n".join(errors)
    assert errors, case_id
    for pattern in patterns:
        assert re.search(pattern, text), "%s: %r not in %s" % (case_id, pattern, text)


VALUES = [None, True, 0, -1, 2 ** 70, 1.5, "", "zz", "0" * 1001, [], [1], {}, {"a": 1}]


def test_parse_lldp_every_json_type_in_every_position():
    """A TLV list with any JSON value in any position decodes or is skipped with a warning; the
    filter never raises anything but AnsibleFilterError."""
    shapes = [lambda v: [v], lambda v: [[v, "0401"]], lambda v: [[1, v]], lambda v: [[1, "0401", v]],
              lambda v: [[1, "0470ea1a7328a0"], v], lambda v: v]
    tried = 0
    for shape, value in itertools.product(shapes, VALUES):
        tried += 1
        try:
            result = lldp.parse_lldp(shape(value))
        except AnsibleFilterError as exc:
            assert "parse_lldp" in str(exc)
        else:
            assert isinstance(result, dict)
    assert tried == len(shapes) * len(VALUES)
