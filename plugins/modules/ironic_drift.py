#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: ironic_drift
short_description: Report per node how its BIOS settings and firmware versions drift from the requested ones
version_added: 0.1.0
description:
  - Read only. For each node, compares the requested BIOS settings and firmware versions (the site's
    variables) with what Ironic reports - C(GET /v1/nodes/<node>/bios) and C(GET /v1/nodes/<node>/firmware)
    (API 1.86) - and lists every difference as a finding.
  - Only the kinds requested are read (a node without requested firmware costs no firmware read).
    A node whose driver has no BIOS or firmware interface (C(no-bios), C(no-firmware)), or an Ironic older
    than API 1.86 for firmware, gets one finding saying the drift cannot be known.
  - Values are compared as text, the way Ironic keeps them (YAML V(true) / V(false) read as C(Enabled) /
    C(Disabled)). Settings Ironic reports but the site does not request are not findings.
  - The module never fails for drift; a node that is not in Ironic fails its entry (RV(nodes[].failed)).
  - M(spineleaf.baremetal.ironic_clean) corrects the drift in a manual cleaning campaign.
extends_documentation_fragment:
  - spineleaf.baremetal.openstack
  - spineleaf.baremetal.attributes.info_module
options:
  nodes:
    description:
      - The nodes to check, by name or UUID, or dicts C({name, bios_settings, firmware, rack}) with the
        node's own requested settings (they win over O(bios_settings) / O(firmware), per setting and per component).
    type: list
    elements: raw
    required: true
  bios_settings:
    description:
      - BIOS settings requested of every node, setting name -> value (for example C(HyperThreading - Disabled)).
    type: dict
  firmware:
    description:
      - Firmware versions requested of every node, component -> C({version, url}) (or just the version).
        Components are the names the driver reports (Redfish - C(bios), C(bmc), NICs).
    type: dict
  concurrency:
    description:
      - How many nodes are read at the same time.
    type: int
    default: 8
author:
  - Spineleaf Baremetal Team (@spineleaf)
'''

EXAMPLES = r'''
- name: Drift of rack r01's nodes from the site's BIOS settings and firmware versions
  spineleaf.baremetal.ironic_drift:
    cloud: spineleaf-lab
    nodes: "{{ groups['rack_r01'] }}"
    bios_settings:
      HyperThreading: Disabled
      ProcVirtualization: Enabled
    firmware:
      bmc: {version: "2.1.0", url: "https://fw.example/bmc-2.1.0.bin"}
  register: drift

- name: Per-node settings (storage nodes want SR-IOV on)
  spineleaf.baremetal.ironic_drift:
    nodes:
      - name: r02-n01
        bios_settings: {SriovGlobalEnable: Enabled}
      - r02-n02
    bios_settings: {HyperThreading: Disabled}
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
      description: C(in_sync) (no drift), C(drifted), C(nothing_requested) or C(failed) (not in Ironic).
      type: str
    changed:
      description: Always false (read only).
      type: bool
    failed:
      description: Whether the node could not be checked.
      type: bool
    msg:
      description: The findings in one line, or why the node failed.
      type: str
    rack:
      description: The rack given in the node's dict, if any.
      type: str
    provision_state:
      description: The node's provision state.
      type: str
    drift:
      description: The findings, BIOS settings first.
      type: list
      elements: dict
      contains:
        node:
          description: Node name.
          type: str
        kind:
          description: C(bios) or C(firmware).
          type: str
        name:
          description: The setting or component (C(*) when the driver reports nothing of that kind).
          type: str
        requested:
          description: The requested value or version.
          type: str
        reported:
          description: What Ironic reports (null - not reported).
          type: str
        msg:
          description: The finding in words.
          type: str
          sample: BIOS HyperThreading is Enabled, requested Disabled
drifted:
  description: Names of the nodes with drift.
  returned: always
  type: list
  elements: str
summary:
  description: Number of nodes per RV(nodes[].action).
  returned: always
  type: dict
  sample: {in_sync: 3, drifted: 1}
api_reads:
  description: Number of read calls made to Ironic.
  returned: always
  type: int
'''

from ..module_utils._base import BaremetalError, BaremetalModule
from ..module_utils._drift import REQUEST_OPTIONS, collect_drift, node_requests
from ..module_utils._ironic import IronicAdapter


class IronicDriftModule(BaremetalModule):
    argument_spec = dict(REQUEST_OPTIONS)

    def run(self):
        p = self.params
        if p['concurrency'] < 1:
            raise BaremetalError('concurrency must be at least 1, got %s' % p['concurrency'])
        try:
            requests = node_requests(p['nodes'], p['bios_settings'], p['firmware'])
        except ValueError as exc:
            raise BaremetalError(str(exc))
        racks = dict((str(n['name']), n.get('rack')) for n in p['nodes'] if isinstance(n, dict) and n.get('name'))
        adapter = IronicAdapter(self.conn, concurrency=p['concurrency'])
        found = collect_drift(adapter, requests)
        out = []
        for req in requests:
            node, findings = found[req['name']]
            entry = dict(name=req['name'], uuid=node['uuid'] if node else None, rack=racks.get(req['name']),
                         provision_state=node.get('provision_state') if node else None, drift=findings)
            if node is None:
                entry.update(action='failed', msg='node %s is not in Ironic' % req['name'])
            elif not req['requested']:
                entry.update(action='nothing_requested', msg='no BIOS settings or firmware versions requested')
            elif findings:
                entry.update(action='drifted', msg='; '.join(f['msg'] for f in findings))
            else:
                entry.update(action='in_sync', msg=None)
            out.append(entry)
        self.report_nodes(out, 'drift report', changed=False, fail_msg=False,
                          drifted=[e['name'] for e in out if e['action'] == 'drifted'], api_reads=adapter.reads)


def main():
    IronicDriftModule()()


if __name__ == '__main__':
    main()
