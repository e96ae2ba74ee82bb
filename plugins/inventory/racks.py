# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
name: racks
short_description: The site as one compact racks file (node ranges, NIC and BMC patterns)
version_added: 0.1.0
description:
  - Reads a C(*.racks.yml) (or C(*.racks.yaml)) file that describes a spine-and-leaf site once,
    site-wide variables, leaf switches, and per rack its index, physnet, leaves and node ranges
    such as C(r07-n[01:40]), and yields the site model every role of the collection reads,
    with the same groups and hostvars as the hand-written YAML form (see the README "Site model").
  - Groups are C(baremetal), one C(rack_<id>) per rack (a child of C(baremetal), with the rack
    variables C(rack), C(rack_index), C(rack_physnet) and C(rack_leaves)) and one C(role_<role>)
    group per node role. Site-wide variables, including the derived C(leaf_switches), are set on
    group C(all).
  - Patterns are Python format strings. Rack-level strings (C(physnet), leaf names and attributes,
    C(range)) know C({rack}) and C({rack_index}); node-level strings (C(bmc_address), NIC
    C(mac), C(leaf) and C(port)) also know C({n}), the node's number, and C({name}).
    A C({base, step}) mapping instead of a string gives C(base + step * n) for C(mac) (MAC
    arithmetic), C(bmc_address) (IP arithmetic) and C(port) (a port number, named with the leaf's
    C(port_name) and checked against its C(port_count)).
  - Every problem is reported at once, each naming the file, the rack and the node or range
    (overlapping ranges, a MAC or BMC address used twice, a port beyond the leaf's port count, a
    leaf of another rack, a pattern that does not expand, and the site model checks of
    P(spineleaf.baremetal.site_errors#filter)). Nothing is added to the inventory from a file with errors.
  - Inventory directories of this collection's C(ansible.cfg) ignore C(*.racks.yml) files, so
    pass the racks file itself with C(-i).
author:
  - Spineleaf Baremetal Team (@spineleaf)
requirements:
  - netaddr
extends_documentation_fragment:
  - ansible.builtin.constructed
options:
  plugin:
    description: Marks the file as a racks file of this plugin.
    required: true
    type: str
    choices: [spineleaf.baremetal.racks]
  vars:
    description:
      - Site-wide variables (group C(all)), as in C(group_vars/all.yml) of the YAML form
        (C(site_name), C(cloud), C(bmc_driver), C(routed_networks), ...).
      - C(leaf_switches) is derived from the switches and must not be set here.
    type: dict
    default: {}
  switches:
    description:
      - Leaf switches. C(port_name) (a pattern with C({port}), default C({port})) and
        C(port_count) apply to every leaf unless a leaf sets its own.
      - C(leaves) maps a switch name to C(rack), C(chassis_id), C(mlag_peer) (and optionally its
        own C(port_name) / C(port_count)). Leaves may also be declared in the racks themselves.
    type: dict
    default: {}
  defaults:
    description:
      - Keys every rack has unless it sets them itself (C(physnet), C(leaves), C(nodes), C(vars)),
        written with C({rack}) / C({rack_index}) patterns.
    type: dict
    default: {}
  racks:
    description:
      - Rack id (e.g. C(r01)) -> rack. C(index) (required, a positive integer unique in the
        site), C(physnet), C(leaves) (a list of switch names, or a mapping name -> attributes),
        C(vars) (more rack group variables) and C(nodes).
      - C(nodes) is a list of ranges. Each has C(range) (C(r01-n[01:40]), C([start:end:step]) or a
        single name), C(role) (hostvar C(node_role)), C(bmc_address), C(nics) (each C(name),
        C(mac), C(pxe), C(leaf), C(port)), C(bonds), and per-node exceptions beside it
        C(overrides) (node name -> hostvars; C(nics) are merged by NIC name) and C(exclude)
        (node names left out). Any other key is copied to every node's hostvars as is.
    type: dict
    required: true
'''

EXAMPLES = r'''
# site.racks.yml: 24 racks of 40 nodes (see inventory/example-large/ for the whole file)
plugin: spineleaf.baremetal.racks
vars:
  site_name: dc1
  bmc_driver: redfish
switches:
  port_name: "Ethernet1/{port}"
  port_count: 48
defaults:
  physnet: "leaf{rack_index}"
  leaves:
    "leaf-{rack}-a": {mlag_peer: "leaf-{rack}-b"}
    "leaf-{rack}-b": {mlag_peer: "leaf-{rack}-a"}
  nodes:
    - range: "{rack}-n[01:40]"
      role: compute
      bmc_address: {base: "10.100.{rack_index}.0", step: 1}
      nics:
        - {name: eno1, mac: {base: "3c:fd:fe:{rack_index:02x}:00:00", step: 2}, pxe: true,
           leaf: "leaf-{rack}-a", port: {base: 0, step: 1}}
racks:
  r01:
    index: 1
    nodes:
      - range: r01-n[01:40]
        role: compute
        bmc_address: {base: 10.100.1.0, step: 1}
        nics:
          - {name: eno1, mac: {base: "3c:fd:fe:01:00:00", step: 2}, pxe: true, leaf: leaf-r01-a,
             port: {base: 0, step: 1}}
        overrides:
          r01-n07: {nics: [{name: eno1, mac: "3c:fd:fe:aa:bb:cc"}]}  # a replaced NIC
        exclude: [r01-n13]                                          # a node that is not there
  r02: {index: 2}
# Constructable: more groups from the hostvars
keyed_groups:
  - key: bmc_driver
    prefix: driver
'''

import os

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable
from ansible.utils.vars import combine_vars

from ..module_utils._racks import expand_site

CONSTRUCTED_OPTIONS = ('compose', 'groups', 'keyed_groups', 'strict', 'leading_separator', 'use_extra_vars')


class InventoryModule(BaseInventoryPlugin, Constructable):
    """Yields the site model from a racks file."""

    NAME = 'spineleaf.baremetal.racks'
    # Every value comes from the operator's own racks file (patterns rendered from it), as trusted
    # as the YAML form's values: Jinja2 in site-wide vars (cloud: "{{ lookup(...) }}") must work.
    trusted_by_default = True

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(('.racks.yml', '.racks.yaml'))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        config = self._read_config_data(path)
        unknown = set(config) - set(('plugin', 'vars', 'switches', 'defaults', 'racks') + CONSTRUCTED_OPTIONS)
        errors = ['unknown top-level keys %s' % ', '.join(sorted(unknown))] if unknown else []
        if 'leaf_switches' in (config.get('vars') or {}):
            errors.append('vars: leaf_switches is derived from switches and the racks\' leaves; do not set it')
        site, site_errors = expand_site({key: config.get(key) for key in ('vars', 'switches', 'defaults', 'racks')})
        errors.extend(site_errors)
        if errors:
            raise AnsibleParserError('%s: %d problem(s), nothing was added to the inventory:\n  - %s'
                                     % (os.path.basename(path), len(errors), '\n  - '.join(errors)))
        self._populate(site)

    def _populate(self, site):
        inventory = self.inventory
        for key, value in site['vars'].items():
            inventory.set_variable('all', key, value)
        inventory.add_group('baremetal')
        strict = self.get_option('strict')
        for rack, rack_vars, hosts in site['racks']:
            group = inventory.add_group('rack_%s' % rack)
            inventory.add_child('baremetal', group)
            for key, value in rack_vars.items():
                inventory.set_variable(group, key, value)
            for host in hosts:
                inventory.add_host(host, group=group)
                hostvars = site['hosts'][host]
                for key, value in hostvars.items():
                    inventory.set_variable(host, key, value)
        for group, hosts in site['role_groups'].items():
            inventory.add_group(group)
            for host in hosts:
                inventory.add_host(host, group=group)
        for rack, rack_vars, hosts in site['racks']:
            # Constructed expressions see what the host sees: site, rack and node variables.
            seen = combine_vars(site['vars'], rack_vars)
            for host in hosts:
                hostvars = combine_vars(seen, site['hosts'][host])
                self._set_composite_vars(self.get_option('compose'), hostvars, host, strict=strict)
                self._add_host_to_composed_groups(self.get_option('groups'), hostvars, host, strict=strict)
                self._add_host_to_keyed_groups(self.get_option('keyed_groups'), hostvars, host, strict=strict)
