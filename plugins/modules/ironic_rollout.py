#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: ironic_rollout
short_description: Re-image one rack of active nodes as a sliding window, within a failure budget, resumable
version_added: 0.1.0
description:
  - Rebuilds the given nodes (one rack) with a new image, at most O(max_unavailable) nodes out of
    service at a time, as a sliding window - a node starts as soon as another one finishes.
  - Per node - built-in pre-gate (active, not in another party's maintenance, not protected, no
    Ironic C(fault), power state not C(error)), maintenance on with a reason naming the rollout
    and a progress record in C(extra.spineleaf_rollout) (rollout id, image, state), the image in
    C(instance_info), maintenance off and C(rebuild) (Ironic refuses to deploy a node in
    maintenance), wait for C(active) (the post-gate), record C(done).
  - A node that fails stays in maintenance with the reason and keeps its slot; once the rack's
    failures pass O(failure_budget) no new node starts, the rest are C(skipped) and RV(stopped) is true.
  - Resumable - a re-run with the same O(rollout_id) does not touch nodes recorded C(done), records
    a node rebuilt before an interruption, rebuilds nodes caught mid-way and clears the
    maintenance it left.
  - With O(upgrade_tasks) instead of O(image) nothing is rebuilt - the role
    M(spineleaf.baremetal.rolling_upgrade) runs the user's task file for a few nodes at a time
    between a call with O(step=enter) (maintenance on, record C(started)) and one with
    O(step=leave) (maintenance off and record C(done), or the failure).
  - With O(service_steps) or O(runbook) instead of O(image), each node goes through Ironic
    servicing (API 1.87; a runbook needs 1.92) in the same window - record C(started), C(service)
    with the steps or the runbook, wait until the node is C(active) again (it stays active, out
    of service only while C(servicing) / C(service wait)), record C(done). C(service failed) is a
    failure against the budget - the node is left there and in maintenance with the rollout's
    reason, and its RV(nodes[].msg) says how to recover it (maintenance unset and C(abort) puts it
    back to C(active) without the steps; a re-run with the same O(rollout_id) services it again).
  - One rollout of a rack at a time per control node (a lock file in the temporary directory) - a
    re-run after ansible-playbook was killed waits for the still running job of the killed run.
  - The role M(spineleaf.baremetal.rolling_upgrade) runs it rack by rack.
extends_documentation_fragment:
  - spineleaf.baremetal.openstack
  - spineleaf.baremetal.attributes
  - spineleaf.baremetal.shared_poll
options:
  nodes:
    description: The rack's nodes, by name or UUID, in the order they are rolled.
    type: list
    elements: str
    required: true
  rack:
    description: The rack's name (for messages).
    type: str
    default: '-'
  rollout_id:
    description: Identifies the rollout in maintenance reasons and progress records; a re-run with the same id resumes.
    type: str
    required: true
  image:
    description:
      - The new image (same keys as in M(spineleaf.baremetal.ironic_provision)).
      - Exactly one of O(image), O(upgrade_tasks), O(service_steps) and O(runbook) is required.
    type: dict
    suboptions:
      source:
        description: C(image_source).
        type: str
        required: true
      checksum:
        description: C(image_checksum).
        type: str
      os_hash_algo:
        description: C(image_os_hash_algo).
        type: str
      os_hash_value:
        description: C(image_os_hash_value).
        type: str
      type:
        description: C(image_type).
        type: str
      kernel:
        description: Kernel of a partition image.
        type: str
      ramdisk:
        description: Ramdisk of a partition image.
        type: str
  upgrade_tasks:
    description:
      - The user's upgrade task file that replaces the rebuild (its path, recorded in
        C(extra.spineleaf_rollout.tasks); a node is finished when its record says C(done) for it).
      - Only with O(step=enter) or O(step=leave), or in check mode (the plan).
    type: str
  service_steps:
    description:
      - "Ironic service steps as the API takes them, run on each node by servicing instead of a
        rebuild, for example C([{interface: vendor, step: log_passthrough, args: {}}])."
      - Recorded as a hash in C(extra.spineleaf_rollout.service); a node is finished when its record
        says C(done) for the same steps.
    type: list
    elements: dict
  runbook:
    description:
      - The name or UUID of an Ironic runbook run on each node by servicing instead of a rebuild
        (API 1.92; Ironic runs it only on nodes that have one of the runbook's traits).
    type: str
  step:
    description:
      - C(rebuild) - roll the rack with O(image) as a sliding window.
      - C(service) - roll the rack with O(service_steps) or O(runbook) as a sliding window (the
        default when one of them is given).
      - C(enter) - before the upgrade tasks of the given nodes - settle the nodes that need no
        slot (gate failures, finished earlier), put the others in maintenance with the rollout's
        reason and record C(started) (action C(entered)).
      - C(leave) - after the upgrade tasks and the post-gate - nodes in O(gate_failures) fail and
        stay in maintenance, the others leave maintenance and record C(done) (action C(upgraded)).
    type: str
    choices: [rebuild, service, enter, leave]
    default: rebuild
  progress_file:
    description:
      - Write the rack's progress there as JSON C({rack, total, done, failed, in_progress}) after every
        poll round, for the role's progress lines while the task runs asynchronously.
    type: path
  max_unavailable:
    description: At most this many of the rack's nodes out of service at once.
    type: int
    default: 1
  failure_budget:
    description: Failures the rack tolerates - a count or a percentage of its nodes (C(10%)).
    type: raw
    default: 0
  gate_failures:
    description:
      - Nodes whose user health gate failed (name -> reason); they are not rebuilt, they are put
        in maintenance with the reason and count as failures.
    type: dict
    default: {}
  post_gate:
    description:
      - The O(gate_failures) come from a health gate run after the rebuild - nodes already
        recorded C(done) are marked failed too (put back in maintenance with the reason).
    type: bool
    default: false
  timeout:
    description: Seconds one node's rebuild (or servicing) may take.
    type: int
    default: 3600
  poll_interval:
    description: Seconds between two polls of the nodes in flight.
    type: float
    default: 0.5
author:
  - Spineleaf Baremetal Team (@spineleaf)
'''

EXAMPLES = r'''
- name: Roll rack r02 to the new image, two nodes at a time, one failure tolerated
  spineleaf.baremetal.ironic_rollout:
    cloud: spineleaf-lab
    rack: r02
    nodes: [r02-n01, r02-n02, r02-n03, r02-n04]
    rollout_id: base-1.1
    image: {source: http://images.lab.invalid/spineleaf-base-1.1.qcow2}
    max_unavailable: 2
    failure_budget: 1

- name: Service rack r02's active nodes (firmware, BIOS, vendor steps), two at a time
  spineleaf.baremetal.ironic_rollout:
    cloud: spineleaf-lab
    rack: r02
    nodes: [r02-n01, r02-n02, r02-n03, r02-n04]
    rollout_id: fw-2025-11
    service_steps:
      - {interface: vendor, step: log_passthrough, args: {}}
    max_unavailable: 2
'''

RETURN = r'''
nodes:
  description: One entry per node, in order.
  returned: always
  type: list
  elements: dict
  contains:
    uuid:
      description: Node UUID (null for a node not in Ironic).
      type: str
    changed:
      description: Whether the node changed (or would, in check mode). Part of the per-node result contract.
      type: bool
    failed:
      description: Whether the node failed. Part of the per-node result contract.
      type: bool
    name:
      description: Node name.
      type: str
    action:
      description: What happened (in check mode, what would).
      type: str
      choices: [upgraded, entered, unchanged, done, failed, skipped]
    msg:
      description: Why it failed or was skipped, or a note.
      type: str
    last_error:
      description: Ironic's C(last_error) when the rebuild (or servicing) failed.
      type: str
    service:
      description: What the servicing ran (C(runbook NAME) or C(interface.step, ...)); only with O(service_steps) or O(runbook).
      type: str
    duration:
      description: Seconds the node took (a rebuild or a servicing - from its start until Ironic reported it active, its time out of service).
      type: float
    node:
      description: The node as read at the start (C(provision_state), C(maintenance), C(power_state), C(fault), C(extra), C(properties), ...), for health gates.
      type: dict
stopped:
  description: Whether the rack stopped (failures past the budget, or no slot left).
  returned: always
  type: bool
verdict:
  description: The rack's budget verdict C({rack, failed, total, budget, stopped, msg}).
  returned: always
  type: dict
summary:
  description: Nodes per action.
  returned: always
  type: dict
api_writes:
  description: Write calls made to Ironic.
  returned: always
  type: int
elapsed:
  description: Seconds the task took.
  returned: always
  type: float
'''

import fcntl
import hashlib
import os
import tempfile
import time

from ..module_utils._base import BaremetalError, BaremetalModule
from ..module_utils._ironic import IronicAdapter
from ..module_utils._poll_share import SHARED_POLL_SPEC, PollShare
from ..module_utils._rack_progress import progress_writer
from ..module_utils import _provision as prov
from ..module_utils import _rollout as ro
from ..module_utils import _service as svc
from ..module_utils._util import DifferenceTracker, node_index

IMAGE_SPEC = dict(source=dict(type='str', required=True), checksum=dict(type='str'), os_hash_algo=dict(type='str'),
                  os_hash_value=dict(type='str'), type=dict(type='str'), kernel=dict(type='str'),
                  ramdisk=dict(type='str'))
# What the role's health gates may read of each node (as it was at the start of the task).
NODE_VIEW = ('provision_state', 'maintenance', 'maintenance_reason', 'power_state', 'fault', 'extra', 'properties',
             'provision_updated_at')
# What the plan reads of every node (a field list: Ironic serialises far less than the full detail).
PLAN_FIELDS = tuple(sorted(set(NODE_VIEW) | {'uuid', 'name', 'target_provision_state', 'protected', 'protected_reason',
                                             'instance_info', 'last_error'}))
CHECK_ACTION = dict(upgrade='upgraded', finish='upgraded', repair='done', done='done', unchanged='unchanged', fail='failed')


class IronicRolloutModule(BaremetalModule):
    argument_spec = dict(
        nodes=dict(type='list', elements='str', required=True),
        rack=dict(type='str', default='-'),
        rollout_id=dict(type='str', required=True),
        image=dict(type='dict', options=IMAGE_SPEC),
        upgrade_tasks=dict(type='str'),
        service_steps=dict(type='list', elements='dict'),
        runbook=dict(type='str'),
        step=dict(type='str', choices=['rebuild', 'service', 'enter', 'leave'], default='rebuild'),
        progress_file=dict(type='path'),
        **SHARED_POLL_SPEC,
        max_unavailable=dict(type='int', default=1),
        failure_budget=dict(type='raw', default=0),
        gate_failures=dict(type='dict', default={}),
        post_gate=dict(type='bool', default=False),
        timeout=dict(type='int', default=3600),
        poll_interval=dict(type='float', default=0.5),
    )
    module_kwargs = dict(required_one_of=[('image', 'upgrade_tasks', 'service_steps', 'runbook')],
                         mutually_exclusive=[('image', 'upgrade_tasks', 'service_steps', 'runbook')])

    def plan(self, nodes):
        p = self.params
        try:
            ro.failure_budget(p['failure_budget'], len(p['nodes']))
        except ValueError as exc:
            raise BaremetalError('rack %s: %s' % (p['rack'], exc))
        if p['max_unavailable'] < 1:
            raise BaremetalError('rack %s: max_unavailable must be at least 1, got %s' % (p['rack'], p['max_unavailable']))
        by_key = node_index(nodes)
        missing = [k for k in p['nodes'] if k not in by_key]
        if missing:
            raise BaremetalError('rack %s: node(s) not found in Ironic: %s' % (p['rack'], ', '.join(missing)))
        if p['upgrade_tasks'] and p['step'] == 'rebuild' and not self.check_mode:
            raise BaremetalError('rack %s: upgrade_tasks is run by the role between step=enter and step=leave; '
                                 'step=rebuild needs image' % p['rack'])
        if p['image'] and p['step'] != 'rebuild':
            raise BaremetalError('rack %s: step=%s is for upgrade_tasks, not image' % (p['rack'], p['step']))
        service = self.service_plan()
        if p['step'] == 'service' and not service:
            raise BaremetalError('rack %s: step=service needs service_steps or a runbook' % p['rack'])
        image_info = prov.image_instance_info(p['image']) if p['image'] else {}
        items, seen = [], set()
        for key in p['nodes']:
            node = by_key[key]
            if node['uuid'] in seen:
                continue
            seen.add(node['uuid'])
            name = node.get('name') or node['uuid']
            if service:  # servicing instead of a rebuild (_service.py)
                op, msg = svc.classify(node, p['rollout_id'], service['key'])
            else:
                op, msg = ro.classify(node, p['rollout_id'], image_info, p['upgrade_tasks'])
            gate = p['gate_failures'].get(name) or p['gate_failures'].get(node['uuid'])
            if gate and p['step'] != 'leave' and (p['post_gate'] or op not in ('done', 'repair')):
                op, msg = 'fail', 'node %s: health gate: %s' % (name, gate)
            items.append(dict(name=name, uuid=node['uuid'], node=node, op=op, msg=msg,
                              image=dict(before=(node.get('instance_info') or {}).get('image_source'),
                                         after=image_info.get('image_source'))))
        return image_info, items

    def service_plan(self):
        """``{steps, runbook, key, what}`` of a servicing rollout, or None (an image or upgrade tasks)."""
        p = self.params
        if not (p['service_steps'] or p['runbook']):
            return None
        if p['step'] not in ('rebuild', 'service'):
            raise BaremetalError('rack %s: step=%s is for upgrade_tasks; service_steps and runbook take step=service'
                                 % (p['rack'], p['step']))
        try:
            steps = svc.normalise_steps(p['service_steps']) if p['service_steps'] else None
        except ValueError as exc:
            raise BaremetalError('rack %s: %s' % (p['rack'], exc))
        return dict(steps=steps, runbook=p['runbook'], key=svc.service_key(steps, p['runbook']),
                    what=svc.describe(steps, p['runbook']))

    def rack_lock(self, ironic):
        """One rollout of a rack at a time on this control node. An ansible-playbook killed mid-rack
        leaves its async job running; the re-run's call waits here until that job is finished, then
        finds its nodes recorded done instead of rolling the rack twice at once."""
        key = '%s|%s' % (ironic.endpoint(), self.params['rack'])
        path = os.path.join(tempfile.gettempdir(), 'spineleaf-rollout-%s.lock' % hashlib.sha256(key.encode()).hexdigest()[:16])
        handle = open(path, 'a')
        fcntl.flock(handle, fcntl.LOCK_EX)
        return handle

    def run(self):
        start = time.monotonic()
        p = self.params
        ironic = IronicAdapter(self.conn, poll_share=PollShare.open(p['shared_poll_dir']))
        lock = None if self.check_mode else self.rack_lock(ironic)  # held until the module exits
        image_info, items = self.plan(ironic.list_raw('nodes', fields=PLAN_FIELDS))
        if self.check_mode:
            for rec in items:
                rec.update(action=CHECK_ACTION[rec['op']], duration=0.0)
            failed = sum(1 for r in items if r['action'] == 'failed')
            stopped = ro.rack_budget(p['rack'], failed, len(items), p['failure_budget'])['stopped']
        else:
            service = self.service_plan()
            if service:  # servicing (_service.py) in the same window
                runner = svc.ServiceRollout(ironic, p['rollout_id'], service['steps'], service['runbook'],
                                            max_unavailable=p['max_unavailable'], budget=p['failure_budget'],
                                            timeout=p['timeout'], poll=p['poll_interval'], rack=p['rack'])
            else:
                runner = ro.RackRollout(ironic, p['rollout_id'], image_info, p['max_unavailable'], p['failure_budget'],
                                        p['timeout'], p['poll_interval'], rack=p['rack'], tasks=p['upgrade_tasks'])
            if p['step'] == 'enter':
                runner.enter(items)
            elif p['step'] == 'leave':
                runner.leave(items, p['gate_failures'])
            else:
                # a write error of the file warns, never aborts the rack
                runner.run(items, progress=progress_writer(p['progress_file'], warn=self.warn, rack=p['rack']))
            stopped = runner.stopped() or any(r['action'] == 'skipped' for r in items)
        failed = sum(1 for r in items if r['action'] == 'failed')
        verdict = ro.rack_budget(p['rack'], failed, len(items), p['failure_budget'])
        verdict['stopped'] = stopped
        if stopped and not verdict['msg'].startswith('rack %s stopped' % p['rack']):
            verdict['msg'] = 'rack %s stopped: %d of %d nodes failed, all %d slots held by failed nodes in maintenance' % (
                p['rack'], failed, len(items), p['max_unavailable'])
        out = [dict(name=r['name'], uuid=r['uuid'], action=r['action'], msg=r.get('msg'),
                    last_error=r.get('last_error'), duration=r.get('duration', 0.0), image=r['image'],
                    node=dict((k, r['node'].get(k)) for k in NODE_VIEW)) for r in items]
        service = self.service_plan()
        for r in out if service else []:
            r['service'] = service['what']
        tracker = DifferenceTracker()
        for r in out:
            if r['action'] == 'upgraded' and service:
                tracker.add(r['name'], {'serviced': None}, {'serviced': service['what']}, changes=['serviced'])
            elif r['action'] == 'upgraded':
                tracker.add(r['name'], r['image']['before'], r['image']['after'], changes=['upgraded'])
        if lock is not None:
            lock.close()
        # A failed node changed too (it is left in maintenance, its rebuild may have started).
        self.report_nodes(out, 'rollout', changing=('upgraded', 'entered', 'failed'), tracker=tracker,
                          changed=any(r['action'] in ('upgraded', 'entered', 'failed') for r in out) or ironic.writes > 0,
                          fail_msg=(verdict['msg'] + ''.join('; %s' % r['msg'] for r in out if r['action'] == 'failed'))
                          if failed or stopped else None,
                          stopped=stopped, verdict=verdict, api_writes=ironic.writes,
                          elapsed=round(time.monotonic() - start, 3))


def main():
    IronicRolloutModule()()


if __name__ == '__main__':
    main()
