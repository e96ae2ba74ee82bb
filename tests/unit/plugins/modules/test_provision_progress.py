"""ironic_provision's progress file: the last counts of a run equal what happened, also when most
nodes were unchanged (a no-change re-run once read "rack r01: 36/18 deployed")."""
import json

from ansible_collections.spineleaf.baremetal.plugins.modules.ironic_provision import IronicProvisionModule


class Params:  # the two options progress() reads
    def __init__(self, path):
        self.params = dict(progress_file=str(path), progress_label='r01')


def _last(path):
    return json.loads(open(path).read().strip().splitlines()[-1])


def _run(tmp_path, ops, outcomes):
    planned = [dict(name='n%d' % i, uuid='u%d' % i, op=op) for i, op in enumerate(ops)]
    results = dict(('u%d' % i, dict(action=a)) for i, a in enumerate(outcomes))
    to_run = [item for item in planned if item['op'] not in ('fail', 'unchanged')]
    path = tmp_path / 'progress.json'
    report = IronicProvisionModule.progress(Params(path), planned, results)
    report(IronicProvisionModule.runner_counts(to_run, results))
    return _last(path)


def test_a_no_change_rerun_reads_all_done_once(tmp_path):
    last = _run(tmp_path, ['unchanged'] * 18, ['unchanged'] * 18)
    assert (last['done'], last['total'], last['failed']) == (18, 18, 0)


def test_mixed_run_counts_each_node_once(tmp_path):
    ops = ['unchanged', 'unchanged', 'deploy', 'deploy', 'deploy', 'fail']
    outcomes = ['unchanged', 'unchanged', 'deployed', 'failed', 'skipped', 'failed']
    last = _run(tmp_path, ops, outcomes)
    assert (last['done'], last['failed'], last['total']) == (3, 2, 6)
