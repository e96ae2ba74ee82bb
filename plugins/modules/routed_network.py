#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: routed_network
short_description: Manage a Neutron routed provider network (one segment and subnet per rack)
version_added: 0.1.0
description:
  - Creates, updates or deletes a routed provider network in one task - the network, its segments
    (one per rack - its own physical network and VLAN) and the subnets of each segment.
  - Creates the network with the first segment's provider attributes, adopts the segment Neutron
    creates implicitly for it (that segment has no name - the module gives it the first segment's
    name), adds the other segments, then the subnets with their C(segment_id).
  - Segments are matched by name, then by physical network and VLAN (which adopts unnamed or renamed
    segments); subnets are matched by name within the network.
  - Never updates provider attributes of a multi-segment network. A segment's physical network,
    type or VLAN cannot change in Neutron - the module fails with a clear message, or replaces the
    segment (delete and create, with its subnets) when O(replace_segments=true) and no port uses it.
  - A subnet's cidr, segment and IPv6 modes cannot change either - the module fails naming the subnet.
  - Host routes - Neutron itself keeps, on each segment's subnet, a route to every subnet of the
    other segments via the subnet's gateway. The desired routes are those plus the subnet's
    O(segments[].subnets[].host_routes), compared as sets, so re-runs converge.
  - Validates the whole request before any write (CIDR syntax, overlaps within the request and with
    existing subnets of the network, gateway inside the CIDR and outside the pools, pools inside the
    CIDR, VLAN 1-4094, duplicate physical network and VLAN pairs, duplicate names) and reports every
    problem at once, each naming its segment or subnet.
  - Segments and subnets of the network that are not in the request are reported in RV(unmanaged) and
    left alone unless O(purge_segments=true).
  - With O(state=absent) deletes the subnets, then the segments, then the network.
extends_documentation_fragment:
  - spineleaf.baremetal.openstack
  - spineleaf.baremetal.attributes
options:
  name:
    description:
      - Name of the network. Must be unique among the networks the user can see.
    type: str
    required: true
  description:
    description:
      - Description of the network. Left as it is when not set.
    type: str
  shared:
    description:
      - Whether the network is shared by all projects. Left as it is when not set.
    type: bool
  external:
    description:
      - Whether the network is external (C(router:external)). Left as it is when not set.
    type: bool
  mtu:
    description:
      - MTU of the network. Left as it is (Neutron's default) when not set.
    type: int
  segments:
    description:
      - The segments of the network, one per rack, in order. The first one's provider attributes
        create the network.
      - Required (not empty) with O(state=present).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Name of the segment (for example C(ctlplane-r01)); unique within the network.
        type: str
        required: true
      description:
        description:
          - Description of the segment.
        type: str
      physical_network:
        description:
          - The physical network (for example the rack's leaf, C(leaf1)).
        type: str
        required: true
      network_type:
        description:
          - Segment type.
        type: str
        choices: [vlan, flat]
        default: vlan
      segmentation_id:
        description:
          - VLAN id (1-4094). Required for C(vlan) segments; must not be set for C(flat) ones.
        type: int
      subnets:
        description:
          - Subnets of the segment (usually one per IP version).
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description:
              - Name of the subnet; unique within the network.
            type: str
            required: true
          description:
            description:
              - Description of the subnet.
            type: str
          cidr:
            description:
              - The subnet, for example C(10.10.1.0/24) or C(fd00:10:1::/64). Cannot change later.
            type: str
            required: true
          ip_version:
            description:
              - IP version; derived from O(segments[].subnets[].cidr) when not set.
            type: int
            choices: [4, 6]
          gateway_ip:
            description:
              - Gateway (the leaf's address). Neutron's default (first address for IPv4, the network
                address for IPv6) when not set.
            type: str
          allocation_pools:
            description:
              - Allocation pools. Neutron's default (the whole subnet but the gateway) when not set.
            type: list
            elements: dict
            suboptions:
              start:
                description: First address of the pool.
                type: str
                required: true
              end:
                description: Last address of the pool.
                type: str
                required: true
          dns_nameservers:
            description:
              - DNS servers handed out by DHCP, in order.
            type: list
            elements: str
          enable_dhcp:
            description:
              - Whether Neutron serves DHCP on the subnet. Neutron's default (true) when not set.
            type: bool
          host_routes:
            description:
              - Extra host routes only. Routes to the other segments' subnets are added by Neutron
                and expected by the module; a route given here for a peer's CIDR replaces Neutron's.
            type: list
            elements: dict
            default: []
            suboptions:
              destination:
                description: Destination CIDR.
                type: str
                required: true
              nexthop:
                description: Next hop, inside the subnet.
                type: str
                required: true
          ipv6_address_mode:
            description:
              - IPv6 address mode. Cannot change later.
            type: str
            choices: [dhcpv6-stateful, dhcpv6-stateless, slaac]
          ipv6_ra_mode:
            description:
              - IPv6 router advertisement mode. Cannot change later.
            type: str
            choices: [dhcpv6-stateful, dhcpv6-stateless, slaac]
  state:
    description:
      - C(present) creates or updates the network; C(absent) deletes its subnets, segments and the network.
    type: str
    choices: [present, absent]
    default: present
  purge_segments:
    description:
      - Delete the segments (and their subnets) and the subnets of the network that are not in
        O(segments). When false they are only reported in RV(unmanaged).
    type: bool
    default: false
  replace_segments:
    description:
      - When a segment's physical network, type or VLAN differs from Neutron's, delete it (with its
        subnets) and create it again. Refused when a port uses one of its subnets.
      - When false such a change fails with a message suggesting this option.
    type: bool
    default: false
  max_subnet_host_routes:
    description:
      - The Neutron server's C([DEFAULT] max_subnet_host_routes) (Neutron's default 20).
      - "Neutron gives every subnet of a routed network a host route to each subnet on the network's
        other segments (extension C(segments-peer-subnet-host-routes)) and refuses a subnet with more
        routes than this; a network of more than about 21 racks fails on the 22nd subnet, half-way.
        The module counts each subnet's routes after the plan (automatic plus the extra O(segments[].subnets[].host_routes))
        and fails before any write when one is over, naming the count to configure."
      - Raise it in C(neutron.conf) for a site of more racks and set this to match.
    type: int
    default: 20
notes:
  - Needs the Neutron C(segment) extension (C(service_plugins = segments)).
  - Each subnet created or deleted makes Neutron rewrite the host routes of every peer subnet, so
    creating many subnets takes a while on the server side.
  - To check that Ironic ports match the segments, see M(spineleaf.baremetal.routed_network_check).
requirements:
  - netaddr
seealso:
  - module: spineleaf.baremetal.routed_network_check
  - plugin: spineleaf.baremetal.rack_subnets
    plugin_type: filter
  - plugin: spineleaf.baremetal.leaf_routes
    plugin_type: filter
author:
  - Spineleaf Baremetal Team (@spineleaf)
'''

EXAMPLES = r'''
- name: Provisioning network over three racks
  spineleaf.baremetal.routed_network:
    cloud: spineleaf-lab
    name: ctlplane
    mtu: 1500
    segments:
      - name: ctlplane-r01
        physical_network: leaf1
        segmentation_id: 101
        subnets:
          - name: ctlplane-r01
            cidr: 10.10.1.0/24
            gateway_ip: 10.10.1.1
            allocation_pools: [{start: 10.10.1.10, end: 10.10.1.200}]
      - name: ctlplane-r02
        physical_network: leaf2
        segmentation_id: 102
        subnets:
          - name: ctlplane-r02
            cidr: 10.10.2.0/24
            gateway_ip: 10.10.2.1
            host_routes:   # extra routes only; Neutron adds the ones to the other racks
              - {destination: 192.168.0.0/16, nexthop: 10.10.2.254}

- name: Segments planned from the rack group_vars (what the routed_networks role does)
  spineleaf.baremetal.routed_network:
    name: internal-api
    segments: >-
      {{ {'name': 'internal-api', 'supernet': '10.20.0.0/16', 'prefix_per_rack': 24,
          'vlan_base': 200, 'physnet_pattern': 'leaf{rack_index}'}
         | spineleaf.baremetal.routed_network_segments([{'rack': 'r01', 'rack_index': 1},
                                                        {'rack': 'r02', 'rack_index': 2}]) }}

- name: Drop the racks that were removed from the inventory
  spineleaf.baremetal.routed_network:
    name: ctlplane
    segments: "{{ ctlplane_segments }}"
    purge_segments: true

- name: Delete the network (subnets, segments, then the network)
  spineleaf.baremetal.routed_network:
    name: ctlplane
    state: absent
'''

RETURN = r'''
network:
  description: The network and what was done to it.
  returned: always
  type: dict
  sample: {name: ctlplane, id: 5b0b0e4e-1d2c-4a8e-9d55-1b7f1d0b3c11, action: created}
  contains:
    action:
      description: One of C(created), C(updated), C(unchanged), C(deleted), C(absent).
      type: str
segments:
  description: Per-segment results.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: ctlplane-r01, physical_network: leaf1, segmentation_id: 101, network_type: vlan, action: adopted}
  contains:
    action:
      description: One of C(created), C(adopted) (the unnamed implicit segment got its name), C(updated),
        C(unchanged), C(replaced), C(deleted), C(unmanaged).
      type: str
subnets:
  description: Per-subnet results.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: ctlplane-r01, segment: ctlplane-r01, cidr: 10.10.1.0/24, action: created}
  contains:
    action:
      description: One of C(created), C(updated), C(unchanged), C(replaced), C(deleted).
      type: str
    changes:
      description: Fields updated (for C(updated)).
      type: list
      elements: str
unmanaged:
  description: Segments and subnets of the network that are not in the request and were left alone.
  returned: always
  type: list
  elements: dict
  sample: [{kind: segment, name: ctlplane-r09, physical_network: leaf9, segmentation_id: 109, action: unmanaged}]
actions:
  description: The write calls planned (in check mode) or made, in order, for example C(create segment ctlplane-r02).
  returned: always
  type: list
  elements: str
api_writes:
  description: Number of write calls made to Neutron (0 in check mode and when nothing changed).
  returned: always
  type: int
  sample: 0
api_reads:
  description: Number of read (list) calls made to Neutron.
  returned: always
  type: int
  sample: 3
'''

import traceback

from ansible.module_utils.basic import missing_required_lib

from ..module_utils._base import BaremetalError, BaremetalModule
from ..module_utils._neutron import Neutron
from ..module_utils import _routed_network as rn

try:
    import netaddr  # noqa: F401 pylint: disable=unused-import
    NETADDR_ERROR = None
except ImportError:
    NETADDR_ERROR = traceback.format_exc()

IPV6_MODES = ['dhcpv6-stateful', 'dhcpv6-stateless', 'slaac']


class RoutedNetworkModule(BaremetalModule):
    argument_spec = dict(
        name=dict(type='str', required=True),
        description=dict(type='str'),
        shared=dict(type='bool'),
        external=dict(type='bool'),
        mtu=dict(type='int'),
        segments=dict(type='list', elements='dict', default=[], options=dict(
            name=dict(type='str', required=True),
            description=dict(type='str'),
            physical_network=dict(type='str', required=True),
            network_type=dict(type='str', choices=['vlan', 'flat'], default='vlan'),
            segmentation_id=dict(type='int'),
            subnets=dict(type='list', elements='dict', default=[], options=dict(
                name=dict(type='str', required=True),
                description=dict(type='str'),
                cidr=dict(type='str', required=True),
                ip_version=dict(type='int', choices=[4, 6]),
                gateway_ip=dict(type='str'),
                allocation_pools=dict(type='list', elements='dict', options=dict(
                    start=dict(type='str', required=True),
                    end=dict(type='str', required=True),
                )),
                dns_nameservers=dict(type='list', elements='str'),
                enable_dhcp=dict(type='bool'),
                host_routes=dict(type='list', elements='dict', default=[], options=dict(
                    destination=dict(type='str', required=True),
                    nexthop=dict(type='str', required=True),
                )),
                ipv6_address_mode=dict(type='str', choices=IPV6_MODES),
                ipv6_ra_mode=dict(type='str', choices=IPV6_MODES),
            )),
        )),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        purge_segments=dict(type='bool', default=False),
        replace_segments=dict(type='bool', default=False),
        max_subnet_host_routes=dict(type='int', default=20),
    )

    def read_current(self, neutron, name):
        network = neutron.find_network(name)
        current = dict(network=network, segments=[], subnets=[], ports=[])
        if network is not None:
            current['segments'] = neutron.segments(network['id'])
            current['subnets'] = neutron.subnets(network['id'])
            if self.params['replace_segments'] and self.params['state'] == 'present':
                current['ports'] = neutron.ports(network['id'])
        return current

    def apply(self, neutron, plan, current, done):
        """Run the plan's actions in order; ``done`` collects their descriptions."""
        network_id = (current['network'] or {}).get('id')
        segment_ids = dict((s['name'], s['id']) for s in current['segments'] if s.get('name'))
        implicit_id = None
        created_subnets = {}
        for kind, p in plan.actions:
            if kind == 'create_network':
                net = neutron.create_network(p['attrs'])
                network_id = net['id']
                # Neutron created the first segment from the provider attributes; it has no name.
                implicit = [s for s in neutron.segments(network_id) if not s.get('name')]
                implicit_id = implicit[0]['id'] if implicit else None
                done.append('create network %s' % p['attrs']['name'])
            elif kind == 'update_network':
                neutron.update_network(p['id'], p['changes'], name=self.params['name'])
                done.append('update network %s (%s)' % (self.params['name'], ', '.join(sorted(p['changes']))))
            elif kind == 'delete_network':
                neutron.delete_network(p['id'], name=p['name'])
                done.append('delete network %s' % p['name'])
            elif kind == 'delete_subnet':
                neutron.delete_subnet(p['id'], name=p['name'])
                done.append('delete subnet %s' % (p['name'] or p['id']))
            elif kind == 'delete_segment':
                neutron.delete_segment(p['id'], name=p['name'])
                done.append('delete segment %s' % (p['name'] or p['id']))
            elif kind == 'update_segment':
                seg_id = p['id'] or implicit_id
                if seg_id is None:
                    raise BaremetalError('network %s: Neutron did not create the implicit first segment for %s; '
                                         'is the segments service plugin enabled?' % (self.params['name'], p['segment']))
                neutron.update_segment(seg_id, p['changes'], name=p['segment'])
                segment_ids[p['segment']] = seg_id
                done.append('update segment %s (%s)' % (p['segment'], ', '.join(sorted(p['changes']))))
            elif kind == 'create_segment':
                seg = neutron.create_segment(network_id, p['attrs'])
                segment_ids[p['segment']] = seg['id']
                done.append('create segment %s' % p['segment'])
            elif kind == 'create_subnet':
                sub = neutron.create_subnet(network_id, segment_ids[p['segment']], p['attrs'])
                created_subnets[p['subnet']] = sub['id']
                done.append('create subnet %s' % p['subnet'])
            elif kind == 'update_subnet':
                neutron.update_subnet(p['id'], p['changes'], name=p['subnet'])
                done.append('update subnet %s (%s)' % (p['subnet'], ', '.join(sorted(p['changes']))))
        return network_id, segment_ids, created_subnets

    def converge_routes(self, neutron, network_id, segment_ids, plan, done):
        """After subnets came or went, Neutron rewrote the peers' routes: check every managed subnet's
        routes (Neutron's automatic ones + the extra ones) against what Neutron now has."""
        names = dict((v, k) for k, v in segment_ids.items())
        subnets = neutron.subnets(network_id)
        final = [dict(name=s['name'], cidr=s['cidr'], ip_version=s['ip_version'], gateway=s['gateway_ip'],
                      segment=names.get(s['segment_id'], s['segment_id'])) for s in subnets]
        for sub in subnets:
            if sub['name'] not in plan.route_targets:
                continue
            me = [f for f in final if f['name'] == sub['name']][0]
            peers = [f for f in final if f is not me]
            want = rn.desired_routes(me, me['gateway'], peers, plan.route_targets[sub['name']])
            if rn.route_set(sub['host_routes']) != want:
                neutron.update_subnet(sub['id'], dict(host_routes=rn.routes_list(want)), name=sub['name'])
                done.append('update subnet %s (host_routes)' % sub['name'])

    def run(self):
        if NETADDR_ERROR:
            self.fail_json(msg=missing_required_lib('netaddr'), exception=NETADDR_ERROR)
        p = self.params
        spec = rn.normalize_spec(p)
        neutron = Neutron(self.conn)
        current = self.read_current(neutron, p['name'])
        plan = rn.plan(spec, current, purge_segments=p['purge_segments'], replace_segments=p['replace_segments'])
        if any(action[0] in ('create_network', 'create_segment') for action in plan.actions):
            # A physnet/VLAN taken by another network would fail half-way (409): find it before any write.
            network_id = (current['network'] or {}).get('id')
            all_segments = neutron.segments()
            others = set(s['network_id'] for s in all_segments if s['network_id'] != network_id)
            errors = rn.segment_conflicts(plan, network_id, all_segments)
            if errors:
                errors = rn.segment_conflicts(plan, network_id, all_segments, neutron.network_names(others))
                raise BaremetalError('routed network %s: %d problem(s), nothing was changed: %s'
                                     % (p['name'], len(errors), '; '.join(errors)))
        if spec['state'] == 'present':
            # Neutron adds a host route to every peer subnet on the other segments (extension
            # segments-peer-subnet-host-routes) and refuses a subnet with more routes than its
            # max_subnet_host_routes (default 20): past ~21 racks the 22nd subnet fails half-way.
            errors = rn.host_route_limit_errors(plan, p['max_subnet_host_routes'])
            if errors:
                raise BaremetalError('routed network %s: %s; nothing was changed' % (p['name'], '; '.join(errors)))
        done = []
        if self.check_mode:
            done = ['%s %s' % (kind.replace('_', ' '), pl.get('segment') or pl.get('subnet') or pl.get('name')
                               or (pl.get('attrs') or {}).get('name') or self.params['name'])
                    for kind, pl in plan.actions]
        elif plan.actions:
            network_id, segment_ids, _created = self.apply(neutron, plan, current, done)
            touched_subnets = any(k in ('create_subnet', 'delete_subnet') or 'gateway_ip' in (pl.get('changes') or {})
                                  for k, pl in plan.actions)
            if spec['state'] == 'present' and touched_subnets:
                self.converge_routes(neutron, network_id, segment_ids, plan, done)
            if plan.network.get('action') == 'created':
                plan.network['id'] = network_id
        result = dict(changed=bool(plan.actions), network=plan.network, segments=plan.segments, subnets=plan.subnets,
                      unmanaged=plan.unmanaged, actions=done, api_writes=neutron.writes, api_reads=neutron.reads)
        if self.diff_mode:
            result['diff'] = dict(before=rn.state_view(current['network'], current['segments'], current['subnets']),
                                  after=plan.after if spec['state'] == 'present' else {})
        if plan.unmanaged:
            self.warn('network %s: %d segment(s)/subnet(s) not in the request were left alone: %s '
                      '(purge_segments: true deletes them)' % (p['name'], len(plan.unmanaged), describe_unmanaged(plan.unmanaged)))
        self.exit_json(**result)


def describe_unmanaged(entries, limit=10):
    """The leftovers by name, so the warning says which ones (``segment ctlplane-r09 (leaf9, VLAN 109),
    subnet ctlplane-r09-v4 (10.0.9.0/24)``), the first ``limit`` and a count of the rest."""
    names = []
    for e in entries:
        if e.get('kind') == 'segment':
            detail = ', '.join(str(x) for x in (e.get('physical_network'), e.get('segmentation_id') and 'VLAN %s' % e['segmentation_id']) if x)
        else:
            detail = e.get('cidr') or ''
        names.append('%s %s%s' % (e.get('kind'), e.get('name') or e.get('id'), ' (%s)' % detail if detail else ''))
    more = len(names) - limit
    return ', '.join(names[:limit]) + (' and %d more' % more if more > 0 else '')


def main():
    RoutedNetworkModule()()


if __name__ == '__main__':
    main()
