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
