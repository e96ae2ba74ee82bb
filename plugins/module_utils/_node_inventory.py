# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_utils is PRIVATE to the spineleaf.baremetal collection. It may change
# without notice; do not import it from other collections.
"""Ironic nodes and ports (plain API dicts) -> inventory hosts, hostvars and groups. Pure: no I/O.

Used by the ``spineleaf.baremetal.ironic`` inventory plugin. Secrets never leave this module:
``driver_info`` credentials, ``instance_info`` config drives, ``driver_internal_info`` (agent
tokens) and any key that looks like a secret are dropped before anything is returned or cached.
"""

from __future__ import annotations

import re

from ._secrets import SECRET_KEY_PATTERN

# Keys never exported, wherever they appear in a node's dicts: the secrets (_secrets' one rule)
# and what identifies or reaches a node's credentials (users, auth, config drives, temp URLs).
STRIPPED_KEY_RE = re.compile(SECRET_KEY_PATTERN + r'|user|auth|configdrive|config_drive|temp_url', re.IGNORECASE)
# Node fields never exported: links, internal state and agent tokens, raw sub-resource links.
DROPPED_FIELDS = frozenset(['links', 'ports', 'portgroups', 'states', 'volume', 'driver_internal_info',
                            'allocation', 'bios', 'firmware'])
# Node fields whose nested keys are filtered with STRIPPED_KEY_RE.
FILTERED_FIELDS = ('driver_info', 'instance_info', 'extra', 'properties', 'inspection_info')
PORT_FIELDS = ('uuid', 'address', 'physical_network', 'pxe_enabled', 'portgroup_uuid', 'is_smartnic', 'extra')
RACK_TRAIT = 'CUSTOM_RACK_'
EMPTY = (None, '', {}, [])
ROLE_TRAIT = 'CUSTOM_ROLE_'


def strip_secrets(value):
    """A copy of ``value`` without any mapping key that looks like a secret (recursively)."""
    if isinstance(value, dict):
        return dict((k, strip_secrets(v)) for k, v in value.items() if not STRIPPED_KEY_RE.search(str(k)))
    if isinstance(value, list):
        return [strip_secrets(v) for v in value]
    return value


def group_name(*parts):
    """An Ansible-safe group name: ``group_name('state', 'deploy failed')`` is ``state_deploy_failed``."""
    return re.sub(r'[^A-Za-z0-9_]', '_', '_'.join(str(p) for p in parts if p not in (None, '')))


def _from_trait(traits, prefix, extra_value):
    """The rack (or role) of a node: from its ``CUSTOM_RACK_*`` trait, spelled as ``extra`` spells it
    when both agree, else ``extra``'s value; None when it has neither."""
    from_trait = [t[len(prefix):] for t in traits or [] if isinstance(t, str) and t.startswith(prefix)]
    if from_trait:
        body = from_trait[0]
        if extra_value and group_name(str(extra_value)).upper() == body:
            return str(extra_value)
        return body.lower()
    return str(extra_value) if extra_value not in (None, '') else None


def port_vars(port):
    """A port's hostvars: MAC, physnet, PXE, and the switch and port from local_link_connection."""
    out = dict((k, port.get(k)) for k in PORT_FIELDS if k in port)
    llc = port.get('local_link_connection') or {}
    if llc.get('switch_info'):
        out['switch'] = llc['switch_info']
    if llc.get('switch_id'):
        out['switch_id'] = llc['switch_id']
    if llc.get('port_id'):
        out['port'] = llc['port_id']
    if 'extra' in out:
        out['extra'] = strip_secrets(out['extra'] or {})
    return out


def node_vars(node, ports=()):
    """The hostvars of one node: ``rack``, ``node_role`` and ``ironic`` (its fields, ``ports``,
    ``traits``), with every secret removed."""
    ironic = {}
    for key, value in node.items():
        # Unset fields (null, empty) are left out: a third of a node's fields on a typical site,
        # and every exported value costs Ansible time per host (2,000 nodes: about 1 s).
        if key in DROPPED_FIELDS or STRIPPED_KEY_RE.search(key) or value in EMPTY:
            continue
        ironic[key] = strip_secrets(value) if key in FILTERED_FIELDS else value
    ironic['traits'] = sorted(node.get('traits') or [])
    ironic['ports'] = [port_vars(p) for p in sorted(ports, key=lambda p: p.get('address') or '')]
    extra = node.get('extra') or {}
    hostvars = {'ironic': ironic}
    rack = _from_trait(node.get('traits'), RACK_TRAIT, extra.get('rack'))
    role = _from_trait(node.get('traits'), ROLE_TRAIT, extra.get('role'))
    if rack:
        hostvars['rack'] = rack
    if role:
        hostvars['node_role'] = role
    return hostvars


def node_groups(hostvars):
    """The groups of one node (from its hostvars): rack, role, provision state, resource class,
    conductor group and maintenance."""
    ironic = hostvars['ironic']
    groups = []
    if hostvars.get('rack'):
        groups.append(group_name('rack', hostvars['rack']))
    if hostvars.get('node_role'):
        groups.append(group_name('role', hostvars['node_role']))
    if ironic.get('provision_state'):
        groups.append(group_name('state', ironic['provision_state']))
    if ironic.get('resource_class'):
        groups.append(group_name('resource_class', ironic['resource_class']))
    if ironic.get('conductor_group'):
        groups.append(group_name('conductor_group', ironic['conductor_group']))
    if ironic.get('maintenance'):
        groups.append('maintenance')
    return groups


def inventory_from_ironic(nodes, ports):
    """Map Ironic's node and port lists (plain API dicts) to an inventory.

    Returns ``{'hosts': {name: hostvars}, 'groups': {group: [names]}, 'racks': [rack groups]}``.
    A node without a name is named by its UUID. Rack groups are children of ``baremetal`` (the
    site model's shape), so ``groups['baremetal']`` lists only the nodes without a rack; every
    node is in ``baremetal``. Nothing secret is in the result, so it may be cached.
    """
    by_node = {}
    for port in ports:
        by_node.setdefault(port.get('node_uuid'), []).append(port)
    hosts = {}
    groups = {'baremetal': []}
    racks = []
    for node in sorted(nodes, key=lambda n: n.get('name') or n.get('uuid') or ''):
        name = node.get('name') or node.get('uuid')
        hostvars = node_vars(node, by_node.get(node.get('uuid'), ()))
        hosts[name] = hostvars
        if not hostvars.get('rack'):
            groups['baremetal'].append(name)
        for group in node_groups(hostvars):
            if group.startswith('rack_') and group not in groups:
                racks.append(group)
            groups.setdefault(group, []).append(name)
    return {'hosts': hosts, 'groups': groups, 'racks': racks}
