# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""Rack-by-rack rollouts, pure: the per-rack failure budget (one definition for every role),
rack ordering and selection, and the sliding-window schedule of a rolling upgrade."""

from __future__ import annotations

import re

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


def classify(node, rollout_id, image_info):
    """What a rolling upgrade does with one node: ``(op, msg)``.

    ``op``: ``done`` (finished earlier in this rollout: not touched), ``finish`` (rebuilt, but
    the run was interrupted before recording it), ``repair`` (finished but
    left in its maintenance: clear it), ``unchanged`` (already active on the image), ``upgrade``
    (rebuild it; also a node caught mid-way or failed earlier in this rollout) or ``fail`` (a
    built-in pre-gate failed: another party's maintenance, protected, not active, a fault).
    """
    from ansible_collections.spineleaf.baremetal.plugins.module_utils._provision import same_image
    name = node.get('name') or node['uuid']
    record = (node.get('extra') or {}).get(RECORD_KEY) or {}
    mine = record if record.get('id') == rollout_id else {}
    ours = _ours(node, rollout_id)
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


class RackRollout:
    """Roll one rack: a sliding window of at most ``max_unavailable`` nodes out of service (nodes
    failed in this rollout keep their maintenance and their slot), stop starting nodes once
    failures pass the budget. Per node: maintenance on with the rollout's reason and a progress
    record in ``extra``, new image in instance_info, maintenance off and rebuild (Ironic refuses to
    deploy a node in maintenance), wait for active, record ``done``. A failure puts the node back in
    maintenance with the reason and records ``failed``. I/O only through ``adapter``."""

    def __init__(self, adapter, rollout_id, image_info, max_unavailable=1, budget=0, timeout=3600, poll=0.5,
                 clock=None, sleep=None, now=None, rack='-'):
        import time as _time
        self.rack = rack
        self.adapter = adapter
        self.rollout_id = rollout_id
        self.image_info = dict(image_info)
        self.max_unavailable = max(1, int(max_unavailable))
        self.budget = budget
        self.timeout = timeout
        self.poll = poll
        self.clock = clock or _time.monotonic
        self.sleep = sleep or _time.sleep
        self.now = now or (lambda: _time.strftime('%Y-%m-%dT%H:%M:%SZ', _time.gmtime()))
        self.failures = 0
        self.held = 0  # slots held by failed nodes (they stay in maintenance)

    def _record(self, state, **more):
        rec = dict(id=self.rollout_id, image=self.image_info.get('image_source'), state=state, at=self.now())
        rec.update(more)
        return {'op': 'add', 'path': '/extra/%s' % RECORD_KEY, 'value': rec}

    def reason(self, what):
        return '%s: %s' % (reason_prefix(self.rollout_id), what)

    def fail(self, rec, msg, last_error=None):
        """Leave the node in maintenance with the reason, record it, count it (never raises)."""
        rec.update(action='failed', msg=msg, last_error=last_error, duration=round(self.clock() - rec.get('started', self.clock()), 3))
        self.failures += 1
        self.held += 1
        try:
            self.adapter.set_maintenance(rec['uuid'], True, self.reason('failed: %s' % msg)[:255])
            self.adapter.patch_node(rec['uuid'], [self._record('failed', msg=msg[:200])])
        except Exception as exc:  # the failure is reported either way
            rec['msg'] = '%s (and recording it failed: %s)' % (msg, exc)

    def _start(self, rec):
        from ansible_collections.spineleaf.baremetal.plugins.module_utils._provision import instance_info_patch
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

    def _finish_ok(self, rec):
        try:
            self.adapter.patch_node(rec['uuid'], [self._record('done')])
            rec.update(action='upgraded', msg=rec.get('msg'), duration=round(self.clock() - rec['started'], 3))
        except Exception as exc:
            self.fail(rec, 'node %s: rebuilt but recording it failed: %s' % (rec['name'], exc))

    def stopped(self):
        return self.failures > failure_budget(self.budget, self.total)

    def run(self, items, progress=None):
        """``items``: planned dicts ``{name, uuid, node, op, msg}`` of one rack, in order. Returns them with
        ``action`` set: upgraded / unchanged / done / failed / skipped."""
        self.total = len(items)
        queue = []
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
            else:
                queue.append(rec)
        # Nodes caught mid-way first: they are already out of service.
        queue.sort(key=lambda r: 0 if r.get('msg', '') and str(r.get('msg')).startswith('resuming') else 1)
        queue.reverse()
        inflight = {}
        while queue or inflight:
            while queue and not self.stopped() and len(inflight) + self.held < self.max_unavailable:
                rec = queue.pop()
                if self._start(rec):
                    inflight[rec['uuid']] = rec
            if (self.stopped() or (not inflight and self.held >= self.max_unavailable)) and queue:
                why = (rack_budget(self.rack, self.failures, self.total, self.budget)['msg'] if self.stopped()
                       else 'all %d slots held by failed nodes left in maintenance' % self.max_unavailable)
                for rec in queue:
                    rec.update(action='skipped', duration=0.0, msg='not started: %s' % why)
                queue = []
            if not inflight:
                break
            self.sleep(self.poll)
            current = self.adapter.node_states(list(inflight))
            for uuid, rec in list(inflight.items()):
                node = current.get(uuid) or {}
                state, target = node.get('provision_state'), node.get('target_provision_state')
                if state == 'active' and not target:
                    self._finish_ok(rec)
                elif state in ('deploy failed', 'error'):  # Ironic keeps target 'active' there
                    self.fail(rec, 'node %s: rebuild went to %s: %s' % (rec['name'], state, node.get('last_error') or '-'),
                              node.get('last_error'))
                elif self.clock() - rec['started'] > self.timeout:
                    self.fail(rec, 'node %s: still %s after %ss' % (rec['name'], state, self.timeout))
                else:
                    continue
                del inflight[uuid]
            if progress:
                progress(self)
        return items
