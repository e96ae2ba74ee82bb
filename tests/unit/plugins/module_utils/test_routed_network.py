import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils import _routed_network as rn


def seg(i, subnets=None, **kw):
    out = dict(name='r%02d' % i, physical_network='leaf%d' % i, network_type='vlan', segmentation_id=100 + i,
               subnets=subnets if subnets is not None else [dict(name='s%02d' % i, cidr='10.0.%d.0/24' % i)])
    out.update(kw)
    return out


def spec(segments, **kw):
    params = dict(name='net', segments=segments, state='present')
    params.update(kw)
    return rn.normalize_spec(params)


def current_from(spec_, with_routes=True):
    """What Neutron holds after creating spec_ (ids = names), including its automatic routes."""
    segs, subs = [], []
    for s in spec_['segments']:
        segs.append(dict(id='seg-' + s['name'], name=s['name'], network_type=s['network_type'],
                         physical_network=s['physical_network'], segmentation_id=s['segmentation_id']))
        for sub in s['subnets']:
            subs.append(dict(id='sub-' + sub['name'], name=sub['name'], segment_id='seg-' + s['name'], cidr=sub['cidr'],
                             ip_version=sub['ip_version'], gateway_ip=sub['gateway_ip'] or rn.default_gateway(sub['cidr']),
                             allocation_pools=[], dns_nameservers=[], enable_dhcp=True, host_routes=list(sub['host_routes']),
                             ipv6_address_mode=sub['ipv6_address_mode'], ipv6_ra_mode=sub['ipv6_ra_mode'], description=None))
    if with_routes:
        for sub in subs:
            for peer in subs:
                if peer['segment_id'] != sub['segment_id'] and peer['ip_version'] == sub['ip_version'] and \
                        peer['cidr'] not in [r['destination'] for r in sub['host_routes']]:
                    sub['host_routes'].append(dict(destination=peer['cidr'], nexthop=sub['gateway_ip']))
    net = dict(id='net-id', name='net', description='', shared=False, external=False, mtu=1500)
    return dict(network=net, segments=segs, subnets=subs, ports=[])


def kinds(plan):
    return [action[0] for action in plan.actions]


def test_create_uses_first_segment_and_adopts_implicit_segment():
    s = spec([seg(1), seg(2), seg(3)])
    plan = rn.plan(s, dict(network=None))
    assert kinds(plan) == ['create_network', 'update_segment', 'create_segment', 'create_segment',
                           'create_subnet', 'create_subnet', 'create_subnet']
    attrs = plan.actions[0][1]['attrs']
    assert attrs['provider_physical_network'] == 'leaf1' and attrs['provider_segmentation_id'] == 101
    assert plan.actions[1][1] == dict(id=None, segment='r01', changes={'name': 'r01'})
    assert plan.segments[0]['action'] == 'adopted'


def test_rerun_is_unchanged():
    s = spec([seg(1), seg(2), seg(3)])
    plan = rn.plan(s, current_from(s))
    assert plan.actions == []
    assert [x['action'] for x in plan.subnets] == ['unchanged'] * 3


def test_adding_a_rack_only_creates_it():
    s3 = spec([seg(1), seg(2), seg(3)])
    s4 = spec([seg(1), seg(2), seg(3), seg(4)])
    plan = rn.plan(s4, current_from(s3))
    assert kinds(plan) == ['create_segment', 'create_subnet']
    # diff.after predicts Neutron's new route on the old subnets
    r01 = plan.after['segments'][0]['subnets'][0]
    assert {'destination': '10.0.4.0/24', 'nexthop': '10.0.1.1'} in r01['host_routes']


def test_unnamed_existing_segment_is_adopted():
    s = spec([seg(1), seg(2)])
    cur = current_from(s)
    cur['segments'][0]['name'] = None
    plan = rn.plan(s, cur)
    assert kinds(plan) == ['update_segment']
    assert plan.actions[0][1]['changes'] == {'name': 'r01'}


def test_extra_host_routes_converge():
    extra = [dict(destination='192.168.0.0/16', nexthop='10.0.1.254')]
    s = spec([seg(1, [dict(name='s01', cidr='10.0.1.0/24', host_routes=extra)]), seg(2)])
    cur = current_from(spec([seg(1), seg(2)]))
    plan = rn.plan(s, cur)
    assert kinds(plan) == ['update_subnet']
    routes = rn.route_set(plan.actions[0][1]['changes']['host_routes'])
    assert routes == {('10.0.2.0/24', '10.0.1.1'), ('192.168.0.0/16', '10.0.1.254')}
    assert rn.plan(s, current_from(s)).actions == []


def test_removed_extra_route_is_removed():
    extra = [dict(destination='192.168.0.0/16', nexthop='10.0.1.254')]
    old = spec([seg(1, [dict(name='s01', cidr='10.0.1.0/24', host_routes=extra)]), seg(2)])
    plan = rn.plan(spec([seg(1), seg(2)]), current_from(old))
    assert rn.route_set(plan.actions[0][1]['changes']['host_routes']) == {('10.0.2.0/24', '10.0.1.1')}


def test_forbidden_segment_change_is_a_clear_error():
    cur = current_from(spec([seg(1), seg(2)]))
    with pytest.raises(rn.PlanError, match=r'segment r02: segmentation_id 102 -> 150 cannot change.*replace_segments'):
        rn.plan(spec([seg(1), seg(2, segmentation_id=150)]), cur)


def test_replace_segment():
    cur = current_from(spec([seg(1), seg(2)]))
    plan = rn.plan(spec([seg(1), seg(2, physical_network='leaf9')]), cur, replace_segments=True)
    assert kinds(plan) == ['delete_subnet', 'delete_segment', 'create_segment', 'create_subnet']


def test_replace_refused_with_ports():
    cur = current_from(spec([seg(1), seg(2)]))
    cur['ports'] = [dict(id='p1', fixed_ips=[dict(subnet_id='sub-s02', ip_address='10.0.2.5')])]
    with pytest.raises(rn.PlanError, match='1 port'):
        rn.plan(spec([seg(1), seg(2, segmentation_id=150)]), cur, replace_segments=True)


def test_unknown_segments_reported_then_purged():
    cur = current_from(spec([seg(1), seg(2), seg(3)]))
    s = spec([seg(1), seg(2)])
    plan = rn.plan(s, cur)
    assert plan.actions == []
    assert [u['name'] for u in plan.unmanaged] == ['r03', 's03']
    plan = rn.plan(s, cur, purge_segments=True)
    assert kinds(plan) == ['delete_subnet', 'delete_segment']


def test_absent_order():
    cur = current_from(spec([seg(1), seg(2)]))
    plan = rn.plan(spec([], state='absent'), cur)
    assert kinds(plan) == ['delete_subnet', 'delete_subnet', 'delete_segment', 'delete_segment', 'delete_network']
    assert rn.plan(spec([], state='absent'), dict(network=None)).actions == []


def test_subnet_cidr_change_is_an_error():
    cur = current_from(spec([seg(1), seg(2)]))
    with pytest.raises(rn.PlanError, match='subnet s02 .*cidr cannot change'):
        rn.plan(spec([seg(1), seg(2, [dict(name='s02', cidr='10.0.22.0/24')])]), cur)


def test_overlap_with_existing_unmanaged_subnet():
    cur = current_from(spec([seg(1), seg(2)]))
    with pytest.raises(rn.PlanError, match='subnet s09 .*overlaps existing subnet s02'):
        rn.plan(spec([seg(1), seg(3, [dict(name='s09', cidr='10.0.2.0/25')])]), cur)


def test_ipv6_subnets():
    s = spec([seg(1, [dict(name='v6-1', cidr='fd00:0:0:1::/64', ipv6_address_mode='slaac', ipv6_ra_mode='slaac')]),
              seg(2, [dict(name='v6-2', cidr='fd00:0:0:2::/64')])])
    assert s['segments'][0]['subnets'][0]['ip_version'] == 6
    assert rn.plan(s, current_from(s)).actions == []


@pytest.mark.parametrize('segments,match', [
    ([seg(1, [dict(name='a', cidr='10.0.1.0/33')])], r"subnet a \(segment r01\): cidr '10.0.1.0/33' is not a valid"),
    ([seg(1, [dict(name='a', cidr='10.0.1.5/24')])], 'host bits set; did you mean 10.0.1.0/24'),
    ([seg(1, [dict(name='a', cidr='10.0.1.0/24')]), seg(2, [dict(name='b', cidr='10.0.0.0/16')])],
     r'subnet b \(segment r02\): 10.0.0.0/16 overlaps subnet a'),
    ([seg(1, [dict(name='a', cidr='10.0.1.0/24', gateway_ip='10.0.2.1')])], 'gateway_ip 10.0.2.1 is outside'),
    ([seg(1, [dict(name='a', cidr='10.0.1.0/24', gateway_ip='10.0.1.5',
                   allocation_pools=[dict(start='10.0.1.2', end='10.0.1.100')])])], 'gateway_ip 10.0.1.5 is inside allocation pool'),
    ([seg(1, [dict(name='a', cidr='10.0.1.0/24', allocation_pools=[dict(start='10.0.1.10', end='10.0.2.10')])])],
     'allocation pool 10.0.1.10-10.0.2.10 is outside cidr'),
    ([seg(1, segmentation_id=4095)], 'segment r01: VLAN 4095 is out of range 1-4094'),
    ([seg(1, segmentation_id=0)], 'VLAN 0 is out of range'),
    ([seg(1), seg(2, physical_network='leaf1', segmentation_id=101)], 'segment r02: vlan leaf1 VLAN 101 is already used by segment r01'),
    ([seg(1), seg(1, subnets=[])], 'segment r01: duplicate segment name'),
    ([seg(1), seg(2, [dict(name='s01', cidr='10.0.2.0/24')])], r'subnet s01 \(segment r02\): duplicate subnet name'),
    ([seg(1, [dict(name='a', cidr='10.0.1.0/24', ip_version=6)])], 'ip_version 6 does not match'),
    ([seg(1, [dict(name='a', cidr='10.0.1.0/24', ipv6_address_mode='slaac')])], 'only for IPv6'),
    ([seg(1, network_type='flat')], 'segmentation_id must not be set for a flat segment'),
    ([seg(1, [dict(name='a', cidr='10.0.1.0/24', host_routes=[dict(destination='1.2.3.0/24', nexthop='9.9.9.9')])])],
     'nexthop 9.9.9.9 is not inside'),
    ([], 'segments is empty'),
])
def test_validation_errors(segments, match):
    with pytest.raises(rn.PlanError, match=match):
        spec(segments)


def test_all_errors_reported_at_once():
    with pytest.raises(rn.PlanError, match='2 problem'):
        spec([seg(1, segmentation_id=5000, subnets=[dict(name='a', cidr='bad')])])


def test_desired_routes_user_route_replaces_automatic():
    me = dict(name='a', cidr='10.0.1.0/24', ip_version=4, segment='x')
    peers = [dict(name='b', cidr='10.0.2.0/24', ip_version=4, segment='y'),
             dict(name='c', cidr='10.0.3.0/24', ip_version=4, segment='x'),
             dict(name='d', cidr='fd00::/64', ip_version=6, segment='y')]
    got = rn.desired_routes(me, '10.0.1.1', peers, [dict(destination='10.0.2.0/24', nexthop='10.0.1.254')])
    assert got == {('10.0.2.0/24', '10.0.1.254')}


def test_network_attribute_update():
    s = spec([seg(1)], mtu=9000, description='ctl')
    plan = rn.plan(s, current_from(s))
    assert kinds(plan) == ['update_network']
    assert plan.actions[0][1]['changes'] == {'mtu': 9000, 'description': 'ctl'}


def test_segment_conflicts_with_other_networks():
    s = spec([seg(1), seg(2)])
    plan = rn.plan(s, dict(network=None))
    others = [dict(id='x', name='other-r02', network_id='other', network_type='vlan', physical_network='leaf2',
                   segmentation_id=102)]
    errors = rn.segment_conflicts(plan, None, others, {'other': 'other-net'})
    assert errors == ['segment r02: vlan leaf2 VLAN 102 is already used by segment other-r02 of network other-net: '
                      'choose another VLAN']
    # our own segments never conflict with themselves
    cur = current_from(s)
    assert rn.segment_conflicts(rn.plan(spec([seg(1), seg(2), seg(3)]), cur), 'net-id',
                                [dict(x, network_id='net-id') for x in cur['segments']]) == []


def test_host_route_limit_counts_neutron_routes_to_peers_plus_extra_routes():
    from ansible_collections.spineleaf.baremetal.plugins.module_utils import _routed_network as rn_
    plan_ = rn_.Plan()
    plan_.final = [dict(name='s%d' % i, cidr='10.0.%d.0/24' % i, ip_version=4, segment='seg%d' % i, gateway='10.0.%d.1' % i)
                   for i in range(1, 23)]
    plan_.route_targets = dict(('s%d' % i, []) for i in range(1, 23))
    assert rn_.host_route_limit_errors(plan_, 21) == []
    errors = rn_.host_route_limit_errors(plan_, 20)
    assert len(errors) == 1 and '22 subnet(s) would carry up to 21 host routes' in errors[0]
    assert 's1, s2, s3, s4, s5 and 17 more' in errors[0] and 'at least 21' in errors[0]
    plan_.route_targets['s1'] = [dict(destination='192.0.2.0/24', nexthop='10.0.1.254')]
    assert '1 subnet(s) would carry up to 22 host routes' in rn_.host_route_limit_errors(plan_, 21)[0]
    # a subnet without a gateway gets no automatic routes; subnets not managed by the call are not counted
    plan_.final[0]['gateway'] = None
    plan_.route_targets = {'s1': [dict(destination='192.0.2.0/24', nexthop='10.0.1.254')]}
    assert rn_.host_route_limit_errors(plan_, 1) == []
