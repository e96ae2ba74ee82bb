# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_utils is PRIVATE to the spineleaf.baremetal collection. It may change
# without notice; do not import it from other collections.
"""Manual cleaning campaigns: which nodes may be cleaned, what each one runs, and the phases a node
goes through (``manage`` if needed, ``clean`` with its steps, ``provide`` back to ``available`` for
a node that started there). ``PHASES`` is the one place that says what a phase is (the provision
action that starts it, the state it ends in, the states it moves through); ``run_campaign`` drives
the nodes through them on the adapter's one poller with bounded concurrency, a per-node timeout
and a failure budget. Planning is pure; ``run_campaign`` only calls the adapter."""

from __future__ import annotations

import time

from ansible_collections.spineleaf.baremetal.plugins.module_utils._rollout import failure_budget
from ansible_collections.spineleaf.baremetal.plugins.module_utils._states import FAILED_STATES

# Where a campaign may start. A node in enroll (never verified) or left in clean failed (an earlier
# campaign) is moved to manageable first, and ends there.
CLEANABLE = frozenset(['manageable', 'available', 'enroll', 'clean failed'])
NEEDS_MANAGE = frozenset(['enroll', 'clean failed'])

# One phase: the provision action that starts it, the state it ends in, the states it moves through.
# A phase is done when the node rests in ``done`` with a provision_updated_at newer than when the
# phase started; failed in a failed state (clean failed) or, for manage, back in enroll with an error.
PHASES = dict(
    manage=dict(action='manage', done='manageable', moving=('verifying',)),
    clean=dict(action='clean', done='manageable', moving=('cleaning', 'clean wait')),
    provide=dict(action='provide', done='available', moving=('cleaning', 'clean wait')),
)
MOVING_STATES = tuple(sorted(set(s for p in PHASES.values() for s in p['moving'])))


def refusal(state):
    """Why a node in ``state`` is not cleaned (None when it may be)."""
    if state in CLEANABLE:
        return None
    if state in ('active', 'deploying', 'wait call-back', 'deploy wait', 'deploy failed', 'servicing', 'service wait',
                 'service failed', 'rescue', 'rescuing', 'rescue wait'):
        return ('refused: the node is %s (deployed or deploying): a cleaning campaign never touches a workload; '
                'undeploy it first or use servicing for active nodes' % state)
    return 'refused: the node is %s; cleaning starts from manageable or available' % state


def phases_for(state):
    """The phases of a node that starts in ``state``: manage first (cleaning starts from manageable),
    and provide after when it was available, so it ends where it started."""
    if state == 'available':
        return ['manage', 'clean', 'provide']
    return (['manage'] if state in NEEDS_MANAGE else []) + ['clean']


def step_label(step):
    """``bios.apply_configuration``."""
    return '%s.%s' % (step.get('interface'), step.get('step'))


def check_steps(name, steps):
    """Validate raw clean steps (as the API takes them); raises ValueError naming the node and step."""
    for index, step in enumerate(steps or []):
        if not isinstance(step, dict) or not step.get('interface') or not step.get('step'):
            raise ValueError('node %s: clean_steps[%d] needs interface and step (and args), e.g. '
                             '{interface: raid, step: create_configuration, args: {}}, got %r' % (name, index, step))
        if not isinstance(step.get('args', {}), dict):
            raise ValueError('node %s: clean_steps[%d].args must be a dict' % (name, index))


def plan_node(name, node, drift_steps=(), raw_steps=(), problems=(), requested=False, force=False):
    """One node's entry: ``{name, uuid, action, msg, start_state, phases, clean_steps}``.

    ``node``: ``{uuid, provision_state, maintenance}`` or None (not in Ironic). ``drift_steps``
    correct the node's drift from its ``requested`` settings (``_drift.drift_steps``); ``raw_steps``
    run with them. A node with requested settings is cleaned only when it drifts (or ``force``); a
    node with raw steps only always runs them. Nothing to run: ``unchanged`` (no write)."""
    entry = dict(name=name, uuid=node.get('uuid') if node else None, start_state=node.get('provision_state') if node else None,
                 phases=[], clean_steps=[])
    if node is None:
        return dict(entry, action='failed', msg='node %s is not in Ironic (enroll it first)' % name)
    if problems:
        return dict(entry, action='failed', msg='node %s: %s' % (name, '; '.join(problems)))
    if requested and not drift_steps and not force:
        return dict(entry, action='unchanged', msg='no drift: the requested settings are in place')
    steps = list(drift_steps) + list(raw_steps)
    if not steps:
        return dict(entry, action='unchanged', msg='nothing to run')
    if node.get('maintenance'):
        return dict(entry, action='maintenance', msg='in maintenance (%s): left alone' % (
            node.get('maintenance_reason') or 'no reason given'))
    why = refusal(node['provision_state'])
    if why:
        return dict(entry, action='refused', msg='node %s %s' % (name, why))
    phases = phases_for(node['provision_state'])
    return dict(entry, action='cleaned', phases=phases, clean_steps=steps, msg='%s: %s%s' % (
        ' -> '.join(phases), ', '.join(step_label(s) for s in steps),
        ' (back to available)' if node['provision_state'] == 'available' else ''))


def _settled(phase, node, baseline):
    """``(done, error)`` of a node in ``phase`` from its read."""
    state, target = node.get('provision_state'), node.get('target_provision_state')
    # before the target test: Ironic keeps the failed action's target (clean failed -> manageable)
    if state in FAILED_STATES and node.get('provision_updated_at') != baseline:
        return False, 'went to %s: %s' % (state, node.get('last_error') or 'no error recorded')
    if target:
        return False, None
    if state == PHASES[phase]['done'] and node.get('provision_updated_at') != baseline:
        return True, None
    if phase == 'manage' and state == 'enroll' and node.get('last_error') and node.get('provision_updated_at') != baseline:
        return False, 'manage failed, node back in enroll: %s' % node['last_error']
    return False, None


class Campaign:
    """A sliding window over the planned nodes: at most ``concurrency`` cleaning at once, each with
    ``timeout`` seconds; once more nodes failed than ``budget`` allows, no new node starts (those
    not started end ``skipped``). ``run(entries)`` fills the entries' ``action`` / ``msg`` /
    ``provision_state`` / ``duration`` in place."""

    FIELDS = ('provision_state', 'target_provision_state', 'last_error', 'provision_updated_at')

    def __init__(self, adapter, concurrency=8, timeout=1800, budget=0, rack=None, poll=1.0,
                 clock=time.monotonic, sleep=None):
        self.adapter = adapter
        self.concurrency = max(1, int(concurrency))
        self.timeout = timeout
        self.budget = budget
        self.rack = rack or '-'
        self.poll = poll
        self.clock = clock
        self.sleep = sleep

    def _start(self, rec, node=None):
        phase = rec['phases'][rec['phase_index']]
        rec['baseline'] = (node or {}).get('provision_updated_at', rec.get('baseline'))
        kwargs = dict(clean_steps=rec['clean_steps']) if phase == 'clean' else {}
        try:
            self.adapter.set_provision_state(rec['uuid'], PHASES[phase]['action'], **kwargs)
            return True
        except Exception as exc:  # per node: reported, the others go on
            rec.update(action='failed', msg='node %s: %s failed: %s' % (rec['name'], phase, getattr(exc, 'details', None) or exc))
            return False

    def _finish(self, rec, action, state, msg):
        rec.update(action=action, provision_state=state, msg=msg, duration=round(self.clock() - rec['started'], 3))

    def _step(self, rec, node):
        """Advance one node on its read; True when it is finished."""
        if node is None:
            self._finish(rec, 'failed', None, 'node %s: disappeared during cleaning' % rec['name'])
            return True
        phase = rec['phases'][rec['phase_index']]
        done, error = _settled(phase, node, rec['baseline'])
        if error:
            self._finish(rec, 'failed', node.get('provision_state'), 'node %s: %s %s' % (rec['name'], phase, error))
            return True
        if done:
            rec['phase_index'] += 1
            if rec['phase_index'] == len(rec['phases']):
                self._finish(rec, 'cleaned', node.get('provision_state'), rec['msg'])
                return True
            if not self._start(rec, node):
                self._finish(rec, 'failed', node.get('provision_state'), rec['msg'])
                return True
            return False
        if self.clock() - rec['started'] > self.timeout:
            self._finish(rec, 'failed', node.get('provision_state'), 'node %s: still %s after %ss (%s)' % (
                rec['name'], node.get('provision_state'), self.timeout, phase))
            return True
        return False

    def _verdict(self, failed, total):
        allowed = failure_budget(self.budget, total)
        stopped = failed > allowed
        return dict(rack=self.rack, failed=failed, total=total, budget=allowed, stopped=stopped,
                    msg='rack %s %s: %d of %d nodes failed (budget %d)' % (
                        self.rack, 'stopped' if stopped else 'within budget', failed, total, allowed))

    def verdict(self, entries):
        """The plan's verdict without running (check mode): refused and failed nodes against the budget;
        past it, the nodes that would be cleaned end ``skipped`` as a real run would leave them."""
        verdict = self._verdict(sum(1 for e in entries if e['action'] in ('failed', 'refused')), len(entries))
        if verdict['stopped']:
            for e in entries:
                if e['action'] == 'cleaned':
                    e.update(action='skipped', msg=verdict['msg'])
        return verdict

    def run(self, entries, on_progress=None):
        """Clean the ``entries`` whose action is ``cleaned`` (the plan); ``on_progress(done, in_flight,
        queued)`` after every round. Returns the rack's budget verdict dict."""
        queue = [e for e in entries if e['action'] == 'cleaned']
        total = len(entries)
        refused = sum(1 for e in entries if e['action'] in ('failed', 'refused'))
        queue.reverse()
        inflight, done = {}, []
        allowed = failure_budget(self.budget, total)
        state = dict(failed=refused)

        def stopped():
            return state['failed'] > allowed

        def fill():
            while queue and len(inflight) < self.concurrency and not stopped():
                rec = queue.pop()
                rec.update(started=self.clock(), phase_index=0, baseline=None)
                if self._start(rec, dict(provision_updated_at=rec.pop('provision_updated_at', None))):
                    inflight[rec['uuid']] = rec
                else:
                    self._finish(rec, 'failed', rec['start_state'], rec['msg'])
                    state['failed'] += 1
                    done.append(rec)
            return not inflight

        def settle(nodes):
            for uuid, rec in list(inflight.items()):
                if self._step(rec, nodes.get(uuid)):
                    done.append(inflight.pop(uuid))
                    state['failed'] += rec['action'] == 'failed'
            finished = fill()
            if on_progress is not None:
                on_progress(done, list(inflight.values()), queue)
            return finished

        if not fill():
            self.adapter.poll_nodes(self.FIELDS, settle, interval=self.poll, wait_first=True, sleep=self.sleep,
                                    watch=lambda: list(inflight), moving_states=MOVING_STATES)
        verdict = self._verdict(state['failed'], total)
        for rec in queue:  # never started: the rack stopped at its budget
            rec.update(action='skipped', msg=verdict['msg'])
        for rec in entries:
            for key in ('started', 'phase_index', 'baseline', 'provision_updated_at'):
                rec.pop(key, None)
        return verdict
