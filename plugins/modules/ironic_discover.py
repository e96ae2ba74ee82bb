#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: ironic_discover
short_description: Name auto-discovered bare-metal machines after the leaf port they are cabled to
version_added: 0.1.0
description:
  - For sites that know where each server is cabled (leaf switch and port) but not its MACs.
    Ironic's auto-discovery enrolls every unknown machine that boots the inspection ramdisk as a
    node in C(enroll) without a name; this module finds which inventory node each machine is.
  - Lists the discovered nodes (in C(enroll) without a name, or carrying this collection's marker
    C(extra.spineleaf_discovery)), reads the switch and port each of their NICs reports (the ports'
    C(local_link_connection), else the LLDP of the stored inspection data) and matches them to the
    intended positions of O(nodes) (C(nics[].leaf) / C(nics[].port)).
  - Claims each matched machine - name, C(driver) and C(driver_info) from the inventory (the BMC
    address from the inventory, or the one the machine's ramdisk reported when the inventory has
    none), the marker and C(extra.rack) - and returns each node's NICs with the MACs it learned, so
    enrollment (M(spineleaf.baremetal.ironic_nodes)) then makes the node declarative as any other.
  - Nothing is guessed. Reported, never claimed - a machine on a port no node claims (with its switch,
    port, MACs and BMC address), two machines on one position, a machine cabled to the positions of
    several nodes, a position no machine reported within O(timeout).
  - Two nodes for one machine (two simultaneous posts) are merged by MAC - the one with inspection
    data and most ports is kept, the other deleted only when it holds nothing of its own (no name,
    no instance, still C(enroll), only the machine's MACs). Orphan nodes of a failed post (no ports,
    no inspection data, with C(last_error) or older than O(orphan_age)) are reported, and deleted
    with O(prune=true).
  - Auto-discovery needs C([auto_discovery] enabled = true) in Ironic and enrolls any machine that can
    reach the inspection endpoint without authentication; see the README, "Discovery".
extends_documentation_fragment:
  - spineleaf.baremetal.openstack
  - spineleaf.baremetal.attributes
options:
  nodes:
    description:
      - The inventory nodes to discover (their intended positions), for example from the filter
        P(spineleaf.baremetal.discover_node#filter).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Node name (the inventory hostname).
        type: str
        required: true
      rack:
        description:
          - The node's rack; written to C(extra.rack).
        type: str
      nics:
        description:
          - The node's NICs, C({name, mac, pxe, leaf, port}); a NIC without C(mac) needs C(leaf) and C(port).
        type: list
        elements: dict
        required: true
      driver:
        description:
          - Hardware type; a discovered node with another driver is switched (with its interfaces reset).
        type: str
      driver_info:
        description:
          - C(driver_info) keys to write when claiming (BMC address, user, password).
        type: dict
      bmc_address_key:
        description:
          - The C(driver_info) key of the BMC address, set from the ramdisk's report when O(nodes[].driver_info) lacks it.
        type: str
        default: ipmi_address
      bmc_address:
        description:
          - The BMC address the inventory gives (returned as is; C(driver_info) carries what is written).
        type: str
  leaf_switches:
    description:
      - The site's C(leaf_switches) map (switch name -> C({chassis_id})), to name switches that send no
        system name in LLDP by their chassis MAC.
    type: dict
  timeout:
    description:
      - Seconds to wait for a machine at every position (polling every O(poll_interval)); C(0) looks once.
    type: int
    default: 0
  poll_interval:
    description: Seconds between two looks while waiting.
    type: float
    default: 2.0
  prune:
    description: Delete orphan nodes (no ports, no inspection data) left by failed discovery posts.
    type: bool
    default: false
  orphan_age:
    description: Seconds after which a discovered node without ports or inspection data counts as an orphan.
    type: float
    default: 60.0
  concurrency:
    description: How many API calls run at the same time.
    type: int
    default: 8
author:
  - Spineleaf Baremetal Team (@spineleaf)
'''

EXAMPLES = r'''
- name: Name the machines of the site after the leaf ports they are cabled to
  spineleaf.baremetal.ironic_discover:
    cloud: spineleaf-lab
    nodes: "{{ groups['baremetal'] | map('extract', hostvars) | map('spineleaf.baremetal.discover_node') | list }}"
    leaf_switches: "{{ leaf_switches }}"
    timeout: 300
  register: discovery

- name: A node without MACs in the inventory
  spineleaf.baremetal.ironic_discover:
    nodes:
      - name: r07-n12
        rack: r07
        driver: ipmi
        driver_info: {ipmi_username: admin, ipmi_password: "{{ vault_bmc_password }}"}
        nics:
          - {name: eno1, pxe: true, leaf: leaf-r07-a, port: Ethernet1/12}
          - {name: eno2, leaf: leaf-r07-b, port: Ethernet1/12}
    prune: true
'''

RETURN = r'''
nodes:
  description: One entry per requested node, in request order.
  returned: always
  type: list
  elements: dict
  contains:
    changed:
      description: Whether the node changed (or would, in check mode). Part of the per-node result contract.
      type: bool
    failed:
      description: Whether the node failed. Part of the per-node result contract.
      type: bool
    name:
      description: Node name.
      type: str
      sample: r07-n12
    action:
      description:
        - C(claimed) (a machine was named after this position), C(would_claim) (check mode),
          C(unchanged) (a node of this name exists already) or C(failed) (no machine, or a conflict).
      type: str
      sample: claimed
    uuid:
      description: The node's UUID (null when no machine was found).
      type: str
    machine:
      description:
        - The machine - C(uuid), C(macs), C(bmc_address), C(links) (C(switch), C(port), C(mac)).
      type: dict
    nics:
      description: The node's inventory NICs with the MAC learned for each (C(mac) missing when none was).
      type: list
      elements: dict
    bmc_address:
      description: The BMC address (from the inventory, else the ramdisk's report).
      type: str
    changes:
      description: What claiming writes (no values).
      type: list
      elements: str
    msg:
      description: Why the node failed, or a warning.
      type: str
unmatched:
  description:
    - Machines not claimed, each with C(uuid), C(macs), C(bmc_address), C(links) and C(reason).
  returned: always
  type: list
  elements: dict
duplicates:
  description:
    - Machines Ironic enrolled twice - C(kept), C(deleted) (UUIDs), C(kept_too) (not deletable), C(macs).
  returned: always
  type: list
  elements: dict
orphans:
  description:
    - Discovered nodes without ports or inspection data - C(uuid), C(last_error), C(action) (C(report), C(delete), C(deleted)).
  returned: always
  type: list
  elements: dict
pending:
  description: UUIDs of discovered nodes Ironic was still filling in at the end.
  returned: always
  type: list
  elements: str
mac_report:
  description:
    - "Per node, its NICs' learned MACs, as an inventory snippet (C(node -> nics))."
  returned: always
  type: dict
summary:
  description: Count of nodes per action.
  returned: always
  type: dict
  sample: {claimed: 3, unchanged: 1, failed: 0}
api_writes:
  description: Write calls made to Ironic (0 in check mode and when nothing was to do).
  returned: always
  type: int
'''

import time

from ..module_utils._base import BaremetalError, BaremetalModule
from ..module_utils._discover import (
    NODE_FIELDS, PORT_FIELDS, is_candidate, plan)
from ..module_utils._ironic import IronicAdapter, describe
from ..module_utils._window import poll
from ..module_utils._util import DifferenceTracker


class IronicDiscoverModule(BaremetalModule):
    argument_spec = dict(
        nodes=dict(type='list', elements='dict', required=True, options=dict(
            name=dict(type='str', required=True),
            rack=dict(type='str'),
            nics=dict(type='list', elements='dict', required=True),
            driver=dict(type='str'),
            driver_info=dict(type='dict', no_log=True),
            bmc_address_key=dict(type='str', default='ipmi_address', no_log=False),
            bmc_address=dict(type='str'),
        )),
        leaf_switches=dict(type='dict'),
        timeout=dict(type='int', default=0),
        poll_interval=dict(type='float', default=2.0),
        prune=dict(type='bool', default=False),
        orphan_age=dict(type='float', default=60.0),
        concurrency=dict(type='int', default=8),
    )

    def _look(self, adapter, positions, chassis):
        names = set(p['name'] for p in positions)
        nodes, ports, inspections = adapter.discovery_state(NODE_FIELDS, PORT_FIELDS,
                                                            lambda n: is_candidate(n, names))
        try:
            return plan(positions, nodes, ports, inspections, now=time.time(), chassis_names=chassis,
                        prune=self.params['prune'], orphan_age=self.params['orphan_age'])
        except ValueError as exc:
            raise BaremetalError(str(exc))

    def run(self):
        p = self.params
        if p['concurrency'] < 1 or p['timeout'] < 0:
            raise BaremetalError('concurrency must be at least 1 and timeout not negative')
        positions = [dict(n) for n in p['nodes']]
        chassis = dict(((sw or {}).get('chassis_id'), name) for name, sw in (p['leaf_switches'] or {}).items()
                       if isinstance(sw, dict) and sw.get('chassis_id'))
        adapter = IronicAdapter(self.conn, concurrency=p['concurrency'])
        deadline = time.monotonic() + p['timeout']
        last = []

        def settle(planned):
            """Done looking: every position has its machine, or the next look would pass the timeout."""
            last[:] = [planned]
            waiting = any(n['action'] == 'missing' for n in planned['nodes']) or planned['pending']
            return not waiting or time.monotonic() + p['poll_interval'] > deadline
        poll(lambda: self._look(adapter, positions, chassis), settle, p['poll_interval'])
        self._apply(adapter, last[0])

    def _apply(self, adapter, planned):
        tracker = DifferenceTracker()
        for orphan in planned['orphans']:
            if orphan['action'] == 'delete':
                tracker.add('orphan %s' % orphan['uuid'], {'uuid': orphan['uuid']}, None, ['deleted'])
                if not self.check_mode:
                    adapter.delete_node(orphan['uuid'])
                    orphan['action'] = 'deleted'
        for dup in planned['duplicates']:
            for uuid in dup['deleted']:
                tracker.add('duplicate %s' % uuid, {'uuid': uuid, 'duplicate_of': dup['kept']}, None, ['deleted'])
                if not self.check_mode:
                    adapter.delete_node(uuid)
        results = []
        for entry in planned['nodes']:
            patch = entry.pop('patch', None)
            reset = entry.pop('reset_interfaces', False)
            action = entry.pop('action')
            if action == 'claim':
                tracker.add(entry['name'], {'uuid': entry['uuid'], 'name': None},
                            {'uuid': entry['uuid'], 'name': entry['name'],
                             'position': [dict(switch=n.get('leaf'), port=n.get('port'), mac=n.get('mac'))
                                          for n in entry['nics'] if n.get('leaf')]}, entry['changes'])
                if self.check_mode:
                    action = 'would_claim'
                else:
                    try:
                        adapter.claim_node(entry['uuid'], patch, reset_interfaces=reset)
                        action = 'claimed'
                    except Exception as exc:  # one node's failure is that node's
                        action, entry['msg'] = 'failed', describe(exc, 'node %s' % entry['name'])
            elif action in ('missing', 'conflict'):
                action = 'failed'
            results.append(dict(entry, action=action))
        self.report_nodes(results, 'discovery', changing=('claimed', 'would_claim'), tracker=tracker,
                          summary_keys=('claimed', 'would_claim', 'unchanged', 'failed'),
                          unmatched=planned['unmatched'], duplicates=planned['duplicates'], orphans=planned['orphans'],
                          pending=planned['pending'], api_writes=adapter.writes,
                          mac_report=dict((r['name'], {'nics': [dict((k, n[k]) for k in ('name', 'mac', 'leaf', 'port') if k in n)
                                                                for n in r['nics']]}) for r in results))


def main():
    IronicDiscoverModule()()


if __name__ == '__main__':
    main()
