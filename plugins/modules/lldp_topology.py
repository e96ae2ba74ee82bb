#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: lldp_topology
short_description: Map inspected nodes to leaf switches and racks from LLDP, check the cabling, and record it in Ironic
version_added: 0.1.0
description:
  - Reads the inspection data of nodes, decodes their LLDP neighbours (Ironic's
    C(plugin_data.parsed_lldp), else C(plugin_data.lldp_raw), else C(inventory.interfaces[].lldp),
    else ironic-inspector's C(all_interfaces[].lldp_processed)) and reports, per node and NIC,
    the switch, a readable port (the port description when the port ID is a MAC or an ifIndex),
    VLANs, MTU and rack.
  - Checks the cabling against the O(switches) map and the intended placement and reports
    findings C(no_lldp), C(unknown_switch), C(rack_mismatch), C(split_rack), C(bond_split),
    C(duplicate_switch_port), C(vlan_missing) and C(mtu_mismatch).
  - With O(apply=true) writes to Ironic, per port, C(local_link_connection) (C(switch_id), the
    switch MAC from the chassis ID or a MAC management address, else the map's C(chassis_id);
    C(port_id); C(switch_info)) and the rack's C(physical_network); per node, the rack trait
    C(CUSTOM_RACK_<RACK>) (other C(CUSTOM_RACK_*) traits removed) and C(extra.rack). Other keys
    are left alone. Nodes with blocking findings are not written unless O(apply_on_findings=true).
  - Without O(apply), only reads (the report still shows what would change).
  - O(report_dir) receives C(topology.html) (inline SVG picture plus tables, readable in a browser
    and as an AWX artifact), C(topology.svg) and C(topology.json).
extends_documentation_fragment:
  - spineleaf.baremetal.openstack
  - spineleaf.baremetal.attributes
options:
  nodes:
    description:
      - Nodes to map. Each item is a node name or UUID, or a dict with C(name) and the intended
        placement, C(rack), C(nics) (list of C({name, mac, leaf, port})) and C(bonds) (list of
        C({name, members})), as in the site inventory.
      - Default, all nodes that have inspection data.
    type: list
    elements: raw
  switches:
    description:
      - Leaf switches, keyed by LLDP system name, chassis ID (MAC), or a regular expression over
        the system name. Each value is a dict with C(rack) (required), optional C(leaf),
        C(physical_network), C(mlag_peer) (the other switch of an MLAG pair), C(chassis_id)
        (also used for lookup), C(provisioning_vlan) (checked by C(vlan_missing)) and C(mtu)
        (checked by C(mtu_mismatch)).
    type: dict
    required: true
  apply:
    description:
      - Write the topology to Ironic ports and nodes.
    type: bool
    default: false
  apply_on_findings:
    description:
      - Also write nodes that have blocking findings.
    type: bool
    default: false
  blocking_findings:
    description:
      - Findings that keep a node from being written (and that the introspect role fails a rack on).
    type: list
    elements: str
    choices: [no_lldp, unknown_switch, rack_mismatch, split_rack, bond_split, duplicate_switch_port, vlan_missing, mtu_mismatch]
    default: [no_lldp, unknown_switch, rack_mismatch, split_rack, bond_split, duplicate_switch_port, vlan_missing]
  mtu:
    description:
      - Expected switch port MTU for every switch without its own C(mtu).
    type: int
  report_dir:
    description:
      - Directory (on the controller running the module) to write C(topology.html), C(topology.svg)
        and C(topology.json) to. Created when missing.
    type: path
  concurrency:
    description:
      - How many inventories are read, and nodes written, at the same time.
    type: int
    default: 16
author:
  - Spineleaf Baremetal Team (@spineleaf)
'''

EXAMPLES = r'''
- name: Map rack r01 and check its cabling (read only)
  spineleaf.baremetal.lldp_topology:
    nodes: "{{ groups['rack_r01'] | map('extract', hostvars) | map('dict2items') | map('items2dict') | list }}"
    switches: "{{ leaf_switches }}"
    report_dir: /tmp/lldp-report

- name: Record switch ports, physnets and rack traits in Ironic
  spineleaf.baremetal.lldp_topology:
    nodes: [r01-n01, r01-n02]
    switches:
      leaf-r01-a: {rack: r01, physical_network: leaf1, mlag_peer: leaf-r01-b, provisioning_vlan: 101}
      leaf-r01-b: {rack: r01, physical_network: leaf1, mlag_peer: leaf-r01-a, provisioning_vlan: 101}
      '^spine-.*$': {rack: spine}
    apply: true
'''

RETURN = r'''
nodes:
  description: Per node, its topology.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Node name.
      type: str
    rack:
      description: Rack of the switches the node is cabled to (null when unknown or split).
      type: str
      sample: r01
    expected_rack:
      description: Rack the inventory says.
      type: str
    blocked:
      description: Whether the node has blocking findings.
      type: bool
    lldp_source:
      description: Where the LLDP data came from (parsed_lldp, lldp_raw, inventory, lldp_processed).
      type: str
    nics:
      description: Per NIC, C(nic), C(mac), C(switch), C(system_name), C(chassis_id), C(switch_mac), C(port),
        C(port_id), C(port_description), C(untagged_vlan), C(vlans), C(mtu), C(lag), C(rack), C(physical_network).
      type: list
      elements: dict
    findings:
      description: This node's findings.
      type: list
      elements: dict
    changes:
      description: What was (or, without apply or in check mode, would be) written.
      type: dict
findings:
  description: Every finding, each with C(node), C(nic), C(finding), C(blocking) and C(msg).
  returned: always
  type: list
  elements: dict
blocked:
  description: Names of the nodes with blocking findings.
  returned: always
  type: list
  elements: str
api_writes:
  description: Write calls made to Ironic.
  returned: always
  type: int
report:
  description: Paths of the report files written.
  returned: when O(report_dir) is set
  type: dict
  sample: {html: /tmp/r/topology.html, svg: /tmp/r/topology.svg, json: /tmp/r/topology.json}
'''

import json
import os

from ansible_collections.spineleaf.baremetal.plugins.module_utils._base import BaremetalError, BaremetalModule
from ansible_collections.spineleaf.baremetal.plugins.module_utils._ironic import IronicAdapter, describe
from ansible_collections.spineleaf.baremetal.plugins.module_utils._lldp import neighbours
from ansible_collections.spineleaf.baremetal.plugins.module_utils._topology import (
    DEFAULT_BLOCKING, FINDINGS, SwitchMap, analyse, plan_node_writes, render_html, render_svg)

NODE_FIELDS = ['uuid', 'name', 'traits', 'extra', 'inspection_finished_at']


def _port_dict(port):
    return dict(uuid=port.id, address=port.address, node_uuid=port.node_id,
                local_link_connection=dict(port.local_link_connection or {}),
                physical_network=port.physical_network)


class LldpTopologyModule(BaremetalModule):
    argument_spec = dict(
        nodes=dict(type='list', elements='raw'),
        switches=dict(type='dict', required=True),
        apply=dict(type='bool', default=False),
        apply_on_findings=dict(type='bool', default=False),
        blocking_findings=dict(type='list', elements='str', choices=list(FINDINGS), default=list(DEFAULT_BLOCKING)),
        mtu=dict(type='int'),
        report_dir=dict(type='path'),
        concurrency=dict(type='int', default=16),
    )

    def _requested(self, all_nodes):
        by_key = {}
        for node in all_nodes:
            by_key[node['uuid']] = node
            if node.get('name'):
                by_key[node['name']] = node
        if self.params['nodes'] is None:
            return [(n, {}) for n in all_nodes if n.get('inspection_finished_at')]
        out, missing = [], []
        for item in self.params['nodes']:
            expected = dict(item) if isinstance(item, dict) else {}
            key = expected.get('name') or expected.get('inventory_hostname') if expected else str(item)
            node = by_key.get(key)
            if node is None:
                missing.append(str(key))
                continue
            out.append((node, expected))
        if missing:
            raise BaremetalError('nodes not found in Ironic: %s (enroll them first)' % ', '.join(missing))
        return out

    def run(self):
        p = self.params
        for key, entry in (p['switches'] or {}).items():
            if not isinstance(entry, dict) or not entry.get('rack'):
                raise BaremetalError('switches: entry %r needs a dict with a rack, got %r' % (key, entry))
        adapter = IronicAdapter(self.conn, concurrency=p['concurrency'])
        requested = self._requested(adapter.list_node_dicts(NODE_FIELDS))

        def read(pair):
            return adapter.get_inventory(pair[0]['uuid'])

        inputs, sources, warnings = [], {}, []
        for pair, inspection, error in adapter.parallel(requested, read):
            node, expected = pair
            name = node.get('name') or node['uuid']
            if error is not None:
                raise BaremetalError(describe(error, 'inventory of node %s' % name))
            inspection = inspection or {}
            source, nbrs = neighbours(inspection, warnings, '%s ' % name)
            sources[name] = source
            interfaces = (inspection.get('inventory') or {}).get('interfaces') or []
            inputs.append(dict(name=name, neighbours=nbrs, interfaces=interfaces, expected=expected))
        for warning in warnings:
            self.warn('LLDP: %s' % warning)

        switches = SwitchMap(p['switches'])
        topologies, findings = analyse(inputs, switches, p['blocking_findings'], p['mtu'])

        ports_by_node = {}
        if requested:
            for port in adapter.list_ports():
                ports_by_node.setdefault(port.node_id, []).append(_port_dict(port))
        plans = []
        for topo, (node, expected) in zip(topologies, requested):
            topo['lldp_source'] = sources.get(topo['name'])
            plan = plan_node_writes(topo, dict(uuid=node['uuid'], name=topo['name'], traits=node.get('traits'),
                                               extra=node.get('extra')), ports_by_node.get(node['uuid'], []))
            writable = not topo['blocked'] or p['apply_on_findings']
            topo['changes'] = dict(node=plan['node'], ports=[dict(address=c['address'], nic=c['nic'], patch=c['patch'])
                                                             for c in plan['ports']],
                                   skipped_for_findings=bool(topo['blocked'] and not p['apply_on_findings'] and
                                                             (plan['node'] or plan['ports'])))
            if writable and (plan['node'] or plan['ports']):
                plans.append((node['uuid'], topo['name'], plan))

        changed = bool(p['apply'] and plans)
        if p['apply'] and plans and not self.check_mode:
            def write(item):
                self._write(adapter, *item)
            for item, _res, error in adapter.parallel(plans, write):
                if error is not None:
                    raise BaremetalError(describe(error, 'node %s' % item[1]))

        result = dict(changed=changed, nodes=topologies, findings=findings,
                      blocked=[t['name'] for t in topologies if t['blocked']], api_writes=adapter.writes)
        if self.diff_mode and p['apply']:
            result['diff'] = dict(before=dict((name, plan['before']) for _u, name, plan in plans),
                                  after=dict((name, plan['after']) for _u, name, plan in plans))
        if p['report_dir']:
            result['report'] = self._report(p['report_dir'], topologies, findings, p['switches'])
        self.exit_json(**result)

    def _write(self, adapter, node_uuid, name, plan):
        api = adapter.api
        for change in plan['ports']:
            adapter.write(api.update_port, change['uuid'], **change['patch'])
        node = plan['node']
        for trait in node.get('remove_traits') or []:
            adapter.write(api.remove_node_trait, node_uuid, trait)
        for trait in node.get('add_traits') or []:
            adapter.write(api.add_node_trait, node_uuid, trait)
        if 'extra_rack' in node:
            adapter.write(api.patch_node, node_uuid, [dict(op='add', path='/extra/rack', value=node['extra_rack'])])

    def _report(self, directory, topologies, findings, switches):
        try:
            os.makedirs(directory, exist_ok=True)
            paths = dict(html=os.path.join(directory, 'topology.html'), svg=os.path.join(directory, 'topology.svg'),
                         json=os.path.join(directory, 'topology.json'))
            with open(paths['html'], 'w') as f:
                f.write(render_html(topologies, findings, switches))
            with open(paths['svg'], 'w') as f:
                f.write(render_svg(topologies, switches))
            with open(paths['json'], 'w') as f:
                json.dump(dict(nodes=topologies, findings=findings, switches=switches), f, indent=1, sort_keys=True)
        except OSError as exc:
            raise BaremetalError('report_dir %s: cannot write the report: %s' % (directory, exc))
        return paths


def main():
    LldpTopologyModule()()


if __name__ == '__main__':
    main()
