import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils._rack_subnets import (
    leaf_routes, rack_indexes, rack_subnets, rack_vlan, routed_network_segments)


def test_rack_subnets_by_index_ipv4():
    plan = rack_subnets('10.10.0.0/16', 24, {'r01': 1, 'r02': 2})
    assert plan['r01'] == {'cidr': '10.10.1.0/24', 'gateway': '10.10.1.1', 'rack_index': 1, 'ip_version': 4,
                           'allocation_pool': {'start': '10.10.1.2', 'end': '10.10.1.254'}}
    assert plan['r02']['cidr'] == '10.10.2.0/24'


def test_rack_subnets_list_forms_agree():
    names = rack_subnets('10.0.0.0/16', 24, ['a', 'b', 'c'])
    dicts = rack_subnets('10.0.0.0/16', 24, [{'rack': 'a', 'rack_index': 1}, {'rack': 'b', 'rack_index': 2},
                                             {'rack': 'c', 'rack_index': 3}])
    assert names == dicts
    assert [names[r]['cidr'] for r in 'abc'] == ['10.0.1.0/24', '10.0.2.0/24', '10.0.3.0/24']


def test_appending_a_rack_never_moves_the_others():
    before = rack_subnets('10.10.0.0/16', 24, {'r01': 1, 'r02': 2, 'r03': 3})
    after = rack_subnets('10.10.0.0/16', 24, {'r01': 1, 'r02': 2, 'r03': 3, 'r04': 4})
    for rack in before:
        assert before[rack] == after[rack]
    assert after['r04']['cidr'] == '10.10.4.0/24'
    # removing a rack in the middle does not renumber either
    assert rack_subnets('10.10.0.0/16', 24, {'r01': 1, 'r03': 3})['r03'] == before['r03']


def test_rack_subnets_ipv6():
    plan = rack_subnets('fd00:10::/48', 64, {'r01': 1, 'r02': 2})
    assert plan['r01']['cidr'] == 'fd00:10:0:1::/64'
    assert plan['r01']['gateway'] == 'fd00:10:0:1::1'
    assert plan['r01']['allocation_pool'] == {'start': 'fd00:10:0:1::2', 'end': 'fd00:10:0:1:ffff:ffff:ffff:ffff'}
    assert plan['r02']['ip_version'] == 6


@pytest.mark.parametrize('supernet,prefix,racks,match', [
    ('10.10.0.0/24', 26, {'r01': 1, 'r09': 4}, r'too small.*r09'),
    ('10.10.0.0/16', 8, ['a'], 'does not fit'),
    ('10.10.0.0/16', 31, ['a'], 'no room'),
    ('10.10.0.1/16', 24, ['a'], 'host bits'),
    ('nonsense', 24, ['a'], 'not a valid CIDR'),
    ('10.10.0.0/16', 24, {'a': 1, 'b': 1}, 'share rack_index 1'),
    ('10.10.0.0/16', 24, ['a', 'a'], 'listed twice'),
    ('10.10.0.0/16', 24, 'r01', 'must be a list'),
])
def test_rack_subnets_errors(supernet, prefix, racks, match):
    with pytest.raises(ValueError, match=match):
        rack_subnets(supernet, prefix, racks)


def test_rack_indexes_dict_and_list():
    assert rack_indexes({'r01': '1'}) == [('r01', 1)]
    assert rack_indexes([{'rack': 'x'}]) == [('x', 1)]
    # one rule with the site model: an index is an integer >= 1
    for bad in (0, -1, 'one', True):
        with pytest.raises(ValueError, match='rack_index .* is not a positive integer'):
            rack_indexes({'r01': bad})


def test_leaf_routes_match_neutron():
    plan = rack_subnets('10.10.0.0/16', 24, {'r01': 1, 'r02': 2, 'r03': 3})
    assert leaf_routes(plan, 'r02') == [{'destination': '10.10.1.0/24', 'nexthop': '10.10.2.1'},
                                        {'destination': '10.10.3.0/24', 'nexthop': '10.10.2.1'}]


def test_leaf_routes_extra_and_override():
    plan = rack_subnets('10.10.0.0/16', 24, {'r01': 1, 'r02': 2})
    routes = leaf_routes(plan, 'r01', [{'destination': '10.10.2.0/24', 'nexthop': '10.10.1.254'},
                                       {'destination': '0.0.0.0/0', 'nexthop': '10.10.1.1'}])
    assert routes == [{'destination': '10.10.2.0/24', 'nexthop': '10.10.1.254'},
                      {'destination': '0.0.0.0/0', 'nexthop': '10.10.1.1'}]


def test_leaf_routes_skips_other_ip_version_and_unknown_rack():
    plan = {'a': {'cidr': '10.0.0.0/24', 'gateway': '10.0.0.1'}, 'b': {'cidr': 'fd00::/64', 'gateway': 'fd00::1'}}
    assert leaf_routes(plan, 'a') == []
    with pytest.raises(ValueError, match='not in the plan'):
        leaf_routes(plan, 'zz')


RACKS = [{'rack': 'r01', 'rack_index': 1, 'rack_physnet': 'leaf1'},
         {'rack': 'r02', 'rack_index': 2, 'rack_physnet': 'leaf2',
          'rack_vlans': {'ctlplane': 150}, 'rack_subnets': {'ctlplane': '10.99.0.0/24'}}]
NET = {'name': 'ctlplane', 'provisioning': True, 'supernet': '10.10.0.0/16', 'prefix_per_rack': 24, 'vlan_base': 100,
       'physnet_pattern': 'leaf{rack_index}', 'dhcp': True, 'extra_routes': []}


def test_routed_network_segments():
    segs = routed_network_segments(NET, RACKS)
    assert segs[0] == {'name': 'ctlplane-r01', 'physical_network': 'leaf1', 'network_type': 'vlan', 'segmentation_id': 101,
                       'subnets': [{'name': 'ctlplane-r01', 'cidr': '10.10.1.0/24', 'gateway_ip': '10.10.1.1',
                                    'allocation_pools': [{'start': '10.10.1.2', 'end': '10.10.1.254'}],
                                    'enable_dhcp': True}]}
    assert segs[1]['segmentation_id'] == 150
    assert segs[1]['subnets'][0] == {'name': 'ctlplane-r02', 'cidr': '10.99.0.0/24', 'gateway_ip': '10.99.0.1',
                                     'enable_dhcp': True}


def test_routed_network_segments_extra_routes_via_rack_gateway():
    segs = routed_network_segments(dict(NET, extra_routes=['192.168.0.0/16']), RACKS)
    assert segs[0]['subnets'][0]['host_routes'] == [{'destination': '192.168.0.0/16', 'nexthop': '10.10.1.1'}]
    assert segs[1]['subnets'][0]['host_routes'] == [{'destination': '192.168.0.0/16', 'nexthop': '10.99.0.1'}]


def test_routed_network_segments_physnet_mismatch():
    bad = [dict(RACKS[0], rack_physnet='spine')]
    with pytest.raises(ValueError, match='rack r01.*rack_physnet is spine'):
        routed_network_segments(NET, bad)


def test_routed_network_segments_flat_from_rack_physnet():
    net = {'name': 'storage', 'supernet': '172.16.0.0/16', 'prefix_per_rack': 24, 'extra_routes': [
        {'destination': '192.168.0.0/16', 'nexthop': '172.16.1.254'}]}
    segs = routed_network_segments(net, RACKS[:1])
    assert segs[0]['network_type'] == 'flat' and 'segmentation_id' not in segs[0]
    assert segs[0]['physical_network'] == 'leaf1'
    assert segs[0]['subnets'][0]['host_routes'] == net['extra_routes']


def test_rack_vlan_base_and_override():
    net = {'name': 'ctlplane', 'vlan_base': 200}
    assert rack_vlan(net, {'rack': 'r01'}, 1) == 201
    assert rack_vlan(net, {'rack': 'r02', 'rack_vlans': {'ctlplane': 777, 'other': 5}}, 2) == 777
    with pytest.raises(ValueError, match='rack r03: no VLAN: set vlan_base or rack_vlans.ctlplane'):
        rack_vlan({'name': 'ctlplane'}, {'rack': 'r03'}, 3)
