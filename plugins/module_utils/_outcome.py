# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_utils is PRIVATE to the spineleaf.baremetal collection. It may change
# without notice; do not import it from other collections.
"""The host's result from its rack's bulk results: the one decision the roles' "Result of this
node" tasks make (filter ``node_outcome``). Pure; no I/O.

A bulk module returns ``nodes: [{name, uuid, action, changed, failed, msg, ...}]`` (the per-node
result contract, ``_base.node_entry``). A role hands the rack's call result(s) - one, or several
steps in order (inspection, then the cabling check) - and the host; it gets back what the host
reports: ``{name, rack, action, changed, failed, skipped, stopped, planned, msg, reason, verdict}``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._rollout import rack_budget

# A node left alone on purpose (in maintenance): neither done nor failed, outside the budget.
LEFT_ALONE_ACTIONS = frozenset(['maintenance'])
# The final action of a node the module did not start because its rack stopped.
NOT_STARTED_ACTION = 'skipped'


def _entries(step):
    """``{name: entry}`` of one call result, or None when the call has no per-node results
    (it failed as a whole, was skipped, or never ran)."""
    if not isinstance(step, Mapping) or not isinstance(step.get('nodes'), list):
        return None
    out = {}
    for entry in step['nodes']:
        if not isinstance(entry, Mapping) or not entry.get('name'):
            raise ValueError('a node result without a name: %r (each entry of nodes needs its name)' % (entry,))
        out[entry['name']] = entry
    return out


def _failed(entry):
    return bool(entry.get('failed')) if 'failed' in entry else entry.get('action') == 'failed'


def node_steps(steps, name, rack):
    """One node through its rack's steps: ``{action, changed, failed, skipped, not_started,
    planned, reason, last_step}`` (``reason`` is the node's own message)."""
    out = dict(action='failed', changed=False, failed=False, skipped=False, not_started=False,
               planned=False, reason=None, last_step=False)
    msgs = []
    for index, step in enumerate(steps):
        entries = _entries(step)
        entry = entries.get(name) if entries is not None else None
        if entry is None:
            why = (step.get('msg') if isinstance(step, Mapping) else None) or 'no result'
            out.update(action='failed', failed=True, reason='rack %s: %s' % (rack, why))
            return out
        last = index == len(steps) - 1
        out.update(action=entry.get('action') or 'unchanged', last_step=last)
        out['changed'] = out['changed'] or bool(entry.get('changed'))
        msg = entry.get('msg')
        if _failed(entry):
            out.update(failed=True, reason='; '.join(msgs + [msg]) if msg else ('; '.join(msgs) or None))
            return out
        if out['action'] in LEFT_ALONE_ACTIONS:
            out.update(skipped=True, reason=msg)
            return out
        if entry.get('uuid', '') is None and not last:
            # --check of a node not in Ironic yet: planned only, the later steps have nothing to check
            out.update(planned=True, reason=msg)
            return out
        if last:
            out['not_started'] = out['action'] == NOT_STARTED_ACTION
            if msg:
                msgs.append(msg)
        elif msg and entry.get('changed'):
            msgs.append(msg)
    out['reason'] = '; '.join(msgs) or None
    return out


def rack_verdict(steps, names, rack, budget):
    """The rack's budget verdict over its nodes ``names`` (a node with no result counts failed,
    a node left alone does not count): ``rack_budget``'s dict; ``stopped`` also when the module
    left a node not started. The budget as ``failure_budget`` reads it (None: 0; ``100%``: the
    rack never stops on the count)."""
    outcomes = [node_steps(steps, n, rack) for n in names]
    counted = [o for o in outcomes if not o['skipped']]
    failed = sum(1 for o in counted if o['failed'])
    verdict = rack_budget(rack, failed, len(counted), budget)
    not_started = [o for o in outcomes if o['not_started']]
    own = steps[-1].get('verdict') if isinstance(steps[-1], Mapping) else None
    if not verdict['stopped'] and isinstance(own, Mapping) and own.get('stopped'):
        verdict = dict(verdict, stopped=True, msg=own.get('msg') or 'rack %s stopped' % rack)  # the module's own
    if not_started and not verdict['stopped']:
        verdict = dict(verdict, stopped=True, msg=not_started[0]['reason'] or 'rack %s stopped' % rack)
    verdict['skipped'] = len(not_started)
    return verdict


def node_outcome(results, host, budget=None, rack=None, hosts=None, report=None):
    """The host's result from its rack's results (one call result, or a list of steps).

    ``hosts``: the rack's hosts (a host without a result counts failed); by default the nodes of
    the first step (then ``host`` may be any name: ``''`` gives the rack's verdict only). ``report``:
    a path named in the message of a node that failed its last step.
    The rack's budget verdict comes from every node of the rack; past it, a node that did not
    fail itself fails with the verdict's message (``stopped``).
    """
    steps = list(results) if isinstance(results, (list, tuple)) else [results]
    if not steps:
        raise ValueError('no results given')
    rack = '-' if rack is None else str(rack)
    if hosts is None:
        hosts = list(_entries(steps[0]) or {})
    names = [str(h) for h in hosts]
    return _host_outcome(steps, host, rack, rack_verdict(steps, names, rack, budget), report)


def _dig(value, path):
    for key in path.split('.'):
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def node_entry(results, name, missing='no result', rack=None, rack_key=None):
    """A node's own entry from rack calls' results (one call result, or a loop's ``results``); a
    node with none is failed with ``missing``, followed in parentheses by the message of its rack's
    call (the one whose ``rack_key`` - a dotted path such as ``rolling_upgrade_rack.key`` - is
    ``rack``) when it has one."""
    steps = list(results) if isinstance(results, (list, tuple)) else [results]
    for step in steps:
        entry = (_entries(step) or {}).get(name)
        if entry is not None:
            return dict(entry)
    why = None
    if rack_key:
        why = next((_dig(s, 'msg') for s in steps if str(_dig(s, rack_key)) == str(rack) and _dig(s, 'msg')), None)
    return dict(name=name, action='failed', changed=False, failed=True,
                msg='%s (%s)' % (missing, why) if why else missing)


NO_RACK_MSG = "%s: no 'rack' variable; put the node in a rack group (rack_<id>) with 'rack' set"


def _rack_of(result, rack_keys):
    """The rack a loop item's result names under the first of ``rack_keys`` it has (a dotted key
    reads a nested one: ``item.rack``)."""
    for key in rack_keys:
        value = result
        for part in key.split('.'):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is not None:
            return str(value)
    return None


def _by_rack(results, rack_keys):
    """``{rack: result}`` of one step's per-rack results (the first result of a rack wins)."""
    out = {}
    for result in results or []:
        rack = _rack_of(result, rack_keys)
        if rack is not None and rack not in out:
            out[rack] = result
    return out


class _Every:
    """One site-wide call's result, as every rack's."""

    def __init__(self, result):
        self.result = result

    def get(self, rack, default=None):  # pylint: disable=unused-argument
        return self.result if self.result is not None else default


def _host_rack(hostvars):
    if not isinstance(hostvars, Mapping) or not hostvars.get('inventory_hostname'):
        raise TypeError('a host without its variables (inventory_hostname): %r' % (hostvars,))
    return str(hostvars['inventory_hostname']), hostvars.get('rack')


def node_outcomes(results, hosts, budget=None, rack_key='rack', report=None, missing=None, no_rack=True):
    """Every host's result at once (``{host: outcome}``, each as ``node_outcome`` gives it), from
    the per-rack results of one or more steps.

    ``results``: the racks' call results (a loop's registered ``results``), each naming its rack
    under ``rack_key`` (a key, a dotted path, or a list of them tried in order); or a list of such
    lists, one per step in order. ``rack_key=None``: ``results`` is one site-wide call's result (or a
    list of steps), every rack's. ``hosts``: ``{host: rack}`` (or the hosts' variables: their inventory_hostname and rack; a host whose rack is empty or None
    fails with the "no rack" message when ``no_rack``, else is left out). ``missing``: the message
    of a rack without a result. One run-once task computes every host's result, so the per-host
    work of a role is the one task that reports it (a task per host costs a worker per host).
    """
    if isinstance(hosts, (list, tuple)):  # the hosts' variables (hostvars): {inventory_hostname: rack}
        hosts = dict(_host_rack(h) for h in hosts)
    if not isinstance(hosts, Mapping):
        raise TypeError('hosts must be a mapping {host: rack} or a list of hosts\' variables, got %s' % type(hosts).__name__)
    if rack_key is None:  # one call for the whole site (discovery): its result is every rack's
        steps = [_Every(step) for step in (results if isinstance(results, (list, tuple)) else [results])]
    else:
        keys = [rack_key] if isinstance(rack_key, str) else list(rack_key)
        multi = bool(results) and all(isinstance(step, (list, tuple)) for step in results)
        steps = [_by_rack(step, keys) for step in (results if multi else [results])]
    racks = {}
    for host, rack in hosts.items():
        if rack is None or str(rack) == '':
            continue
        racks.setdefault(str(rack), []).append(str(host))
    out = {}
    for rack, names in racks.items():
        rack_steps = [step.get(rack, {'msg': missing or 'no result'}) for step in steps]
        verdict = rack_verdict(rack_steps, names, rack, budget)
        for host in names:
            out[host] = _host_outcome(rack_steps, host, rack, verdict, report)
    if no_rack:
        for host, rack in hosts.items():
            if rack is None or str(rack) == '':
                msg = NO_RACK_MSG % host
                out[str(host)] = dict(name=str(host), rack='-', action='failed', changed=False, failed=True,
                                      skipped=False, stopped=False, planned=False, msg=msg, reason=msg, verdict={})
    return out


def _host_outcome(steps, host, rack, verdict, report):
    """``node_outcome``'s dict for one host, its rack's verdict computed once for the rack."""
    mine = node_steps(steps, host, rack)
    stopped = not mine['failed'] and not mine['skipped'] and (mine['not_started'] or verdict['stopped'])
    reason = mine['reason']
    if mine['failed'] and mine['last_step'] and report:
        reason = '%s (report: %s)' % (reason or 'failed', report)
    msg = verdict['msg'] if stopped else mine['action'] + (': %s' % reason if reason else '')
    return dict(name=host, rack=rack, action=mine['action'], changed=mine['changed'],
                failed=mine['failed'] or stopped, skipped=mine['skipped'], stopped=stopped,
                planned=mine['planned'], msg=msg, reason=reason, verdict=verdict)


# The roles whose outcomes a site's summary reads, in the order site.yml runs them.
SITE_STEPS = ('discover', 'enroll', 'introspect', 'tag', 'deploy', 'network_check')
NOT_CHECKED_REASON = 'cabling check not passed for its current placement (run the introspect step)'


def _named_steps(name, hv, introspected):
    """A host's outcome of each step of the site, ``[(step, outcome)]`` (``<role>_outcomes[host]``,
    else the registered result of the role's host task, else ``{}``: the step did not take it)."""
    steps = []
    for role in SITE_STEPS:
        outcomes = hv.get(role + '_outcomes')
        step = outcomes.get(name) if isinstance(outcomes, Mapping) else None
        if step is None:
            step = hv.get(role + '_node_result')
            if isinstance(step, Mapping) and step.get('skipped') is True:
                step = None  # the host task was skipped (site.yml runs it once, skipped): nothing of the node
        steps.append((role, step if isinstance(step, Mapping) else {}))
    outcomes = hv.get('introspect_outcomes')
    records = hv.get('site_cabling_records')
    # a run without the introspect step (--tags deploy) leaves out a node whose recorded check does not hold
    if (not isinstance(outcomes, Mapping) or name not in outcomes) and isinstance(records, Mapping) \
            and 'nodes' in records and name not in introspected:
        steps.append(('introspect', dict(skipped=True, failed=False, reason=NOT_CHECKED_REASON)))
    return steps


def routed_changes(results, rack):
    """What the routed networks call (a loop over the networks, its registered ``results``) changed
    for one rack's nodes: each network created, updated or deleted (all racks share it), and the
    rack's own segment (``<network>-<rack>``) and its subnets. ``[]``: nothing of that rack changed."""
    out = []
    rack = '' if rack is None else str(rack)
    for result in results or ():
        if not isinstance(result, Mapping) or not isinstance(result.get('network'), Mapping):
            continue
        item = result.get('item') if isinstance(result.get('item'), Mapping) else {}
        net = str(item.get('name') or result['network'].get('name') or '')
        segment = '%s-%s' % (net, rack)
        if result['network'].get('action') in ('created', 'updated', 'deleted'):
            out.append('network %s %s' % (net, result['network']['action']))
        for seg in result.get('segments') or ():
            if isinstance(seg, Mapping) and seg.get('name') == segment and seg.get('action') not in ('unchanged', 'unmanaged'):
                out.append('segment %s %s' % (seg['name'], seg.get('action')))
        for sub in result.get('subnets') or ():
            if isinstance(sub, Mapping) and sub.get('segment', '') == segment and sub.get('action') != 'unchanged':
                out.append('subnet %s %s' % (sub.get('name'), sub.get('action')))
    return out


def site_results(hosts, introspected=()):
    """Each node's result over a whole site run, ``{host: {changed, failed, msg}}``: the one task per
    host of ``site.yml`` (``spineleaf_results_at_end``) reports it. ``changed``: any step changed
    the node (its rack's segment or subnet included); ``failed``: a step failed it (its rack stopped
    included), and ``msg`` then names that step and why; else ``msg`` lists every step that took it."""
    out = {}
    introspected = set(introspected or ())
    for hv in hosts:
        name = str(hv['inventory_hostname'])
        changed, parts, failure = False, [], None
        routed = hv.get('routed_networks_result')
        if isinstance(routed, Mapping) and hv.get('rack') not in (None, ''):
            changes = routed_changes(routed.get('results'), hv.get('rack'))
            if changes:
                changed = True
                parts.append('networks: %s' % ', '.join(changes))
        for role, step in _named_steps(name, hv, introspected):
            if not step:
                continue
            if 'msg' not in step and step.get('reason'):  # left out by the recorded-cabling gate
                parts.append('%s: skipped: %s' % (role, step['reason']))
                continue
            changed = changed or bool(step.get('changed'))
            msg = step.get('msg') or step.get('action') or ('failed' if step.get('failed') else 'ok')
            if step.get('failed'):
                failure = '%s: %s' % (role, msg)
                break
            parts.append('%s: %s' % (role, msg))
        if failure is not None:
            out[name] = dict(changed=changed, failed=True, msg=failure)
        else:
            out[name] = dict(changed=changed, failed=False, msg='; '.join(parts) or 'no step of this run took it')
    return out


def site_summary(hosts, play_hosts, introspected=()):
    """The site's summary per rack, ``{rack: {done: [hosts], failed: {host: why}, skipped: {host: why}}}``,
    from each host's structured outcomes (``hosts``: the hosts' variables). A host is skipped when a
    step left it alone or its rack stopped, done when it is still in the play, failed otherwise."""
    racks = {}
    for hv in hosts:
        name = str(hv['inventory_hostname'])
        steps = [step for _role, step in _named_steps(name, hv, set(introspected or ()))]
        left = next((s for s in steps if s.get('skipped') is True and s.get('failed', None) is False), None)
        fail = next((s for s in steps if s.get('failed')), None)
        if left is not None or (fail is not None and fail.get('stopped')):
            kind = 'skipped'
        elif name in play_hosts:
            kind = 'done'
        elif fail is not None:
            kind = 'failed'
        else:
            continue
        rack = str(hv['rack']) if 'rack' in hv else '(no rack)'
        entry = racks.setdefault(rack, {'done': [], 'failed': {}, 'skipped': {}})
        if kind == 'done':
            entry['done'].append(name)
        elif left is not None:
            entry[kind][name] = left['reason'] if 'reason' in left else 'skipped'
        else:
            entry[kind][name] = fail['msg'] if 'msg' in fail else 'failed'
    return racks
