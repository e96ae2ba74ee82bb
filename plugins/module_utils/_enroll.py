# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_utils is PRIVATE to the spineleaf.baremetal collection.
"""Enrollment planning: desired node specs + what Ironic has -> validated per-node plans.

Pure: no I/O. Works on plain dicts with Ironic API field names (``uuid``, ``node_uuid``,
``portgroup_uuid``, ``pxe_enabled``, ...). A spec value of ``None`` means "not specified":
the field is neither compared nor written (Ansible fills unspecified sub-options with None).
"""

from __future__ import annotations

import copy
import re

from . import _owner
from ._secrets import is_secret_key
from ._states import DELETABLE_STATES, DEPLOYED_STATES
from ._util import json_pointer, normalize_mac
from ._traits import trait_error

MASK = '********'

INTERFACES = ('bios_interface', 'boot_interface', 'console_interface', 'deploy_interface',
              'firmware_interface', 'inspect_interface', 'management_interface',
              'network_interface', 'power_interface', 'raid_interface', 'rescue_interface',
              'storage_interface', 'vendor_interface')
SCALAR_FIELDS = ('driver', 'resource_class', 'conductor_group', 'owner', 'description') + INTERFACES
MERGED_FIELDS = ('properties', 'extra')
# Owner-record field of each merged field (what enrollment claimed there).
OWNED_FIELD = {'extra': 'extra_keys', 'properties': 'property_keys'}
# enroll traits_mode -> how the owner record treats traits enrollment does not want (see _owner).
TRAIT_POLICY = {'add': 'owned', 'exact': 'exact'}
PORT_FIELDS = ('pxe_enabled', 'physical_network')
PORT_GROUP_FIELDS = ('address', 'mode', 'standalone_ports_supported')

# Ironic node names: RFC 3986 unreserved characters, at most 255 (Ironic answers 400 otherwise,
# after the other nodes of the batch were written).
NODE_NAME_RE = re.compile(r'^[A-Za-z0-9._~-]{1,255}$')


def mask_driver_info(info):
    """Copy of a driver_info dict with every secret value replaced by a mask."""
    if not isinstance(info, dict):
        return info
    return {k: (MASK if is_secret_key(k) and v is not None else v) for k, v in info.items()}


def secret_values(specs):
    """Every secret value in the specs' driver_info, so the module can hide them from all output."""
    out = []
    for spec in specs:
        for key, value in (spec.get('driver_info') or {}).items():
            if is_secret_key(key) and value not in (None, ''):
                out.append(str(value))
    return out


class EnrollPlan:
    """What ironic_nodes does for one node. ``action`` is created / updated / unchanged / deleted."""

    def __init__(self, name, uuid=None, action='unchanged'):
        self.name = name
        self.uuid = uuid
        self.action = action
        self.create_attrs = None
        self.node_patch = []
        self.traits = None
        self.pg_create = []
        self.pg_patch = []
        self.pg_delete = []
        self.port_create = []
        self.port_patch = []
        self.port_delete = []
        self.changes = []
        self.before = {}
        self.after = {}
        self.force_maintenance = False
        self.provision_state = None
        self.traits_after = None
        self.removed = {}

    @property
    def writes(self):
        return bool(self.create_attrs or self.node_patch or self.traits is not None or self.pg_create
                    or self.pg_patch or self.pg_delete or self.port_create or self.port_patch
                    or self.port_delete or self.action == 'deleted')


# ------------------------------------------------------------------ validation
def validate(specs, nodes, ports, port_groups, state='present', force=False):
    """Return every problem in the request (list of messages naming node and field).

    ``nodes`` / ``ports`` / ``port_groups`` are what Ironic has (dicts with API field names).
    """
    errors = []
    by_name = {n.get('name'): n for n in nodes if n.get('name')}
    owners = _ironic_owners(nodes, ports, port_groups)
    seen = set()
    request = dict(macs={}, pgs={})  # MAC / port group name -> the node of the request using it
    for i, spec in enumerate(specs):
        name = spec.get('name')
        if not name:
            errors.append('nodes[%d]: name is required' % i)
            continue
        where = 'node %s' % name
        if not NODE_NAME_RE.match(str(name)):
            errors.append('%s: name must be 1-255 ASCII letters, digits, "-", ".", "_" or "~" (Ironic node names)'
                          % where)
        if name in seen:
            errors.append('%s: listed more than once in nodes' % where)
        seen.add(name)
        current = by_name.get(name)
        if state == 'absent':
            if current and current.get('provision_state') in DEPLOYED_STATES and not force:
                errors.append('%s: is %s (deployed or deploying); deleting it would destroy a running '
                              'workload: undeploy it first or set force: true'
                              % (where, current.get('provision_state')))
            continue
        errors.extend(_node_field_errors(spec, where, current))
        groups, pg_errors = _port_group_errors(spec, where, owners['pgs'], request['pgs'])
        errors.extend(pg_errors)
        errors.extend(_port_errors(spec, where, groups, owners['macs'], request['macs']))
    return errors


def _ironic_owners(nodes, ports, port_groups):
    """``{'macs': {mac: node}, 'pgs': {port group name: node}}`` of what Ironic has (node name,
    else its UUID)."""
    by_uuid = {n['uuid']: n for n in nodes}
    macs = {}
    for p in ports:
        mac = normalize_mac(p.get('address'))
        if mac:
            owner = by_uuid.get(p.get('node_uuid'), {})
            macs[mac] = owner.get('name') or p.get('node_uuid')
    pgs = {}
    for g in port_groups:
        if g.get('name'):
            pgs[g['name']] = by_uuid.get(g.get('node_uuid'), {}).get('name') or g.get('node_uuid')
    return dict(macs=macs, pgs=pgs)


def _node_field_errors(spec, where, current):
    """The node's own fields: a driver to create it, traits, driver_info, reserved extra keys."""
    errors = []
    if current is None and not spec.get('driver'):
        errors.append('%s: driver is required to create a node (e.g. ipmi, redfish)' % where)
    for t in spec.get('traits') or []:
        why = trait_error(t)
        if why:
            errors.append('%s: traits: %s' % (where, why))
    if spec.get('driver_info') is not None and not isinstance(spec.get('driver_info'), dict):
        errors.append('%s: driver_info must be a dict' % where)
    for key in sorted(set(spec.get('extra') or {}) & set(_owner.RESERVED_EXTRA_KEYS)):
        errors.append('%s: extra.%s is reserved for the owner record of this collection' % (where, key))
    return errors


def _port_group_errors(spec, where, pg_owner, request_pgs):
    """The node's port groups: ``({name: port group}, errors)``. A name is global in Ironic: one
    node of the request (``request_pgs``, filled here) and of Ironic (``pg_owner``) uses it."""
    name = spec['name']
    errors = []
    groups = {}
    for j, pg in enumerate(spec.get('port_groups') or []):
        pg_name = pg.get('name')
        if not pg_name:
            errors.append('%s: port_groups[%d]: name is required' % (where, j))
            continue
        if pg_name in groups:
            errors.append('%s: port group %s listed twice' % (where, pg_name))
        groups[pg_name] = pg
        other = request_pgs.get(pg_name)
        if other and other != name:
            errors.append('%s: port group name %s is also used by node %s; Ironic port group names '
                          'are global: prefix them with the node name' % (where, pg_name, other))
        request_pgs[pg_name] = name
        owner = pg_owner.get(pg_name)
        if owner is not None and owner != name:
            errors.append('%s: port group %s already belongs to node %s in Ironic' % (where, pg_name, owner))
        if pg.get('address') is not None and normalize_mac(pg['address']) is None:
            errors.append('%s: port group %s: address %r is not a MAC address' % (where, pg_name, pg['address']))
    return groups, errors


def _port_errors(spec, where, groups, port_owner, request_macs):
    """The node's ports: a MAC each, used once in the request (``request_macs``, filled here) and
    not by another node in Ironic (``port_owner``); a port group of the node's own, whose members
    share one physical_network."""
    name = spec['name']
    errors = []
    physnets = {}
    for j, port in enumerate(spec.get('ports') or []):
        raw = port.get('address')
        mac = normalize_mac(raw)
        if raw is None:
            errors.append('%s: ports[%d]: no MAC address; a node to discover (NICs with leaf and port but no '
                          'mac) gets its MACs from ironic_discover (role discover), which did not find it'
                          % (where, j))
            continue
        if mac is None:
            errors.append('%s: ports[%d]: address %r is not a MAC address (aa:bb:cc:dd:ee:ff)' % (where, j, raw))
            continue
        other = request_macs.get(mac)
        if other:
            errors.append('%s: port %s: MAC also listed for %s' % (where, mac, other))
        request_macs.setdefault(mac, 'node %s' % name)
        owner = port_owner.get(mac)
        if owner is not None and owner != name:
            errors.append('%s: port %s: MAC already belongs to node %s in Ironic' % (where, mac, owner))
        pg_name = port.get('port_group')
        if pg_name:
            if pg_name not in groups:
                errors.append('%s: port %s: port_group %r is not in this node\'s port_groups' % (where, mac, pg_name))
            else:
                physnets.setdefault(pg_name, set()).add(port.get('physical_network'))
    for pg_name, nets in sorted(physnets.items()):
        if len(nets) > 1:
            errors.append('%s: port group %s: member ports have different physical_network values (%s); '
                          'Ironic requires members of a port group to share one'
                          % (where, pg_name, ', '.join(sorted(str(n) for n in nets))))
    return errors


# ------------------------------------------------------------------ planning
def _node_view(node, spec, ports, pgs):
    """The parts of a node the spec talks about, for diff output (secrets masked)."""
    view = {}
    if node is None:
        return view
    for field in SCALAR_FIELDS:
        if spec.get(field) is not None:
            view[field] = node.get(field)
    if spec.get('driver_info') is not None:
        cur = node.get('driver_info') or {}
        view['driver_info'] = mask_driver_info({k: cur.get(k) for k in spec['driver_info'] if k in cur})
    for field in MERGED_FIELDS:
        if spec.get(field) is not None:
            cur = node.get(field) or {}
            view[field] = {k: cur[k] for k in spec[field] if k in cur}
    if spec.get('traits') is not None:
        view['traits'] = sorted(node.get('traits') or [])
    if spec.get('ports') is not None:
        pg_names = {g['uuid']: g.get('name') for g in pgs}
        view['ports'] = sorted(({'address': p['address'], 'pxe_enabled': p.get('pxe_enabled'),
                                 'physical_network': p.get('physical_network'),
                                 'port_group': pg_names.get(p.get('portgroup_uuid'))} for p in ports),
                               key=lambda p: p['address'])
    if spec.get('port_groups') is not None:
        view['port_groups'] = sorted(({'name': g.get('name'), 'address': g.get('address'), 'mode': g.get('mode')}
                                      for g in pgs), key=lambda g: str(g['name']))
    return view


def _desired_view(spec, before, node, options, plan):
    after = copy.deepcopy(before)
    for field in SCALAR_FIELDS:
        if spec.get(field) is not None:
            after[field] = spec[field]
    if spec.get('driver_info') is not None:
        merged = dict(after.get('driver_info') or {})
        for key, value in spec['driver_info'].items():
            if is_secret_key(key) and node is not None and options.get('update_password') != 'always':
                continue
            merged[key] = value
        after['driver_info'] = mask_driver_info(merged)
    for field in MERGED_FIELDS:
        if spec.get(field) is not None:
            merged = dict(after.get(field) or {})
            merged.update(spec[field])
            after[field] = dict((k, v) for k, v in merged.items()
                                if v is not None and k not in plan.removed.get(field, ()))
    if spec.get('traits') is not None:
        after['traits'] = sorted(plan.traits_after if plan.traits_after is not None else set(spec['traits']))
    return after


def plan_node(spec, node, ports, pgs, options):
    """Plan one node. ``node`` is the current Ironic node dict or None; ``ports`` / ``pgs`` are
    its current ports and port groups. ``options``: traits_mode, ports_mode, update_password and
    site (recorded in the node's owner record, see ``_owner``)."""
    name = spec['name']
    plan = EnrollPlan(name, uuid=node['uuid'] if node else None)
    plan.provision_state = node.get('provision_state') if node else None
    plan.before = _node_view(node, spec, ports, pgs)

    if node is None:
        plan.action = 'created'
        attrs = {'name': name}
        for field in SCALAR_FIELDS:
            if spec.get(field) is not None:
                attrs[field] = spec[field]
        for field in ('driver_info',) + MERGED_FIELDS:
            if spec.get(field) is not None:
                attrs[field] = dict((k, v) for k, v in spec[field].items() if v is not None)
        record = _owner.with_section(_owner.read_record({}), 'enroll', site=options.get('site'),
                                     traits=spec.get('traits') or [],
                                     extra_keys=list(attrs.get('extra') or {}),
                                     property_keys=list(attrs.get('properties') or {}))
        stored = _owner.stored_form(record)
        if stored is not None:  # nothing to record (no site, traits or keys): no key at all
            attrs.setdefault('extra', {})[_owner.OWNER_KEY] = stored
        plan.create_attrs = attrs
        plan.changes.append('created')
        if spec.get('traits'):
            plan.traits = sorted(set(spec['traits']))
            plan.traits_after = plan.traits
    else:
        _plan_node_fields(plan, spec, node, options)
        _plan_owned(plan, spec, node, options)
        for field, keys in plan.removed.items():
            plan.before.setdefault(field, {}).update((k, node[field][k]) for k in keys)

    _plan_port_groups(plan, spec, pgs, options)
    _plan_ports(plan, spec, ports, pgs, options)

    after = _desired_view(spec, plan.before if node else {}, node, options, plan)
    if spec.get('ports') is not None:
        after['ports'] = _ports_after(spec, ports, pgs, options)
    if spec.get('port_groups') is not None:
        after['port_groups'] = _pgs_after(spec, pgs, options)
    plan.after = after
    if plan.action != 'created' and plan.writes:
        plan.action = 'updated'
    return plan


def _plan_node_fields(plan, spec, node, options):
    for field in SCALAR_FIELDS:
        want = spec.get(field)
        if want is not None and node.get(field) != want:
            plan.node_patch.append({'op': 'replace', 'path': '/%s' % field, 'value': want})
            plan.changes.append(field)
    if spec.get('driver_info') is not None:
        current = node.get('driver_info') or {}
        for key, value in sorted(spec['driver_info'].items()):
            if is_secret_key(key):
                # Ironic returns secrets masked: a masked value is never a change.
                if options.get('update_password') != 'always' or value is None:
                    continue
            elif current.get(key) == value:
                continue
            plan.node_patch.append({'op': 'add', 'path': '/driver_info/%s' % json_pointer(key), 'value': value})
            plan.changes.append('driver_info.%s' % key)


def _plan_owned(plan, spec, node, options):
    """extra / properties keys and traits, through the owner record: what enrollment claimed and
    the inventory no longer wants is removed; what others set is kept (``exact`` traits mode
    removes every trait no step of the collection claims). Then the record itself."""
    record = _owner.read_record(node)
    claims = {}
    for field in MERGED_FIELDS:
        want = spec.get(field)
        if want is None:
            continue
        changes, claims[OWNED_FIELD[field]] = _owner.plan_keys(
            node.get(field) or {}, want, record, 'enroll', OWNED_FIELD[field])
        for key, value in sorted(changes.items()):
            path = '/%s/%s' % (field, json_pointer(key))
            if value is None:
                plan.node_patch.append({'op': 'remove', 'path': path})
                plan.changes.append('%s.%s removed' % (field, key))
                plan.removed.setdefault(field, []).append(key)
            else:
                plan.node_patch.append({'op': 'add', 'path': path, 'value': value})
                plan.changes.append('%s.%s' % (field, key))
    if spec.get('traits') is not None:
        current = set(node.get('traits') or [])
        mode = options.get('traits_mode') or 'add'
        after, claims['traits'] = _owner.plan_traits(current, spec['traits'], record, 'enroll', TRAIT_POLICY[mode])
        plan.traits_after = after
        if set(after) != current:
            plan.traits = after
            added = sorted(set(after) - current)
            removed = sorted(current - set(after))
            plan.changes.append('traits' + ''.join(' +' + t for t in added) + ''.join(' -' + t for t in removed))
    ops = _owner.record_ops(node, _owner.with_section(record, 'enroll', site=options.get('site'), **claims))
    if ops:
        plan.node_patch.extend(ops)
        plan.changes.append('owner record')


def _plan_port_groups(plan, spec, pgs, options):
    wanted = spec.get('port_groups')
    if wanted is None:
        return
    current = {g.get('name'): g for g in pgs}
    for pg in wanted:
        cur = current.get(pg['name'])
        if cur is None:
            attrs = {'name': pg['name']}
            for field in PORT_GROUP_FIELDS + ('properties',):
                if pg.get(field) is not None:
                    attrs[field] = normalize_mac(pg[field]) if field == 'address' else pg[field]
            plan.pg_create.append(attrs)
            plan.changes.append('port group %s created' % pg['name'])
            continue
        patch = []
        for field in PORT_GROUP_FIELDS:
            want = pg.get(field)
            if field == 'address' and want is not None:
                want = normalize_mac(want)
            if want is not None and cur.get(field) != want:
                patch.append({'op': 'replace', 'path': '/%s' % field, 'value': want})
                plan.changes.append('port group %s %s' % (pg['name'], field))
        for key, value in sorted((pg.get('properties') or {}).items()):
            if (cur.get('properties') or {}).get(key) != value:
                patch.append({'op': 'add', 'path': '/properties/%s' % json_pointer(key), 'value': value})
                plan.changes.append('port group %s properties.%s' % (pg['name'], key))
        if patch:
            plan.pg_patch.append((cur['uuid'], patch, pg['name']))
    if options.get('ports_mode') == 'exact':
        names = {pg['name'] for pg in wanted}
        for g in pgs:
            if g.get('name') not in names:
                plan.pg_delete.append(g['uuid'])
                plan.changes.append('port group %s removed' % (g.get('name') or g['uuid']))


def _plan_ports(plan, spec, ports, pgs, options):
    wanted = spec.get('ports')
    if wanted is None:
        return
    current = {normalize_mac(p['address']): p for p in ports}
    pg_name_by_uuid = {g['uuid']: g.get('name') for g in pgs}
    for port in wanted:
        mac = normalize_mac(port['address'])
        cur = current.get(mac)
        if cur is None:
            attrs = {'address': mac}
            for field in PORT_FIELDS + ('local_link_connection', 'extra'):
                if port.get(field) is not None:
                    attrs[field] = port[field]
            if port.get('port_group'):
                attrs['port_group'] = port['port_group']  # resolved to a uuid when applied
            plan.port_create.append(attrs)
            plan.changes.append('port %s created' % mac)
            continue
        patch = []
        for field in PORT_FIELDS:
            want = port.get(field)
            if want is not None and cur.get(field) != want:
                patch.append({'op': 'replace', 'path': '/%s' % field, 'value': want})
                plan.changes.append('port %s %s' % (mac, field))
        llc = port.get('local_link_connection')
        if llc is not None:
            cur_llc = cur.get('local_link_connection') or {}
            if any(cur_llc.get(k) != v for k, v in llc.items()):
                merged = dict(cur_llc)
                merged.update(llc)
                patch.append({'op': 'add', 'path': '/local_link_connection', 'value': merged})
                plan.changes.append('port %s local_link_connection' % mac)
        for key, value in sorted((port.get('extra') or {}).items()):
            if (cur.get('extra') or {}).get(key) != value:
                patch.append({'op': 'add', 'path': '/extra/%s' % json_pointer(key), 'value': value})
                plan.changes.append('port %s extra.%s' % (mac, key))
        want_pg = port.get('port_group')
        if want_pg and pg_name_by_uuid.get(cur.get('portgroup_uuid')) != want_pg:
            patch.append({'op': 'replace', 'path': '/portgroup_uuid', 'port_group': want_pg})
            plan.changes.append('port %s port_group %s' % (mac, want_pg))
        if patch:
            plan.port_patch.append((cur['uuid'], patch, mac))
    if options.get('ports_mode') == 'exact':
        macs = {normalize_mac(p['address']) for p in wanted}
        for p in ports:
            if normalize_mac(p['address']) not in macs:
                plan.port_delete.append(p['uuid'])
                plan.changes.append('port %s removed' % p['address'])


def _ports_after(spec, ports, pgs, options):
    pg_names = {g['uuid']: g.get('name') for g in pgs}
    out = {}
    if options.get('ports_mode') != 'exact':
        for p in ports:
            out[normalize_mac(p['address'])] = {'address': normalize_mac(p['address']),
                                                'pxe_enabled': p.get('pxe_enabled'),
                                                'physical_network': p.get('physical_network'),
                                                'port_group': pg_names.get(p.get('portgroup_uuid'))}
    current = {normalize_mac(p['address']): p for p in ports}
    for port in spec['ports']:
        mac = normalize_mac(port['address'])
        cur = current.get(mac, {})
        out[mac] = {
            'address': mac,
            'pxe_enabled': port['pxe_enabled'] if port.get('pxe_enabled') is not None else cur.get('pxe_enabled', True if not cur else None),
            'physical_network': port['physical_network'] if port.get('physical_network') is not None else cur.get('physical_network'),
            'port_group': port.get('port_group') or pg_names.get(cur.get('portgroup_uuid')),
        }
    return [out[k] for k in sorted(out)]


def _pgs_after(spec, pgs, options):
    out = {}
    if options.get('ports_mode') != 'exact':
        for g in pgs:
            out[g.get('name')] = {'name': g.get('name'), 'address': g.get('address'), 'mode': g.get('mode')}
    current = {g.get('name'): g for g in pgs}
    for pg in spec['port_groups']:
        cur = current.get(pg['name'], {})
        out[pg['name']] = {'name': pg['name'],
                           'address': normalize_mac(pg['address']) if pg.get('address') else cur.get('address'),
                           'mode': pg.get('mode') or cur.get('mode')}
    return [out[k] for k in sorted(out, key=str)]


def plan_delete(spec, node):
    """Plan removing one node (validation already refused deployed nodes without force)."""
    plan = EnrollPlan(spec['name'], uuid=node['uuid'] if node else None)
    if node is None:
        plan.action = 'unchanged'
        return plan
    plan.action = 'deleted'
    plan.provision_state = node.get('provision_state')
    plan.before = {'name': node.get('name'), 'provision_state': node.get('provision_state')}
    plan.after = {}
    plan.changes.append('deleted')
    plan.force_maintenance = (node.get('provision_state') not in DELETABLE_STATES
                              and not node.get('maintenance'))
    return plan


def state_actions(current_state, target_state):
    """Provision actions that move a node forward from ``current_state`` to ``target_state``.

    Nodes are only moved forward (enroll -> manageable -> available): a node already past the
    target (available, active, ...) is left alone, never pulled out of service.
    """
    if current_state == target_state:
        return []
    if current_state == 'enroll':
        return {'manageable': ['manage'], 'available': ['manage', 'provide']}.get(target_state, [])
    if current_state == 'manageable' and target_state == 'available':
        return ['provide']
    return []
