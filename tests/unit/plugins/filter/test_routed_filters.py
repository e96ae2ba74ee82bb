import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.spineleaf.baremetal.plugins.filter.routed import (
    FilterModule, leaf_routes, rack_subnets, routed_network_segments)


def test_registered():
    assert set(FilterModule().filters()) == {'rack_subnets', 'leaf_routes', 'routed_network_segments'}


def test_rack_subnets_both_argument_orders():
    a = rack_subnets('10.10.0.0/16', 24, {'r01': 1})
    b = rack_subnets({'r01': 1}, '10.10.0.0/16', 24)
    assert a == b and a['r01']['cidr'] == '10.10.1.0/24'


def test_rack_subnets_too_small_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match='rack_subnets: supernet 10.0.0.0/30 is too small'):
        rack_subnets('10.0.0.0/30', 30, ['a', 'b'])


def test_leaf_routes_and_errors():
    plan = rack_subnets('10.10.0.0/16', 24, {'r01': 1, 'r02': 2})
    assert leaf_routes(plan, 'r02') == [{'destination': '10.10.1.0/24', 'nexthop': '10.10.2.1'}]
    with pytest.raises(AnsibleFilterError, match='rack r09 is not in the plan'):
        leaf_routes(plan, 'r09')


def test_routed_network_segments_error():
    with pytest.raises(AnsibleFilterError, match='no subnet'):
        routed_network_segments({'name': 'x', 'vlan_base': 1, 'physnet_pattern': 'leaf{rack_index}'},
                                [{'rack': 'r01', 'rack_index': 1}])
