"""List 2,000 lab nodes (2 ports each) through the spineleaf.baremetal.ironic inventory plugin.

Compared in the same run with what a plain openstacksdk script does to build the same inventory
(SDK objects, `nodes(details=True)` + `ports(details=True)`), and with the racks plugin on a
site of the same size. Goal: the whole `ansible-inventory --list` under 5 s.
Usage: python bench/bench_inventory.py [--nodes N]"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import REPO, fresh_lab, ratio, retry, timed, write_result  # noqa: E402

VENV_BIN = os.path.join(REPO, '.venv', 'bin')
RACK_SIZE = 40


def create_site(conn, count, threads=8):
    """count nodes in racks of 40, each with rack/role traits' extra, a password and 2 ports."""
    def make(i):
        rack, n = i // RACK_SIZE + 1, i % RACK_SIZE + 1
        node = retry(conn.baremetal.create_node, name='r%02d-n%02d' % (rack, n), driver='fake-hardware',
                     resource_class='baremetal.compute',
                     driver_info={'ipmi_address': '10.%d.%d.%d' % (rack // 250, rack % 250, n),
                                  'ipmi_username': 'admin', 'ipmi_password': 'bench-secret'},
                     extra={'rack': 'r%02d' % rack, 'role': 'compute'}, properties={'cpu_arch': 'x86_64'})
        for nic in (1, 2):
            retry(conn.baremetal.create_port, node_uuid=node.id,
                  address='52:54:%02x:%02x:%02x:%02x' % (rack // 256, rack % 256, n, nic),
                  physical_network='leaf%d' % rack, pxe_enabled=nic == 1,
                  local_link_connection={'switch_info': 'leaf-r%02d-%s' % (rack, 'ab'[nic - 1]),
                                         'port_id': 'Ethernet1/%d' % n, 'switch_id': '00:1c:73:00:00:%02x' % nic})
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(make, range(count)))


def child_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def inventory_cli(lab, config, what='--list'):
    """One `ansible-inventory -i <config> --list` process, as an operator or AWX runs it; returns
    (its output, the CPU seconds it used: unlike wall time, not inflated by a busy machine)."""
    cpu = child_cpu()
    proc = subprocess.run([os.path.join(VENV_BIN, 'ansible-inventory'), '-i', config, what],
                          env=lab.ansible_env(), capture_output=True, text=True, cwd=REPO, check=False)
    if proc.returncode != 0 or '[WARNING]' in proc.stderr:
        raise RuntimeError('ansible-inventory failed:\n' + proc.stderr[-3000:])
    return proc.stdout, child_cpu() - cpu


def plugin_fetch_in_process(lab):
    """The plugin's own work without Ansible around it: adapter lists + the pure mapping."""
    sys.path.insert(0, os.path.join(REPO, '.collections'))
    from ansible_collections.spineleaf.baremetal.plugins.module_utils._ironic import IronicAdapter
    from ansible_collections.spineleaf.baremetal.plugins.module_utils._node_inventory import inventory_from_ironic
    adapter = IronicAdapter(lab.connect())
    inv = inventory_from_ironic(adapter.list_raw('nodes'), adapter.list_raw('ports'))
    return inv, adapter.reads


def sdk_objects(lab):
    """What a plain openstacksdk script does: SDK resource objects for nodes and ports."""
    conn = lab.connect()
    nodes = list(conn.baremetal.nodes(details=True))
    ports = list(conn.baremetal.ports(details=True))
    by_node = {}
    for port in ports:
        by_node.setdefault(port.node_id, []).append(port.address)
    return {n.name: by_node.get(n.id, []) for n in nodes}


def racks_file(nodes, path):
    racks = (nodes + RACK_SIZE - 1) // RACK_SIZE
    lines = ['plugin: spineleaf.baremetal.racks', 'switches: {port_name: "Ethernet1/{port}", port_count: 48}',
             'defaults:', '  leaves: ["leaf-{rack}-a", "leaf-{rack}-b"]', '  nodes:',
             '    - range: "{rack}-n[01:%02d]"' % RACK_SIZE, '      role: compute',
             '      bmc_address: {base: "10.{rack_index}.0.0", step: 1}', '      nics:']
    for nic, leaf in ((1, 'a'), (2, 'b')):
        lines.append('        - {name: eno%d, mac: "52:54:{rack_index:02x}:{n:02x}:00:%02x", '
                     'pxe: %s, leaf: "leaf-{rack}-%s", port: {base: 0, step: 1}}' % (nic, nic, 'true' if nic == 1 else 'false', leaf))
    lines.append('racks:')
    lines += ['  r%02d: {index: %d}' % (r, r) for r in range(1, racks + 1)]
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def measure(lab, tmp, nodes):
    """Every timed run against a lab holding the site; returns the table's numbers."""
    config = os.path.join(tmp, 'bench.ironic.yml')
    with open(config, 'w') as f:
        f.write('plugin: spineleaf.baremetal.ironic\n')
    m = {}
    m['list_s'], (out, m['list_cpu']) = timed(inventory_cli, lab, config)
    hosts = json.loads(out)['_meta']['hostvars']
    assert len(hosts) == nodes, 'listed %d of %d nodes' % (len(hosts), nodes)
    assert 'bench-secret' not in out and 'ipmi_password' not in out, 'a secret reached the inventory'
    assert sum(len(h['ironic']['ports']) for h in hosts.values()) == 2 * nodes
    m['graph_s'], (_out, m['graph_cpu']) = timed(inventory_cli, lab, config, '--graph')
    m['fetch_s'], (inv, m['reads']) = timed(plugin_fetch_in_process, lab)
    m['sdk_s'], sdk_inv = timed(sdk_objects, lab)
    assert sorted(sdk_inv) == sorted(inv['hosts'])
    racks_path = os.path.join(tmp, 'bench.racks.yml')
    racks_file(nodes, racks_path)
    m['racks_s'], (racks_out, m['racks_cpu']) = timed(inventory_cli, lab, racks_path)
    assert len(json.loads(racks_out)['_meta']['hostvars']) >= nodes
    m['load'] = os.getloadavg()[0]
    return m


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument('--nodes', type=int, default=2000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, fresh_lab() as lab:
        setup, _created = timed(create_site, lab.connect(), args.nodes)
        print('bench inventory: %d nodes + %d ports created in %.1f s' % (args.nodes, 2 * args.nodes, setup),
              file=sys.stderr, flush=True)
        m = measure(lab, tmp, args.nodes)
    markdown = report(args.nodes, setup, m)
    write_result('inventory', markdown)
    return markdown


def report(nodes, setup, m):
    md = [
        '## inventory: %d Ironic nodes + %d ports' % (nodes, 2 * nodes),
        '',
        'Fresh lab (sqlite Ironic); the site was created with the SDK in %.1f s (untimed). '
        'Goal: `ansible-inventory --list` under 5 s. Load average during the runs: %.1f on %d cores '
        '(wall times grow with it; CPU seconds of the ansible-inventory process do not).'
        % (setup, m['load'], os.cpu_count()),
        '',
        '| run | wall s | CPU s | vs SDK objects |',
        '| --- | ---: | ---: | ---: |',
        '| `ansible-inventory -i bench.ironic.yml --list` (whole process: Python, Ansible, API, JSON out) '
        '| %.2f | %.2f | |' % (m['list_s'], m['list_cpu']),
        '| `ansible-inventory -i bench.ironic.yml --graph` (whole process) | %.2f | %.2f | |'
        % (m['graph_s'], m['graph_cpu']),
        '| plugin work in process: `IronicAdapter.list_raw` nodes + ports (%d GETs) + mapping | %.2f | | %s |'
        % (m['reads'], m['fetch_s'], ratio(m['sdk_s'], m['fetch_s'])),
        '| plain openstacksdk: `nodes(details=True)` + `ports(details=True)` as SDK objects | %.2f | | 1.0x |'
        % m['sdk_s'],
        '| `ansible-inventory -i bench.racks.yml --list`, racks file of the same size (no API) | %.2f | %.2f | |'
        % (m['racks_s'], m['racks_cpu']),
        '',
        'Goal %s: %.2f s for the whole listing. The plugin reads nodes and ports with one paginated '
        'list each (%d GETs of up to 1,000 items) and never builds SDK objects; the rest of the wall '
        'time is the lab Ironic answering (sqlite, same machine).'
        % ('met' if m['list_s'] < 5 else 'NOT met', m['list_s'], m['reads']),
    ]
    return '\n'.join(md)


if __name__ == '__main__':
    main(sys.argv[1:])
