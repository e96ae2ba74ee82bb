# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""A node's preparation before its first provision step, run ahead of the sliding window.

``ironic_provision`` prepares each node just before the window starts it: instance_info, its
Neutron port, the VIF attach. Ironic's VIF attach waits while Neutron binds the port (seconds each,
tens of seconds on a loaded control plane), so doing that one node after the other held the window
far below its concurrency: measured 2026-12-07 with 40 nodes, two deploying at a time out of 16,
each attach 16-29 s. ``PrepareAhead`` is the Runner's ``prepare(item)``: when the window asks for
node k, nodes k .. k + workers - 1 are already being prepared in up to ``workers`` threads, in the
window's order (metalsmith's thread pool overlaps the same calls). A node's error is raised for
that node only, when the window asks for it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor


def _key(item):
    return item.get('uuid') or item.get('name')


class PrepareAhead:
    """``prepare(item)`` of ``items`` (the window's order) run ahead in ``workers`` threads.

    Use as the Runner's ``prepare``; ``close()`` when the run is over: it cancels preparations not
    yet started (a spent failure budget leaves at most ``workers`` nodes prepared but not started)
    and waits for the running ones. An item not in ``items`` is prepared on the spot."""

    def __init__(self, prepare, items, workers):
        self._prepare = prepare
        self._workers = max(1, int(workers))
        self._order = [_key(item) for item in items]
        self._items = dict((_key(item), item) for item in items)
        self._position = dict((key, i) for i, key in enumerate(self._order))
        self._futures = {}
        self._started = set()
        self._pool = ThreadPoolExecutor(max_workers=self._workers) if self._workers > 1 else None

    def __call__(self, item):
        key = _key(item)
        position = self._position.get(key)
        if self._pool is None or position is None or key in self._started:
            return self._prepare(item)
        for later in self._order[position:position + self._workers]:
            if later not in self._futures and later not in self._started:
                self._futures[later] = self._pool.submit(self._prepare, self._items[later])
        self._started.add(key)
        return self._futures.pop(key).result()

    def close(self):
        if self._pool is None:
            return
        for future in self._futures.values():
            future.cancel()
        self._futures.clear()
        self._pool.shutdown(wait=True)
