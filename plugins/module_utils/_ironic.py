# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_utils is PRIVATE to the spineleaf.baremetal collection.
"""The one Ironic adapter: bulk reads in few paginated calls, bounded concurrency for writes,
retry of 409 NodeLocked / 503 with backoff, write counting, and fast bulk state polling."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

try:
    from openstack import exceptions as sdk_exc
except ImportError:  # pragma: no cover - the module reports the missing library
    sdk_exc = None

from ansible_collections.spineleaf.baremetal.plugins.module_utils._base import describe_sdk_error

# Transitional states a node passes through on its own; anything else is a resting state.
STABLE_STATES = frozenset([
    'enroll', 'manageable', 'available', 'active', 'error', 'deploy failed', 'clean failed',
    'inspect failed', 'rescue failed', 'rescue', 'adopt failed', 'service failed',
])
FAILED_STATES = frozenset(['error', 'deploy failed', 'clean failed', 'inspect failed',
                           'rescue failed', 'adopt failed', 'service failed'])


def status_code(exc):
    return getattr(exc, 'status_code', None)


def is_retryable(exc):
    """409 NodeLocked, 503, and a 500 from a database lock or deadlock (sqlite-backed Ironic such as
    metal3's, MySQL deadlocks: rolled back server-side) are transient; every other error is final."""
    code = status_code(exc)
    if code == 503:
        return True
    if code == 500:
        return is_transient_db_error(exc)
    if code == 409:
        text = str(getattr(exc, 'details', '') or exc).lower()
        return 'locked' in text or 'nodelocked' in text
    return False


def is_transient_db_error(exc):
    """A 500 from a database lock / deadlock: the same write succeeds when tried again."""
    if status_code(exc) != 500:
        return False
    text = str(getattr(exc, 'details', '') or exc).lower()
    return 'database is locked' in text or 'deadlock' in text


class IronicAdapter:
    """Wraps ``conn.baremetal``; counts every write call in ``self.writes``."""

    def __init__(self, conn, concurrency=16, retries=10, backoff=0.1, max_backoff=2.0):
        self.conn = conn
        self.api = conn.baremetal
        self.concurrency = max(1, int(concurrency))
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.writes = 0
        self.reads = 0
        self._lock = threading.Lock()

    # -------------------------------------------------------------- reads
    def _count_read(self, n=1):
        with self._lock:
            self.reads += n

    def list_nodes(self, fields=None, **filters):
        """All nodes (details), as SDK objects, in paginated list calls."""
        self._count_read()
        if fields:
            return list(self.api.nodes(fields=fields, **filters))
        return list(self.api.nodes(details=True, **filters))

    def list_ports(self, **filters):
        self._count_read()
        return list(self.api.ports(details=True, **filters))

    def list_raw(self, collection, **params):
        """All ``nodes`` or ``ports`` (with details) as plain dicts with the API's own field names,
        at the highest microversion the server offers, following ``next`` links: one GET per
        1,000 items, and about four times faster than building SDK objects for a large site."""
        version = self.api.get_endpoint_data().max_microversion
        microversion = '%d.%d' % tuple(version[:2]) if version else None
        url = '/%s/detail' % collection
        items = []
        while url:
            self._count_read()
            response = self.api.get(url, params=params, microversion=microversion)
            if sdk_exc is not None:
                sdk_exc.raise_from_response(response, error_message='listing %s failed' % collection)
            body = response.json()
            page = body.get(collection) or []
            items.extend(page)
            url = body.get('next') if page else None
            params = None  # the next link carries them
        return items

    def get_inventory(self, node_id):
        """Inspection data of a node (API 1.81): ``{'inventory': ..., 'plugin_data': ...}`` or None."""
        self._count_read()
        try:
            return self.api.get_node_inventory(node_id)
        except Exception as exc:  # 404: never inspected
            if status_code(exc) == 404 or (sdk_exc is not None and isinstance(exc, sdk_exc.NotFoundException)):
                return None
            raise

    def list_node_dicts(self, fields, microversion='1.81', **filters):
        """All nodes as plain dicts of the given API field names, paginated raw GETs.

        For fields the SDK's Node resource does not map (e.g. ``inspection_finished_at``).
        """
        params = dict(filters, fields=','.join(fields), limit=1000)
        headers = {'X-OpenStack-Ironic-API-Version': microversion, 'Accept': 'application/json'}
        url = '/nodes'
        out = []
        while url:
            self._count_read()
            resp = self.api.get(url, params=params, headers=headers, microversion=microversion)
            if resp.status_code >= 400:
                raise sdk_exc.HttpException(response=resp) if sdk_exc else RuntimeError(resp.text)
            body = resp.json()
            out.extend(body.get('nodes') or [])
            nxt = body.get('next')
            if not nxt:
                break
            # "next" is absolute; keep the path and query after /v1.
            url = '/nodes?' + nxt.split('?', 1)[1] if '?' in nxt else None
            params = None
        return out

    # -------------------------------------------------------------- writes
    def write(self, fn, *args, **kwargs):
        """Call a write method, retrying NodeLocked / 503 with exponential backoff."""
        delay = self.backoff
        attempt = 0
        while True:
            with self._lock:
                self.writes += 1
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                attempt += 1
                if not is_retryable(exc) or attempt > self.retries:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, self.max_backoff)

    def write_transient(self, fn, *args, **kwargs):
        """Like ``write`` (counted, 409 NodeLocked / 503 retried with backoff), and also retries a
        500 caused by a transient database lock or deadlock (sqlite "database is locked", MySQL
        "Deadlock found"). Use it for idempotent writes only (setting traits, a JSON patch of
        absolute values).

        Each of those errors is taken as contention: the calls made through this method narrow
        their own concurrency (see AdaptiveGate), so parallel writers to a database that takes one
        writer at a time (the lab's sqlite) stop wasting requests, and a real database is still
        written by up to ``concurrency`` callers.
        """
        gate = self._write_gate()
        delay = self.backoff
        attempt = 0
        while True:
            with gate:
                with self._lock:
                    self.writes += 1
                try:
                    result = fn(*args, **kwargs)
                except Exception as exc:
                    failure = exc
                else:
                    gate.success()
                    return result
            attempt += 1
            if not is_retryable(failure) or attempt > self.retries:
                raise failure
            gate.shrink()
            time.sleep(delay)
            delay = min(delay * 2, self.max_backoff)

    def _write_gate(self):
        with self._lock:
            if getattr(self, '_gate', None) is None:
                self._gate = AdaptiveGate(self.concurrency)
            return self._gate

    def parallel(self, items, fn, concurrency=None):
        """Run ``fn(item)`` for every item with bounded concurrency.

        Returns a list of ``(item, result, error)`` in input order; an exception in one item
        never stops the others.
        """
        items = list(items)
        if not items:
            return []

        def guarded(item):
            try:
                return item, fn(item), None
            except Exception as exc:  # isolated per item by design
                return item, None, exc

        workers = min(concurrency or self.concurrency, len(items))
        if workers == 1:
            return [guarded(i) for i in items]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(guarded, items))

    # -------------------------------------------------------------- provision states
    def set_provision_state(self, node_id, action):
        return self.write(self.api.set_node_provision_state, node_id, action, wait=False)

    def wait_for_states(self, node_ids, targets, timeout=300, poll=0.1, max_poll=1.0):
        """Poll all nodes at once (one list call per round) until each is in one of ``targets``.

        Returns ``{node_id: (provision_state, error or None)}``. A node that lands in a failed
        state, or is still moving at its deadline, gets an error message.
        """
        pending = set(node_ids)
        done = {}
        deadline = time.monotonic() + timeout
        interval = poll
        while pending:
            states = {}
            for node in self.list_nodes(fields=['uuid', 'provision_state', 'target_provision_state',
                                                'last_error']):
                if node.id in pending:
                    states[node.id] = node
            for node_id in list(pending):
                node = states.get(node_id)
                if node is None:
                    done[node_id] = (None, 'node disappeared while waiting')
                    pending.discard(node_id)
                    continue
                state = node.provision_state
                if state in targets and not node.target_provision_state:
                    done[node_id] = (state, None)
                    pending.discard(node_id)
                elif state in FAILED_STATES and state not in targets:
                    done[node_id] = (state, 'went to %s: %s' % (state, node.last_error or 'no error recorded'))
                    pending.discard(node_id)
            if not pending:
                break
            if time.monotonic() > deadline:
                for node_id in pending:
                    node = states.get(node_id)
                    done[node_id] = (node.provision_state if node else None,
                                     'still %s after %ss' % (node.provision_state if node else 'unknown', timeout))
                break
            time.sleep(interval)
            interval = min(interval * 1.5, max_poll)
        return done

    # ---- provisioning (ironic_provision)
    PROVISION_FIELDS = ('uuid', 'name', 'provision_state', 'target_provision_state', 'last_error',
                        'provision_updated_at', 'maintenance')

    def provision(self, node_id, action, config_drive=None, max_wait=600.0):
        """One provision action (``active``, ``rebuild``, ``deleted``, ``provide``...), with the config
        drive as a dict (``meta_data``, ``user_data``, ``network_data``; Ironic builds the ISO).

        409 NodeLocked and 503 are retried with backoff for up to ``max_wait`` seconds: 503 is what
        Ironic answers while ``[conductor]max_concurrent_deploy`` deployments are in progress."""
        delay = self.backoff
        deadline = time.monotonic() + max_wait
        kwargs = dict(wait=False)
        if config_drive:
            kwargs['config_drive'] = config_drive
        while True:
            with self._lock:
                self.writes += 1
            try:
                return self.api.set_node_provision_state(node_id, action, **kwargs)
            except Exception as exc:
                if not is_retryable(exc) or time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, max(self.max_backoff, 5.0))

    def patch_node_raw(self, node_id, ops):
        """Apply JSON-patch ``ops`` to a node (counted; NodeLocked / 503 retried)."""
        return self.write(self.api.patch_node, node_id, ops)

    def set_maintenance(self, node_id, on, reason=None):
        """Maintenance on (with ``reason``) or off (counted; NodeLocked / 503 retried)."""
        if on:
            return self.write(self.api.set_node_maintenance, node_id, reason=reason)
        return self.write(self.api.unset_node_maintenance, node_id)

    def poll_nodes(self, node_ids):
        """State of the given nodes in one paginated list call: ``{uuid: {provision_state, ...}}``."""
        wanted = set(node_ids)
        return dict((n['uuid'], n) for n in self.list_node_dicts(list(self.PROVISION_FIELDS))
                    if n['uuid'] in wanted)


class AdaptiveGate:
    """A concurrency limit that starts at 2 (a single-writer database, like the lab's sqlite,
    answers more parallel writers mostly with "database is locked"), grows by one per ``limit``
    successes up to the maximum and halves on contention (additive increase, multiplicative
    decrease), lowering the maximum to below the level that met contention."""

    def __init__(self, limit, start=2):
        self.max = max(1, int(limit))
        self.limit = float(min(self.max, max(1, int(start))))
        self.active = 0
        self._cond = threading.Condition()

    def __enter__(self):
        with self._cond:
            while self.active >= max(1, int(self.limit)):
                self._cond.wait()
            self.active += 1
        return self

    def __exit__(self, *exc_info):
        with self._cond:
            self.active -= 1
            self._cond.notify_all()
        return False

    def shrink(self):
        """Contention: halve, and never again grow past one below the level that hit it
        (failed writes cost the server as much as good ones)."""
        with self._cond:
            self.max = max(min(2, self.max), int(self.limit) - 1)
            self.limit = max(1.0, self.limit / 2)

    def success(self):
        with self._cond:
            if self.limit < self.max:
                self.limit = min(float(self.max), self.limit + 1.0 / self.limit)
                self._cond.notify_all()


def describe(exc, what):
    """Operator message for an exception raised while working on ``what``."""
    return describe_sdk_error(exc, what)
