from ansible_collections.spineleaf.baremetal.plugins.module_utils._routed_network_check import ironic_port_problems


def test_ironic_port_problems():
    segs = [dict(name='ctl-r01', physical_network='leaf1'), dict(name='ctl-r02', physical_network='leaf2')]
    racks = [dict(rack='r01', physical_network='leaf1'), dict(rack='r02', physical_network='leaf2'),
             dict(rack='r03', physical_network='leaf3')]
    ports = [dict(node='n1', address='aa', physical_network='leaf1'),
             dict(node='n2', address='bb', physical_network='leaf9'),
             dict(node='n3', address='cc', physical_network='leaf1'),
             dict(node='n4', address='dd', physical_network=None)]
    problems, summary, by_physnet = ironic_port_problems('ctl', segs, ports, racks,
                                                         dict(n1='r01', n2='r02', n3='r02', n4='r01'))
    msgs = [p['message'] for p in problems]
    assert any('node n2 (rack r02), port bb: physical_network leaf9 has no segment on network ctl' in m for m in msgs)
    assert any('node n3 (rack r02), port cc: physical_network leaf1 belongs to rack r01' in m for m in msgs)
    assert any(m.startswith('node n4 (rack r01), port dd: no physical_network') for m in msgs)
    assert any(m.startswith('rack r03: no segment') for m in msgs)
    assert any(m.startswith('rack r02: no Ironic port') for m in msgs)
    assert summary['r01'] == dict(physical_network='leaf1', segment='ctl-r01', ports=2)
    assert by_physnet == {'leaf1': 'ctl-r01', 'leaf2': 'ctl-r02'}


def test_ironic_port_problems_clean():
    segs = [dict(name='ctl-r01', physical_network='leaf1')]
    ports = [dict(node='n1', address='aa', physical_network='leaf1')]
    problems = ironic_port_problems('ctl', segs, ports, [dict(rack='r01', physical_network='leaf1')], dict(n1='r01'))[0]
    assert problems == []
