# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""Checks of the site model (inventory) that every role relies on. Pure: no I/O."""

from __future__ import annotations

import re

from ._leaf_port import leaf_position
from ._traits import trait_name
from ._util import normalize_mac, rack_index


def _leaf_errors(where, leaf, rack, leaf_switches):
    """A NIC's intended leaf must be a switch of ``leaf_switches`` in the node's own rack."""
    if not leaf or not isinstance(leaf_switches, dict) or not leaf_switches:
        return []
    if leaf not in leaf_switches:
        return ['%s: leaf %r is not in leaf_switches (known: %s)' % (where, leaf, ', '.join(sorted(leaf_switches)))]
    leaf_rack = (leaf_switches.get(leaf) or {}).get('rack')
    if rack and leaf_rack is not None and str(leaf_rack) != str(rack):
        return ['%s: leaf %s is in rack %s, the node is in rack %s' % (where, leaf, leaf_rack, rack)]
    return []


# Ironic's conductor group names: letters, digits, "_", "-", "." (at most 255). Ironic stores them
# lowercased, so an upper-case name would never compare equal again (no idempotence): refuse it.
CONDUCTOR_GROUP_RE = re.compile(r'^[a-z0-9_.-]{1,255}$')


def is_discovered(node):
    """True when a node (hostvars) is to be found by auto-discovery: one of its NICs has no MAC
    (it is identified by the leaf port it is cabled to, see ``_leaf_port.leaf_position``)."""
    nics = node.get('nics') if isinstance(node, dict) else None
    return isinstance(nics, list) and any(isinstance(n, dict) and n.get('mac') in (None, '') for n in nics)


def site_errors(nodes):
    """Return a list of messages, one per problem, for a list of node hostvars dicts.

    Each dict carries ``inventory_hostname`` (or ``name``), ``rack``, ``rack_index``,
    ``bmc_address``, ``nics`` and optional ``bonds`` (see the site model in the README), and
    ``leaf_switches`` (the site's map): every ``nics[].leaf`` must be one of its switches, in the
    node's rack. A NIC may leave out ``mac`` when it names its ``leaf`` and ``port`` (the node is
    then found by auto-discovery and may leave out ``bmc_address`` too); one leaf port belongs to
    one NIC of the whole site.
    """
    errors = []
    seen_names = set()
    site = dict(macs={}, positions={}, rack_of_index={})  # what the whole site claimed so far
    for node in nodes:
        name = node.get('inventory_hostname') or node.get('name')
        where = 'node %s' % name
        if not name:
            errors.append('a node has no name')
            continue
        if name in seen_names:
            errors.append('%s: listed twice' % where)
        seen_names.add(name)
        errors.extend(_rack_errors(node, where, site['rack_of_index']))
        errors.extend(_conductor_group_name_errors(node, where))
        nics = node.get('nics') or []
        if not isinstance(nics, list) or not nics:
            errors.append('%s: nics must be a non-empty list of {name, mac, pxe, leaf}' % where)
            nics = []
        if not node.get('bmc_address') and not is_discovered(node):
            # A node found by auto-discovery may take its BMC address from what its ramdisk reports.
            errors.append('%s: bmc_address is missing (it may be left out only on a node to discover: '
                          'one whose NICs have leaf and port but no mac)' % where)
        nic_names = set()
        for i, nic in enumerate(nics):
            errors.extend(_nic_errors(node, where, i, nic, nic_names, site))
        if nics and not any(isinstance(n, dict) and n.get('pxe') for n in nics):
            errors.append('%s: no NIC has pxe: true' % where)
        errors.extend(_bond_errors(node, where, nic_names))
    return errors


def _rack_errors(node, where, rack_of_index):
    """The node's rack and its index; ``rack_of_index`` (index -> rack) is the site's so far."""
    rack = node.get('rack')
    if not rack:
        return ['%s: no rack (put the node in a rack_<id> group whose group_vars set rack)' % where]
    idx = rack_index(node.get('rack_index'))
    if idx is None:
        return ['%s: rack %s needs rack_index, a positive integer' % (where, rack)]
    other = rack_of_index.setdefault(idx, rack)
    if other != rack:
        return ['rack_index %d is used by racks %s and %s: each rack needs its own' % (idx, other, rack)]
    return []


def _nic_errors(node, where, i, nic, nic_names, site):
    """One NIC (``nics[i]``): its name (once per node), its MAC and its leaf port (once per
    site: ``site['macs']`` and ``site['positions']`` record the owners), its leaf."""
    if not isinstance(nic, dict):
        return ['%s: nics[%d] must be a dict' % (where, i)]
    errors = []
    nic_where = '%s nic %s' % (where, nic.get('name', '#%d' % i))
    if not nic.get('name'):
        errors.append('%s: nics[%d] has no name' % (where, i))
    elif nic['name'] in nic_names:
        errors.append('%s: NIC name listed twice' % nic_where)
    nic_names.add(nic.get('name'))
    mac = normalize_mac(nic.get('mac'))
    if nic.get('mac') in (None, ''):
        # No MAC: discovery identifies the NIC by the leaf port it is cabled to.
        if not nic.get('leaf') or not nic.get('port'):
            errors.append('%s: no mac, so leaf and port are required (a node without MACs is '
                          'identified by the leaf ports its NICs are cabled to)' % nic_where)
    elif mac is None:
        errors.append('%s: mac %r is not a MAC address (aa:bb:cc:dd:ee:ff)' % (nic_where, nic.get('mac')))
    elif mac in site['macs']:
        errors.append('%s: mac %s is also on %s' % (nic_where, mac, site['macs'][mac]))
    else:
        site['macs'][mac] = nic_where
    position = leaf_position(nic)
    if position is not None:
        if position in site['positions']:
            errors.append('%s: leaf %s port %s is also claimed by %s (one leaf port, one NIC)'
                          % (nic_where, nic['leaf'], nic['port'], site['positions'][position]))
        else:
            site['positions'][position] = nic_where
    errors.extend(_leaf_errors(nic_where, nic.get('leaf'), node.get('rack'), node.get('leaf_switches')))
    return errors


def _bond_errors(node, where, nic_names):
    """Each bond: a name, at least two members, each one of the node's NICs."""
    errors = []
    for bond in node.get('bonds') or []:
        members = bond.get('members') or []
        if not bond.get('name'):
            errors.append('%s: a bond has no name' % where)
        for member in members:
            if member not in nic_names:
                errors.append('%s bond %s: member %r is not one of its nics' % (where, bond.get('name'), member))
        if len(members) < 2:
            errors.append('%s bond %s: a bond needs at least two members' % (where, bond.get('name')))
    return errors


def _conductor_group_name_errors(node, where):
    errors = []
    for key, owner in (('rack_conductor_group', 'rack %s' % node.get('rack')), ('conductor_group', where)):
        group = node.get(key)
        if group is not None and not CONDUCTOR_GROUP_RE.match(str(group)):
            errors.append('%s: %s %r is not a conductor group name (lower-case letters, digits, "_", "-", '
                          '"."; Ironic stores it lowercased)' % (owner, key, group))
    return errors


def node_conductor_group(hv):
    """The conductor group a node is pinned to: its own ``conductor_group``, else its rack's
    ``rack_conductor_group``, else None (Ironic's default group, ``""``, is not written)."""
    return hv.get('conductor_group') or hv.get('rack_conductor_group') or None


def rack_conductor_groups(nodes):
    """``{rack: conductor group}`` of the racks that pin their nodes to a conductor group (from a
    list of node hostvars dicts); a node's own ``conductor_group`` counts as its rack's too, keyed
    ``<rack> (node <name>)`` so a message can name it."""
    out = {}
    for node in nodes:
        rack = node.get('rack')
        if node.get('rack_conductor_group'):
            out[str(rack)] = node['rack_conductor_group']
        if node.get('conductor_group') and node.get('conductor_group') != node.get('rack_conductor_group'):
            out['%s (node %s)' % (rack, node.get('inventory_hostname') or node.get('name'))] = node['conductor_group']
    return out


def conductor_group_errors(rack_groups, conductors, label='rack %s'):
    """One message per rack whose conductor group no live conductor serves.

    ``rack_groups``: ``{rack: group}`` (see rack_conductor_groups); ``conductors``: what
    ``GET /v1/conductors`` lists (dicts with ``hostname``, ``conductor_group``, ``alive``);
    ``label``: how a message names a key (``'rack %s'``; ironic_nodes names nodes)."""
    served, dead = {}, []
    for conductor in conductors:
        group = conductor.get('conductor_group') or ''
        if conductor.get('alive', True):
            served.setdefault(group, []).append(conductor.get('hostname'))
        else:
            dead.append('%s (%r)' % (conductor.get('hostname'), group))
    offered = ', '.join(sorted('%r' % g for g in served)) or 'none'
    if dead:
        # A conductor that missed its heartbeats is one Ironic maps no node to: say which.
        offered += '; registered but not alive: %s' % ', '.join(sorted(dead))
    errors = []
    for rack, group in sorted(rack_groups.items()):
        if group not in served:
            errors.append('%s: conductor group %r is served by no live conductor (groups served: %s): '
                          'start an ironic-conductor with [conductor] conductor_group = %s or fix '
                          'rack_conductor_group' % (label % rack, group, offered, group))
    return errors


# Which driver_info keys carry the BMC address and credentials, per hardware type.
BMC_KEYS = {
    'ipmi': ('ipmi_address', 'ipmi_username', 'ipmi_password'),
    'redfish': ('redfish_address', 'redfish_username', 'redfish_password'),
    'idrac': ('drac_address', 'drac_username', 'drac_password'),
    'ilo': ('ilo_address', 'ilo_username', 'ilo_password'),
    'irmc': ('irmc_address', 'irmc_username', 'irmc_password'),
}


def role_templates(templates, node_role):
    """Names of the entries of ``templates`` (the site's ``deploy_templates`` or ``runbooks``) that
    serve a node of role ``node_role``: those whose ``roles`` list the role, and the one named after
    the role's trait (``CUSTOM_ROLE_STORAGE`` serves ``storage``). Sorted; [] without a role."""
    if not node_role or not isinstance(templates, list):
        return []
    role_trait = trait_name(node_role, 'CUSTOM_ROLE_')
    names = set()
    for entry in templates:
        if not isinstance(entry, dict) or not isinstance(entry.get('name'), str):
            continue
        roles = entry.get('roles') or []
        if entry['name'] == role_trait or str(node_role) in [str(r) for r in roles]:
            names.add(entry['name'])
    return sorted(names)


def node_traits(hv, rack=True, role=True):
    """The traits the site model gives a node (``hv``: its hostvars): ``CUSTOM_RACK_<RACK>`` from
    ``rack`` and ``CUSTOM_ROLE_<ROLE>`` from ``node_role``, each only when set (and asked for), then
    with the role the names of the site's ``deploy_templates`` and ``runbooks`` that serve it
    (Ironic runs a deploy template or runbook only on a node that has its name as a trait)."""
    out = []
    if rack and hv.get('rack'):
        out.append(trait_name(hv['rack'], 'CUSTOM_RACK_'))
    if role and hv.get('node_role'):
        out.append(trait_name(hv['node_role'], 'CUSTOM_ROLE_'))
        for name in role_templates(hv.get('deploy_templates'), hv['node_role']) + \
                role_templates(hv.get('runbooks'), hv['node_role']):
            if name not in out:
                out.append(name)
    return out


def node_spec(hv):
    """Turn one node's hostvars (site model) into an ``ironic_nodes`` node spec.

    Ports get the rack's physnet; bonds become port groups named ``<node>-<bond>`` (Ironic port
    group names are global) whose address is the first member's MAC; the rack and role become
    traits (``CUSTOM_RACK_<RACK>``, ``CUSTOM_ROLE_<ROLE>``) and ``extra.rack`` / ``extra.role``.
    """
    name = hv.get('inventory_hostname') or hv.get('name')
    driver = hv.get('bmc_driver') or 'ipmi'
    addr_key, user_key, pass_key = BMC_KEYS.get(driver, BMC_KEYS['ipmi'])
    driver_info = {}
    if hv.get('bmc_address'):
        driver_info[addr_key] = hv['bmc_address']
    if hv.get('bmc_username'):
        driver_info[user_key] = hv['bmc_username']
    if hv.get('bmc_password'):
        driver_info[pass_key] = hv['bmc_password']
    driver_info.update(hv.get('bmc_driver_info') or {})
    driver_info.update(node_driver_networks(hv))

    rack = hv.get('rack')
    role = hv.get('node_role')
    traits = list(hv.get('traits') or []) + node_traits(hv)
    extra = dict(hv.get('extra') or {})
    if rack:
        extra['rack'] = rack
    if role:
        extra['role'] = role

    physnet = hv.get('rack_physnet')
    nics = hv.get('nics') or []
    member_of = {}
    port_groups = []
    for bond in hv.get('bonds') or []:
        pg_name = '%s-%s' % (name, bond['name'])
        members = [n for n in nics if n.get('name') in (bond.get('members') or [])]
        pg = {'name': pg_name, 'mode': bond.get('mode')}
        if bond.get('standalone_ports_supported') is not None:
            pg['standalone_ports_supported'] = bool(bond['standalone_ports_supported'])
        if members:
            pg['address'] = normalize_mac(members[0].get('mac'))
        port_groups.append(pg)
        for member in bond.get('members') or []:
            member_of[member] = pg_name
    ports = []
    for nic in nics:
        port = {'address': normalize_mac(nic.get('mac')) or nic.get('mac'),
                'pxe_enabled': bool(nic.get('pxe', False))}
        if physnet:
            port['physical_network'] = physnet
        if nic.get('name') in member_of:
            port['port_group'] = member_of[nic['name']]
        if nic.get('name'):
            port['extra'] = {'nic': nic['name']}
        ports.append(port)

    spec = {'name': name, 'driver': driver, 'driver_info': driver_info, 'traits': sorted(set(traits)),
            'extra': extra, 'ports': ports, 'port_groups': port_groups}
    resource_class = hv.get('resource_class') or ('baremetal.%s' % role if role else None)
    if resource_class:
        spec['resource_class'] = resource_class
    # Always given (even empty): a key deleted from the inventory is then removed from Ironic
    # when enrollment's owner record says enrollment set it.
    spec['properties'] = dict(hv.get('properties') or {})
    if node_conductor_group(hv):
        spec['conductor_group'] = node_conductor_group(hv)
    if hv.get('owner'):
        spec['owner'] = hv['owner']
    for key, value in (hv.get('bmc_interfaces') or {}).items():
        spec[key] = value
    if node_network_interface(hv):
        spec['network_interface'] = node_network_interface(hv)
    return spec


def node_driver_networks(hv):
    """``driver_info.provisioning_network`` / ``cleaning_network`` of a node, from the site, rack or
    node variables of the same names: a network name or ID, or ``true`` for the ``routed_networks``
    entry marked ``provisioning`` (as multi-site clouds set them per node instead of in ironic.conf's
    ``[neutron]``). Unset or false: nothing (Ironic's ``[neutron]`` settings apply)."""
    out = {}
    for key in ('provisioning_network', 'cleaning_network'):
        value = hv.get(key)
        if value is True:
            marked = [n for n in hv.get('routed_networks') or [] if isinstance(n, dict) and n.get('provisioning')]
            if not marked or not marked[0].get('name'):
                raise ValueError('%s is true but no routed_networks entry is marked provisioning: true; '
                                 'mark one or give the network by name' % key)
            value = marked[0]['name']
        if value not in (None, False, ''):
            out[key] = str(value)
    return out


def node_network_interface(hv):
    """Ironic's network interface of a node (``neutron``, ``flat``, ``noop``): its rack's
    ``rack_network_interface`` when set, else ``network_interface`` (the node's own in host_vars,
    or the site's). Ansible merges a node's and the site's ``network_interface`` into one value, so
    a node that differs from a rack override sets ``rack_network_interface`` in its host_vars.
    None when nothing is set: enrollment leaves the field to Ironic's default."""
    return hv.get('rack_network_interface') or hv.get('network_interface') or None


def discover_spec(hv):
    """One node's hostvars (site model) -> an ``ironic_discover`` node: its name, rack, NICs,
    driver and the ``driver_info`` enrollment writes, and the driver_info key of its BMC address
    (filled from the machine's ramdisk report when the inventory gives no ``bmc_address``)."""
    spec = node_spec(hv)
    out = {'name': spec['name'], 'rack': str(hv['rack']) if hv.get('rack') is not None else None,
           'nics': [dict(n) for n in hv.get('nics') or [] if isinstance(n, dict)],
           'driver': spec['driver'], 'driver_info': spec['driver_info'],
           'bmc_address_key': BMC_KEYS.get(spec['driver'], BMC_KEYS['ipmi'])[0]}
    if hv.get('bmc_address'):
        out['bmc_address'] = hv['bmc_address']
    return out
