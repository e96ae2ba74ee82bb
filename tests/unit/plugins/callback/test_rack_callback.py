"""The rack stdout callback on a local play shaped like the roles' (a run-once call per rack, then
per-host outcome and result tasks): lines per node at verbosity 0 and -v, against the default."""
import os
import subprocess
import sys

import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
NODES = 40


def _run(tmp_path, callback, *args):
    hosts = dict(('r%02d-n%02d' % (r, n), {'rack': 'r%02d' % r}) for r in (1, 2) for n in range(1, NODES // 2 + 1))
    inv, play = tmp_path / 'hosts.yml', tmp_path / 'play.yml'
    inv.write_text(yaml.safe_dump({'all': {'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable},
                                           'children': {'baremetal': {'hosts': hosts}}}}))
    play.write_text(yaml.safe_dump([{'hosts': 'baremetal', 'gather_facts': False, 'tasks': [
        {'name': 'Bulk call per rack', 'ansible.builtin.debug': {'msg': 'rack {{ item }}: 20/20 done'},
         'loop': ['r01', 'r02'], 'run_once': True},
        {'name': 'Fail hosts without a rack', 'ansible.builtin.fail': {'msg': 'no rack'}, 'when': 'rack is not defined'},
        {'name': 'Outcome of this node', 'ansible.builtin.set_fact': {'o': {
            'msg': "{{ 'failed: node r01-n03: no-such-driver' if inventory_hostname == 'r01-n03' else 'created' }}",
            'failed': "{{ inventory_hostname == 'r01-n03' }}"}}},
        {'name': 'Result of this node', 'ansible.builtin.debug': {'msg': '{{ o.msg }}'},
         'failed_when': 'o.failed | bool', 'changed_when': True},
    ]}]))
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK=callback, ANSIBLE_CONFIG=os.path.join(REPO, 'ansible.cfg'),
               ANSIBLE_NOCOLOR='1')
    proc = subprocess.run([PLAYBOOK, '-i', str(inv), str(play)] + list(args), env=env, cwd=REPO,
                          capture_output=True, text=True, check=False, timeout=300)
    assert 'PLAY RECAP' in proc.stdout, proc.stdout + proc.stderr
    return proc.stdout


def test_quiet_per_host_lines_one_line_per_failure_and_default_with_v(tmp_path):
    out = _run(tmp_path, 'spineleaf.baremetal.rack')
    lines = out.splitlines()
    assert 'FAILED [r01-n03] Result of this node: failed: node r01-n03: no-such-driver' in lines, out
    assert '"msg": "rack r02: 20/20 done"' in out  # run-once progress stays
    assert not any(line.startswith(('changed: [r01-n02]', 'ok: [r01-n02]', 'skipping:')) for line in lines), out
    assert 'TASK [Outcome of this node]' not in out  # no banner without a line under it
    # the recap: one line per host, per-host counts as the default's
    assert 'r01-n03                    : ok=1    changed=0    unreachable=0    failed=1' in out
    default = _run(tmp_path, 'default')
    assert len(lines) < len(default.splitlines()) / 3, (len(lines), len(default.splitlines()))
    verbose = _run(tmp_path, 'spineleaf.baremetal.rack', '-v')
    assert 'changed: [r01-n02] => ' in verbose and '"msg": "created"' in verbose
