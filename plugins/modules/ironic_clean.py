#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: ironic_clean
short_description: Manual cleaning campaign over many nodes - BIOS settings, firmware updates and other clean steps
version_added: 0.1.0
description:
  - Applies settings Ironic only applies in cleaning (BIOS C(apply_configuration), firmware C(update), RAID
    and other clean steps) to many nodes in one task, with bounded concurrency, a per-node timeout and a
    failure budget.
  - "Declarative for BIOS settings and firmware versions: each node's requested settings (O(bios_settings),
    O(firmware), or its own in O(nodes)) are compared with what Ironic reports (as M(spineleaf.baremetal.ironic_drift)
    does), and only the nodes that drift are cleaned, with steps that carry exactly the drift - so a second
    run with the same settings reports C(unchanged) for every node and makes no write call."
  - O(clean_steps) (raw Ironic clean steps, as the API takes them) run with the drift steps of a drifting node;
    on a node with no requested settings they run on every run (a one-off campaign, not idempotent).
  - "Each node goes through manual cleaning and ends where it started: from C(manageable) it runs C(clean)
    and rests in C(manageable); from C(available) it runs C(manage), C(clean), then C(provide) back to
    C(available) (automated cleaning, when the site enables it, runs again at that C(provide)); from C(enroll)
    or C(clean failed) it is moved to C(manageable) first and ends there."
  - Never touches a workload - a node that would be cleaned but is C(active), deploying, in servicing, rescue
    or C(deploy failed) is refused (RV(nodes[].action) C(refused), failed, with a message saying why);
    a node in maintenance is left alone (C(maintenance)). A node whose settings already match is never refused.
  - Failure budget - refused nodes and nodes whose cleaning failed count; once more nodes failed than
    O(failure_budget) allows, no further node starts (those end C(skipped) with the rack's stop message) and
    the nodes already cleaning finish. A failed node is left in C(clean failed) with Ironic's C(last_error).
  - In check mode nothing is written; each node's entry says what would run on it (RV(nodes[].clean_steps)).
extends_documentation_fragment:
  - spineleaf.baremetal.openstack
  - spineleaf.baremetal.attributes
  - spineleaf.baremetal.shared_poll
options:
  nodes:
    description:
      - The nodes of the campaign, by name or UUID, or dicts C({name, bios_settings, firmware, clean_steps}) with
        the node's own requested settings (they win over the module-wide ones, per setting and per component)
        and its own extra clean steps (run after the module-wide O(clean_steps)).
    type: list
    elements: raw
    required: true
  bios_settings:
    description:
      - BIOS settings requested of every node, setting name -> value; a drifting node gets one
        C(bios.apply_configuration) step with its drifted settings.
    type: dict
  firmware:
    description:
      - Firmware requested of every node, component -> C({version, url}); a drifting component is updated by
        a C(firmware.update) step from its C(url) (the step's settings are C({component, url}), as Redfish takes them).
    type: dict
  clean_steps:
    description:
      - "Raw clean steps for every node, each C({interface, step, args}) (for example
        C({interface: raid, step: create_configuration, args: {}})), run after the drift steps."
    type: list
    elements: dict
  force:
    description:
      - Clean nodes whose requested settings already match as well (their O(clean_steps) run; the drift steps
        are empty for them).
    type: bool
    default: false
  concurrency:
    description:
      - How many nodes clean at the same time.
    type: int
    default: 8
  timeout:
    description:
      - Seconds one node's whole campaign (manage, clean, provide) may take before it counts as failed.
    type: int
    default: 3600
  failure_budget:
    description:
      - Failed nodes the campaign tolerates before no further node starts - a count, or a percentage of
        the nodes such as V(10%). V(0) stops at the first failure.
    type: raw
    default: 0
  rack:
    description:
      - The rack these nodes are in, for messages (C(rack r01 stopped - 1 of 4 nodes failed (budget 0))).
    type: str
  poll_interval:
    description:
      - Seconds between two polls of the nodes in flight.
    type: float
    default: 1.0
  progress_file:
    description:
      - A file to keep the counts of this call in while it runs, as JSON C({total, done, failed, in_progress,
        finished}) (C(done) counts cleaned and unchanged nodes), for a play that started the module with
        C(async) to print C(rack r01 - 3/8 cleaned, 0 failed, 5 in progress) with
        M(spineleaf.baremetal.rack_progress_wait).
    type: path
author:
  - Spineleaf Baremetal Team (@spineleaf)
'''

EXAMPLES = r'''
- name: BIOS settings and BMC firmware for rack r01, 4 nodes at a time, stop at the first failure
  spineleaf.baremetal.ironic_clean:
    cloud: spineleaf-lab
    nodes: "{{ groups['rack_r01'] }}"
    rack: r01
    bios_settings:
      HyperThreading: Disabled
    firmware:
      bmc: {version: "2.1.0", url: "https://fw.example/bmc-2.1.0.bin"}
    concurrency: 4
    failure_budget: 0

- name: One-off RAID rebuild of two storage nodes (raw steps run on every run)
  spineleaf.baremetal.ironic_clean:
    nodes: [r02-n01, r02-n02]
    clean_steps:
      - {interface: raid, step: delete_configuration, args: {}}
      - {interface: raid, step: create_configuration, args: {}}
'''

RETURN = r'''
nodes:
  description: One entry per requested node, in request order (the per-node result contract).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Node name as requested.
      type: str
    uuid:
      description: Node UUID (null when the node is not in Ironic).
      type: str
    action:
      description:
        - C(cleaned) (cleaned by this run, or would be in check mode), C(unchanged) (no drift, no write),
          C(refused) (active or deploying), C(maintenance), C(skipped) (not started - the campaign stopped at its
          failure budget) or C(failed).
      type: str
    changed:
      description: Whether the node was cleaned (or would be, in check mode).
      type: bool
    failed:
      description: Whether the node failed or was refused.
      type: bool
    msg:
      description: What ran (or would run), or why the node failed, was refused or skipped (with Ironic's C(last_error)).
      type: str
      sample: "manage -> clean -> provide: bios.apply_configuration (back to available)"
    start_state:
      description: The node's provision state before the campaign.
      type: str
    provision_state:
      description: The node's provision state at the end.
      type: str
    phases:
      description: The provision actions the node goes through (C(manage), C(clean), C(provide)).
      type: list
      elements: str
    clean_steps:
      description: The clean steps run (or that would run) on the node.
      type: list
      elements: dict
    drift:
      description: The node's drift before the campaign (findings as M(spineleaf.baremetal.ironic_drift) returns them).
      type: list
      elements: dict
    duration:
      description: Seconds the node's campaign took (0 when not cleaned).
      type: float
verdict:
  description: The failure budget verdict C({rack, failed, total, budget, stopped, msg}).
  returned: always
  type: dict
summary:
  description: Number of nodes per RV(nodes[].action).
  returned: always
  type: dict
  sample: {cleaned: 3, unchanged: 1}
api_writes:
  description: Number of write calls made to Ironic (0 in check mode and when no node drifts).
  returned: always
  type: int
'''

from ..module_utils._base import BaremetalError, BaremetalModule
from ..module_utils._cleaning import Campaign, check_steps, plan_node, step_label
from ..module_utils._drift import REQUEST_OPTIONS, collect_drift, drift_steps, node_requests
from ..module_utils._ironic import IronicAdapter
from ..module_utils._poll_share import SHARED_POLL_SPEC, PollShare
from ..module_utils._rollout import failure_budget
from ..module_utils._util import DifferenceTracker


class IronicCleanModule(BaremetalModule):
    argument_spec = dict(
        REQUEST_OPTIONS,
        clean_steps=dict(type='list', elements='dict'),
        force=dict(type='bool', default=False),
        timeout=dict(type='int', default=3600),
        failure_budget=dict(type='raw', default=0),
        rack=dict(type='str'),
        poll_interval=dict(type='float', default=1.0),
        progress_file=dict(type='path'),
        **SHARED_POLL_SPEC,
    )

    def _check(self):
        p = self.params
        if p['concurrency'] < 1:
            raise BaremetalError('concurrency must be at least 1, got %s' % p['concurrency'])
        if p['timeout'] < 1:
            raise BaremetalError('timeout must be at least 1 second, got %s' % p['timeout'])
        try:
            failure_budget(p['failure_budget'], 1)
            requests = node_requests(p['nodes'], p['bios_settings'], p['firmware'], p['clean_steps'])
            for req in requests:
                check_steps(req['name'], req['clean_steps'])
        except (ValueError, TypeError) as exc:
            raise BaremetalError('ironic_clean: %s' % exc)
        return requests

    def _plan(self, adapter, requests):
        found = collect_drift(adapter, requests)
        entries = []
        for req in requests:
            node, findings = found[req['name']]
            steps, problems = drift_steps(findings, req['firmware'])
            entry = plan_node(req['name'], node, steps, req['clean_steps'], problems, req['requested'], self.params['force'])
            entry.update(drift=findings, provision_state=entry['start_state'], duration=0.0)
            if entry['action'] == 'cleaned':
                entry['provision_updated_at'] = node.get('provision_updated_at')  # the first phase's baseline
            entries.append(entry)
        return entries

    def _progress(self, entries, pending=0, finished=False):
        """The counts of this call, to progress_file (``pending``: nodes cleaning or queued, whose
        entries still hold their planned action)."""
        counts = dict(total=len(entries), in_progress=pending, finished=finished,
                      done=sum(1 for e in entries if e['action'] in ('cleaned', 'unchanged')) - pending,
                      failed=sum(1 for e in entries if e['action'] in ('failed', 'refused')),
                      maintenance=sum(1 for e in entries if e['action'] == 'maintenance'))
        self.write_progress(self.params['progress_file'], counts)

    def run(self):
        p = self.params
        requests = self._check()
        adapter = IronicAdapter(self.conn, concurrency=p['concurrency'], poll_share=PollShare.open(p['shared_poll_dir']))
        entries = self._plan(adapter, requests)
        rack = p['rack'] or '-'
        campaign = Campaign(adapter, concurrency=p['concurrency'], timeout=p['timeout'], budget=p['failure_budget'],
                            rack=rack, poll=p['poll_interval'])
        if self.check_mode:
            for e in entries:
                e.pop('provision_updated_at', None)
            verdict = campaign.verdict(entries)
        else:
            self._progress(entries, pending=sum(1 for e in entries if e['action'] == 'cleaned'))
            verdict = campaign.run(entries, on_progress=lambda counts: self._progress(
                entries, counts['in_flight'] + counts['queued']))
        self._progress(entries, finished=True)
        tracker = DifferenceTracker()
        for e in entries:
            if e['action'] == 'cleaned':
                labels = [step_label(s) for s in e['clean_steps']]
                tracker.add(e['name'], dict(('%s %s' % (f['kind'], f['name']), f['reported']) for f in e['drift']),
                            dict([('%s %s' % (f['kind'], f['name']), f['requested']) for f in e['drift']]
                                 + [('clean_steps', labels)]), changes=labels)
        fail_msg = None
        if verdict['stopped']:
            fail_msg = '%s; %s' % (verdict['msg'], '; '.join(e['msg'] for e in entries if e['action'] in ('failed', 'refused')))
        self.report_nodes(entries, 'cleaning campaign' + (' of rack %s' % rack if p['rack'] else ''),
                          changing=('cleaned',), failing=('failed', 'refused'), tracker=tracker, fail_msg=fail_msg,
                          verdict=verdict, api_writes=adapter.writes)


def main():
    IronicCleanModule()()


if __name__ == '__main__':
    main()
