#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: routed_network_check
short_description: Cross-check Ironic ports against the segments of the provisioning network
version_added: 0.1.0
description:
  - Reads the segments of the provisioning network (Neutron) and every Ironic port, and reports each
    mismatch by node, port and rack - a port with no C(physical_network), a port whose physical
    network has no segment on the network, a port whose physical network belongs to another rack than
    its node's, a rack without a segment or without any port.
  - Fails with every problem listed at once (unless O(fail_on_problems=false)). Reads only; never
    changes anything.
  - Run it after enrollment; before enrollment there are no ports yet (see O(require_ports)).
extends_documentation_fragment:
  - spineleaf.baremetal.openstack
  - spineleaf.baremetal.attributes.INFO_MODULE
options:
  network:
    description:
      - Name of the provisioning network (the routed network Ironic ports attach to).
    type: str
    required: true
  racks:
    description:
      - The racks of the site and their physical network (the inventory's C(rack) and C(rack_physnet)).
      - When empty, only the ports are checked against the segments.
    type: list
    elements: dict
    default: []
    suboptions:
      rack:
        description: Rack id, for example C(r01).
        type: str
        required: true
      physical_network:
        description: The rack's physical network, for example C(leaf1).
        type: str
        required: true
  node_racks:
    description:
      - Rack of each node by Ironic node name (the inventory's C(rack) of each host). Nodes not listed
        fall back to their C(extra.rack). Used to report ports cabled to another rack's physical network.
    type: dict
    default: {}
  nodes:
    description:
      - Check only the ports of these Ironic nodes (by name), for example the site inventory's hosts.
        A shared Ironic may hold nodes of other sites or tests that this site does not own.
      - When omitted, every port in Ironic is checked.
    type: list
    elements: str
  require_ports:
    description:
      - Whether every rack in O(racks) must have at least one Ironic port on its physical network.
    type: bool
    default: true
  fail_on_problems:
    description:
      - Fail when a problem is found. When false the problems are only returned.
    type: bool
    default: true
author:
  - Spineleaf Baremetal Team (@spineleaf)
'''

EXAMPLES = r'''
- name: Every Ironic port has a segment on ctlplane, every rack has both
  spineleaf.baremetal.routed_network_check:
    network: ctlplane
    racks:
      - {rack: r01, physical_network: leaf1}
      - {rack: r02, physical_network: leaf2}
    node_racks:
      r01-n01: r01
      r02-n01: r02
'''

RETURN = r'''
problems:
  description: Every mismatch found, each naming the node, port and rack it concerns.
  returned: always
  type: list
  elements: dict
  sample:
    - node: r02-n03
      port: 52:54:00:02:03:01
      rack: r02
      physical_network: leaf9
      message: "node r02-n03 (rack r02), port 52:54:00:02:03:01: physical_network leaf9 has no segment on network ctlplane"
racks:
  description: Per rack - its physical network, the segment found for it and the number of Ironic ports on it.
  returned: always
  type: dict
  sample: {r01: {physical_network: leaf1, segment: ctlplane-r01, ports: 4}}
segments:
  description: Physical network -> segment name of the network.
  returned: always
  type: dict
  sample: {leaf1: ctlplane-r01}
ports_checked:
  description: Number of Ironic ports checked.
  returned: always
  type: int
  sample: 24
'''

from ..module_utils._base import BaremetalError, BaremetalModule
from ..module_utils._ironic import IronicAdapter
from ..module_utils._neutron import Neutron
from ..module_utils._routed_network_check import ironic_port_problems


class RoutedNetworkCheckModule(BaremetalModule):
    argument_spec = dict(
        network=dict(type='str', required=True),
        racks=dict(type='list', elements='dict', default=[], options=dict(
            rack=dict(type='str', required=True),
            physical_network=dict(type='str', required=True),
        )),
        node_racks=dict(type='dict', default={}),
        nodes=dict(type='list', elements='str'),
        require_ports=dict(type='bool', default=True),
        fail_on_problems=dict(type='bool', default=True),
    )

    def run(self):
        p = self.params
        neutron = Neutron(self.conn)
        ironic = IronicAdapter(self.conn)
        network = neutron.find_network(p['network'])
        if network is None:
            raise BaremetalError('routed_network_check: network %s does not exist: create it first '
                                 '(spineleaf.baremetal.routed_network / the routed_networks role)' % p['network'])
        segments = neutron.segments(network['id'])
        nodes = dict((n['uuid'], dict(name=n.get('name') or n['uuid'], extra=dict(n.get('extra') or {})))
                     for n in ironic.list_raw('nodes', fields=['uuid', 'name', 'extra']))
        ports = [dict(address=port['address'], id=port['uuid'],
                      node=nodes.get(port['node_uuid'], {}).get('name', port['node_uuid']),
                      physical_network=port.get('physical_network'))
                 for port in ironic.list_raw('ports', fields=['uuid', 'address', 'node_uuid', 'physical_network'])]
        if p['nodes'] is not None:
            wanted = set(p['nodes'])
            ports = [port for port in ports if port['node'] in wanted]
        node_racks = dict((n['name'], n['extra'].get('rack')) for n in nodes.values() if n['extra'].get('rack'))
        node_racks.update(p['node_racks'] or {})
        problems, racks, by_physnet = ironic_port_problems(p['network'], segments, ports, p['racks'], node_racks,
                                                           require_ports=p['require_ports'])
        result = dict(changed=False, problems=problems, racks=racks, segments=by_physnet, ports_checked=len(ports))
        if problems and p['fail_on_problems']:
            self.fail_json(msg='%d problem(s) between Ironic ports and network %s: %s'
                           % (len(problems), p['network'], '; '.join(x['message'] for x in problems)), **result)
        self.exit_json(**result)


def main():
    RoutedNetworkCheckModule()()


if __name__ == '__main__':
    main()
