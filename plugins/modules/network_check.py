#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: network_check
short_description: Check the network side of bare-metal nodes - host mappings, VIF bindings, leaf VLANs
version_added: 0.1.0
description:
  - Reads Ironic (nodes, ports, port groups, the VIFs recorded on them) and Neutron (Baremetal Node
    agents, segments, subnets, bare-metal ports) and checks, per node -
  - The segment host mapping of its rack's segment exists - networking-baremetal's
    C(Baremetal Node) agent for the node (host = node UUID) maps the rack's physical network
    (C(GET /v2.0/segments) shows no hosts; the agents do).
  - Every VIF is bound (not C(binding_failed), not unbound) to the node, its address is from the
    subnet of the rack's segment of its network.
  - With O(switch_state), the leaf ports of the node (its Ironic ports' C(local_link_connection))
    carry exactly the VLANs its VIFs' segments need - none missing, none extra.
  - With a switch document per leaf that lists the VLANs created on it (C(vlans), as the lab's
    C(labctl.py switch <leaf> --json) gives), a leaf of the node that never got an intended VLAN
    created is a C(vlan_not_created) finding (not blocking), per leaf - networking-generic-switch
    creates a network's VLAN only for its first segment, so the leaves of racks added as later
    segments get none; a real switch may refuse the plug.
  - Findings per node, NIC, leaf port and VIF, in the cabling check's shape
    (C(node), C(nic), C(finding), C(blocking), C(msg)). A node with a blocking finding is C(failed);
    the others are not affected - a role turns each node's entry into its own host's result.
  - Nodes on the C(noop) network interface are C(not_checked) (Ironic binds no port there).
  - Nodes on the C(flat) network interface - Ironic binds their VIFs with the node as host and no
    C(local_link_information), so no switch driver programs their leaf ports (those are configured
    outside Neutron). Checked - the host mapping, each VIF's binding host (the node), segment and
    address. Not checked - the leaf VLANs (C(leaf_ports) rows keep the intended VLANs with
    C(programmed) null); Neutron's binding result is a warning (C(flat_not_bound)), since
    networking-baremetal 8 binds only ports with link information.
  - Reads only; never changes anything.
extends_documentation_fragment:
  - spineleaf.baremetal.openstack
  - spineleaf.baremetal.rack_calls
  - spineleaf.baremetal.attributes.INFO_MODULE
options:
  nodes:
    description:
      - Ironic node names (or UUIDs) to check. A name Ironic does not know is a failed node.
    type: list
    elements: str
    required: true
  switch_state:
    description:
      - "What the switch driver programmed, per leaf and switch port - C({leaf: {port: [vlan, ...]}}),
        or per port a dict with C(vlans) (the lab's C(labctl.py switch <leaf> --json))."
      - A leaf given as a document C({ports, vlans}) also says which VLANs were created on it.
      - Omitted (a real cloud, where the switches are not read) - the leaf VLANs are not checked;
        the intended VLANs per leaf port are still returned.
    type: dict
  leaf_switches:
    description:
      - The site's leaf switches (C(name -> chassis_id, rack)), to name the leaf of an Ironic port
        by its C(local_link_connection.switch_id). Without it the port's C(switch_info) is used.
    type: dict
    default: {}
  fail_on_findings:
    description:
      - Fail the task when a node has a blocking finding. A role calling it once per rack sets
        V(false) and fails each node's own host instead.
    type: bool
    default: true
author:
  - Spineleaf Baremetal Team (@spineleaf)
'''

EXAMPLES = r'''
- name: Check the network side of rack r01's nodes, leaf VLANs included (lab)
  spineleaf.baremetal.network_check:
    cloud: spineleaf-lab
    nodes: "{{ groups['rack_r01'] }}"
    leaf_switches: "{{ leaf_switches }}"
    switch_state:
      leaf-r01-a: {Ethernet1/1: [101], Ethernet1/2: [101]}
      leaf-r01-b: {}
  register: r01_network

- name: Only bindings and host mappings (a real cloud's switches are not read)
  spineleaf.baremetal.network_check:
    nodes: [r01-n01, r01-n02]
    fail_on_findings: false
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
  description: One entry per requested node, in request order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Node name.
      type: str
    uuid:
      description: Node UUID (null when Ironic does not know the node).
      type: str
    action:
      description: V(checked) (no blocking finding), V(failed) or V(not_checked) (C(noop) network interface).
      type: str
      choices: [checked, failed, not_checked]
    changed:
      description: Always false - the module reads only.
      type: bool
    failed:
      description: Whether the node has a blocking finding.
      type: bool
    msg:
      description: The blocking findings' messages, or why the node was not checked; null otherwise.
      type: str
    findings:
      description:
        - Every finding - C(no_host_mapping), C(mapping_wrong_physnet), C(agent_down), C(binding_failed),
          C(not_bound), C(wrong_host), C(no_segment), C(no_address), C(wrong_segment), C(vif_port_missing),
          C(no_vif), C(no_physnet), C(split_rack), C(vlan_missing), C(vlan_extra), C(not_lag) (a bond member
          plugged as a single port), C(leaf_not_reported), C(vlan_not_created) (not blocking - an intended
          VLAN the switch driver never created on that leaf, with C(leaf), C(vlans) and C(created)).
      type: list
      elements: dict
      sample: [{node: r01-n02, nic: '52:54:00:01:02:01', finding: vlan_missing, blocking: true, leaf: leaf-r01-a,
                port: Ethernet1/2, intended: [101], programmed: [], msg: 'node r01-n02 NIC ...: leaf-r01-a Ethernet1/2 lacks VLAN 101'}]
    vifs:
      description: The node's VIFs - Neutron port, where it is attached, its binding and addresses.
      type: list
      elements: dict
      sample: [{vif: 5c1e..., 'on': '52:54:00:01:02:01', vif_type: other, addresses: [10.10.1.12], segment: ctlplane-r01}]
    leaf_ports:
      description: >-
        Per leaf port of the node, the VLANs intended (its VIFs' segments) and programmed (null when unknown),
        whether the switch programmed it as a LAG member (C(lag), null when unknown) and whether it should (C(lag_intended)).
      type: list
      elements: dict
      sample: [{leaf: leaf-r01-a, port: Ethernet1/2, nic: '52:54:00:01:02:01', intended: [101], programmed: [101]}]
summary:
  description: How many nodes ended with each action.
  returned: always
  type: dict
  sample: {checked: 3, failed: 1}
failed_nodes:
  description: Names of the nodes with a blocking finding.
  returned: always
  type: list
  elements: str
'''

from ..module_utils._base import BaremetalModule
from ..module_utils._ironic import IronicAdapter
from ..module_utils._neutron import Neutron
from ..module_utils import _network_check as nc
from ..module_utils._util import node_index
from ..module_utils._vifs import vif_of


class NetworkCheckModule(BaremetalModule):
    rack_calls = True  # racks: one call for every rack (module_utils/_base.py)
    argument_spec = dict(
        nodes=dict(type='list', elements='str', required=True),
        switch_state=dict(type='dict'),
        leaf_switches=dict(type='dict', default={}),
        fail_on_findings=dict(type='bool', default=True),
    )

    def read_site(self, ironic, neutron, nodes):
        """The state the check needs, in a few list calls; a VIF missing from the bare-metal port
        list (not yet attached by Ironic) is read by id."""
        wanted = set(n['uuid'] for n in nodes)
        ports = [p for p in ironic.list_raw('ports') if p.get('node_uuid') in wanted]
        groups = [g for g in ironic.list_raw('portgroups') if g.get('node_uuid') in wanted]
        vif_ports = dict((p['id'], p) for p in neutron.baremetal_ports())
        for vif in sorted(set(vif_of(x) for x in ports + groups if vif_of(x)) - set(vif_ports)):
            port = neutron.get_port(vif)
            if port is not None:
                vif_ports[vif] = port
        return nc.Site(neutron.segments(), neutron.subnets(), neutron.agents(nc.BAREMETAL_AGENT), ports, groups,
                       list(vif_ports.values()), leaf_switches=self.params['leaf_switches'])

    def run(self):
        p = self.params
        ironic = IronicAdapter(self.conn)
        neutron = Neutron(self.conn)
        index = node_index(ironic.list_raw('nodes'))
        found, missing = [], []
        seen = set()
        for key in p['nodes']:
            node = index.get(key)
            if node is None:
                missing.append(key)
            elif node['uuid'] not in seen:
                seen.add(node['uuid'])
                found.append(node)
        results = nc.check(found, self.read_site(ironic, neutron, found), p['switch_state']) if found else []
        by_uuid = dict((r['uuid'], r) for r in results)
        ordered = []
        for key in p['nodes']:
            node = index.get(key)
            if node is None:
                ordered.append(dict(name=key, uuid=None, action='failed', changed=False, failed=True, findings=[],
                                    vifs=[], leaf_ports=[], msg='node %s: not found in Ironic (enroll it first)' % key))
            elif by_uuid.get(node['uuid']) is not None:
                ordered.append(by_uuid.pop(node['uuid']))
        failed = [e['name'] for e in ordered if e['failed']]
        # the one reporter: summary, the contract keys, the failure message (read-only: no diff)
        self.report_nodes(ordered, 'network check', failing=('failed',), changed=False,
                          fail_msg=None if p['fail_on_findings'] else False, failed_nodes=failed)


def main():
    NetworkCheckModule()()


if __name__ == '__main__':
    main()
