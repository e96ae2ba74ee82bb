# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-rack rollout workflow for AWX / AAP as awx.awx.workflow_job_template ``workflow_nodes``.

Pure: racks in, node list out (no AWX API). One job node per rack, limited to its rack group, chained
on success in rollout order; optional approval nodes between racks; every rack node's failure (and a
denied or timed-out approval) leads to one node that reports and stops the rollout.
"""

from __future__ import annotations

import re

_RACK_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_-]*$')

STOP_NODE = 'rollout_stopped'


def rack_node_id(rack):
    """Workflow node identifier (also the inventory group and limit) of a rack: ``rack_<id>``."""
    return 'rack_%s' % rack


def approval_node_id(rack):
    """Identifier of the approval node that gates ``rack``."""
    return 'approve_rack_%s' % rack


def _template(name, organization, kind='job_template'):
    return {'name': name, 'type': kind, 'organization': {'name': organization}}


def workflow_nodes(racks, job_template, organization, approval=False, approval_timeout=0,
                   stop_job_template=None, extra_data=None):
    """awx.awx.workflow_job_template ``workflow_nodes`` for a rack-by-rack rollout.

    ``racks`` are in rollout order (see ``_rollout.rack_order``). Each rack node runs
    ``job_template`` with ``limit: rack_<id>`` and ``extra_data`` plus ``rollout_racks: <id>``.
    With ``approval``, an approval node (``approval_timeout`` seconds, 0 = none) sits between two
    racks. With ``stop_job_template``, a rack failure or a denied approval runs that template once
    (``rollout_stopped``); it sees the earlier racks' ``set_stats`` artifacts. Raises ValueError
    for an empty, duplicate or malformed rack list.
    """
    racks = [str(r) for r in racks or []]
    if not racks:
        raise ValueError('no racks to roll out')
    bad = [r for r in racks if not _RACK_ID.match(r)]
    if bad:
        raise ValueError('rack id(s) %s are not usable as group names (letters, digits, _ and -)' % ', '.join(bad))
    dupes = sorted(set(r for r in racks if racks.count(r) > 1))
    if dupes:
        raise ValueError('rack(s) %s listed twice' % ', '.join(dupes))
    if not job_template or not organization:
        raise ValueError('job_template and organization are required')

    failure = [{'identifier': STOP_NODE}] if stop_job_template else []
    nodes = []
    for i, rack in enumerate(racks):
        nxt = racks[i + 1] if i + 1 < len(racks) else None
        success = []
        if nxt is not None:
            success = [{'identifier': approval_node_id(nxt) if approval else rack_node_id(nxt)}]
        data = dict(extra_data or {})
        data['rollout_racks'] = rack
        nodes.append({
            'identifier': rack_node_id(rack),
            'unified_job_template': _template(job_template, organization),
            'limit': rack_node_id(rack),
            'extra_data': data,
            'related': {'success_nodes': success, 'failure_nodes': list(failure), 'always_nodes': []},
        })
        if approval and nxt is not None:
            gate = _template('Approve rack %s' % nxt, organization, 'workflow_approval')
            gate['description'] = 'Rack %s finished; approve to roll out rack %s' % (rack, nxt)
            gate['timeout'] = int(approval_timeout or 0)
            nodes.append({
                'identifier': approval_node_id(nxt),
                'unified_job_template': gate,
                'related': {'success_nodes': [{'identifier': rack_node_id(nxt)}],
                            'failure_nodes': list(failure), 'always_nodes': []},
            })
    if stop_job_template:
        nodes.append({
            'identifier': STOP_NODE,
            'unified_job_template': _template(stop_job_template, organization),
            # Any one failing parent runs it: never wait for the racks that did not run.
            'all_parents_must_converge': False,
            'related': {'success_nodes': [], 'failure_nodes': [], 'always_nodes': []},
        })
    return nodes
