# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""Bulk inspection: which nodes to inspect (pure planning) and a runner that drives many nodes
through manage -> inspect -> manageable with bounded concurrency, per-node timeout and retries,
polling every node in flight with one list call per round (I/O only through the Ironic adapter)."""

from __future__ import annotations

import time

from ansible_collections.spineleaf.baremetal.plugins.module_utils._topology import cabling_record

# Where inspection may start: the node is moved to manageable first when it is in enroll.
INSPECTABLE = frozenset(['manageable', 'inspect failed'])
NEEDS_MANAGE = frozenset(['enroll'])
NODE_FIELDS = ['uuid', 'name', 'provision_state', 'target_provision_state', 'maintenance',
               'inspection_finished_at', 'last_error', 'extra']


def _get(node, key):
    if isinstance(node, dict):
        return node.get(key)
    if key == 'uuid':
        return getattr(node, 'id', None)
    if key == 'maintenance':
        return getattr(node, 'is_maintenance', None)
    return getattr(node, key, None)


def _checked(node, fingerprints):
    """Why an inspected node must be inspected again (None when its data still serves): its
    ``extra.cabling_fingerprint`` must record the wanted placement digest, checked clean on its
    current inspection (see _topology.cabling_record)."""
    if not fingerprints:
        return None
    wanted = fingerprints.get(_get(node, 'name')) or fingerprints.get(_get(node, 'uuid'))
    if not wanted:
        return None
    recorded = (_get(node, 'extra') or {}).get('cabling_fingerprint')
    if recorded == cabling_record(wanted, _get(node, 'inspection_finished_at')):
        return None
    if not recorded:
        return 'its cabling was never checked clean'
    if recorded.split('@', 1)[0] != wanted:
        return 'its intended placement changed'
    return 'its last cabling check found a problem'


def plan(requested, nodes, skip_inspected=True, fingerprints=None):
    """Decide per requested node (name or uuid) what to do.

    ``nodes``: every Ironic node (dicts or SDK objects with the NODE_FIELDS). Returns a list of
    dicts ``{name, uuid, action, state, msg}`` in request order; ``action`` is ``inspect``,
    ``skip`` (already inspected) or ``fail`` (unknown node, wrong state, maintenance).
    ``fingerprints`` (``{node name: placement digest}``): an inspected node whose cabling record
    does not match is inspected again (see ``_checked``).
    """
    by_key = {}
    for node in nodes:
        by_key[_get(node, 'uuid')] = node
        if _get(node, 'name'):
            by_key.setdefault(_get(node, 'name'), node)
    out = []
    seen = set()
    for key in requested:
        node = by_key.get(key)
        if node is None:
            out.append(dict(name=key, uuid=None, action='fail', state=None,
                            msg='node %s: not found in Ironic (enroll it first)' % key))
            continue
        uuid = _get(node, 'uuid')
        if uuid in seen:
            continue
        seen.add(uuid)
        name = _get(node, 'name') or uuid
        state = _get(node, 'provision_state')
        item = dict(name=name, uuid=uuid, action='inspect', state=state, msg=None)
        if _get(node, 'maintenance'):
            item.update(action='fail', msg='node %s: in maintenance; take it out of maintenance to inspect it' % name)
        elif _get(node, 'target_provision_state') and state != 'inspect failed':
            # Ironic keeps target "manageable" on a node aborted into "inspect failed"; that node
            # is settled and may be inspected again.
            item.update(action='fail', msg='node %s: busy (%s -> %s); wait until it settles' % (
                name, state, _get(node, 'target_provision_state')))
        elif skip_inspected and _get(node, 'inspection_finished_at') and state in ('manageable', 'available', 'active'):
            why = _checked(node, fingerprints)
            if why is None:
                item.update(action='skip', msg='already inspected at %s' % _get(node, 'inspection_finished_at'))
            elif state != 'manageable':
                item.update(action='skip', msg='%s, but the node is %s: move it to manageable to inspect it again'
                            % (why, state))
            else:
                item.update(msg='inspected again: %s' % why)
        elif state not in INSPECTABLE and state not in NEEDS_MANAGE:
            item.update(action='fail', msg='node %s: cannot inspect in provision state %r; inspection needs '
                        'manageable (or enroll, which is managed first)%s' % (
                            name, state, '; move it to manageable first' if state == 'available' else ''))
        out.append(item)
    return out


class Runner:
    """Drive many nodes through inspection; ``run(items)`` returns per-node results.

    Isolation: a node that fails (after ``retries`` extra attempts) is reported and left in
    ``inspect failed`` (a timed-out one is aborted into it); the others go on.
    """

    def __init__(self, adapter, concurrency=16, timeout=600, retries=1, poll=0.1,
                 clock=time.monotonic, sleep=time.sleep):
        self.adapter = adapter
        self.concurrency = max(1, int(concurrency))
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.poll = poll
        self.clock = clock
        self.sleep = sleep

    def _action(self, rec, action):
        try:
            self.adapter.set_provision_state(rec['uuid'], action)
            return True
        except Exception as exc:  # per node: reported, others go on
            rec['error'] = 'node %s: %s failed: %s' % (rec['name'], action, getattr(exc, 'details', None) or exc)
            return False

    def _start_attempt(self, rec, state):
        rec['attempts'] += 1
        rec['attempt_started'] = self.clock()
        rec['baseline'] = rec.get('finished_at')
        if state in NEEDS_MANAGE:
            rec['phase'] = 'manage'
            return self._action(rec, 'manage')
        rec['phase'] = 'inspect'
        return self._action(rec, 'inspect')

    def _finish(self, rec, result, state, msg=None):
        rec.update(result=result, provision_state=state, msg=msg,
                   duration=round(self.clock() - rec['started'], 3))
        rec.pop('error', None)

    def _fail_or_retry(self, rec, state, msg):
        if rec['attempts'] <= self.retries:
            rec.setdefault('errors', []).append(msg)
            if self._start_attempt(rec, state):
                return False
            msg = rec['error']
        self._finish(rec, 'failed', state, msg)
        return True

    def run(self, items):
        queue = [dict(item, attempts=0, started=None) for item in items]
        queue.reverse()
        inflight = {}
        done = []
        while queue or inflight:
            while queue and len(inflight) < self.concurrency:
                rec = queue.pop()
                rec['started'] = self.clock()
                rec['finished_at'] = rec.get('inspection_finished_at')
                if self._start_attempt(rec, rec['state']):
                    inflight[rec['uuid']] = rec
                else:
                    self._finish(rec, 'failed', rec['state'], rec['error'])
                    done.append(rec)
            if not inflight:
                break
            self.sleep(self.poll)
            current = {}
            for node in self.adapter.list_node_dicts(NODE_FIELDS):
                if _get(node, 'uuid') in inflight:
                    current[_get(node, 'uuid')] = node
            for uuid, rec in list(inflight.items()):
                if self._step(rec, current.get(uuid)):
                    done.append(inflight.pop(uuid))
        return done

    def _step(self, rec, node):
        """Advance one node; True when it is finished (inspected or failed for good)."""
        if node is None:
            self._finish(rec, 'failed', None, 'node %s: disappeared during inspection' % rec['name'])
            return True
        state, target = _get(node, 'provision_state'), _get(node, 'target_provision_state')
        finished_at = _get(node, 'inspection_finished_at')
        if rec['phase'] == 'manage':
            if state == 'manageable' and not target:
                rec['phase'] = 'inspect'
                if not self._action(rec, 'inspect'):
                    return self._fail_or_retry(rec, state, rec['error'])
                return False
            if state == 'enroll' and not target and _get(node, 'last_error'):
                return self._fail_or_retry(rec, state, 'node %s: manage failed: %s' % (rec['name'], _get(node, 'last_error')))
        elif state == 'manageable' and not target and finished_at and finished_at != rec['baseline']:
            self._finish(rec, 'inspected', state)
            return True
        elif state == 'inspect failed' and not target:
            rec['finished_at'] = finished_at
            return self._fail_or_retry(rec, state, 'node %s: inspection failed: %s' % (
                rec['name'], _get(node, 'last_error') or 'no error recorded'))
        if self.clock() - rec['attempt_started'] > self.timeout:
            rec['finished_at'] = finished_at
            msg = 'node %s: still %s after %ss' % (rec['name'], state, self.timeout)
            if state in ('inspect wait', 'inspecting'):
                # Abort moves it to "inspect failed": a known state an operator can retry from.
                self._action(rec, 'abort')
                state = 'inspect failed'
            return self._fail_or_retry(rec, state, msg)
        return False
