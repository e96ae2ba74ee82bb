# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_utils is PRIVATE to the spineleaf.baremetal collection. It may change
# without notice; do not import it from other collections.
"""The one sliding window over Ironic nodes, and the one poller it (and the adapter) waits with.

A node moves through *steps*. A ``Step`` is one provision verb and its predicate table: the
states that mean the step is done (reached with no ``target_provision_state``), the states that
mean it failed, and the states it passes through while still going (the poller reads nodes in
those cheaply). ``Window.run_window`` starts nodes up to ``concurrency`` in flight (a new one as
soon as one finishes), polls the nodes in flight on ``poll`` and asks, per node and round, the
table of its current step:

- done: the node's next step is sent, or the node succeeded (``action`` = its ``result``);
- failed: tried again (``retries``, ``retryable``) or the node failed, with the step's message;
- still going: failed once it has been at it longer than ``timeout`` (the step's ``abort`` verb
  is sent first when it has one, so the node rests in a state an operator can retry from).

A node that fails never stops the others; ``stopped()`` (a failure budget) stops starting new
ones, and nodes that cannot start are ``skipped``. Every record ends with ``action``, ``msg``,
``provision_state``, ``last_error``, ``duration`` and ``attempts``: the per-node result contract
``BaremetalModule.report_nodes`` reports. Progress has one contract: ``progress(counts)`` with
``{done, failed, in_flight, queued}`` after the first starts and after every poll round (the
modules write it with ``_rack_progress.progress_writer``, whose write errors only warn).

Users: inspection (``_inspect.InspectionRunner``: manage, inspect), provisioning
(``_provision.Runner``: provide, deploy, rebuild, undeploy) and the rolling re-image
(``_rollout.RackRollout``: rebuild). Pure: I/O only through the adapter given.

To add a step (for example servicing, or manual cleaning):

1. Describe it with a ``Step`` (the verb, and its table)::

       SERVICE = Step('service', done=('active',), failed=('service failed',),
                      moving=('servicing', 'service wait'), what='servicing',
                      args=lambda rec: dict(service_steps=rec['service_steps']))
       CLEAN = Step('clean', done=('manageable',), failed=('clean failed',),
                    moving=('cleaning', 'clean wait'), what='cleaning',
                    args=lambda rec: dict(clean_steps=rec['clean_steps']))

   ``args(rec)`` are the verb's keyword arguments: the window sends ``adapter.provision(uuid,
   verb, **args)`` (``Window.call``); a verb the adapter sends with a method of its own overrides
   ``call`` (inspection: ``set_provision_state``; servicing, say: ``adapter.service(uuid, **args)``).
   ``done_if`` / ``failed_if`` (``(node, rec) -> bool``) refine the table when a state alone does
   not tell (inspection: a new ``inspection_finished_at``); ``abort`` / ``aborts_to`` the verb that
   stops a step at its timeout (inspection: ``abort`` into ``inspect failed``).
2. Give each item (``{uuid, name, ...}``) its steps, ``steps=[SERVICE]``, and run a window::

       done = Window(adapter, concurrency=4, timeout=1800, retries=0, poll=1.0).run_window(items, progress)

   or subclass ``Window`` to hook in: ``prepare(rec)`` (writes before the first verb; raising fails
   that node alone), ``retryable(rec, node)`` / ``retry(rec, node)`` (which failures are tried
   again, and how), ``stopped()`` and ``skip(rec)`` (a failure budget), ``capacity()`` (slots held
   by failed nodes), ``succeeded(rec, state)`` / ``handed_on(rec)`` (writes after success: after
   the node's slot has gone to the next node), ``finish`` (writes on failure), ``read(ids)`` (other
   fields than ``adapter.node_states`` reads: add the step's states to its ``moving_states``).
   ``_rollout.RackRollout`` is the example of a window with writes around the verb.
3. Report the records with ``report_nodes`` (``action``, ``msg`` ... are set) and write progress
   with the module's progress writer.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

DONE, FAILED, MOVING = 'done', 'failed', 'moving'


def poll(read, settle, interval, max_interval=None, wait_first=False, sleep=time.sleep, progressed=None):
    """The one poller: call ``settle(read())`` until it returns True, sleeping ``interval`` seconds
    between rounds (growing by half up to ``max_interval``; by default it stays). ``wait_first``:
    sleep before the first round too (the caller has just started actions). ``progressed``: a
    callable, True when the round just settled moved something - the sleeps start again from
    ``interval`` (quick while nodes finish, slow while they only wait)."""
    first = interval
    max_interval = max_interval or interval
    if wait_first:
        sleep(interval)
    while not settle(read()):
        if progressed is not None and progressed():
            interval = first
        sleep(interval)
        interval = min(interval * 1.5, max_interval)


class Step:
    """One provision verb and its predicate table.

    ``action``: the verb sent (``inspect``, ``rebuild``, ``provide``, ``service``...; None: nothing
    to send, the node is only waited for). ``done``: states that end the step when Ironic has no
    target left; ``failed``: states that end it in failure (Ironic often keeps the target there);
    ``moving``: states the node passes through meanwhile. ``done_if`` / ``failed_if``: extra
    predicates ``(node, rec) -> bool``. ``abort``: verb sent when the step times out in a
    ``moving`` state, after which the node rests in ``aborts_to``. ``what``: the operation, in
    messages (else the window's); ``failed_msg``: ``%``-template of the failure (keys ``name``, ``state``, ``error``;
    ``error`` is the node's last_error, else ``no_error``). ``args(rec)``: the verb's keyword
    arguments.
    """

    def __init__(self, action, done, failed=(), moving=(), what=None, done_if=None, failed_if=None,
                 abort=None, aborts_to=None, failed_msg='node %(name)s: went to %(state)s: %(error)s',
                 no_error='no error recorded', args=None):
        self.action = action
        self.done = frozenset(done)
        self.failed = frozenset(failed)
        self.moving = tuple(moving)
        self.what = what
        self.done_if = done_if
        self.failed_if = failed_if
        self.abort = abort
        self.aborts_to = aborts_to
        self.failed_msg = failed_msg
        self.no_error = no_error
        self.args = args

    def __repr__(self):
        return 'Step(%r, done=%s)' % (self.action, sorted(self.done))

    def verdict(self, node, rec):
        """DONE, FAILED or MOVING: where ``node`` stands in this step."""
        state, target = node.get('provision_state'), node.get('target_provision_state')
        if state in self.done and not target and (self.done_if is None or self.done_if(node, rec)):
            return DONE
        if state in self.failed or (self.failed_if is not None and self.failed_if(node, rec)):
            return FAILED
        return MOVING

    def failure(self, rec, node):
        """The failure message of a node that failed this step."""
        return self.failed_msg % dict(name=rec['name'], state=node.get('provision_state'),
                                      error=node.get('last_error') or self.no_error)

    def kwargs(self, rec):
        return dict(self.args(rec)) if self.args is not None else {}


class Window:
    """The sliding window: ``run_window(items, progress)`` drives the items (dicts with ``uuid``,
    ``name`` and ``steps``, a list of ``Step``) and returns the finished records in the order they
    finished. See the module's docstring for the hooks a user overrides."""

    what = 'the operation'        # in messages: "node n1: disappeared during <what>"
    parallel_starts = False       # start the nodes of one fill in threads (starts of many writes)
    timeout_from = 'started'      # the record key the per-node timeout counts from

    def __init__(self, adapter, concurrency=16, timeout=3600, retries=0, poll=0.5, clock=time.monotonic,
                 sleep=time.sleep, max_poll=None):
        self.adapter = adapter
        self.concurrency = max(1, int(concurrency))
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.poll = poll
        # Rounds in which no node finishes sleep longer, by half each, up to max_poll (None: poll).
        self.max_poll = max(poll, max_poll) if max_poll else poll
        self.clock = clock
        self.sleep = sleep
        self.failures = 0
        self._lock = threading.Lock()  # starts may run in threads

    # ------------------------------------------------------------ the loop
    def run_window(self, items, progress=None):
        """Run ``items`` (records, in order) through the window; ``progress(counts)`` after the first
        starts and after every poll round. Returns the finished records, in finishing order."""
        queue = list(items)
        inflight = {}
        done = []

        def round_over():
            self._fill(queue, inflight, done)
            if queue and (self.stopped() or not inflight):
                # nothing can start: a failure budget is spent, or every slot is held
                while queue:
                    rec = queue.pop(0)
                    self.skip(rec)
                    done.append(rec)
            if progress is not None:
                progress(dict(done=len(done), failed=self.failures, in_flight=len(inflight), queued=len(queue)))

        moved = [False]

        def settle(nodes):
            finished = []
            for uuid, rec in list(inflight.items()):
                if self.advance(rec, nodes.get(uuid)):
                    finished.append(inflight.pop(uuid))
            self._fill(queue, inflight, done)  # the slots go to the next nodes first
            for rec in finished:
                if rec.get('action') != 'failed':
                    self.handed_on(rec)
            done.extend(finished)
            moved[0] = bool(finished)
            round_over()
            return not inflight

        round_over()
        if inflight:
            poll(lambda: self.read(list(inflight)), settle, self.poll, max_interval=self.max_poll, wait_first=True,
                 sleep=self.sleep, progressed=lambda: moved[0])
        return done

    def _fill(self, queue, inflight, done):
        """Start nodes while there are free slots."""
        if self.parallel_starts:
            starting = []
            while queue and not self.stopped() and len(inflight) + len(starting) < self.capacity():
                starting.append(queue.pop(0))
            if len(starting) > 1:
                with ThreadPoolExecutor(len(starting)) as pool:
                    started = list(pool.map(self.start, starting))
            else:
                started = [self.start(rec) for rec in starting]
            for rec, ok in zip(starting, started):
                self._place(rec, ok, inflight, done)
            return
        while queue and not self.stopped() and len(inflight) < self.capacity():
            rec = queue.pop(0)
            self._place(rec, self.start(rec), inflight, done)

    @staticmethod
    def _place(rec, started, inflight, done):
        if started:
            inflight[rec['uuid']] = rec
        else:
            done.append(rec)

    # ------------------------------------------------------------ one node
    def start(self, rec):
        """Start a node: ``prepare`` it, send its first step. True when it is in flight; False when
        it finished at once (failed)."""
        rec['started'] = self.clock()
        rec['attempts'] = 1
        try:
            self.prepare(rec)
        except Exception as exc:  # per node: reported, the others go on
            self.finish(rec, 'failed', self.state_of(rec), self.prepare_failed(rec, exc))
            return False
        if self.begin(rec, rec.get('steps') or []):
            return True
        self.finish(rec, 'failed', self.state_of(rec), rec['error'])
        return False

    def begin(self, rec, steps):
        """(Re)start a node's steps from the first; False when sending it failed (``rec['error']``)."""
        rec['steps'] = list(steps)
        rec['step'] = 0
        rec['attempt_started'] = self.clock()
        return self.send(rec)

    def send(self, rec):
        """Send the verb of the node's current step (none for a step only waited for)."""
        step = self.step_of(rec)
        if step is None or step.action is None:
            return True
        try:
            self.call(rec, step.action, **step.kwargs(rec))
            return True
        except Exception as exc:  # per node: reported, the others go on
            rec['error'] = 'node %s: %s failed: %s' % (rec['name'], step.action, getattr(exc, 'details', None) or exc)
            return False

    @staticmethod
    def step_of(rec):
        steps = rec.get('steps') or []
        return steps[rec['step']] if rec.get('step', 0) < len(steps) else None

    def advance(self, rec, node):
        """One poll round of one node in flight; True when the node is finished."""
        step = self.step_of(rec)
        if node is None:
            what = (step.what if step is not None else None) or self.what
            self.finish(rec, 'failed', None, 'node %s: disappeared during %s' % (rec['name'], what))
            return True
        verdict = step.verdict(node, rec) if step is not None else DONE
        if verdict == DONE:
            rec['step'] += 1
            if self.step_of(rec) is None:
                self.succeeded(rec, node.get('provision_state'))
                return True
            return False if self.send(rec) else self.failed(rec, node, rec['error'])
        if verdict == FAILED:
            return self.failed(rec, node, step.failure(rec, node))
        if self.clock() - rec[self.timeout_from] > self.timeout:
            msg = 'node %s: still %s after %ss' % (rec['name'], node.get('provision_state'), self.timeout)
            if step.abort and node.get('provision_state') in step.moving:
                self.send_abort(rec, step)
                node = dict(node, provision_state=step.aborts_to)
            return self.failed(rec, node, msg)
        return False

    def send_abort(self, rec, step):
        try:
            self.call(rec, step.abort)
        except Exception as exc:  # the timeout is reported either way
            rec['error'] = 'node %s: %s failed: %s' % (rec['name'], step.abort, getattr(exc, 'details', None) or exc)

    def failed(self, rec, node, msg):
        """A step failed (or timed out): try the node again while ``retries`` and ``retryable`` allow,
        else the node failed. True when the node is finished."""
        if rec['attempts'] <= self.retries and self.retryable(rec, node):
            rec['attempts'] += 1
            rec.setdefault('errors', []).append(msg)
            if self.retry(rec, node):
                return False
            msg = rec['error']
        self.finish(rec, 'failed', node.get('provision_state'), msg, node.get('last_error'))
        return True

    def finish(self, rec, action, state, msg=None, last_error=None):
        """The node's result (the per-node contract's keys); a failure counts."""
        rec.update(action=action, provision_state=state, msg=msg, last_error=last_error,
                   duration=round(self.clock() - rec['started'], 3) if 'started' in rec else 0.0)
        if action == 'failed':
            with self._lock:
                self.failures += 1

    # ------------------------------------------------------------ hooks
    def call(self, rec, action, **kwargs):
        """Send a provision verb to the node (``kwargs``: the verb's arguments)."""
        self.adapter.provision(rec['uuid'], action, **kwargs)

    def read(self, ids):
        """``{uuid: node}`` of the nodes in flight (a node missing from it disappeared)."""
        return self.adapter.node_states(ids)

    def prepare(self, rec):
        """Work before a node's first verb; raise to fail that node alone."""

    @staticmethod
    def prepare_failed(rec, exc):
        return str(exc)

    @staticmethod
    def state_of(rec):
        """The node's provision state when its start failed."""
        return (rec.get('node') or {}).get('provision_state')

    def retryable(self, rec, node):  # pylint: disable=unused-argument
        """Whether a failed node is tried again (while ``retries`` allow)."""
        return True

    def retry(self, rec, node):  # pylint: disable=unused-argument
        """Try a failed node again: its steps from the first. False when sending failed."""
        return self.begin(rec, rec['steps'])

    def succeeded(self, rec, state):
        """The node's last step is done."""
        self.finish(rec, rec.get('result') or 'done', state)

    def handed_on(self, rec):
        """After a node that succeeded handed its slot on to the next node (writes that need no slot)."""

    def capacity(self):
        """How many nodes may be in flight now."""
        return self.concurrency

    def stopped(self):
        """True once no new node may start (a failure budget is spent)."""
        return False

    def skip(self, rec):
        """A node the window did not start."""
        self.finish(rec, 'skipped', self.state_of(rec), 'node %s: not started' % rec['name'])
