"""ironic_traits and the tag role against the real lab Ironic, with inspection data posted the
way the ramdisk does (continue_inspection)."""
import importlib.util
import json
import os
import random
import tempfile
import time
import urllib.error
import urllib.request
import uuid

import pytest
import yaml

from lab.harness import REPO, run_module, run_playbook

MODULE = 'spineleaf.baremetal.ironic_traits'
OWNER_KEY = 'spineleaf'


def owned(conn, node):
    """The traits the owner record lists as tagging's."""
    return sorted(((conn.baremetal.get_node(node.id).extra.get(OWNER_KEY) or {}).get('tag') or {}).get('traits') or [])


TEST_VENDOR = 'Traits Test Systems'


# ---------------------------------------------------------------- helpers
def _load_ramdisk():
    """lab/ramdisk.py (make_inventory, post_inspection) when it exists, else None."""
    path = os.path.join(REPO, 'lab', 'ramdisk.py')
    if not os.path.exists(path):
        return None
    spec = importlib.util.spec_from_file_location('spineleaf_lab_ramdisk', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


RAMDISK = _load_ramdisk()


def make_inventory(name, memory_mb, arch, speeds):
    nics = [{'name': 'eth%d' % i, 'mac': random_mac(), 'speed_mbps': s} for i, s in enumerate(speeds)]
    if RAMDISK is not None:
        return RAMDISK.make_inventory(name, nics, cpu_arch=arch, memory_mb=memory_mb, vendor=TEST_VENDOR)
    return {'interfaces': [{'name': n['name'], 'mac_address': n['mac'], 'speed_mbps': n['speed_mbps'],
                            'has_carrier': True, 'lldp': None} for n in nics],
            'cpu': {'architecture': arch, 'count': 8, 'model_name': 'test', 'flags': []},
            'memory': {'physical_mb': memory_mb, 'total': memory_mb * 1024 * 1024},
            'disks': [{'name': '/dev/sda', 'size': 480 * 1024 ** 3, 'rotational': False}],
            'bmc_address': '0.0.0.0', 'hostname': name,
            'system_vendor': {'manufacturer': TEST_VENDOR, 'product_name': 'test', 'serial_number': name}}


def post_inspection(ironic_url, node_uuid, inventory):
    if RAMDISK is not None:
        return RAMDISK.post_inspection(ironic_url, node_uuid, inventory)
    req = urllib.request.Request(ironic_url + '/v1/continue_inspection?node_uuid=' + node_uuid,
                                 data=json.dumps({'inventory': inventory}).encode(), method='POST',
                                 headers={'X-OpenStack-Ironic-API-Version': '1.84',
                                          'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b'{}')


def random_mac():
    return '52:54:%02x:%02x:%02x:%02x' % tuple(random.randint(0, 255) for _octet in range(4))


def unique(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:8])


def retry_locked(fn, *args, **kwargs):
    for attempt in range(50):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # 409 NodeLocked right after an action
            if getattr(exc, 'status_code', None) != 409 or attempt == 49:
                raise
            time.sleep(0.1)
    return None


def wait_state(conn, node_id, states, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        node = conn.baremetal.get_node(node_id)
        if node.provision_state in states and not node.target_provision_state:
            return node
        time.sleep(0.05)
    raise AssertionError('node %s still %s' % (node_id, node.provision_state))


def inspect_with(conn, lab, node, inventory, attempts=8):
    """manage -> inspect -> POST our inventory while the node is in `inspect wait`.

    The lab ramdisk (if running) answers `inspect wait` nodes too; whoever posts first wins, so
    retry the round until Ironic holds our data (our vendor string)."""
    for _attempt in range(attempts):
        current = conn.baremetal.get_node(node.id)
        if current.provision_state == 'enroll':
            retry_locked(conn.baremetal.set_node_provision_state, node.id, 'manage')
            wait_state(conn, node.id, ['manageable'])
        retry_locked(conn.baremetal.set_node_provision_state, node.id, 'inspect')
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                post_inspection(lab.ironic_url, node.id, inventory)
                break
            except urllib.error.HTTPError:
                state = conn.baremetal.get_node(node.id)
                if state.provision_state == 'manageable' and not state.target_provision_state:
                    break  # somebody else answered first
                time.sleep(0.02)
        wait_state(conn, node.id, ['manageable'])
        data = conn.baremetal.get_node_inventory(node.id)
        if (data.get('inventory') or {}).get('system_vendor', {}).get('manufacturer') == TEST_VENDOR:
            return data
    raise AssertionError('could not post inspection data for %s' % node.name)


def create_node(conn, prefix='tr', **kwargs):
    return conn.baremetal.create_node(name=unique(prefix), driver='fake-hardware', **kwargs)


def state_of(conn, node):
    n = conn.baremetal.get_node(node.id)
    return {'traits': sorted(n.traits or []), 'extra': n.extra, 'properties': n.properties,
            'resource_class': n.resource_class, 'updated_at': n.updated_at}


def traits_of(conn, node):
    return sorted(conn.baremetal.get_node(node.id).traits or [])


HW_RULES = [
    {'name': 'mem-128g', 'when': 'inventory.memory.physical_mb >= `131072`', 'traits_add': ['CUSTOM_MEM_128G']},
    {'name': 'arm', 'when': "inventory.cpu.architecture == 'aarch64'", 'traits_add': ['CUSTOM_CPU_ARM64'],
     'properties': {'cpu_arch': 'aarch64'}},
    {'name': 'x86', 'when': "inventory.cpu.architecture == 'x86_64'", 'traits_add': ['HW_CPU_X86_AVX2']},
    {'name': 'nic-100g', 'when': 'max(inventory.interfaces[].speed_mbps) >= `100000`',
     'traits_add': ['CUSTOM_NIC_100G'], 'extra': {'nic_class': '100g'}},
]


@pytest.fixture(scope='module')
def inspected(lab, conn):
    """Three inspected nodes: big ARM with a 100G NIC, small x86 with 10G, mid x86 with 25G."""
    specs = {'big': (262144, 'aarch64', (100000, 25000)), 'small': (65536, 'x86_64', (10000, 10000)),
             'mid': (131072, 'x86_64', (25000, 25000))}
    nodes = {}
    for key, (memory, arch, speeds) in specs.items():
        node = create_node(conn, 'tr-' + key)
        inspect_with(conn, lab, node, make_inventory(node.name, memory, arch, speeds))
        nodes[key] = node
    return nodes


# ---------------------------------------------------------------- rules over inspection data
def test_rules_over_inspection_data_then_rerun_unchanged(lab, conn, inspected, lab_module):
    names = [n.name for n in inspected.values()]
    res, r = run_module(lab, MODULE, {'rules': HW_RULES, 'nodes': names}, diff=True)
    assert not r.get('failed'), r.get('msg')
    assert r['changed'] is True
    assert traits_of(conn, inspected['big']) == ['CUSTOM_CPU_ARM64', 'CUSTOM_MEM_128G', 'CUSTOM_NIC_100G']
    assert traits_of(conn, inspected['small']) == ['HW_CPU_X86_AVX2']
    assert traits_of(conn, inspected['mid']) == ['CUSTOM_MEM_128G', 'HW_CPU_X86_AVX2']
    big = conn.baremetal.get_node(inspected['big'].id)
    assert big.extra['nic_class'] == '100g'
    # add mode records what it set too (enrollment's exact mode keeps these traits)
    assert big.extra[OWNER_KEY]['tag']['traits'] == ['CUSTOM_CPU_ARM64', 'CUSTOM_MEM_128G', 'CUSTOM_NIC_100G']
    assert big.properties['cpu_arch'] == 'aarch64'
    by_name = dict((n['name'], n) for n in r['nodes'])
    assert by_name[inspected['big'].name]['matched_rules'] == ['mem-128g', 'arm', 'nic-100g']
    assert by_name[inspected['small'].name]['matched_rules'] == ['x86']
    assert r['api_writes'] >= 4  # one PUT traits per node + one PATCH (extra, properties) for big
    assert r['diff']['after'][inspected['big'].name]['traits'] == big.traits and 'extra' in r['diff']['after'][inspected['big'].name]

    before = dict((k, state_of(conn, n)) for k, n in inspected.items())
    r2 = lab_module(lab, MODULE, {'rules': HW_RULES, 'nodes': names})
    assert not r2.get('failed'), r2.get('msg')
    assert r2['changed'] is False and r2['api_writes'] == 0
    assert r2['changed_nodes'] == []
    assert dict((k, state_of(conn, n)) for k, n in inspected.items()) == before


def test_check_mode_writes_nothing(lab, conn, inspected):
    node = inspected['small']
    rules = [{'name': 'small-mem', 'when': 'inventory.memory.physical_mb < `131072`', 'traits_add': ['CUSTOM_MEM_SMALL'],
              'extra': {'size': 'small'}, 'resource_class': 'bm-small'}]
    before = state_of(conn, node)
    res, r = run_module(lab, MODULE, {'rules': rules, 'nodes': [node.name]}, check=True, diff=True)
    assert not r.get('failed'), r.get('msg')
    assert r['changed'] is True and r['api_writes'] == 0
    assert r['nodes'][0]['traits_added'] == ['CUSTOM_MEM_SMALL']
    assert r['diff']['after'][node.name]['resource_class'] == 'bm-small'
    assert state_of(conn, node) == before


def test_ports_and_facts_in_rules(lab, conn, lab_module):
    node = create_node(conn, 'tr-port')
    retry_locked(conn.baremetal.create_port, node_id=node.id, address=random_mac(), physical_network='leaf2')
    rules = [{'name': 'on-leaf2', 'when': "length(ports[?physical_network == 'leaf2']) > `0`",
              'traits_add': ['CUSTOM_PHYSNET_LEAF2']},
             {'name': 'storage', 'when': "facts.node_role == 'storage'", 'traits_add': ['CUSTOM_STORAGE'],
              'resource_class': 'bm-storage'}]
    r = lab_module(lab, MODULE, {'rules': rules, 'nodes': [node.name],
                                 'facts': {node.name: {'node_role': 'storage'}}})
    assert not r.get('failed'), r.get('msg')
    assert traits_of(conn, node) == ['CUSTOM_PHYSNET_LEAF2', 'CUSTOM_STORAGE']
    assert conn.baremetal.get_node(node.id).resource_class == 'bm-storage'
    # no rule reads inspection data: no per-node inventory GET (nodes + ports lists only)
    assert r['api_reads'] == 2


# ---------------------------------------------------------------- rack / role and exact mode
def test_rack_and_role_assignment(lab, conn, lab_module):
    a, b = create_node(conn, 'tr-rack'), create_node(conn, 'tr-rack')
    assign = {a.name: {'traits': ['CUSTOM_RACK_R01', 'CUSTOM_ROLE_COMPUTE']},
              b.name: {'traits': ['CUSTOM_RACK_R02', 'CUSTOM_ROLE_CONTROLLER'], 'extra': {'rack': 'r02'}}}
    r = lab_module(lab, MODULE, {'assign': assign})
    assert not r.get('failed'), r.get('msg')
    assert sorted(r['changed_nodes']) == sorted([a.name, b.name])
    assert traits_of(conn, a) == ['CUSTOM_RACK_R01', 'CUSTOM_ROLE_COMPUTE']
    assert traits_of(conn, b) == ['CUSTOM_RACK_R02', 'CUSTOM_ROLE_CONTROLLER']
    assert conn.baremetal.get_node(b.id).extra['rack'] == 'r02'
    r = lab_module(lab, MODULE, {'assign': assign})
    assert r['changed'] is False and r['api_writes'] == 0


def test_exact_mode_leaves_foreign_traits_alone(lab, conn, lab_module):
    node = create_node(conn, 'tr-exact')
    retry_locked(conn.baremetal.set_node_traits, node.id, ['CUSTOM_FOREIGN', 'HW_CPU_X86_AVX2', 'CUSTOM_SHARED'])
    first = {node.name: {'traits': ['CUSTOM_RACK_R01', 'CUSTOM_ROLE_COMPUTE', 'CUSTOM_SHARED']}}
    r = lab_module(lab, MODULE, {'assign': first, 'mode': 'exact'})
    assert not r.get('failed'), r.get('msg')
    assert traits_of(conn, node) == ['CUSTOM_FOREIGN', 'CUSTOM_RACK_R01', 'CUSTOM_ROLE_COMPUTE', 'CUSTOM_SHARED',
                                     'HW_CPU_X86_AVX2']
    # CUSTOM_SHARED was there before: somebody else's, never claimed
    assert owned(conn, node) == ['CUSTOM_RACK_R01', 'CUSTOM_ROLE_COMPUTE']

    # the node moves to rack r02 and the role is dropped: exact removes only what it owns
    second = {node.name: {'traits': ['CUSTOM_RACK_R02']}}
    r = lab_module(lab, MODULE, {'assign': second, 'mode': 'exact'})
    assert not r.get('failed'), r.get('msg')
    assert r['nodes'][0]['traits_removed'] == ['CUSTOM_RACK_R01', 'CUSTOM_ROLE_COMPUTE']
    assert traits_of(conn, node) == ['CUSTOM_FOREIGN', 'CUSTOM_RACK_R02', 'CUSTOM_SHARED', 'HW_CPU_X86_AVX2']
    assert owned(conn, node) == ['CUSTOM_RACK_R02']
    r = lab_module(lab, MODULE, {'assign': second, 'mode': 'exact'})
    assert r['changed'] is False and r['api_writes'] == 0

    # add mode never removes, even what exact mode owns; it records what it adds (traits PUT + PATCH)
    r = lab_module(lab, MODULE, {'assign': {node.name: {'traits': ['CUSTOM_X']}}})
    assert 'CUSTOM_RACK_R02' in traits_of(conn, node) and 'CUSTOM_X' in traits_of(conn, node)
    assert owned(conn, node) == ['CUSTOM_RACK_R02', 'CUSTOM_X']
    assert r['api_writes'] == 2


def test_selector_picks_nodes(lab, conn, lab_module):
    prefix = unique('tr-sel')
    picked = [conn.baremetal.create_node(name='%s-a%d' % (prefix, i), driver='fake-hardware') for i in range(2)]
    other = conn.baremetal.create_node(name='%s-b0' % prefix, driver='fake-hardware')
    rule = [{'name': 'mark', 'traits_add': ['CUSTOM_PICKED']}]
    r = lab_module(lab, MODULE, {'rules': rule, 'selector': "[?starts_with(name, '%s-a')]" % prefix})
    assert not r.get('failed'), r.get('msg')
    assert sorted(n['name'] for n in r['nodes']) == sorted(n.name for n in picked)
    assert all(traits_of(conn, n) == ['CUSTOM_PICKED'] for n in picked)
    assert traits_of(conn, other) == []
    r = lab_module(lab, MODULE, {'rules': rule, 'selector': "starts_with(name, '%s-b')" % prefix})
    assert [n['name'] for n in r['nodes']] == [other.name]


# ---------------------------------------------------------------- validation: zero writes
@pytest.mark.parametrize('bad_rule, message', [
    ({'name': 'broken-expr', 'when': 'inventory.memory.physical_mb >=', 'traits_add': ['CUSTOM_OK']},
     "rule 'broken-expr', when: invalid JMESPath"),
    ({'name': 'typo-fn', 'when': 'lenght(ports) > `0`', 'traits_add': ['CUSTOM_OK']}, 'unknown function lenght()'),
    ({'name': 'bad-trait', 'traits_add': ['custom_lower']}, "rule 'bad-trait', traits_add"),
    ({'name': 'bad-trait-2', 'traits_add': ['CUSTOM_A-B']}, "rule 'bad-trait-2', traits_add"),
    ({'name': 'too-long', 'traits_add': ['CUSTOM_' + 'X' * 250]}, 'longer than 255'),
])
def test_bad_rules_rejected_with_zero_writes(lab, conn, bad_rule, message, lab_module):
    node = create_node(conn, 'tr-bad', extra={'keep': 1})
    before = state_of(conn, node)
    good = {'name': 'good', 'traits_add': ['CUSTOM_GOOD'], 'extra': {'x': 1}}
    r = lab_module(lab, MODULE, {'rules': [good, bad_rule], 'nodes': [node.name]})
    assert r['failed']
    assert message in r['msg'], r['msg']
    assert 'Traceback' not in r['msg']
    assert state_of(conn, node) == before


def test_bad_assignment_and_missing_node_rejected(lab, conn, lab_module):
    node = create_node(conn, 'tr-bad')
    before = state_of(conn, node)
    r = lab_module(lab, MODULE, {'assign': {node.name: {'traits': ['CUSTOM_OK', 'rack r01']}}})
    assert r['failed'] and 'assign[%s], traits' % node.name in r['msg']
    r = lab_module(lab, MODULE, {'assign': {node.name: ['CUSTOM_OK'], 'no-such-node-xyz': ['CUSTOM_OK']}})
    assert r['failed'] and 'no-such-node-xyz' in r['msg']
    assert state_of(conn, node) == before


def test_evaluation_error_names_rule_and_node_and_writes_nothing(lab, conn, lab_module):
    node = create_node(conn, 'tr-noinv')  # never inspected: inventory is null
    before = state_of(conn, node)
    rules = [{'name': 'ok', 'traits_add': ['CUSTOM_OK']},
             {'name': 'nic-speed', 'when': 'max(inventory.interfaces[].speed_mbps) >= `1`', 'traits_add': ['CUSTOM_X']}]
    r = lab_module(lab, MODULE, {'rules': rules, 'nodes': [node.name]})
    assert r['failed'] and "rule 'nic-speed' on node %s" % node.name in r['msg']
    assert state_of(conn, node) == before


# ---------------------------------------------------------------- the tag role
def test_tag_role_rack_role_and_rules(lab, conn, inspected):
    racks = {'r07': [create_node(conn, 'tr-role'), create_node(conn, 'tr-role')], 'r08': [create_node(conn, 'tr-role')]}
    roles = ['compute', 'storage-hdd', 'controller']
    hosts_by_rack = {}
    i = 0
    for rack, nodes in racks.items():
        hosts_by_rack[rack] = {}
        for n in nodes:
            hosts_by_rack[rack][n.name] = {'node_role': roles[i]}
            i += 1
    hosts_by_rack['r08'][inspected['mid'].name] = {'node_role': 'compute'}
    inventory = {'all': {
        'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': os.path.join(REPO, '.venv', 'bin', 'python'),
                 'tag_rules': [HW_RULES[0], {'name': 'compute-rc', 'when': "facts.node_role == 'compute'",
                                             'resource_class': 'baremetal-compute'}]},
        'children': {'baremetal': {'children': dict(
            ('rack_%s' % rack, {'vars': {'rack': rack}, 'hosts': hosts}) for rack, hosts in hosts_by_rack.items())}}}}
    plays = [{'name': 'tag', 'hosts': 'baremetal', 'gather_facts': False,
              'roles': [{'role': 'spineleaf.baremetal.tag'}]}]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'hosts.yml')
        with open(path, 'w') as f:
            yaml.safe_dump(inventory, f)
        res = run_playbook(lab, plays, inventory=path)
        assert res.rc == 0, res.output[-4000:]
        a, b = racks['r07']
        assert traits_of(conn, a) == ['CUSTOM_RACK_R07', 'CUSTOM_ROLE_COMPUTE']
        assert traits_of(conn, b) == ['CUSTOM_RACK_R07', 'CUSTOM_ROLE_STORAGE_HDD']
        assert traits_of(conn, racks['r08'][0]) == ['CUSTOM_RACK_R08', 'CUSTOM_ROLE_CONTROLLER']
        assert {'CUSTOM_RACK_R08', 'CUSTOM_ROLE_COMPUTE', 'CUSTOM_MEM_128G'} <= set(traits_of(conn, inspected['mid']))
        assert conn.baremetal.get_node(a.id).resource_class == 'baremetal-compute'
        assert conn.baremetal.get_node(b.id).resource_class is None
        # again: nothing to do
        res = run_playbook(lab, plays, inventory=path)
        assert res.rc == 0, res.output[-4000:]
        assert 'changed=0' in res.stdout and '0 write call(s)' in res.stdout
        # check mode on changed inventory: reports, writes nothing
        inventory['all']['children']['baremetal']['children']['rack_r07']['vars']['rack'] = 'r09'
        with open(path, 'w') as f:
            yaml.safe_dump(inventory, f)
        before = state_of(conn, a)
        res = run_playbook(lab, plays, inventory=path, check=True)
        assert res.rc == 0, res.output[-4000:]
        assert state_of(conn, a) == before
