# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""Bulk inspection: planning (pure: which nodes to inspect) and ``InspectionRunner``, the steps
manage -> inspect -> manageable on the one sliding window (``_window``), I/O through the adapter given."""

from __future__ import annotations

import time

from ._states import INSPECTABLE, NEEDS_MANAGE, SETTLED_FAILED
from ._util import node_index

from ._topology import cabling_record
from ._window import Step, Window

NODE_FIELDS = ['uuid', 'name', 'provision_state', 'target_provision_state', 'maintenance',
               'maintenance_reason', 'fault', 'inspection_finished_at', 'last_error', 'extra']


def _checked(node, fingerprints):
    """Why an inspected node must be inspected again (None when its data still serves): its
    ``extra.cabling_fingerprint`` must record the wanted placement digest, checked clean on its
    current inspection (see _topology.cabling_record)."""
    if not fingerprints:
        return None
    wanted = fingerprints.get(node.get('name')) or fingerprints.get(node.get('uuid'))
    if not wanted:
        return None
    recorded = (node.get('extra') or {}).get('cabling_fingerprint')
    if recorded == cabling_record(wanted, node.get('inspection_finished_at')):
        return None
    if not recorded:
        return 'its cabling was never checked clean'
    if recorded.split('@', 1)[0] != wanted:
        return 'its intended placement changed'
    return 'its last cabling check found a problem'


def cabling_checked(node, fingerprints):
    """Whether Ironic records the node's wanted placement (``fingerprints``) as checked clean on its
    current inspection data: what lets a run without the introspection step (``--tags deploy``)
    take the node on to the later steps. False without a fingerprint for the node."""
    wanted = (fingerprints or {}).get(node.get('name')) or (fingerprints or {}).get(node.get('uuid'))
    return bool(wanted and node.get('inspection_finished_at')
                and (node.get('extra') or {}).get('cabling_fingerprint')
                == cabling_record(wanted, node.get('inspection_finished_at')))


def maintenance_msg(node):
    """Why a node in maintenance is skipped, and how to bring it back (Ironic's reason, fault and
    last_error included): maintenance is an operator's (or Ironic's) stop sign, never lifted here."""
    name = node.get('name') or node.get('uuid')
    why = node.get('maintenance_reason') or 'no reason given'
    if node.get('fault'):
        why = '%s, fault: %s' % (why, node['fault'])
    if node.get('last_error'):
        why = '%s; last_error: %s' % (why, node['last_error'])
    return ('node %s: in maintenance (%s); left alone: take it out of maintenance '
            '(openstack baremetal node maintenance unset %s) for the next run to include it' % (name, why, name))


def recovery_msg(node):
    """What the next run recovers a node from (with Ironic's ``last_error``), or None: a node left in
    ``inspect failed`` or ``clean failed``, or in ``enroll`` after a failed verify (``manage``)."""
    state, error = node.get('provision_state'), node.get('last_error')
    if state in SETTLED_FAILED:
        return 'recovered from %s (last_error: %s)' % (state, error or 'none recorded')
    if state == 'enroll' and error:
        return 'manage retried after a failed verify (last_error: %s)' % error
    return None


def plan(requested, nodes, skip_inspected=True, fingerprints=None):
    """Decide per requested node (name or uuid) what to do.

    ``nodes``: every Ironic node (dicts with the NODE_FIELDS). Returns a list of
    dicts ``{name, uuid, action, state, msg}`` in request order; ``action`` is ``inspect``,
    ``skip`` (already inspected), ``maintenance`` (in maintenance: reported, never touched) or
    ``fail`` (unknown node, busy, wrong state). A node left in ``inspect failed``, ``clean failed``
    or in ``enroll`` after a failed verify is recovered (managed, then inspected) and its ``msg``
    carries Ironic's ``last_error``.
    ``fingerprints`` (``{node name: placement digest}``): an inspected node whose cabling record
    does not match is inspected again (see ``_checked``); ``cabling_checked`` says whether it matches.
    """
    by_key = node_index(nodes)
    out = []
    seen = set()
    for key in requested:
        node = by_key.get(key)
        if node is None:
            out.append(dict(name=key, uuid=None, action='fail', state=None,
                            msg='node %s: not found in Ironic (enroll it first)' % key))
            continue
        uuid = node.get('uuid')
        if uuid in seen:
            continue
        seen.add(uuid)
        name = node.get('name') or uuid
        state = node.get('provision_state')
        item = dict(name=name, uuid=uuid, action='inspect', state=state, msg=None,
                    cabling_checked=cabling_checked(node, fingerprints))
        if node.get('maintenance'):
            item.update(action='maintenance', msg=maintenance_msg(node))
        elif node.get('target_provision_state') and state not in SETTLED_FAILED:
            item.update(action='fail', msg='node %s: busy (%s -> %s); wait until it settles' % (
                name, state, node.get('target_provision_state')))
        elif recovery_msg(node):
            item.update(msg=recovery_msg(node))
        elif skip_inspected and node.get('inspection_finished_at') and state in ('manageable', 'available', 'active'):
            why = _checked(node, fingerprints)
            if why is None:
                item.update(action='skip', msg='already inspected at %s' % node.get('inspection_finished_at'))
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


# ------------------------------------------------------------------ runner
def _verify_failed(node, rec):  # pylint: disable=unused-argument
    """"manage" failed its verify (BMC unreachable, wrong credentials): Ironic puts the node back in
    enroll with last_error; it never gets to manageable by waiting."""
    return node.get('provision_state') == 'enroll' and not node.get('target_provision_state') \
        and bool(node.get('last_error'))


def _inspected_again(node, rec):
    """Inspection finished in this attempt: a new ``inspection_finished_at``."""
    finished_at = node.get('inspection_finished_at')
    return bool(finished_at) and finished_at != rec['baseline']


MANAGE = Step('manage', done=('manageable',), failed_if=_verify_failed, what='inspection',
              failed_msg='node %(name)s: manage failed: %(error)s')
# Ironic keeps the target on a failed inspection ("inspect failed -> manageable"); a timed-out one
# is aborted into "inspect failed": a known state an operator can retry from.
INSPECT = Step('inspect', done=('manageable',), done_if=_inspected_again, failed=('inspect failed',),
               moving=('inspecting', 'inspect wait'), abort='abort', aborts_to='inspect failed',
               what='inspection', failed_msg='node %(name)s: inspection failed: %(error)s')


class InspectionRunner(Window):
    """Drive many nodes through inspection; ``run(items)`` returns per-node records (``result``:
    inspected or failed, as ``action``).

    Isolation: a node that fails (after ``retries`` extra attempts, each with its own ``timeout``)
    is reported and left in ``inspect failed`` (a timed-out one is aborted into it); the others go on.
    """

    what = 'inspection'
    timeout_from = 'attempt_started'  # each attempt has the whole timeout

    def __init__(self, adapter, concurrency=16, timeout=600, retries=1, poll=0.1, max_poll=1.0,
                 clock=time.monotonic, sleep=time.sleep):
        # An inspection takes minutes on hardware: rounds in which nothing finishes back off to max_poll.
        super().__init__(adapter, concurrency=concurrency, timeout=timeout, retries=retries, poll=poll,
                         clock=clock, sleep=sleep, max_poll=max_poll)

    def run(self, items, progress=None):
        """Inspect ``items`` (plan entries ``{uuid, name, state, inspection_finished_at}``);
        ``progress(counts)`` as ``Window.run_window`` gives it."""
        return self.run_window([dict(item, attempts=0, finished_at=item.get('inspection_finished_at'))
                                for item in items], progress)

    @staticmethod
    def _steps(state):
        return [MANAGE, INSPECT] if state in NEEDS_MANAGE else [INSPECT]

    def begin(self, rec, steps):
        rec['baseline'] = rec.get('finished_at')
        return super().begin(rec, steps)

    def start(self, rec):
        rec['started'] = self.clock()
        rec['attempts'] = 1
        if self.begin(rec, self._steps(rec['state'])):
            return True
        self.finish(rec, 'failed', rec['state'], rec['error'])
        return False

    def retry(self, rec, node):
        rec['finished_at'] = node.get('inspection_finished_at', rec.get('finished_at'))
        return self.begin(rec, self._steps(node.get('provision_state')))

    def call(self, rec, action, **kwargs):
        self.adapter.set_provision_state(rec['uuid'], action)

    def read(self, ids):
        # Only the nodes in flight, mostly found in the two lists of inspection's own states.
        return self.adapter.read_nodes(NODE_FIELDS, ids, moving_states=INSPECT.moving)

    def finish(self, rec, action, state, msg=None, last_error=None):
        super().finish(rec, 'inspected' if action == 'done' else action, state, msg, last_error)
        rec['result'] = rec['action']
        rec.pop('error', None)

    @staticmethod
    def state_of(rec):
        return rec['state']
