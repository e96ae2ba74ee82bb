# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_utils is PRIVATE to the spineleaf.baremetal collection. It may change
# without notice; do not import it from other collections.
"""Ironic provision states: every named set of them the collection decides on, in one place.
Pure, no I/O. (The names of single states are Ironic's own strings, e.g. ``'active'``.)"""

from __future__ import annotations

# ------------------------------------------------------------------ resting and failed
# Resting states; any other state is transitional (a node passes through it on its own).
STABLE_STATES = frozenset([
    'enroll', 'manageable', 'available', 'active', 'error', 'deploy failed', 'clean failed',
    'inspect failed', 'rescue failed', 'rescue', 'adopt failed', 'service failed',
])
# Every failed resting state: waiting for another target ends there.
FAILED_STATES = frozenset(['error', 'deploy failed', 'clean failed', 'inspect failed',
                           'rescue failed', 'adopt failed', 'service failed'])

# ------------------------------------------------------------------ inspection
# Where inspection may start: the node is moved to manageable first when it is in enroll (never
# verified, or its verify failed) or was left in clean failed (recovery: "manage" is Ironic's way
# back from there; the node is inspected again, as its hardware may have changed).
INSPECTABLE = frozenset(['manageable', 'inspect failed'])
NEEDS_MANAGE = frozenset(['enroll', 'clean failed'])
# Failed resting states in which Ironic keeps the target of the action that failed (e.g. clean
# failed -> manageable): settled, not busy.
SETTLED_FAILED = frozenset(['inspect failed', 'clean failed'])

# ------------------------------------------------------------------ provisioning
# A deployment under way.
DEPLOY_STATES = frozenset(['deploying', 'wait call-back', 'deploy wait'])
# Where "undeploy" (deleted) starts from.
UNDEPLOY_FROM = frozenset(['active', 'deploy failed', 'error'])
# Ironic keeps the target of the failed action on a node in a failed state ("deploy failed ->
# active", also after a conductor restart failed its `deploying` nodes): such a node is settled,
# not busy, and the next action may start from it.
FAILURE_STATES = frozenset(['deploy failed', 'clean failed', 'error'])

# ------------------------------------------------------------------ enrollment and pruning
# States in which a node runs (or is about to run) a workload: never deleted without force.
DEPLOYED_STATES = frozenset(['active', 'deploying', 'wait call-back', 'deploy wait', 'rescue',
                             'rescuing', 'rescue wait', 'servicing', 'service wait', 'adopting'])
# States a node can be deleted from without touching a workload or an operation in progress
# (also the states Ironic deletes from without maintenance mode): pruning and ironic_nodes.
DELETABLE_STATES = frozenset(['enroll', 'manageable', 'available', 'adopt failed', 'clean failed',
                              'inspect failed'])
