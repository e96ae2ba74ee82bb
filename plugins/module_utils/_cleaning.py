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

from ._rollout import failure_budget
from ._states import FAILED_STATES
from ._window import Step, Window

# Where a campaign may start. A node in enroll (never verified) or left in clean failed (an earlier
# campaign) is moved to manageable first, and ends there.
CLEANABLE = frozenset(['manageable', 'available', 'enroll', 'clean failed'])
NEEDS_MANAGE = frozenset(['enroll', 'clean failed'])


def _changed(node, rec):
    """The node moved since its phase was sent (Ironic's ``provision_updated_at``): a rest state read
    just after the PUT (manageable before a clean starts) is not taken for the end of the phase."""
    return node.get('provision_updated_at') != rec.get('baseline')


def _failed(node, rec):
    # before the target test: Ironic keeps the failed action's target (clean failed -> manageable)
    return node.get('provision_state') in FAILED_STATES and _changed(node, rec)


def _manage_failed(node, rec):
    """manage failed: back in enroll with an error (the BMC could not be verified)."""
    return _failed(node, rec) or (node.get('provision_state') == 'enroll' and bool(node.get('last_error'))
                                  and _changed(node, rec))


def _phase(action, done, moving, failed_if=_failed):
    return Step(action, done=(done,), moving=moving, what='cleaning', done_if=_changed, failed_if=failed_if,
                failed_msg='node %%(name)s: %s went to %%(state)s: %%(error)s' % action,
                args=(lambda rec: dict(clean_steps=rec['clean_steps'])) if action == 'clean' else None)


# The phases, each a step on the one window's table (_window.Step): the provision action that starts
# it, the state it ends in (with a provision_updated_at newer than when it was sent), the states it
# moves through; failed in a failed state (clean failed) or, for manage, back in enroll with an error.
PHASES = dict(
    manage=_phase('manage', 'manageable', ('verifying',), failed_if=_manage_failed),
    clean=_phase('clean', 'manageable', ('cleaning', 'clean wait')),
    provide=_phase('provide', 'available', ('cleaning', 'clean wait')),
)
MOVING_STATES = tuple(sorted(set(s for p in PHASES.values() for s in p.moving)))


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
    # Ironic's own maintenance after a failed clean step (fault "clean failure") is the campaign's to
    # lift: the next run brings the node back (manage) and cleans it again; any other is left alone.
    ours = node.get('fault') == 'clean failure' and node.get('provision_state') == 'clean failed'
    if node.get('maintenance') and not ours:
        return dict(entry, action='maintenance', msg='in maintenance (%s): left alone' % (
            node.get('maintenance_reason') or 'no reason given'))
    why = refusal(node['provision_state'])
    if why:
        return dict(entry, action='refused', msg='node %s %s' % (name, why))
    if node.get('maintenance'):
        entry['clear_maintenance'] = True
    phases = phases_for(node['provision_state'])
    return dict(entry, action='cleaned', phases=phases, clean_steps=steps, msg='%s: %s%s' % (
        ' -> '.join(phases), ', '.join(step_label(s) for s in steps),
        ' (back to available)' if node['provision_state'] == 'available' else ''))


class Campaign(Window):
    """The one sliding window (``_window.Window``) over the planned nodes: at most ``concurrency``
    cleaning at once, each with ``timeout`` seconds; once more nodes failed (refusals included) than
    ``budget`` allows, no new node starts (those not started end ``skipped``). ``run(entries)`` fills
    the entries' ``action`` / ``msg`` / ``provision_state`` / ``duration`` in place."""

    what = 'cleaning'
    FIELDS = ('uuid', 'provision_state', 'target_provision_state', 'last_error', 'provision_updated_at')

    def __init__(self, adapter, concurrency=8, timeout=1800, budget=0, rack=None, poll=1.0,
                 clock=time.monotonic, sleep=None):
        super().__init__(adapter, concurrency=concurrency, timeout=timeout, poll=poll, clock=clock,
                         sleep=sleep or time.sleep)
        self.budget = budget
        self.rack = rack or '-'
        self.allowed = 0

    # ---- the window's hooks
    def prepare(self, rec):
        if rec.pop('clear_maintenance', False):  # Ironic's, after this campaign's earlier clean failure
            self.adapter.set_maintenance(rec['uuid'], False)

    def call(self, rec, action, **kwargs):
        # the phase's baseline: the node's provision_updated_at when its action is sent
        rec['baseline'] = (rec.get('last_read') or {}).get('provision_updated_at', rec.get('provision_updated_at'))
        self.adapter.set_provision_state(rec['uuid'], action, **kwargs)

    def advance(self, rec, node):
        rec['last_read'] = node
        return super().advance(rec, node)

    def read(self, ids):
        return self.adapter.read_nodes(list(self.FIELDS), ids, moving_states=MOVING_STATES)

    @staticmethod
    def state_of(rec):
        return rec.get('start_state')

    def succeeded(self, rec, state):
        self.finish(rec, 'cleaned', state, rec['msg'])

    def stopped(self):
        return self.failures > self.allowed

    def skip(self, rec):
        rec.update(action='skipped')

    # ---- the campaign
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
        """Clean the ``entries`` whose action is ``cleaned`` (the plan), each through its phases;
        ``on_progress(counts)`` (the window's ``{done, failed, in_flight, queued}``) after every round.
        Returns the rack's budget verdict dict."""
        queue = [e for e in entries if e['action'] == 'cleaned']
        for rec in queue:
            rec['steps'] = [PHASES[phase] for phase in rec['phases']]
        self.allowed = failure_budget(self.budget, len(entries))
        self.failures = sum(1 for e in entries if e['action'] in ('failed', 'refused'))
        self.run_window(queue, on_progress)
        verdict = self._verdict(self.failures, len(entries))
        for rec in entries:
            if rec['action'] == 'skipped':  # never started: the rack stopped at its budget
                rec['msg'] = verdict['msg']
            for key in ('started', 'steps', 'step', 'attempts', 'attempt_started', 'baseline', 'last_read', 'clear_maintenance',
                        'provision_updated_at', 'error'):
                rec.pop(key, None)
        return verdict
