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

from ansible_collections.spineleaf.baremetal.plugins.module_utils._rollout import rack_budget

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
    mine = node_steps(steps, host, rack)
    verdict = rack_verdict(steps, names, rack, budget)
    stopped = not mine['failed'] and not mine['skipped'] and (mine['not_started'] or verdict['stopped'])
    reason = mine['reason']
    if mine['failed'] and mine['last_step'] and report:
        reason = '%s (report: %s)' % (reason or 'failed', report)
    if stopped:
        msg = verdict['msg']
    else:
        msg = mine['action'] + (': %s' % reason if reason else '')
    return dict(name=host, rack=rack, action=mine['action'], changed=mine['changed'],
                failed=mine['failed'] or stopped, skipped=mine['skipped'], stopped=stopped,
                planned=mine['planned'], msg=msg, reason=reason, verdict=verdict)
