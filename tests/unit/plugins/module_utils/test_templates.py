"""The pure planner of ironic_deploy_template / ironic_runbook: validation before any write, the
plan against what Ironic has (create / update / delete / unchanged), diff and per-item results."""
import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils import _templates as t
from ansible_collections.spineleaf.baremetal.plugins.module_utils._util import DifferenceTracker

RAID = {'interface': 'raid', 'step': 'apply_configuration', 'priority': 150,
        'args': {'raid_config': {'logical_disks': [{'size_gb': 'MAX', 'raid_level': '1'}]}}}
BIOS = {'interface': 'bios', 'step': 'apply_configuration', 'priority': '140',
        'args': {'settings': [{'name': 'LogicalProc', 'value': 'Disabled'}]}}


def _dt(name='CUSTOM_ROLE_STORAGE', steps=None, **more):
    return dict(name=name, steps=[RAID, BIOS] if steps is None else steps, **more)


def _ironic(spec, uuid='u-1', **more):
    """What Ironic returns for a spec (priority an int, args filled, its own step order)."""
    steps = [dict(s, args=s.get('args') or {}, priority=int(s['priority'])) for s in reversed(spec['steps'])]
    return dict(dict(uuid=uuid, name=spec['name'], steps=steps, extra=spec.get('extra') or {}), **more)


def test_valid_deploy_template_is_canonical():
    specs, errors = t.validate(t.DEPLOY_TEMPLATE, [_dt()])
    assert errors == []
    assert [s['priority'] for s in specs[0]['steps']] == [140, 150]  # ints, in Ironic's order
    assert specs[0]['state'] == 'present'


@pytest.mark.parametrize('item, words', [
    (_dt(name='ROLE_STORAGE'), ['ROLE_STORAGE', 'CUSTOM_[A-Z0-9_]+']),
    (_dt(name='CUSTOM_role'), ['CUSTOM_role']),
    (_dt(name=None), ['a name is required']),
    (_dt(steps=[]), ['steps must be a non-empty list']),
    (_dt(steps=[{'step': 'apply_configuration', 'args': {}, 'priority': 1}]), ['steps[0]', 'interface None']),
    (_dt(steps=[{'interface': 'raid', 'args': {}, 'priority': 1}]), ['steps[0]', 'step (the method name']),
    (_dt(steps=[{'interface': 'raid', 'step': 'x', 'args': {}}]), ['priority must be an integer >= 0']),
    (_dt(steps=[{'interface': 'raid', 'step': 'x', 'args': [], 'priority': 1}]), ['args must be a dict']),
    (_dt(steps=[dict(RAID, order=1)]), ['unknown key(s) order']),
    (_dt(steps=[RAID, dict(RAID, priority=10)]), ['raid.apply_configuration is listed twice']),
    (_dt(colour='red'), ['unknown key(s) colour']),
    (_dt(extra='x'), ['extra must be a dict']),
])
def test_deploy_template_errors_name_template_and_step(item, words):
    _specs, errors = t.validate(t.DEPLOY_TEMPLATE, [item])
    text = '; '.join(errors)
    for word in words:
        assert word in text, text


def test_every_problem_at_once_and_duplicates():
    _specs, errors = t.validate(t.DEPLOY_TEMPLATE, [_dt(name='bad'), _dt(), _dt(), 'text'])
    text = '; '.join(errors)
    assert "'bad'" in text and 'listed twice (items 1 and 2)' in text and "expected a dict" in text


def test_runbook_order_defaults_to_position_and_public_owner_refused():
    specs, errors = t.validate(t.RUNBOOK, [dict(name='CUSTOM_FW', steps=[
        {'interface': 'vendor', 'step': 'log_passthrough'}, {'interface': 'power', 'step': 'reboot'}])])
    assert errors == []
    assert [(s['step'], s['order'], s['args']) for s in specs[0]['steps']] == [('log_passthrough', 0, {}), ('reboot', 1, {})]
    _specs, errors = t.validate(t.RUNBOOK, [dict(name='CUSTOM_FW', steps=[{'interface': 'vendor', 'step': 'x'}],
                                                 public=True, owner='p1')])
    assert 'a public runbook has no owner' in errors[0]
    _specs, errors = t.validate(t.RUNBOOK, [dict(name='CUSTOM_FW', steps=[{'interface': 'network', 'step': 'x'}],
                                                 public='yes')])
    assert 'interface' in errors[0] and 'public must be true or false' in errors[1]


def test_absent_needs_no_steps():
    specs, errors = t.validate(t.RUNBOOK, [dict(name='CUSTOM_FW', state='absent')])
    assert errors == [] and specs == [dict(name='CUSTOM_FW', state='absent')]


def test_plan_create_unchanged_update_delete():
    specs, _e = t.validate(t.DEPLOY_TEMPLATE, [_dt(), _dt(name='CUSTOM_ROLE_COMPUTE', steps=[RAID]),
                                               _dt(name='CUSTOM_ROLE_OLD', state='absent'),
                                               _dt(name='CUSTOM_ROLE_GONE', state='absent')])
    existing = [_ironic(_dt(), uuid='u-st'),
                _ironic(_dt(name='CUSTOM_ROLE_COMPUTE', steps=[dict(RAID, priority=10)]), uuid='u-co'),
                _ironic(_dt(name='CUSTOM_ROLE_OLD'), uuid='u-old')]
    # the storage template exists with the same steps in another order: unchanged
    actions = t.plan(t.DEPLOY_TEMPLATE, specs, existing)
    assert [a['action'] for a in actions] == ['unchanged', 'update', 'delete', 'unchanged']
    assert actions[1]['ops'] == [{'op': 'replace', 'path': '/steps', 'value': [dict(RAID)]}]
    assert actions[1]['changes'] == ['steps'] and actions[1]['uuid'] == 'u-co'
    assert actions[2]['uuid'] == 'u-old' and actions[2]['after'] is None
    actions = t.plan(t.DEPLOY_TEMPLATE, specs[:1], [])
    assert actions[0]['action'] == 'create' and actions[0]['body']['name'] == 'CUSTOM_ROLE_STORAGE'
    assert actions[0]['before'] is None and actions[0]['after']['steps'] == specs[0]['steps']


def test_only_given_fields_compare():
    specs, _e = t.validate(t.RUNBOOK, [dict(name='CUSTOM_FW', steps=[{'interface': 'vendor', 'step': 'x', 'order': 0}])])
    current = dict(uuid='u', name='CUSTOM_FW', steps=[{'interface': 'vendor', 'step': 'x', 'order': 0, 'args': {}}],
                   extra={'who': 'else'}, public=True, owner=None, disable_ramdisk=False)
    assert t.plan(t.RUNBOOK, specs, [current])[0]['action'] == 'unchanged'
    specs, _e = t.validate(t.RUNBOOK, [dict(name='CUSTOM_FW', steps=[{'interface': 'vendor', 'step': 'x'}],
                                            public=False, owner='p1', extra={})])
    action = t.plan(t.RUNBOOK, specs, [current])[0]
    assert action['action'] == 'update' and sorted(action['changes']) == ['extra', 'owner', 'public']
    # public goes off before the owner comes (Ironic refuses an owner on a public runbook)
    assert [op['path'] for op in action['ops']] == ['/public', '/extra', '/owner']


def test_apply_and_report_with_a_fake_adapter():
    class Fake:
        def __init__(self, fail=()):
            self.calls, self.fail = [], fail

        def create_step_resource(self, collection, microversion, body):
            self.calls.append(('create', collection, microversion, body['name']))
            if body['name'] in self.fail:
                raise RuntimeError('boom')
            return dict(uuid='new-' + body['name'])

        def patch_step_resource(self, collection, microversion, ident, ops):
            self.calls.append(('patch', ident))

        def delete_step_resource(self, collection, microversion, ident):
            self.calls.append(('delete', ident))

    specs, _e = t.validate(t.DEPLOY_TEMPLATE, [_dt(), _dt(name='CUSTOM_ROLE_BAD')])
    actions = t.plan(t.DEPLOY_TEMPLATE, specs, [])
    fake = Fake()
    assert t.apply_actions(fake, t.DEPLOY_TEMPLATE, actions, check_mode=True)[0]['action'] == 'created'
    assert fake.calls == []  # check mode writes nothing
    fake = Fake(fail=('CUSTOM_ROLE_BAD',))
    results = t.apply_actions(fake, t.DEPLOY_TEMPLATE, actions)
    assert fake.calls[0] == ('create', 'deploy_templates', '1.55', 'CUSTOM_ROLE_STORAGE')
    assert results[0]['uuid'] == 'new-CUSTOM_ROLE_STORAGE' and results[0]['changed']
    assert results[1]['failed'] and 'CUSTOM_ROLE_BAD (create): boom' in results[1]['msg']
    out, fail_msg = t.report(t.DEPLOY_TEMPLATE, 'deploy_templates', actions, results, True, DifferenceTracker())
    assert out['summary'] == {'created': 1, 'failed': 1} and out['changed']
    assert list(out['diff']['after']) == ['CUSTOM_ROLE_STORAGE'] and out['diff']['before'] == {'CUSTOM_ROLE_STORAGE': None}
    assert fail_msg.startswith('1 of 2 deploy templates failed')


def test_unchanged_run_reports_nothing():
    specs, _e = t.validate(t.DEPLOY_TEMPLATE, [_dt()])
    actions = t.plan(t.DEPLOY_TEMPLATE, specs, [_ironic(_dt())])
    results = t.apply_actions(None, t.DEPLOY_TEMPLATE, actions)
    out, fail_msg = t.report(t.DEPLOY_TEMPLATE, 'deploy_templates', actions, results, True, DifferenceTracker())
    assert not out['changed'] and out['diff'] == {'before': {}, 'after': {}} and fail_msg is None


def test_items_from_params():
    params = dict(name='CUSTOM_X', steps=[RAID], extra=None, public=True, owner=None, disable_ramdisk=None, runbooks=None)
    assert t.items_from_params(params, 'runbooks', t.RUNBOOK) == [dict(name='CUSTOM_X', steps=[RAID], public=True)]
    assert t.items_from_params(dict(params, runbooks=[]), 'runbooks', t.RUNBOOK) == []


def test_instance_traits_for_provision():
    from ansible_collections.spineleaf.baremetal.plugins.module_utils import _provision as prov
    assert prov.instance_traits(['CUSTOM_ROLE_STORAGE', 'CUSTOM_B', 'CUSTOM_ROLE_STORAGE']) == (
        ['CUSTOM_B', 'CUSTOM_ROLE_STORAGE'], [])
    assert prov.instance_traits([]) == ([], [])
    traits, problems = prov.instance_traits(['custom_x'])
    assert 'custom_x' in problems[0]
    assert prov.instance_traits('CUSTOM_X')[1] == ["instance_traits must be a list of traits, got 'CUSTOM_X'"]
    # the traits go into instance_info like any key: one patch op, none when they are already there
    assert prov.instance_info_patch({'image_source': 'x', 'traits': ['CUSTOM_A']},
                                    {'image_source': 'x', 'traits': ['CUSTOM_B']}) == [
        {'op': 'add', 'path': '/instance_info/traits', 'value': ['CUSTOM_B']}]
    assert prov.instance_info_patch({'traits': ['CUSTOM_A']}, {'traits': ['CUSTOM_A']}) == []
