"""Tag 1,000 lab nodes with 5 rules: spineleaf.baremetal.ironic_traits vs a plain sequential
openstacksdk script that sets the same traits. Usage: python bench/bench_tag.py [--nodes N]"""
import argparse
import inspect
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import REPO, fresh_lab, ratio, retry, run_playbook, timed, write_result  # noqa: E402

ARCHES = ('x86_64', 'x86_64', 'aarch64')
MEMORY = (65536, 131072, 262144, 524288)

RULES = [
    {'name': 'mem-256g', 'when': 'properties.memory_mb >= `262144`', 'traits_add': ['CUSTOM_MEM_256G']},
    {'name': 'mem-small', 'when': 'properties.memory_mb < `131072`', 'traits_add': ['CUSTOM_MEM_SMALL']},
    {'name': 'arm', 'when': "properties.cpu_arch == 'aarch64'", 'traits_add': ['CUSTOM_CPU_ARM64']},
    {'name': 'x86', 'when': "properties.cpu_arch == 'x86_64'", 'traits_add': ['HW_CPU_X86_AVX2']},
    {'name': 'big-disk', 'when': 'properties.local_gb >= `2000`', 'traits_add': ['CUSTOM_DISK_2T']},
]


def script_traits(props):
    """The same 5 rules, written by hand as a plain script would."""
    traits = []
    if props.get('memory_mb', 0) >= 262144:
        traits.append('CUSTOM_MEM_256G')
    if props.get('memory_mb', 0) < 131072:
        traits.append('CUSTOM_MEM_SMALL')
    if props.get('cpu_arch') == 'aarch64':
        traits.append('CUSTOM_CPU_ARM64')
    if props.get('cpu_arch') == 'x86_64':
        traits.append('HW_CPU_X86_AVX2')
    if props.get('local_gb', 0) >= 2000:
        traits.append('CUSTOM_DISK_2T')
    return traits


def create_nodes(conn, count, threads=8):
    def make(i):
        properties = {'memory_mb': MEMORY[i % len(MEMORY)], 'cpu_arch': ARCHES[i % len(ARCHES)],
                      'local_gb': 480 if i % 2 else 4000, 'cpus': 32}
        retry(conn.baremetal.create_node, name='bench-r%02d-n%04d' % (i % 10 + 1, i), driver='fake-hardware',
              properties=properties)
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(make, range(count)))


def clear_traits(conn, threads=8):
    nodes = list(conn.baremetal.nodes(fields=['uuid']))

    def clear(node):
        retry(conn.baremetal.set_node_traits, node.id, [])
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(clear, nodes))


# The timed script: the same hand-written rules (script_traits above, one definition), a list call
# and one set_node_traits per node.
SCRIPT = "import sys\nimport openstack\n\n\n" + inspect.getsource(script_traits) + """
conn = openstack.connect()
writes = 0
for node in conn.baremetal.nodes(details=True):
    # keep the traits others set, as ironic_traits does
    conn.baremetal.set_node_traits(node.id, sorted(set(node.traits or []) | set(script_traits(node.properties or {}))))
    writes += 1
print(writes)
"""


def sequential_script(lab):
    """What an operator writes without the collection (run as its own process, like the
    playbook): list, decide, set traits node by node."""
    path = os.path.join(lab.state_dir, 'tag_script.py')
    with open(path, 'w') as f:
        f.write(SCRIPT)
    proc = subprocess.run([os.path.join(REPO, '.venv', 'bin', 'python'), path], env=lab.ansible_env(),
                          capture_output=True, text=True, check=True)
    return int(proc.stdout.split()[-1])


def tag_playbook(lab, module_args):
    """One ironic_traits task in a playbook, as an operator runs it; returns its counters."""
    plays = [{'name': 'tag', 'hosts': 'localhost', 'gather_facts': False,
              'vars': {'ansible_python_interpreter': os.path.join(REPO, '.venv', 'bin', 'python'),
                       'ansible_connection': 'local'},
              'tasks': [{'name': 'tag', 'spineleaf.baremetal.ironic_traits': module_args, 'register': 'tag_result'},
                        {'name': 'counters', 'ansible.builtin.debug': {
                            'msg': 'COUNTERS changed={{ tag_result.changed }} writes={{ tag_result.api_writes }} '
                                   'reads={{ tag_result.api_reads }}'}}]}]
    res = run_playbook(lab, plays)
    if res.rc != 0:
        raise RuntimeError('ironic_traits failed:\n' + res.output[-3000:])
    line = next(l for l in res.stdout.splitlines() if 'COUNTERS' in l)
    fields = dict(item.split('=') for item in line.split('COUNTERS')[1].strip().rstrip('"').split())
    return {'changed': fields['changed'] == 'True', 'api_writes': int(fields['writes']), 'api_reads': int(fields['reads'])}


def check_traits(conn):
    wrong = [n.name for n in conn.baremetal.nodes(details=True)
             if sorted(n.traits or []) != sorted(script_traits(n.properties or {}))]
    return wrong


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument('--nodes', type=int, default=1000)
    parser.add_argument('--concurrency', type=int, default=None, help='ironic_traits concurrency (default: its own)')
    args = parser.parse_args(argv)
    module_args = {'rules': RULES}
    if args.concurrency:
        module_args['concurrency'] = args.concurrency
    with fresh_lab() as lab:
        conn = lab.connect()
        setup, _created = timed(create_nodes, conn, args.nodes)
        print('bench tag: %d nodes created in %.1f s' % (args.nodes, setup), file=sys.stderr, flush=True)

        script_s, script_writes = timed(sequential_script, lab)
        print('bench tag: script %.1f s' % script_s, file=sys.stderr, flush=True)
        assert not check_traits(conn), 'the script set wrong traits'
        clear_traits(conn)

        ours_s, r = timed(tag_playbook, lab, module_args)
        print('bench tag: ironic_traits %.1f s' % ours_s, file=sys.stderr, flush=True)
        wrong = check_traits(conn)
        assert not wrong, 'ironic_traits set wrong traits on %s' % wrong[:5]

        rerun_s, r2 = timed(tag_playbook, lab, module_args)
        assert not r2['changed'] and r2['api_writes'] == 0, 'second run was not a no-op'
        script_again_s, script_again_writes = timed(sequential_script, lab)

    md = [
        '## tag: %d nodes, 5 rules' % args.nodes,
        '',
        'Fresh lab (sqlite Ironic), %d nodes created with the SDK in %.1f s (8 threads, untimed). '
        'Speed-up = script seconds / our seconds (above 1.0x: faster than the script).' % (args.nodes, setup),
        '',
        '| run | seconds | write calls | speed-up vs script |',
        '| --- | ---: | ---: | ---: |',
        '| first tagging: sequential openstacksdk script (one process: list + `set_node_traits` per node) | %.1f | %d | 1.0x |'
        % (script_s, script_writes),
        '| first tagging: `ironic_traits`, a one-task `ansible-playbook` run (concurrency %s) | %.1f | %d | %s |'
        % (args.concurrency or 'default', ours_s, r['api_writes'], ratio(script_s, ours_s)),
        '| again, nothing to change: the script | %.1f | %d | 1.0x |' % (script_again_s, script_again_writes),
        '| again, nothing to change: `ironic_traits` | %.1f | %d | %s |'
        % (rerun_s, r2['api_writes'], ratio(script_again_s, rerun_s)),
        '',
        'Both sides are timed as whole processes (Python start-up and imports included). The script makes '
        'one write per node on the first run; the module also records what it set in each node\'s owner '
        'record (one PATCH per node: Ironic cannot set traits in a PATCH), which is what lets it remove '
        'only its own stale traits later. '
        'The lab\'s sqlite Ironic takes one writer at a time, so parallel writes cannot beat a '
        'sequential loop there: the module adapts its concurrency to the contention it meets (write '
        'counts include those retries) and wins by writing only what differs. It read everything '
        'in %d list call(s).' % r['api_reads'],
    ]
    markdown = '\n'.join(md)
    write_result('tag', markdown)
    return markdown


if __name__ == '__main__':
    main(sys.argv[1:])
