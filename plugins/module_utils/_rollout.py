# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""Rack-by-rack rollouts: the per-rack failure budget (one definition for every role), rack
ordering and selection, the sliding-window schedule of a rolling upgrade, and one rack's rolling
upgrade: ``RackPlan`` (pure planning) and ``RackRollout`` (running it on the one sliding window,
``_window``, I/O only through the adapter given)."""

from __future__ import annotations

import re
import time

from ._window import Step, Window

_PERCENT = re.compile(r'^\s*(\d+(?:\.\d+)?)\s*%\s*$')

# When a site does not set rollout.failure_budget: no failure is tolerated (a rollout that
# breaks one node stops before it breaks a second).
DEFAULT_FAILURE_BUDGET = 0


def failure_budget(budget, total):
    """How many of a rack's ``total`` nodes may fail before the rack stops.

    ``budget`` is a count (``2``, ``'2'``) or a percentage of the rack's nodes (``'10%'``,
    rounded down: 10% of 15 nodes is 1); None means ``DEFAULT_FAILURE_BUDGET``.
    Raises ValueError naming the bad value.
    """
    if budget is None or budget == '':
        return DEFAULT_FAILURE_BUDGET
    if isinstance(budget, bool):
        raise ValueError('failure_budget must be a count or a percentage such as 10%%, got %r' % budget)
    try:
        total = int(total)
    except (TypeError, ValueError):
        raise ValueError('failure_budget: the number of nodes must be an integer, got %r' % (total,))
    if isinstance(budget, str):
        match = _PERCENT.match(budget)
        if match:
            pct = float(match.group(1))
            if pct > 100:
                raise ValueError('failure_budget %r: a percentage cannot exceed 100%%' % budget)
            return int(total * pct // 100)
        if not budget.strip().isdigit():
            raise ValueError('failure_budget must be a count or a percentage such as 10%%, got %r' % budget)
        budget = int(budget)
    if isinstance(budget, float) and budget.is_integer():
        budget = int(budget)
    if not isinstance(budget, int) or budget < 0:
        raise ValueError('failure_budget must be a non-negative count or a percentage such as 10%%, got %r' % (budget,))
    return budget


def rack_budget(rack, failed, total, budget):
    """The budget verdict of one rack: ``{rack, failed, total, budget, stopped, msg}``.

    A rack stops when its failed nodes are more than its budget; ``msg`` then reads
    ``rack r02 stopped: 3 of 40 nodes failed (budget 2)``.
    """
    allowed = failure_budget(budget, total)
    failed = int(failed)
    stopped = failed > allowed
    msg = 'rack %s %s: %d of %d nodes failed (budget %d)' % (
        rack, 'stopped' if stopped else 'within budget', failed, int(total), allowed)
    return dict(rack=rack, failed=failed, total=int(total), budget=allowed, stopped=stopped, msg=msg)


def rack_order(racks, order=None, index=None):
    """Racks in rollout order: those named in ``order`` first, in that order, then the others by
    ``index`` (rack -> rack_index) and name. Racks in ``order`` but not in ``racks`` are ignored."""
    racks = list(dict.fromkeys(racks))
    index = index or {}
    first = [r for r in (order or []) if r in racks]
    rest = sorted((r for r in racks if r not in first), key=lambda r: (index.get(r, 1 << 30), r))
    return list(dict.fromkeys(first)) + rest


def select_racks(racks, wanted):
    """Keep only the racks named in ``wanted`` (list or comma-separated string; empty = all).
    Raises ValueError naming racks that do not exist."""
    if wanted in (None, '', []):
        return list(racks)
    if isinstance(wanted, str):
        wanted = [w.strip() for w in wanted.split(',') if w.strip()]
    unknown = [w for w in wanted if w not in racks]
    if unknown:
        raise ValueError('rollout_racks names unknown rack(s) %s; racks are %s' % (
            ', '.join(unknown), ', '.join(racks) or '(none)'))
    return [r for r in racks if r in wanted]


def rack_waves(racks, in_parallel=1):
    """Split the ordered racks into waves of ``in_parallel`` racks rolled out at the same time."""
    step = max(1, int(in_parallel))
    return [racks[i:i + step] for i in range(0, len(racks), step)]


def window_schedule(durations, max_unavailable):
    """Simulate a sliding window: ``durations`` per node (in order), at most ``max_unavailable``
    at once, a node starting as soon as another finishes. Returns ``(makespan, starts)``; the
    ideal a rollout is measured against."""
    width = max(1, int(max_unavailable))
    slots = [0.0] * width
    starts = []
    for duration in durations:
        i = min(range(width), key=lambda k: slots[k])
        starts.append(slots[i])
        slots[i] += duration
    return (max(slots) if durations else 0.0), starts


def batch_schedule(durations, batch):
    """Ansible ``serial``-style batches: each batch waits for its slowest member. Returns the makespan."""
    size = max(1, int(batch))
    return sum(max(durations[i:i + size]) for i in range(0, len(durations), size))


# ------------------------------------------------------------------ one rack of a rolling upgrade
RECORD_KEY = 'spineleaf_rollout'


def reason_prefix(rollout_id):
    """The maintenance reason every node of a rollout carries starts with this (so a re-run
    knows the maintenance is its own)."""
    return 'spineleaf rollout %s' % rollout_id


def _ours(node, rollout_id):
    return bool(node.get('maintenance')) and str(node.get('maintenance_reason') or '').startswith(reason_prefix(rollout_id))


def classify(node, rollout_id, image_info, tasks=None):
    """What a rolling upgrade does with one node: ``(op, msg)``.

    ``op``: ``done`` (finished earlier in this rollout: not touched), ``finish`` (rebuilt, but
    the run was interrupted before recording it), ``repair`` (finished but
    left in its maintenance: clear it), ``unchanged`` (already active on the image), ``upgrade``
    (rebuild it; also a node caught mid-way or failed earlier in this rollout) or ``fail`` (a
    built-in pre-gate failed: another party's maintenance, protected, not active, a fault).

    ``tasks``: the rollout runs the user's upgrade task file of that name instead of a rebuild;
    a node is then finished when its record says ``done`` for these tasks (there is no image to compare).
    """
    from ._provision import same_image
    name = node.get('name') or node['uuid']
    record = (node.get('extra') or {}).get(RECORD_KEY) or {}
    mine = record if record.get('id') == rollout_id else {}
    ours = _ours(node, rollout_id)
    if tasks:
        return _classify_tasks(node, name, mine, ours, tasks)
    on_image = node.get('provision_state') == 'active' and same_image(node.get('instance_info'), image_info)
    if mine.get('state') == 'done' and on_image:
        return ('repair', 'finished earlier; clearing the maintenance this rollout left') if ours else \
            ('done', 'finished earlier in this rollout')
    if node.get('maintenance') and not ours:
        return 'fail', 'node %s: pre-gate: in maintenance not set by this rollout (%s)' % (
            name, node.get('maintenance_reason') or 'no reason given')
    if node.get('protected'):
        return 'fail', 'node %s: pre-gate: protected (%s)' % (name, node.get('protected_reason') or 'no reason given')
    if node.get('fault'):
        return 'fail', 'node %s: pre-gate: Ironic reports fault %s' % (name, node['fault'])
    if node.get('power_state') == 'error':
        return 'fail', 'node %s: pre-gate: BMC reports power state error' % name
    state, target = node.get('provision_state'), node.get('target_provision_state')
    if mine.get('state') == 'started' and on_image and not target and not node.get('maintenance'):
        return 'finish', 'rebuilt before an interruption; recording it'
    if mine.get('state') in ('started', 'failed') and (target == 'active' or state in ('active', 'deploy failed')):
        return 'upgrade', 'resuming (%s earlier in this rollout)' % mine['state']
    if state != 'active' or target:
        return 'fail', 'node %s: pre-gate: not active (%s%s)' % (name, state, ' -> %s' % target if target else '')
    if on_image and not mine:
        return 'unchanged', 'already on the image'
    return 'upgrade', None


def _builtin_gate(node, name, ours):
    """The built-in pre-gate's refusal of a node (a message), or None."""
    if node.get('maintenance') and not ours:
        return 'node %s: pre-gate: in maintenance not set by this rollout (%s)' % (
            name, node.get('maintenance_reason') or 'no reason given')
    if node.get('protected'):
        return 'node %s: pre-gate: protected (%s)' % (name, node.get('protected_reason') or 'no reason given')
    if node.get('fault'):
        return 'node %s: pre-gate: Ironic reports fault %s' % (name, node['fault'])
    if node.get('power_state') == 'error':
        return 'node %s: pre-gate: BMC reports power state error' % name
    return None


def _classify_tasks(node, name, mine, ours, tasks):
    """``classify`` for a rollout of upgrade tasks: the record, not the image, says a node is done."""
    if mine.get('state') == 'done' and mine.get('tasks') == tasks:
        return ('repair', 'finished earlier; clearing the maintenance this rollout left') if ours else \
            ('done', 'finished earlier in this rollout')
    refusal = _builtin_gate(node, name, ours)
    if refusal:
        return 'fail', refusal
    state, target = node.get('provision_state'), node.get('target_provision_state')
    if state != 'active' or target:
        return 'fail', 'node %s: pre-gate: not active (%s%s)' % (name, state, ' -> %s' % target if target else '')
    if mine.get('state') in ('started', 'failed'):
        return 'upgrade', 'resuming (%s earlier in this rollout)' % mine['state']
    return 'upgrade', None


class RackPlan:
    """The planning half of one rack's rolling upgrade (pure): the window's width and the failure
    budget, which planned nodes need a slot and in which order, when the rack stops, and its
    progress counts. ``total``: the rack's nodes (set by the running half)."""

    SETTLED_OPS = frozenset(['fail', 'done', 'unchanged', 'finish', 'repair'])

    def __init__(self, rack='-', max_unavailable=1, budget=0):
        self.rack = rack
        self.max_unavailable = max(1, int(max_unavailable))
        self.budget = budget
        self.total = 0

    def over_budget(self, failures):
        """Whether ``failures`` nodes failed stop the rack (more than its budget)."""
        return failures > failure_budget(self.budget, self.total)

    @classmethod
    def queue(cls, items):
        """The planned nodes that need a window slot, in order; nodes caught mid-way first (they are
        out of service already). The others (``SETTLED_OPS``) are settled without one."""
        queue = [rec for rec in items if rec['op'] not in cls.SETTLED_OPS]
        queue.sort(key=lambda r: 0 if str(r.get('msg') or '').startswith('resuming') else 1)
        return queue

    def skip_reason(self, failures):
        """Why the nodes not started were not: the budget, or every slot held by a failed node."""
        if self.over_budget(failures):
            return rack_budget(self.rack, failures, self.total, self.budget)['msg']
        return 'all %d slots held by failed nodes left in maintenance' % self.max_unavailable

    @staticmethod
    def counts(items, inflight=0):
        """Progress of the rack: ``{total, done, failed, in_progress}`` (``done``: upgraded, or
        finished earlier / already on the image)."""
        acts = [r.get('action') for r in items]
        return dict(total=len(items), done=sum(1 for a in acts if a in ('upgraded', 'done', 'unchanged')),
                    failed=acts.count('failed'), in_progress=inflight)


# The rebuild's table: Ironic keeps the target "active" on a node in "deploy failed" or "error".
REBUILD = Step('rebuild', done=('active',), failed=('deploy failed', 'error'), what='the rolling upgrade',
               failed_msg='node %(name)s: rebuild went to %(state)s: %(error)s', no_error='-')


class RackRollout(Window):
    """The running half: roll one rack on the sliding window (``_window``) of at most
    ``max_unavailable`` nodes out of service (nodes failed in this rollout keep their maintenance
    and their slot), no new start once failures pass the budget (``RackPlan``). Per node:
    maintenance on with the rollout's reason and a progress record in ``extra``, new image in
    instance_info, maintenance off and rebuild (Ironic refuses to deploy a node in maintenance),
    wait for active, record ``done``. A failure puts the node back in maintenance with the reason
    and records ``failed``. I/O only through ``adapter``.

    ``tasks`` (the user's upgrade task file) instead of an image: the role runs those tasks itself,
    a few nodes at a time, between ``enter`` (maintenance on, record ``started``) and ``leave``
    (maintenance off and record ``done``, or the failure)."""

    what = 'the rolling upgrade'
    parallel_starts = True  # each start is four sequential writes: a slot must not wait for another node's
    step = REBUILD  # the step a node goes through (a subclass with another verb sets its own table)
    done_verb = 'rebuilt'

    def __init__(self, adapter, rollout_id, image_info, max_unavailable=1, budget=0, timeout=3600, poll=0.5,
                 clock=None, sleep=None, now=None, rack='-', tasks=None):
        super().__init__(adapter, concurrency=max_unavailable, timeout=timeout, poll=poll,
                         clock=clock or time.monotonic, sleep=sleep or time.sleep)
        self.plan = RackPlan(rack, max_unavailable, budget)
        self.rollout_id = rollout_id
        self.image_info = dict(image_info or {})
        self.tasks = tasks
        self.now = now or (lambda: time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))
        self.held = 0  # slots held by failed nodes (they stay in maintenance)

    def _record(self, state, **more):
        rec = dict(id=self.rollout_id, state=state, at=self.now())
        if self.tasks:
            rec['tasks'] = self.tasks
        else:
            rec['image'] = self.image_info.get('image_source')
        rec.update(more)
        return {'op': 'add', 'path': '/extra/%s' % RECORD_KEY, 'value': rec}

    def reason(self, what):
        return '%s: %s' % (reason_prefix(self.rollout_id), what)

    def fail(self, rec, msg, last_error=None):
        """Leave the node in maintenance with the reason, record it, count it (never raises)."""
        rec.update(action='failed', msg=msg, last_error=last_error, duration=round(self.clock() - rec.get('started', self.clock()), 3))
        with self._lock:  # starts run in threads
            self.failures += 1
            self.held += 1
        try:
            self.adapter.set_maintenance(rec['uuid'], True, self.reason('failed: %s' % msg)[:255])
            self.adapter.patch_node(rec['uuid'], [self._record('failed', msg=msg[:200])])
        except Exception as exc:  # the failure is reported either way
            rec['msg'] = '%s (and recording it failed: %s)' % (msg, exc)

    def _finish_ok(self, rec):
        try:
            self.adapter.patch_node(rec['uuid'], [self._record('done')])
            rec.update(action='upgraded', msg=rec.get('msg'))
            rec.setdefault('duration', round(self.clock() - rec['started'], 3))
        except Exception as exc:
            self.fail(rec, 'node %s: %s but recording it failed: %s' % (rec['name'], self.done_verb, exc))

    def _settle_planned(self, items):
        """Settle the nodes that need no window slot (refused by a gate, finished earlier, to be
        repaired); returns the queue of the others (``RackPlan.queue``)."""
        for rec in items:
            if rec['op'] == 'fail':
                rec['started'] = self.clock()
                self.fail(rec, rec['msg'])
            elif rec['op'] in ('done', 'unchanged'):
                rec.update(action=rec['op'], duration=0.0)
            elif rec['op'] == 'finish':
                rec['started'] = self.clock()
                self._finish_ok(rec)
            elif rec['op'] == 'repair':
                try:
                    self.adapter.set_maintenance(rec['uuid'], False)
                    rec.update(action='done', duration=0.0)
                except Exception as exc:
                    rec['started'] = self.clock()
                    self.fail(rec, 'node %s: clearing maintenance failed: %s' % (rec['name'], exc))
        return self.plan.queue(items)

    def stopped(self):
        return self.plan.over_budget(self.failures)

    def counts(self, items, inflight=0):
        return self.plan.counts(items, inflight)

    # ---- the window's hooks
    def start(self, rec):
        rec.update(attempts=1, steps=[self.step], step=0)
        return self._start(rec)

    def _start(self, rec):
        """The writes that take a node out of service and send its verb; False (after ``fail``) when
        one failed."""
        from ._provision import instance_info_patch
        rec['started'] = self.clock()
        uuid = rec['uuid']
        try:
            if not rec['node'].get('maintenance'):
                self.adapter.set_maintenance(uuid, True, self.reason('upgrading to %s' % self.image_info.get('image_source')))
            ops = instance_info_patch(rec['node'].get('instance_info'), self.image_info) + [self._record('started')]
            self.adapter.patch_node(uuid, ops)
            self.adapter.set_maintenance(uuid, False)
            action = 'active' if rec['node'].get('provision_state') == 'deploy failed' else 'rebuild'
            # A rebuild still in flight (target active) is waited for, not sent again; a failed one
            # ("deploy failed -> active", e.g. after a conductor restart) is sent again.
            if rec['node'].get('target_provision_state') != 'active' or action == 'active':
                self.adapter.provision(uuid, action)
            return True
        except Exception as exc:
            self.fail(rec, 'node %s: could not start the rebuild: %s' % (rec['name'], getattr(exc, 'details', None) or exc))
            return False

    def capacity(self):
        return self.plan.max_unavailable - self.held

    def finish(self, rec, action, state, msg=None, last_error=None):
        if action == 'failed':
            self.fail(rec, msg, last_error)
        else:
            super().finish(rec, action, state, msg, last_error)

    def succeeded(self, rec, state):
        # out of service until now: the slot's time (the done record is written after)
        rec['duration'] = round(self.clock() - rec['started'], 3)

    def handed_on(self, rec):
        # A node that went active is back in service (its maintenance was lifted before the
        # rebuild): its slot went to the next node first, its ``done`` record is written now.
        self._finish_ok(rec)

    def skip(self, rec):
        rec.update(action='skipped', duration=0.0, msg='not started: %s' % self.plan.skip_reason(self.failures))

    def run(self, items, progress=None):
        """``items``: planned dicts ``{name, uuid, node, op, msg}`` of one rack, in order. Returns them with
        ``action`` set: upgraded / unchanged / done / failed / skipped. ``progress(counts)`` is
        called after every poll round (see ``RackPlan.counts``)."""
        self.plan.total = len(items)
        queue = self._settle_planned(items)
        report = (lambda counts: progress(self.counts(items, counts['in_flight']))) if progress else None
        self.run_window(queue, report)
        if progress:
            progress(self.counts(items, 0))
        return items

    # ---- the user's upgrade tasks instead of a rebuild: the role runs them between enter and leave
    def enter(self, items):
        """Before the user's upgrade tasks: settle the nodes that need no slot (as ``run`` does), and
        put the others in maintenance with the rollout's reason, recording ``started``; their action
        is ``entered``. Returns ``items``."""
        self.plan.total = len(items)
        for rec in self._settle_planned(items):
            rec['started'] = self.clock()
            try:
                reason = self.reason('running upgrade tasks %s' % self.tasks)[:255]
                if not (rec['node'].get('maintenance') and rec['node'].get('maintenance_reason') == reason):
                    self.adapter.set_maintenance(rec['uuid'], True, reason)
                self.adapter.patch_node(rec['uuid'], [self._record('started')])
                rec.update(action='entered', duration=0.0)
            except Exception as exc:
                self.fail(rec, 'node %s: could not start the upgrade tasks: %s' % (rec['name'], getattr(exc, 'details', None) or exc))
        return items

    def leave(self, items, failures):
        """After the user's upgrade tasks and the post-gate: a node in ``failures`` (name -> why) fails
        (stays in maintenance, records ``failed``); the others leave maintenance and record ``done``
        (action ``upgraded``). Returns ``items``."""
        self.plan.total = len(items)
        for rec in items:
            rec['started'] = self.clock()
            why = failures.get(rec['name']) or failures.get(rec['uuid'])
            if why:
                self.fail(rec, 'node %s: %s' % (rec['name'], why))
                continue
            try:
                self.adapter.patch_node(rec['uuid'], [self._record('done')])
                self.adapter.set_maintenance(rec['uuid'], False)
                rec.update(action='upgraded', duration=0.0)
            except Exception as exc:
                self.fail(rec, 'node %s: upgrade tasks done but recording it failed: %s' % (rec['name'], exc))
        return items
