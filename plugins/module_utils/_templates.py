# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_utils is PRIVATE to the spineleaf.baremetal collection. It may change
# without notice; do not import it from other collections.
"""Declarative Ironic deploy templates (API 1.55) and runbooks (API 1.92): pure planning.

A *kind* describes one of the two resources (its step interfaces, the key that orders its steps,
its optional fields). ``validate`` turns the module's wanted items into canonical specs (every
problem at once, before anything is read or written); ``plan`` compares them with what Ironic has
and yields one action per item (``create`` / ``update`` with a JSON patch / ``delete`` /
``unchanged``). No I/O here.
"""

from __future__ import annotations

import copy

from ._traits import CUSTOM_TRAIT_RE, MAX_TRAIT_LENGTH

# The step interfaces Ironic accepts (conductor.steps DEPLOYING_ / CLEANING_INTERFACE_PRIORITY).
STEP_INTERFACES = ('bios', 'deploy', 'firmware', 'management', 'power', 'raid', 'vendor')


class Kind:
    """What differs between deploy templates and runbooks."""

    def __init__(self, label, collection, microversion, order_key, order_required, fields):
        self.label = label                  # "deploy template", "runbook": in messages
        self.collection = collection        # API collection: deploy_templates, runbooks
        self.microversion = microversion    # the API version the adapter speaks for it
        self.order_key = order_key          # priority (deploy templates), order (runbooks)
        self.order_required = order_required
        self.fields = fields                # optional top-level fields besides name / steps / extra


DEPLOY_TEMPLATE = Kind('deploy template', 'deploy_templates', '1.55', 'priority', True, ())
RUNBOOK = Kind('runbook', 'runbooks', '1.92', 'order', False, ('public', 'owner', 'disable_ramdisk'))

# Compared as Ironic stores them when unset.
_DEFAULTS = dict(extra={}, public=False, owner=None, disable_ramdisk=False)


def _name_error(name):
    if not isinstance(name, str) or not name:
        return 'a name is required (a CUSTOM_* trait, for example CUSTOM_ROLE_STORAGE)'
    if len(name) > MAX_TRAIT_LENGTH or not CUSTOM_TRAIT_RE.match(name):
        return ('name %r is not a custom trait: it must match CUSTOM_[A-Z0-9_]+ (at most %d characters), '
                'for example CUSTOM_ROLE_STORAGE' % (name, MAX_TRAIT_LENGTH))
    return None


def _int_at_least_zero(value):
    """An int >= 0 from an int or its decimal text (Ironic takes both), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    return value if isinstance(value, int) and value >= 0 else None


def canonical_step(kind, step, index=0):
    """One step as Ironic stores it: ``interface``, ``step``, ``args`` (``{}`` when unset) and the
    kind's order key as an int (for a runbook without ``order``: its position). Raises ValueError
    naming what is wrong."""
    if not isinstance(step, dict):
        raise ValueError('must be a dict with interface, step, args and %s, got %r' % (kind.order_key, step))
    unknown = sorted(set(step) - {'interface', 'step', 'args', kind.order_key})
    if unknown:
        raise ValueError('unknown key(s) %s (a %s step has interface, step, args, %s)' % (
            ', '.join(unknown), kind.label, kind.order_key))
    problems = []
    if step.get('interface') not in STEP_INTERFACES:
        problems.append('interface %r is not one of %s' % (step.get('interface'), ', '.join(STEP_INTERFACES)))
    if not isinstance(step.get('step'), str) or not step.get('step'):
        problems.append('step (the method name, for example apply_configuration) is missing')
    args = step.get('args')
    if args is None:
        args = {}
    if not isinstance(args, dict):
        problems.append('args must be a dict, got %r' % (args,))
    order = step.get(kind.order_key)
    if order is None and not kind.order_required:
        order = index
    elif _int_at_least_zero(order) is None:
        problems.append('%s must be an integer >= 0%s, got %r' % (
            kind.order_key, ' (0 disables the step)' if kind.order_key == 'priority' else '', order))
    if problems:
        raise ValueError('; '.join(problems))
    return {'interface': step['interface'], 'step': step['step'], 'args': copy.deepcopy(args),
            kind.order_key: _int_at_least_zero(order)}


def _step_key(kind, step):
    return (step[kind.order_key] or 0, step['interface'] or '', step['step'] or '', repr(sorted(step['args'].items())))


def canonical_steps(kind, steps):
    """Steps in one order (Ironic orders them by priority / order itself, not by list position),
    so two lists that mean the same compare equal."""
    return sorted(steps, key=lambda s: _step_key(kind, s))


def _validate_item(kind, i, item, default_state):
    """One wanted item -> (spec or None, [errors])."""
    if not isinstance(item, dict):
        return None, ['%ss[%d]: expected a dict with name and steps, got %r' % (kind.collection[:-1], i, item)]
    where = '%s %s' % (kind.label, item.get('name') or '#%d' % i)
    errors = []
    allowed = {'name', 'steps', 'extra', 'state'} | set(kind.fields)
    unknown = sorted(set(item) - allowed)
    if unknown:
        errors.append('%s: unknown key(s) %s (allowed: %s)' % (where, ', '.join(unknown), ', '.join(sorted(allowed))))
    problem = _name_error(item.get('name'))
    if problem:
        errors.append('%s: %s' % (where, problem))
    state = item.get('state') or default_state
    if state not in ('present', 'absent'):
        errors.append('%s: state must be present or absent, got %r' % (where, state))
    spec = dict(name=item.get('name'), state=state)
    if state == 'present':
        steps = item.get('steps')
        if not isinstance(steps, list) or not steps:
            errors.append('%s: steps must be a non-empty list of {interface, step, args, %s}' % (where, kind.order_key))
            steps = []
        canonical = []
        for j, step in enumerate(steps):
            try:
                canonical.append(canonical_step(kind, step, j))
            except ValueError as exc:
                errors.append('%s: steps[%d]: %s' % (where, j, exc))
        seen = set()
        for step in canonical:
            key = (step['interface'], step['step'])
            if key in seen and kind is DEPLOY_TEMPLATE:  # Ironic refuses a step twice in one template
                errors.append('%s: step %s.%s is listed twice' % (where, key[0], key[1]))
            seen.add(key)
        spec['steps'] = canonical_steps(kind, canonical)
        if item.get('extra') is not None:
            if not isinstance(item['extra'], dict):
                errors.append('%s: extra must be a dict, got %r' % (where, item['extra']))
            spec['extra'] = item['extra']
        errors.extend(_validate_fields(kind, where, item, spec))
    return spec, errors


def _validate_fields(kind, where, item, spec):
    errors = []
    for field in kind.fields:
        value = item.get(field)
        if value is None:
            continue
        if field in ('public', 'disable_ramdisk') and not isinstance(value, bool):
            errors.append('%s: %s must be true or false, got %r' % (where, field, value))
        if field == 'owner' and not isinstance(value, str):
            errors.append('%s: owner must be a project ID (text), got %r' % (where, value))
        spec[field] = value
    if spec.get('public') and spec.get('owner'):
        errors.append('%s: a public runbook has no owner (Ironic refuses both): drop owner or set public: false' % where)
    return errors


def validate(kind, items, default_state='present'):
    """The wanted items as canonical specs, or PlanError-worthy errors: ``(specs, errors)``.
    Every item is checked; a name given twice is an error."""
    specs, errors = [], []
    names = {}
    for i, item in enumerate(items or []):
        spec, item_errors = _validate_item(kind, i, item, default_state)
        errors.extend(item_errors)
        if spec is None:
            continue
        if spec['name'] in names:
            errors.append('%s %s is listed twice (items %d and %d)' % (kind.label, spec['name'], names[spec['name']], i))
        names[spec['name']] = i
        specs.append(spec)
    return specs, errors


def current_view(kind, resource):
    """What the module compares of an existing resource (API dict): name, steps (canonical),
    extra and the kind's fields."""
    steps = [{'interface': s.get('interface'), 'step': s.get('step'), 'args': s.get('args') or {},
              kind.order_key: _int_at_least_zero(s.get(kind.order_key))} for s in resource.get('steps') or []]
    view = dict(name=resource.get('name'), steps=canonical_steps(kind, steps), extra=resource.get('extra') or {})
    for field in kind.fields:
        view[field] = resource.get(field, _DEFAULTS.get(field))
    return view


def _patch(spec, view, kind):
    """JSON-patch ops turning ``view`` into what ``spec`` asks for (only the keys it gives) and the
    changed keys."""
    ops, changed = [], []
    for key in ('steps', 'extra') + kind.fields:
        if key not in spec:
            continue
        if view.get(key, _DEFAULTS.get(key)) != spec[key]:
            changed.append(key)
    # Ironic refuses an owner on a public runbook: make it non-public before giving it an owner.
    for key in sorted(changed, key=lambda k: 0 if k == 'public' else 1):
        ops.append({'op': 'replace' if key in ('steps', 'extra') else 'add', 'path': '/%s' % key, 'value': spec[key]})
    return ops, changed


def create_body(kind, spec):
    """The POST body of a new resource."""
    body = dict(name=spec['name'], steps=spec['steps'])
    for key in ('extra',) + kind.fields:
        if key in spec:
            body[key] = spec[key]
    return body


def plan(kind, specs, existing):
    """One action per wanted spec: ``[{name, action, uuid, ops, body, changes, before, after}]``.

    ``existing``: the API dicts of the kind's resources. ``action``: ``create`` (``body``),
    ``update`` (``ops``), ``delete``, ``unchanged``; ``before`` / ``after`` are the compared views
    (None for an absent resource).
    """
    by_name = dict((r.get('name'), r) for r in existing)
    actions = []
    for spec in specs:
        current = by_name.get(spec['name'])
        view = current_view(kind, current) if current is not None else None
        entry = dict(name=spec['name'], uuid=(current or {}).get('uuid'), ops=[], body=None, changes=[],
                     before=view, after=None)
        if spec['state'] == 'absent':
            entry['action'] = 'delete' if current is not None else 'unchanged'
            entry['changes'] = ['deleted'] if current is not None else []
        elif current is None:
            body = create_body(kind, spec)
            entry.update(action='create', body=body, changes=['created'],
                         after=dict(dict((k, _DEFAULTS[k]) for k in ('extra',) + kind.fields), **body))
        else:
            ops, changed = _patch(spec, view, kind)
            after = dict(view, **dict((k, spec[k]) for k in changed))
            entry.update(action='update' if ops else 'unchanged', ops=ops, changes=changed, after=after)
        if entry['action'] == 'unchanged':
            entry['after'] = view
        actions.append(entry)
    return actions


RESULT_OF = dict(create='created', update='updated', delete='deleted', unchanged='unchanged')


def result_entry(action, error=None):
    """The per-item result: ``{name, uuid, action, changed, failed, msg, changes}``."""
    if error is not None:
        return dict(name=action['name'], uuid=action['uuid'], action='failed', changed=False, failed=True,
                    msg=error, changes=action['changes'])
    done = RESULT_OF[action['action']]
    msg = None
    if action['action'] == 'update':
        msg = 'changed: %s' % ', '.join(action['changes'])
    return dict(name=action['name'], uuid=action['uuid'], action=done, changed=done != 'unchanged', failed=False,
                msg=msg, changes=action['changes'])


def items_from_params(params, list_key, kind):
    """The wanted items of a module call: its list option ``list_key``, or the one item the
    top-level ``name`` / ``steps`` / ``extra`` / kind fields describe."""
    if params.get(list_key) is not None:
        return params[list_key]
    if params.get('name') is None:
        return []
    item = dict((key, params.get(key)) for key in ('name', 'steps', 'extra') + kind.fields
                if params.get(key) is not None)
    return [item]


def apply_actions(adapter, kind, actions, check_mode=False, describe=None):
    """Carry out the planned actions through ``adapter`` (the Ironic adapter: its
    ``create_step_resource`` / ``patch_step_resource`` / ``delete_step_resource``); nothing in
    check mode. Returns one result per action (``result_entry``); a failed write fails its item
    only, the others go on. ``describe(exc, what)`` words an error (the adapter's ``describe``)."""
    results = []
    for action in actions:
        error = None
        if action['action'] != 'unchanged' and not check_mode:
            try:
                if action['action'] == 'create':
                    created = adapter.create_step_resource(kind.collection, kind.microversion, action['body'])
                    action['uuid'] = (created or {}).get('uuid')
                elif action['action'] == 'update':
                    adapter.patch_step_resource(kind.collection, kind.microversion, action['uuid'], action['ops'])
                else:
                    adapter.delete_step_resource(kind.collection, kind.microversion, action['uuid'])
            except Exception as exc:  # reported per item; the module fails at the end
                what = '%s %s (%s)' % (kind.label, action['name'], action['action'])
                error = describe(exc, what) if describe else '%s: %s' % (what, exc)
        results.append(result_entry(action, error))
    return results


def report(kind, list_key, actions, results, diff_mode, tracker):
    """The module's result from the actions and their results: ``(out, fail_msg)``; ``tracker``
    is a DifferenceTracker (fed here: the changed items' before / after). ``fail_msg`` is None
    unless an item failed (the module then fails with every item's result kept)."""
    summary = {}
    for action, entry in zip(actions, results):
        summary[entry['action']] = summary.get(entry['action'], 0) + 1
        if entry['action'] != 'failed':
            tracker.add(action['name'], action['before'], action['after'], changes=action['changes'])
    out = {list_key: results, 'summary': summary, 'changed': any(e['changed'] for e in results)}
    if diff_mode:
        out['diff'] = tracker.diff()
    failed = [e for e in results if e['failed']]
    fail_msg = None
    if failed:
        fail_msg = '%d of %d %ss failed: %s' % (len(failed), len(results), kind.label, '; '.join(e['msg'] for e in failed))
    return out, fail_msg
