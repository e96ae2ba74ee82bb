# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import math
from collections import Counter

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ..module_utils import _rollout
from .lldp import cabling_fingerprint
from .site import deploy_template_traits

# Seconds added to every rack job's limit: start-up, listing and the last poll of a rack.
MARGIN = 600


def rack_job_timeout(rack_size, concurrency, timeout, retries=0, margin=MARGIN):
    """The one time limit of a rack's background job (async) and of its wait: every node of the
    largest rack, ``concurrency`` at a time, each with all its attempts, plus a margin. A backstop:
    the nodes' own timeouts end a stuck node first. ``rack_size``: a count, or one rack name per
    node (the largest rack counts)."""
    try:
        if isinstance(rack_size, (list, tuple)):
            counts = Counter(str(r) for r in rack_size if r is not None and str(r) != '')
            size = max(counts.values()) if counts else 0
        else:
            size = int(rack_size)
        concurrency, timeout, retries, margin = int(concurrency), int(timeout), int(retries), int(margin)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError('rack_job_timeout: expected numbers (rack size, concurrency, timeout, retries): %s' % exc)
    if size < 0 or concurrency < 1 or timeout < 1 or retries < 0:
        raise AnsibleFilterError('rack_job_timeout: rack size %s, concurrency %s, timeout %s, retries %s: concurrency and '
                                 'timeout must be at least 1, size and retries not negative' % (size, concurrency, timeout, retries))
    return int(math.ceil(max(size, 1) / float(concurrency))) * timeout * (retries + 1) + margin


def rack_job_args(nodes, failure_budget=None, label=False, specs=False, templates=False, roles=False, fingerprints=False, rack=False):
    """Each rack's own options of a rack job (the ``racks`` option of ``rack_jobs``), from the
    hostvars of the play's nodes, racks in sorted order: ``nodes`` (the rack's node names; with
    ``specs`` a dict per node, with its deploy template traits when ``templates``, its node_role when
    ``roles``), ``max_failures`` (the rack's failure budget as a count) when ``failure_budget`` is
    given, ``progress_label`` (the rack) when ``label``, ``fingerprints`` (each node's cabling
    fingerprint, the nodes being placements {name, rack, nics, bonds}) when ``fingerprints``, ``rack``
    (the rack, for the modules with a ``rack`` option) when ``rack``. A node
    is its ``inventory_hostname`` (else its ``name``); a node without a rack is left out."""
    if not isinstance(nodes, list) or not all(isinstance(n, Mapping) for n in nodes):
        raise AnsibleFilterError('rack_job_args: expected a list of node hostvars')
    racks, prints = {}, {}
    for hv in nodes:
        if hv.get('rack') is None or str(hv.get('rack')) == '':
            continue
        name = hv.get('inventory_hostname') or hv.get('name')
        if fingerprints:
            prints.setdefault(str(hv['rack']), {})[name] = cabling_fingerprint(dict(hv))
        if specs:
            node = {'name': name}
            if templates:
                node['instance_traits'] = deploy_template_traits(hv)
            if roles:
                node['role'] = hv.get('node_role')
        else:
            node = name
        racks.setdefault(str(hv['rack']), []).append(node)
    out = {}
    for rid in sorted(racks):
        out[rid] = {'nodes': racks[rid]}
        if failure_budget is not None:
            try:
                out[rid]['max_failures'] = _rollout.failure_budget(failure_budget, len(racks[rid]))
            except ValueError as exc:
                raise AnsibleFilterError('rack_job_args: rack %s: %s' % (rid, exc))
        if label:
            out[rid]['progress_label'] = rid
        if fingerprints:
            out[rid]['fingerprints'] = prints[rid]
        if rack:
            out[rid]['rack'] = rid
    return out


class FilterModule:
    def filters(self):
        return {'rack_job_timeout': rack_job_timeout, 'rack_job_args': rack_job_args}
