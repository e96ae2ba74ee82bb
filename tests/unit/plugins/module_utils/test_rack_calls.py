"""BaremetalModule's one call for several racks (``rack_calls``): every rack's options validated
before the first rack runs, each rack run with its options over the call's own, each rack's result
kept (``results``, as a loop over the racks registers it), a failed rack failing the call only
after every rack ran. A module class without the SDK, so the logic runs without a cloud."""
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.spineleaf.baremetal.plugins.module_utils._base import BaremetalError, BaremetalModule


class Echo(BaremetalModule):
    """Reports the nodes it was given; a node named 'bad' fails the rack; 'boom' raises."""
    needs_sdk = False
    rack_calls = True
    argument_spec = dict(
        nodes=dict(type='list', elements='dict', required=True, options=dict(
            name=dict(type='str', required=True),
            password=dict(type='str', no_log=True))),
        concurrency=dict(type='int', default=4),
    )
    runs = []

    def run(self):
        names = [n['name'] for n in self.params['nodes']]
        Echo.runs.append((names, self.params['concurrency']))
        if 'boom' in names:
            raise BaremetalError('boom in the rack')
        result = dict(changed=bool(names), nodes=[dict(name=n) for n in names],
                      diff={'before': {}, 'after': {'nodes': names}} if self.diff_mode else None)
        if not result['diff']:
            del result['diff']
        if 'bad' in names:
            self.fail_json(msg='node bad failed', **result)
        self.exit_json(**result)


def call(args, capsys):
    Echo.runs = []
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            Echo()()
    return json.loads(capsys.readouterr().out)


def test_one_call_runs_every_rack_with_its_options_over_the_calls(capsys):
    out = call({'concurrency': 2, 'racks': {
        'r01': {'nodes': [{'name': 'a'}]},
        'r02': {'nodes': [{'name': 'b'}, {'name': 'c'}], 'concurrency': 8}}}, capsys)
    assert not out.get('failed') and out['changed'] is True
    assert Echo.runs == [(['a'], 2), (['b', 'c'], 8)]
    assert [(r['rack'], [n['name'] for n in r['nodes']], r['failed']) for r in out['results']] == [
        ('r01', ['a'], False), ('r02', ['b', 'c'], False)]


def test_a_failed_rack_fails_the_call_after_every_rack_ran(capsys):
    out = call({'racks': {'r01': {'nodes': [{'name': 'bad'}]}, 'r02': {'nodes': [{'name': 'ok'}]},
                          'r03': {'nodes': [{'name': 'boom'}]}}}, capsys)
    assert out['failed'] is True
    assert out['msg'] == 'rack r01: node bad failed; rack r03: boom in the rack'
    assert [(r['rack'], r['failed']) for r in out['results']] == [('r01', True), ('r02', False), ('r03', True)]
    assert [run[0] for run in Echo.runs] == [['bad'], ['ok'], ['boom']]


def test_wrong_options_of_any_rack_fail_before_any_rack_runs(capsys):
    out = call({'racks': {'r01': {'nodes': [{'name': 'a'}]}, 'r02': {'concurrency': 'many'},
                          'r03': 'not a dict', 'r04': {'nodes': [{}]}}}, capsys)
    assert out['failed'] is True and Echo.runs == []
    assert 'rack r02:' in out['msg'] and 'nodes' in out['msg'].split('rack r02:')[1].split('|')[0]
    assert "rack r03: its options must be a dict, got str" in out['msg']
    assert 'rack r04:' in out['msg'] and 'name' in out['msg'].split('rack r04:')[1]
    assert out['msg'].endswith('(no rack was run)')


def test_secrets_given_per_rack_are_masked(capsys):
    out = call({'racks': {'r01': {'nodes': [{'name': 'a', 'password': 'hunter2-secret'}]}}}, capsys)
    assert 'hunter2-secret' not in json.dumps(out)


def test_diff_of_every_rack_and_a_call_without_racks(capsys):
    with patch_module_args({'racks': {'r01': {'nodes': [{'name': 'a'}]}, 'r02': {'nodes': [{'name': 'b'}]}},
                            '_ansible_diff': True}):
        with pytest.raises(SystemExit):
            Echo()()
    out = json.loads(capsys.readouterr().out)
    assert out['diff'] == [{'before': {}, 'after': {'nodes': ['a']}}, {'before': {}, 'after': {'nodes': ['b']}}]
    assert all('diff' not in r for r in out['results'])
    plain = call({'nodes': [{'name': 'x'}]}, capsys)  # no racks: the module as before
    assert plain['nodes'] == [{'name': 'x'}] and 'results' not in plain
    missing = call({}, capsys)  # no racks: its required options stay required
    assert missing['failed'] and 'nodes' in missing['msg']
