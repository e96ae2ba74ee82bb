#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: ironic_inspect
short_description: Inspect many bare-metal nodes at once, with bounded concurrency and per-node isolation
version_added: 0.1.0
description:
  - Starts Ironic inspection (hardware introspection, including LLDP) for many nodes in one task
    and waits for all of them, polling every node in flight with one list call per round.
  - At most O(concurrency) nodes are inspected at the same time; each node has its own
    O(timeout) and O(retries). A node that fails is reported (with the reason and Ironic's
    C(last_error)) and left in C(inspect failed) (a timed-out node is aborted into it); the
    others go on. The module fails at the end, naming every failed node, if any failed.
  - Nodes in C(enroll) are moved to C(manageable) first. Nodes in C(available), C(active) or
    any other state are not touched (nothing destructive is ever done to get a node inspectable).
  - Recovery - a node left in C(inspect failed) or C(clean failed), or in C(enroll) after a failed
    verify, is brought back (C(manage)) and inspected again; its C(msg) carries Ironic's
    C(last_error) of the earlier failure (and a new failure's C(last_error) when it fails again).
  - A node in maintenance is never touched - it is reported with result C(maintenance) and a
    message naming Ironic's maintenance reason, fault and C(last_error); the module does not fail for it.
  - With O(skip_inspected=true) (the default) a node that already has inspection data
    (Ironic recorded C(inspection_finished_at)) is skipped, so a second run changes nothing.
  - Nodes need an inspect interface that collects data, e.g. C(agent) (the lab's default).
extends_documentation_fragment:
  - spineleaf.baremetal.openstack
  - spineleaf.baremetal.attributes
  - spineleaf.baremetal.shared_poll
options:
  nodes:
    description:
      - Nodes to inspect, by name or UUID.
    type: list
    elements: str
    required: true
  concurrency:
    description:
      - How many nodes are inspected at the same time.
    type: int
    default: 16
  timeout:
    description:
      - Seconds one inspection attempt of one node may take before it is aborted.
    type: int
    default: 1800
  retries:
    description:
      - How many more times a node whose inspection failed or timed out is inspected again.
    type: int
    default: 1
  skip_inspected:
    description:
      - Skip nodes that already have inspection data. Set to V(false) to inspect them again.
    type: bool
    default: true
  fingerprints:
    description:
      - Per node name, the digest of its intended placement (filter
        P(spineleaf.baremetal.cabling_fingerprint#filter)). A node that already has inspection data is
        inspected again, although O(skip_inspected=true), unless
        M(spineleaf.baremetal.lldp_topology) recorded that placement as checked clean on its current
        inspection data - so a node whose placement changed in the inventory, or whose last cabling check
        found a problem, is re-checked by the next run without extra flags.
    type: dict
  poll_interval:
    description:
      - Seconds between two polls of the nodes in flight (one list call per poll), after a poll in which
        a node finished.
    type: float
    default: 0.1
  max_poll_interval:
    description:
      - Polls in which no node finishes are spaced out, by half each time, up to this many seconds (an
        inspection takes minutes on hardware; a site's rack jobs polling every O(poll_interval) kept a
        loaded Ironic busy with lists). The next node to finish brings the interval back to
        O(poll_interval). A value below O(poll_interval) means no back-off.
    type: float
    default: 1.0
  progress_file:
    description:
      - "A file (on the host running the module) to keep the counts of this call in while it runs, as
        JSON C({total, inspected, failed, skipped, maintenance, done, in_progress, finished}) (C(done) is
        inspected plus skipped), rewritten when they change; C(finished) becomes true at the end. Lets
        a play that started the module with C(async) show progress while it waits (the introspect role
        prints C(rack r01: 12/40 inspected, 2 failed, 26 in progress) from it with
        M(spineleaf.baremetal.rack_progress_wait))."
    type: path
author:
  - Spineleaf Baremetal Team (@spineleaf)
'''

EXAMPLES = r'''
- name: Inspect rack r01, 8 nodes at a time
  spineleaf.baremetal.ironic_inspect:
    cloud: spineleaf-lab
    nodes: "{{ groups['rack_r01'] }}"
    concurrency: 8
    timeout: 900
    retries: 1

- name: Inspect one node again although it has data
  spineleaf.baremetal.ironic_inspect:
    nodes: [r01-n03]
    skip_inspected: false
'''

RETURN = r'''
nodes:
  description: One entry per requested node, in request order.
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: "The same as RV(nodes[].result) - C(inspected), C(skipped), C(would_inspect), C(maintenance) or C(failed)."
      type: str
    changed:
      description: Whether the node changed (or would, in check mode). Part of the per-node result contract.
      type: bool
    failed:
      description: Whether the node failed. Part of the per-node result contract.
      type: bool
    name:
      description: Node name (or the requested key when the node was not found).
      type: str
      sample: r01-n01
    uuid:
      description: Node UUID.
      type: str
    result:
      description: What happened.
      type: str
      choices: [inspected, skipped, failed, would_inspect, maintenance]
    provision_state:
      description: The node's provision state at the end.
      type: str
      sample: manageable
    duration:
      description: Seconds from the first action on the node to its end (0 when skipped).
      type: float
      sample: 0.42
    attempts:
      description: Inspection attempts made.
      type: int
    msg:
      description:
        - Why it was skipped or failed, or what it was recovered from (with Ironic's C(last_error));
          null when simply inspected.
      type: str
    cabling_checked:
      description:
        - Whether Ironic records the placement given in O(fingerprints) as checked clean on the node's
          current inspection data (C(extra.cabling_fingerprint), written by M(spineleaf.baremetal.lldp_topology)),
          as found before this run's inspection. V(false) without a fingerprint for the node.
        - The site playbook reads it in check mode to take nodes on to tagging and deployment when the
          introspection step is not part of the run (C(--tags deploy)).
      type: bool
inspected:
  description: Names of the nodes inspected by this run.
  returned: always
  type: list
  elements: str
skipped_nodes:
  description:
    - Names of the nodes skipped because they already had inspection data.
    - Not called C(skipped) - Ansible takes a result with a C(skipped) key for a skipped task and then
      ignores the task's C(changed_when) / C(failed_when).
  returned: always
  type: list
  elements: str
maintenance_nodes:
  description: Names of the nodes skipped because they are in maintenance.
  returned: always
  type: list
  elements: str
failed_nodes:
  description: Names of the nodes whose inspection failed (the module fails when this is not empty).
  returned: always
  type: list
  elements: str
api_writes:
  description: Number of write calls made to Ironic (0 in check mode and when nothing was to do).
  returned: always
  type: int
elapsed:
  description: Seconds the whole task took.
  returned: always
  type: float
summary:
  description: Number of nodes per RV(nodes[].action).
  returned: always
  type: dict
  sample: {inspected: 38, skipped: 1, failed: 1}
'''

import time

from ..module_utils._base import BaremetalError, BaremetalModule
from ..module_utils._inspect import NODE_FIELDS, InspectionRunner, plan
from ..module_utils._ironic import IronicAdapter
from ..module_utils._poll_share import SHARED_POLL_SPEC, PollShare
from ..module_utils._util import DifferenceTracker


class IronicInspectModule(BaremetalModule):
    argument_spec = dict(
        nodes=dict(type='list', elements='str', required=True),
        concurrency=dict(type='int', default=16),
        timeout=dict(type='int', default=1800),
        retries=dict(type='int', default=1),
        skip_inspected=dict(type='bool', default=True),
        poll_interval=dict(type='float', default=0.1),
        max_poll_interval=dict(type='float', default=1.0),
        fingerprints=dict(type='dict'),
        progress_file=dict(type='path'),
        **SHARED_POLL_SPEC,
    )

    def _progress(self, results, window=None, queued=0, finished=False):
        """The counts of this call, to progress_file; ``window``: the runner's progress counts (the
        nodes in its hands have no ``result`` in ``results`` yet)."""
        window = window or dict(done=0, failed=0, in_flight=0, queued=queued)
        counts = dict(total=len(results), inspected=0, failed=0, skipped=0, maintenance=0,
                      in_progress=window['in_flight'] + window['queued'], finished=finished)
        for entry in results.values():
            key = entry.get('result') if entry.get('result') in counts else None
            if key:
                counts[key] += 1
        counts['inspected'] += window['done'] - window['failed']
        counts['failed'] += window['failed']
        counts['done'] = counts['inspected'] + counts['skipped']  # what the rack's progress line counts
        self.write_progress(self.params['progress_file'], counts)

    def run(self):
        start = time.monotonic()
        p = self.params
        if p['concurrency'] < 1:
            raise BaremetalError('concurrency must be at least 1, got %s' % p['concurrency'])
        if p['timeout'] < 1:
            raise BaremetalError('timeout must be at least 1 second, got %s' % p['timeout'])
        if p['retries'] < 0:
            raise BaremetalError('retries cannot be negative, got %s' % p['retries'])
        for option in ('poll_interval', 'max_poll_interval'):
            if p[option] <= 0:
                raise BaremetalError('%s must be more than 0 seconds, got %s' % (option, p[option]))
        adapter = IronicAdapter(self.conn, concurrency=p['concurrency'], poll_share=PollShare.open(p['shared_poll_dir']))
        nodes = adapter.list_nodes(NODE_FIELDS)  # the rack jobs of one task share this list
        planned = plan([str(n) for n in p['nodes']], nodes, p['skip_inspected'], p['fingerprints'])
        finished_at = dict((n['uuid'], n.get('inspection_finished_at')) for n in nodes)

        results = {}
        to_inspect = []
        for item in planned:
            entry = dict(name=item['name'], uuid=item['uuid'], provision_state=item['state'],
                         duration=0.0, attempts=0, msg=item['msg'], cabling_checked=item.get('cabling_checked', False))
            if item['action'] == 'skip':
                entry['result'] = 'skipped'
            elif item['action'] == 'maintenance':
                entry['result'] = 'maintenance'
            elif item['action'] == 'fail' and self.check_mode and item['uuid'] is None:
                # --check of a site with new nodes: the enrollment before this step only planned them
                entry.update(result='would_inspect', msg='node %s: not in Ironic yet (a real run enrolls it first)' % item['name'])
            elif item['action'] == 'fail':
                entry['result'] = 'failed'
            elif self.check_mode:
                entry['result'] = 'would_inspect'
            else:
                to_inspect.append(dict(item, inspection_finished_at=finished_at.get(item['uuid'])))
            results[item['uuid'] or item['name']] = entry

        self._progress(results, queued=len(to_inspect))
        if to_inspect:
            runner = InspectionRunner(adapter, concurrency=p['concurrency'], timeout=p['timeout'],
                                      retries=p['retries'], poll=p['poll_interval'],
                                      max_poll=p['max_poll_interval'])
            # results holds the planned outcome of the nodes in flight too (result not set yet)
            for rec in runner.run(to_inspect, progress=lambda counts: self._progress(results, counts)):
                results[rec['uuid']].update(result=rec['result'], provision_state=rec['provision_state'],
                                            duration=rec['duration'], attempts=rec['attempts'],
                                            msg=rec['msg'] or results[rec['uuid']]['msg'])

        self._progress(results, finished=True)
        ordered = [results[item['uuid'] or item['name']] for item in planned]
        by = dict((kind, [r['name'] for r in ordered if r['result'] == kind])
                  for kind in ('inspected', 'skipped', 'failed', 'would_inspect', 'maintenance'))
        tracker = DifferenceTracker()
        for r in ordered:
            r['action'] = r['result']  # the contract's action; ``result`` stays as its alias
            if r['result'] in ('inspected', 'would_inspect'):
                tracker.add(r['name'], 'not inspected', 'inspected')
        self.report_nodes(ordered, 'inspection', changing=('inspected', 'would_inspect'), tracker=tracker,
                          inspected=by['inspected'], skipped_nodes=by['skipped'], failed_nodes=by['failed'],
                          maintenance_nodes=by['maintenance'],
                          api_writes=adapter.writes, elapsed=round(time.monotonic() - start, 3))


def main():
    IronicInspectModule()()


if __name__ == '__main__':
    main()
