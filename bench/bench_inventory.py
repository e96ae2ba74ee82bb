"""List 2,000 lab nodes (2 ports each) through the spineleaf.baremetal.ironic inventory plugin.

Compared in the same run with what a plain openstacksdk script does to build the same inventory
(SDK objects, `nodes(details=True)` + `ports(details=True)`), and with the racks plugin on a
site of the same size. Goal: the whole `ansible-inventory --list` under 5 s.
Usage: python bench/bench_inventory.py [--nodes N]"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import REPO, fresh_lab, ratio, timed, write_result  # noqa: E402

VENV_BIN = os.path.join(REPO, '.venv', 'bin')
RACK_SIZE = 40


def retry(fn, *args, **kwargs):
    """The lab's sqlite answers concurrent writers with 500 "database is locked": try again."""
    for attempt in range(30):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            if getattr(exc, 'status_code', None) not in (409, 500, 503) or attempt == 29:
                raise
            time.sleep(0.05 * (attempt + 1))
    return None


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


def inventory_cli(lab, config, what='--list'):
    """One `ansible-inventory -i <config> --list` process, as an operator or AWX runs it."""
    proc = subprocess.run([os.path.join(VENV_BIN, 'ansible-inventory'), '-i', config, what],
                          env=lab.ansible_env(), capture_output=True, text=True, cwd=REPO, check=False)
    if proc.returncode != 0 or '[WARNING]' in proc.stderr:
        raise RuntimeError('ansible-inventory failed:\n' + proc.stderr[-3000:])
    return proc.stdout


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


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument('--nodes', type=int, default=2000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, fresh_lab() as lab:
        conn = lab.connect()
        setup, _ = timed(create_site, conn, args.nodes)
        print('bench inventory: %d nodes + %d ports created in %.1f s' % (args.nodes, 2 * args.nodes, setup),
              file=sys.stderr, flush=True)
        config = os.path.join(tmp, 'bench.ironic.yml')
        with open(config, 'w') as f:
            f.write('plugin: spineleaf.baremetal.ironic\n')
        cli_s, out = timed(inventory_cli, lab, config)
        listed = json.loads(out)
        hosts = listed['_meta']['hostvars']
        assert len(hosts) == args.nodes, 'listed %d of %d nodes' % (len(hosts), args.nodes)
        assert 'bench-secret' not in out and 'ipmi_password' not in out, 'a secret reached the inventory'
        ports = sum(len(h['ironic']['ports']) for h in hosts.values())
        assert ports == 2 * args.nodes
        graph_s, _ = timed(inventory_cli, lab, config, '--graph')
        fetch_s, (inv, reads) = timed(plugin_fetch_in_process, lab)
        sdk_s, sdk_inv = timed(sdk_objects, lab)
        assert sorted(sdk_inv) == sorted(inv['hosts'])
        racks_path = os.path.join(tmp, 'bench.racks.yml')
        racks_file(args.nodes, racks_path)
        racks_s, racks_out = timed(inventory_cli, lab, racks_path)
        assert len(json.loads(racks_out)['_meta']['hostvars']) >= args.nodes

    md = [
        '## inventory: %d Ironic nodes + %d ports' % (args.nodes, 2 * args.nodes),
        '',
        'Fresh lab (sqlite Ironic); the site was created with the SDK in %.1f s (untimed). '
        'Goal: `ansible-inventory --list` under 5 s.' % setup,
        '',
        '| run | seconds | vs SDK objects |',
        '| --- | ---: | ---: |',
        '| `ansible-inventory -i bench.ironic.yml --list` (whole process: Python, Ansible, API, JSON out) | %.2f | |'
        % cli_s,
        '| `ansible-inventory -i bench.ironic.yml --graph` (whole process) | %.2f | |' % graph_s,
        '| plugin work in process: `IronicAdapter.list_raw` nodes + ports (%d GETs) + mapping | %.2f | %s |'
        % (reads, fetch_s, ratio(sdk_s, fetch_s)),
        '| plain openstacksdk: `nodes(details=True)` + `ports(details=True)` as SDK objects | %.2f | 1.0x |' % sdk_s,
        '| `ansible-inventory -i bench.racks.yml --list`, racks file of the same size (no API) | %.2f | |'
        % racks_s,
        '',
        'Goal %s: %.2f s for the whole listing. The plugin reads nodes and ports with one paginated '
        'list each (%d GETs of up to 1,000 items) and never builds SDK objects.'
        % ('met' if cli_s < 5 else 'NOT met', cli_s, reads),
    ]
    markdown = '\n'.join(md)
    write_result('inventory', markdown)
    return markdown


if __name__ == '__main__':
    main(sys.argv[1:])
