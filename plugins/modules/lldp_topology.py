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
  - Checks the cabling port by port against the O(switches) map and each node's intended placement.
    Inventory NICs (C(nics[].mac)) are found in the inspection data by MAC, so a NIC that the
    ramdisk reports under another interface name is still recognised; the interface name is used
    only where the inspection data has no MAC at all. Each NIC's observed switch (by LLDP system
    name, chassis ID or a regular expression, see O(switches)) and readable port are compared with
    its C(leaf) and C(port).
  - "Findings, each naming the node, the NIC and the intended and observed leaf/port:
    C(wrong_port) (right leaf, other port; two NICs on each other's ports of one leaf are one
    finding that names both, listed on both nodes), C(wrong_leaf) (another leaf of the same rack),
    C(rack_mismatch) (a leaf of another rack), C(split_rack), C(not_mlag_pair) (a NIC on the MLAG
    peer of its leaf, together with another NIC of the node: the node is not spread over the pair),
    C(bond_split) (bond members on switches that are not an MLAG pair), C(mac_not_seen) (an
    inventory MAC that no inspected interface has: usually a typo), C(unexpected_nic) (an interface
    with link and an LLDP neighbour that the inventory does not list), C(unknown_switch),
    C(no_lldp), C(duplicate_switch_port), C(vlan_missing) and C(mtu_mismatch)."
  - "A node inspected without any LLDP (Ironic's agent inspection collects LLDP only with
    C(ipa-collect-lldp=1) on the ramdisk's kernel command line) gets one C(no_lldp) finding with
    C(cause=lldp_not_collected) that names the fix (C([inspector] extra_kernel_params =
    ipa-collect-lldp=1)), instead of one per NIC; when no node of a rack (two or more nodes) has
    LLDP, one finding for the rack (C(scope=rack), C(rack), C(nodes), C(fix)) is listed on each of
    its nodes and once in RV(findings). A node with no inspection data at all gets C(cause=not_inspected)."
  - "Out-of-band (C(redfish), C(idrac-redfish)) inspection stores the BMC's LLDP in
    C(plugin_data.parsed_lldp) keyed by the BMC's port identity, which need not be an inspected
    interface's name: such an entry is tied to the inventory NIC (found by MAC) that has no LLDP and
    whose intended C(leaf) and C(port) it reports (C(nics[].lldp_interface) names the entry)."
  - "Port names: write C(nics[].port) the way the switch names its ports. Spellings of one port
    are the same port: C(Ethernet1/3), C(Eth1/3) and C(Et1/3); C(xe-0/0/3), C(ge-0/0/3),
    C(et-0/0/3) and C(ge-0/0/3.0) (Junos media prefix and logical unit); case and spaces are
    ignored; a bare number (C(3)) matches the port whose last number it is (C(swp3), C(Ethernet1/3)).
    Switches that send a MAC or an ifIndex as port ID are read from the port description."
  - With O(apply=true) writes to Ironic, per port, C(local_link_connection) (C(switch_id), the
    switch MAC from the chassis ID or a MAC management address, else the map's C(chassis_id);
    C(port_id); C(switch_info)) and the rack's C(physical_network); per node, the rack trait
    C(CUSTOM_RACK_<RACK>) (other C(CUSTOM_RACK_*) traits removed), C(extra.rack) and
    C(extra.cabling_fingerprint) (a digest of the intended placement that checked clean, and the
    inspection it was checked on; M(spineleaf.baremetal.ironic_inspect) inspects a node again when
    it is not what its O(spineleaf.baremetal.ironic_inspect#module:fingerprints) entry expects).
    Other keys are left alone.
  - A node with blocking findings gets no write at all (its ports keep what they had; result
    C(action=blocked)) unless O(apply_on_findings=true); the other nodes are written. A node whose
    write fails is reported with C(action=failed); the writes made to the others stand, and the
    module fails at the end with every node's result.
  - Without O(apply), only reads (the report still shows what would change).
  - O(report_dir) receives C(topology.html) (a self-contained page - inline SVG picture of leaves,
    ports, nodes and NIC links, mis-cabled links in red, findings and a port map per leaf - readable
    in a browser and as an AWX artifact), C(topology.svg) and C(topology.json). The introspect role
    also writes one site-wide page with filter P(spineleaf.baremetal.topology_html#filter).
extends_documentation_fragment:
  - spineleaf.baremetal.openstack
  - spineleaf.baremetal.rack_calls
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
    choices: [no_lldp, unknown_switch, rack_mismatch, split_rack, wrong_leaf, wrong_port, not_mlag_pair, bond_split,
              mac_not_seen, unexpected_nic, duplicate_switch_port, vlan_missing, mtu_mismatch]
    default: [no_lldp, unknown_switch, rack_mismatch, split_rack, wrong_leaf, wrong_port, not_mlag_pair, bond_split,
              mac_not_seen, duplicate_switch_port, vlan_missing]
  mtu:
    description:
      - Expected switch port MTU for every switch without its own C(mtu).
    type: int
  report_dir:
    description:
      - Directory (on the controller running the module) to write C(topology.html), C(topology.svg)
        and C(topology.json) to. Created when missing.
      - The reports hold node data (MACs, switch ports, cabling), so the files are written with mode
        C(0600) and the directories the module creates with C(0700).
    type: path
  report_keep:
    description:
      - Nodes this run does not map but the report should still show (e.g. the other nodes of a rack
        when a run is limited to one node with C(--limit)). Their entries (and findings) are taken from
        the C(topology.json) already in O(report_dir), so a limited run merges into the rack's report
        instead of overwriting it with a smaller one. Nodes of the old report that are neither mapped
        now nor listed here are dropped.
    type: list
    elements: str
    default: []
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
results:
  description:
    - With O(racks), one entry per rack, in the order given - each this module's result for that
      rack (the keys below) and C(rack), the rack's name - as a loop over the racks would register.
  returned: when O(racks) is given
  type: list
  elements: dict
nodes:
  description: Per node, its topology.
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
    action:
      description: What happened to the node - C(updated), C(unchanged), C(would_update) (without O(apply)),
        C(blocked) (blocking findings, nothing written) or C(failed) (its data could not be read or written).
      type: str
    msg:
      description: The node's findings (and error), one sentence each; absent when there is nothing to say.
      type: str
    fingerprint:
      description: What is recorded as C(extra.cabling_fingerprint), C(<placement digest>@<inspection time>) (null when blocked).
      type: str
    lldp_source:
      description: Where the LLDP data came from (parsed_lldp, lldp_raw, inventory, lldp_processed).
      type: str
    nics:
      description: Per NIC, C(nic) (inventory name), C(interface) (name in the inspection data), C(matched_by)
        (C(mac), C(name) or null), C(lldp_interface) (the out-of-band LLDP entry tied to the NIC by its
        intended leaf port, else null), C(inventory), C(intended_leaf), C(intended_port), C(mac), C(switch),
        C(system_name), C(chassis_id), C(switch_mac), C(port), C(port_id), C(port_description),
        C(untagged_vlan), C(vlans), C(mtu), C(lag), C(rack), C(physical_network).
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
  description: Every finding, each with C(node), C(nic), C(finding), C(blocking) and C(msg), and where they apply
    C(intended_leaf), C(intended_port), C(observed_leaf), C(observed_port), C(swapped_with), C(nodes), C(cause)
    (C(lldp_not_collected), C(not_inspected)), C(fix), C(scope) (C(rack) for a finding about a whole rack) and C(rack).
  returned: always
  type: list
  elements: dict
blocked:
  description: Names of the nodes with blocking findings.
  returned: always
  type: list
  elements: str
failed_nodes:
  description: Names of the nodes whose data could not be read or written.
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
  sample: {html: /tmp/r/topology.html, svg: /tmp/r/topology.svg, json: /tmp/r/topology.json, kept: [r02-n01]}
  contains:
    kept:
      description: Nodes whose entries were kept from the earlier report (O(report_keep)).
      type: list
      elements: str
summary:
  description: Number of nodes per RV(nodes[].action).
  returned: always
  type: dict
  sample: {updated: 40}
'''

import json
import os

from ..module_utils._base import BaremetalError, BaremetalModule
from ..module_utils._ironic import IronicAdapter, describe
from ..module_utils._lldp import neighbours
from ..module_utils._util import DifferenceTracker
from ..module_utils._topology import (
    DEFAULT_BLOCKING, FINDINGS, SwitchMap, analyse, cabling_record, node_message, placement_fingerprint,
    plan_node_writes)
from ..module_utils._topology_report import (
    merge_report, render_rack_svg, render_report)

NODE_FIELDS = ['uuid', 'name', 'traits', 'extra', 'inspection_finished_at']


class LldpTopologyModule(BaremetalModule):
    rack_calls = True  # racks: one call for every rack (module_utils/_base.py)
    argument_spec = dict(
        nodes=dict(type='list', elements='raw'),
        switches=dict(type='dict', required=True),
        apply=dict(type='bool', default=False),
        apply_on_findings=dict(type='bool', default=False),
        blocking_findings=dict(type='list', elements='str', choices=list(FINDINGS), default=list(DEFAULT_BLOCKING)),
        mtu=dict(type='int'),
        report_dir=dict(type='path'),
        report_keep=dict(type='list', elements='str', default=[]),
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

    def _read(self, adapter, requested):
        """Inspection data of every requested node -> analyse() inputs; per-node read errors are
        that node's failure, the others go on."""
        inputs, sources, errors, warnings = [], {}, {}, []
        for pair, inspection, error in adapter.parallel(requested, lambda pair: adapter.get_inventory(pair[0]['uuid'])):
            node, expected = pair
            name = node.get('name') or node['uuid']
            if error is not None:
                errors[name] = describe(error, 'inventory of node %s' % name)
                inspection = None
            inspection = inspection or {}
            source, nbrs = neighbours(inspection, warnings, '%s ' % name)
            sources[name] = source
            interfaces = (inspection.get('inventory') or {}).get('interfaces') or []
            inputs.append(dict(name=name, neighbours=nbrs, interfaces=interfaces, expected=expected))
        for warning in warnings:
            self.warn('LLDP: %s' % warning)
        return inputs, sources, errors

    def run(self):
        p = self.params
        for key, entry in (p['switches'] or {}).items():
            if not isinstance(entry, dict) or not entry.get('rack'):
                raise BaremetalError('switches: entry %r needs a dict with a rack, got %r' % (key, entry))
        adapter = IronicAdapter(self.conn, concurrency=p['concurrency'], adaptive_writes=True)
        requested = self._requested(adapter.list_raw('nodes', fields=NODE_FIELDS))
        inputs, sources, read_errors = self._read(adapter, requested)
        topologies, findings = analyse(inputs, SwitchMap(p['switches']), p['blocking_findings'], p['mtu'])

        ports_by_node = {}
        if requested:
            for port in adapter.list_port_dicts():
                ports_by_node.setdefault(port['node_uuid'], []).append(port)
        plans = []
        for topo, (node, expected) in zip(topologies, requested):
            topo['lldp_source'] = sources.get(topo['name'])
            writable = not topo['blocked'] or p['apply_on_findings']
            # The fingerprint says "this placement checked clean": never recorded for a blocked node,
            # so the next run inspects it again.
            fingerprint = (cabling_record(placement_fingerprint(expected), node.get('inspection_finished_at'))
                           if not topo['blocked'] else None)
            plan = plan_node_writes(topo, dict(uuid=node['uuid'], name=topo['name'], traits=node.get('traits'),
                                               extra=node.get('extra')), ports_by_node.get(node['uuid'], []),
                                    fingerprint)
            pending = bool(plan['node'] or plan['ports'])
            topo['changes'] = dict(node=plan['node'], ports=[dict(address=c['address'], nic=c['nic'], patch=c['patch'])
                                                             for c in plan['ports']],
                                   skipped_for_findings=bool(not writable and pending))
            topo['fingerprint'] = fingerprint
            self._set_action(topo, read_errors.get(topo['name']), writable, pending)
            if p['apply'] and writable and pending and topo['action'] != 'failed':
                plans.append((node['uuid'], topo, plan))

        if p['apply'] and plans and not self.check_mode:
            for item, _res, error in adapter.parallel(plans, lambda item: self._write(adapter, item[0], item[2])):
                if error is not None:
                    # Per node: the others' writes stand and are reported.
                    item[1].update(action='failed', msg=describe(error, 'node %s' % item[1]['name']))
        tracker = DifferenceTracker()
        if p['apply']:
            for _u, topo, plan in plans:
                tracker.add(topo['name'], plan['before'], plan['after'], changes=['updated'])
        for topo, (node, _expected) in zip(topologies, requested):
            topo.setdefault('uuid', node['uuid'])
        failed_nodes = [t['name'] for t in topologies if t['action'] == 'failed']
        extra = dict(findings=findings, blocked=[t['name'] for t in topologies if t['blocked']], api_writes=adapter.writes,
                     failed_nodes=failed_nodes)
        if p['report_dir']:
            extra['report'] = self._report(p['report_dir'], topologies, findings, p['switches'])
        # A blocked node fails (its host does not go on) without failing the module: only a node
        # whose data could not be read or written does.
        self.report_nodes(topologies, 'lldp_topology', changing=('updated',), failing=('failed', 'blocked'),
                          tracker=tracker if p['apply'] else None,
                          changed=any(t['action'] == 'updated' for t in topologies),
                          fail_msg=('lldp_topology failed for %s: %s' % (', '.join(failed_nodes), '; '.join(
                              t['msg'] for t in topologies if t['action'] == 'failed'))) if failed_nodes else False,
                          **extra)

    def _set_action(self, topo, read_error, writable, pending):
        """Per-node outcome: failed (inspection data unreadable), blocked (blocking findings, not
        written), updated / unchanged (or would_update without apply)."""
        blocking = [node_message(f, topo['name']) for f in topo['findings'] if f['blocking']]
        if read_error:
            topo.update(action='failed', msg=read_error)
        elif not writable:
            topo.update(action='blocked', msg='; '.join(blocking))
        elif not pending:
            topo.update(action='unchanged')
        elif not self.params['apply']:
            topo.update(action='would_update')
        else:
            topo.update(action='updated')
        if 'msg' not in topo and topo['findings']:
            topo['msg'] = '; '.join(node_message(f, topo['name']) for f in topo['findings'])

    def _write(self, adapter, node_uuid, plan):
        for change in plan['ports']:
            adapter.update_port_fields(change['uuid'], change['patch'])
        node = plan['node']
        for trait in node.get('remove_traits') or []:
            adapter.set_node_trait(node_uuid, trait, present=False)
        for trait in node.get('add_traits') or []:
            adapter.set_node_trait(node_uuid, trait)
        if node.get('extra'):
            adapter.set_node_extra(node_uuid, node['extra'])

    def _previous_report(self, path):
        """The report already in report_dir (None when there is none or it is unreadable: then
        nothing is kept, and the new report says only what this run saw)."""
        if not self.params['report_keep'] or not os.path.exists(path):
            return None
        try:
            with open(path) as f:
                return json.load(f)
        except (OSError, ValueError) as exc:
            self.warn('report_dir: cannot read the earlier report %s (%s); writing this run\'s nodes only' % (path, exc))
            return None

    def _report(self, directory, topologies, findings, switches):
        paths = dict(html=os.path.join(directory, 'topology.html'), svg=os.path.join(directory, 'topology.svg'),
                     json=os.path.join(directory, 'topology.json'))
        topologies, findings, kept = merge_report(self._previous_report(paths['json']), topologies, findings,
                                                  self.params['report_keep'])
        racks = sorted(set(str(t.get('expected_rack') or t.get('rack') or '?') for t in topologies)) or ['?']
        try:
            make_private_dirs(directory)
            write_private(paths['html'], render_report(topologies, switches, site='rack %s' % ', '.join(racks)))
            write_private(paths['svg'], render_rack_svg(racks[0], topologies, switches))
            write_private(paths['json'], json.dumps(dict(nodes=topologies, findings=findings, switches=switches),
                                                    indent=1, sort_keys=True))
        except OSError as exc:
            raise BaremetalError('report_dir %s: cannot write the report: %s' % (directory, exc))
        return dict(paths, kept=kept)


def make_private_dirs(directory):
    """Create ``directory`` and its missing parents with mode 0700; directories that already exist
    keep their mode (report_dir may be a shared one such as /tmp)."""
    missing = []
    path = os.path.abspath(directory)
    while not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:  # made meanwhile by another rack's call: keep its mode
            continue
        os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask


def write_private(path, text):
    """Write ``text`` to ``path`` with mode 0600, also when the file already exists with another."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(text)


def main():
    LldpTopologyModule()()


if __name__ == '__main__':
    main()
