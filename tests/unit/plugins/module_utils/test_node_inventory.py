"""Ironic node/port dicts -> inventory hosts, hostvars and groups (module_utils/_node_inventory.py)."""
import json

from ansible_collections.spineleaf.baremetal.plugins.module_utils._node_inventory import (
    group_name, inventory_from_ironic, node_vars, strip_secrets)

PASSWORD = 'Kn0wn-BMC-Passw0rd'
CONFIGDRIVE = 'H4sIAAAAAAAC-known-config-drive'


def node(name='r01-n01', uuid='u1', **kw):
    d = {'uuid': uuid, 'name': name, 'provision_state': 'active', 'maintenance': False,
         'resource_class': 'baremetal.compute', 'conductor_group': '', 'traits': [],
         'extra': {}, 'properties': {'cpu_arch': 'x86_64'}, 'driver': 'ipmi',
         'driver_info': {'ipmi_address': '10.0.1.1', 'ipmi_username': 'admin', 'ipmi_password': PASSWORD},
         'instance_info': {'image_source': 'glance://img', 'configdrive': CONFIGDRIVE},
         'driver_internal_info': {'agent_secret_token': 'tok', 'agent_url': 'http://x'},
         'links': [{'href': 'http://x'}], 'ports': [{'href': 'http://x'}]}
    d.update(kw)
    return d


def port(node_uuid='u1', mac='52:54:00:01:01:01', **kw):
    d = {'uuid': 'p-' + mac, 'node_uuid': node_uuid, 'address': mac, 'physical_network': 'leaf1',
         'pxe_enabled': True, 'portgroup_uuid': None,
         'local_link_connection': {'switch_info': 'leaf-r01-a', 'port_id': 'Ethernet1/1', 'switch_id': '00:1c:73:01:00:0a'},
         'links': []}
    d.update(kw)
    return d


def test_rack_and_role_from_traits_spelled_as_extra():
    hv = node_vars(node(traits=['CUSTOM_RACK_R01', 'CUSTOM_ROLE_COMPUTE'], extra={'rack': 'r01', 'role': 'compute'}))
    assert hv['rack'] == 'r01' and hv['node_role'] == 'compute'


def test_trait_wins_over_extra_when_they_disagree():
    hv = node_vars(node(traits=['CUSTOM_RACK_R07'], extra={'rack': 'r01'}))
    assert hv['rack'] == 'r07'


def test_extra_when_no_trait():
    hv = node_vars(node(extra={'rack': 'R-East-1', 'role': 'storage'}))
    assert hv['rack'] == 'R-East-1' and hv['node_role'] == 'storage'
    assert 'rack' not in node_vars(node())


def test_ports_carry_mac_switch_port_physnet():
    hv = node_vars(node(), [port(mac='52:54:00:01:01:02'), port()])
    assert [p['address'] for p in hv['ironic']['ports']] == ['52:54:00:01:01:01', '52:54:00:01:01:02']
    assert hv['ironic']['ports'][0] == {
        'uuid': 'p-52:54:00:01:01:01', 'address': '52:54:00:01:01:01', 'physical_network': 'leaf1',
        'pxe_enabled': True, 'portgroup_uuid': None, 'switch': 'leaf-r01-a', 'switch_id': '00:1c:73:01:00:0a',
        'port': 'Ethernet1/1'}


def test_no_secret_survives():
    n = node(extra={'rack': 'r01', 'bmc_password': PASSWORD, 'nested': {'api_token': PASSWORD}},
             properties={'capabilities': 'boot_mode:uefi', 'root_device': {'name': '/dev/sda'}})
    text = json.dumps(inventory_from_ironic([n], [port(extra={'auth_secret': PASSWORD})]))
    assert PASSWORD not in text
    assert CONFIGDRIVE not in text and 'configdrive' not in text
    assert 'ipmi_username' not in text and 'agent_secret_token' not in text and 'driver_internal_info' not in text
    hv = node_vars(n)
    assert hv['ironic']['driver_info'] == {'ipmi_address': '10.0.1.1'}
    assert hv['ironic']['instance_info'] == {'image_source': 'glance://img'}
    assert hv['ironic']['extra'] == {'rack': 'r01', 'nested': {}}
    assert hv['ironic']['properties']['root_device'] == {'name': '/dev/sda'}
    assert 'links' not in hv['ironic']


def test_strip_secrets_is_recursive_and_keeps_lists():
    assert strip_secrets({'a': [{'password': 1, 'b': 2}], 'ssh_key': 'x'}) == {'a': [{'b': 2}]}


def test_groups():
    nodes = [
        node('r01-n01', 'u1', traits=['CUSTOM_RACK_R01', 'CUSTOM_ROLE_CONTROLLER'], extra={'rack': 'r01'}),
        node('r01-n02', 'u2', traits=['CUSTOM_RACK_R01'], provision_state='deploy failed', maintenance=True,
             conductor_group='rack-a'),
        node(None, 'u3', provision_state='enroll', resource_class=None),
    ]
    inv = inventory_from_ironic(nodes, [port('u1'), port('u2', '52:54:00:01:02:01'), port('gone', '52:54:00:09:09:09')])
    g = inv['groups']
    assert g['rack_r01'] == ['r01-n01', 'r01-n02']
    assert inv['racks'] == ['rack_r01']
    assert g['baremetal'] == ['u3'], 'rack groups are children of baremetal; only rackless nodes are direct members'
    assert g['role_controller'] == ['r01-n01']
    assert g['state_active'] == ['r01-n01'] and g['state_deploy_failed'] == ['r01-n02'] and g['state_enroll'] == ['u3']
    assert g['resource_class_baremetal_compute'] == ['r01-n01', 'r01-n02']
    assert g['conductor_group_rack_a'] == ['r01-n02']
    assert g['maintenance'] == ['r01-n02']
    assert sorted(inv['hosts']) == ['r01-n01', 'r01-n02', 'u3']
    assert len(inv['hosts']['r01-n02']['ironic']['ports']) == 1


def test_group_name():
    assert group_name('state', 'deploy failed') == 'state_deploy_failed'
    assert group_name('resource_class', 'baremetal.gpu-a100') == 'resource_class_baremetal_gpu_a100'


def test_unset_fields_are_left_out_but_false_and_zero_kept():
    hv = node_vars(node(instance_uuid=None, description='', raid_config={}, maintenance=False, protected=False,
                        properties={'cpus': 0}))
    ironic = hv['ironic']
    assert 'instance_uuid' not in ironic and 'description' not in ironic and 'raid_config' not in ironic
    assert 'conductor_group' not in ironic  # '' = the default group
    assert ironic['maintenance'] is False and ironic['protected'] is False and ironic['properties'] == {'cpus': 0}
    assert ironic['traits'] == [] and ironic['ports'] == []
