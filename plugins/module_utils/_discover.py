# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""Discovery planning: machines Ironic auto-discovered + the inventory's intended positions ->
which machine becomes which node, and what cannot be matched. Pure: no I/O.

A *position* is an inventory node whose NICs name the leaf switch and port they are cabled to
(``nics[].leaf`` / ``port``; some or all without ``mac``). A *machine* is an Ironic node that
auto-discovery created (``enroll``, no name) or that this collection claimed before (its
``extra`` carries MARKER: Ironic's own ``auto_discovered`` flag is lost when inspection data is
replaced). A machine is matched by the switch and port its NICs report: its ports'
``local_link_connection``, else the LLDP of its stored inspection data. Nothing is guessed:
a machine on a port no position claims, two machines on one position, a machine cabled to
several positions, a position no machine reports are all reported as such.
"""

from __future__ import annotations

import datetime

from ._leaf_port import leaf_port
from ._lldp import neighbours, readable_port, switch_mac
from ._topology import LLDP_NOT_COLLECTED_FIX
from ._util import json_pointer, normalize_mac

# The collection's own mark on a node it named from its cabling (value: the position, readable).
MARKER = 'spineleaf_discovery'
NODE_FIELDS = ('uuid', 'name', 'provision_state', 'driver', 'extra', 'instance_uuid', 'last_error', 'created_at')
PORT_FIELDS = ('uuid', 'address', 'node_uuid', 'local_link_connection', 'extra')
# A node auto-discovery is still filling in (no ports, no inventory yet) is left alone this long
# before it counts as an orphan of a failed post.
ORPHAN_AGE = 60.0


def position_index(positions):
    """``({(leaf, port key): (node name, NIC name)}, errors)`` of the intended positions.

    ``positions``: dicts ``{name, nics: [{name, mac, pxe, leaf, port}], ...}`` (site model). A NIC
    without ``mac`` needs ``leaf`` and ``port``; one leaf port belongs to one NIC.
    """
    index, errors = {}, []
    for pos in positions:
        name = pos.get('name')
        if not name:
            errors.append('a node to discover has no name')
            continue
        nics = pos.get('nics') or []
        if not any(isinstance(n, dict) and n.get('leaf') and n.get('port') for n in nics):
            errors.append('node %s: no NIC names its leaf and port; discovery identifies a node by them' % name)
        for nic in nics:
            if not isinstance(nic, dict):
                errors.append('node %s: each NIC is a dict {name, mac, pxe, leaf, port}' % name)
                continue
            key = leaf_port(nic.get('leaf'), nic.get('port'))
            if key is None:
                if not nic.get('mac'):
                    errors.append('node %s NIC %s: no mac, so leaf and port are required' % (name, nic.get('name')))
                continue
            other = index.get(key)
            if other and other[0] != name:
                errors.append('node %s NIC %s: leaf %s port %s is also claimed by node %s NIC %s'
                              % (name, nic.get('name'), nic['leaf'], nic['port'], other[0], other[1]))
            index.setdefault(key, (name, nic.get('name')))
    return index, errors


def _age(node, now):
    created = node.get('created_at')
    if not created or now is None:
        return None
    try:
        stamp = datetime.datetime.fromisoformat(str(created).replace('Z', '+00:00'))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=datetime.timezone.utc)
    return now - stamp.timestamp()


def machine_view(node, ports, inspection, chassis_names=None):
    """What one Ironic node tells about its machine: ``{uuid, name, macs, links: [{mac, interface,
    switch, port}], bmc_address, ports, inventory}``. Links come from the ports'
    ``local_link_connection`` first, then from the inspection data's LLDP (``chassis_names``
    maps a switch's chassis MAC to its leaf name, for switches that do not send their name)."""
    chassis_names = dict((normalize_mac(k), v) for k, v in (chassis_names or {}).items() if normalize_mac(k))
    links, macs = {}, set()
    for port in ports:
        mac = normalize_mac(port.get('address'))
        if not mac:
            continue
        macs.add(mac)
        llc = port.get('local_link_connection') or {}
        switch = llc.get('switch_info') or chassis_names.get(normalize_mac(llc.get('switch_id')))
        if switch and llc.get('port_id'):
            links[mac] = dict(mac=mac, interface=None, switch=switch, port=str(llc['port_id']))
    inventory = (inspection or {}).get('inventory') if isinstance(inspection, dict) else None
    inventory = inventory if isinstance(inventory, dict) else {}
    by_iface = {}
    for iface in inventory.get('interfaces') or []:
        mac = normalize_mac((iface or {}).get('mac_address'))
        if mac:
            macs.add(mac)
            by_iface[iface.get('name')] = mac
    _source, parsed = neighbours(inspection or {})
    for iface, lldp in sorted(parsed.items()):
        mac = by_iface.get(iface)
        if not mac or mac in links:
            continue
        switch = lldp.get('switch_system_name') or chassis_names.get(switch_mac(lldp))
        port = readable_port(lldp)
        if switch and port is not None:
            links[mac] = dict(mac=mac, interface=iface, switch=switch, port=str(port))
    bmc = inventory.get('bmc_address')
    return dict(uuid=node['uuid'], name=node.get('name'), provision_state=node.get('provision_state'),
                driver=node.get('driver'), macs=sorted(macs), links=[links[m] for m in sorted(links)],
                bmc_address=bmc if bmc and bmc not in ('0.0.0.0', '::/0') else None,
                ports=len(ports), inventory=bool(inventory))


def is_candidate(node, names):
    """True for a node discovery looks at: unnamed in ``enroll`` (auto-discovered), carrying MARKER,
    or named like one of the positions ``names``."""
    if node.get('name'):
        return node['name'] in names or MARKER in (node.get('extra') or {})
    return node.get('provision_state') == 'enroll'


def _machine_summary(m):
    """A machine as a report shows it (no secrets: MACs, where it is cabled, its BMC address)."""
    return dict(uuid=m['uuid'], name=m.get('name'), macs=m['macs'], bmc_address=m.get('bmc_address'),
                links=[dict(switch=link['switch'], port=link['port'], mac=link['mac']) for link in m['links']])


def _where(m):
    return ', '.join('%s %s' % (link['switch'], link['port']) for link in m['links']) or 'no LLDP'


def _duplicates(machines, nodes_by_uuid):
    """Group machines sharing a MAC (two posts of one machine made two nodes): ``[(keep, [others])]``."""
    parent = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x
    owner = {}
    for m in machines:
        find(m['uuid'])
        for mac in m['macs']:
            if mac in owner:
                parent[find(m['uuid'])] = find(owner[mac])
            else:
                owner[mac] = m['uuid']
    groups = {}
    for m in machines:
        groups.setdefault(find(m['uuid']), []).append(m)
    out = []
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda m: (not m.get('name'), not m['inventory'], -m['ports'],
                                    str(nodes_by_uuid[m['uuid']].get('created_at') or ''), m['uuid']))
        out.append((members[0], members[1:]))
    return out


def _merge(keep, others):
    links = dict((link['mac'], link) for link in keep['links'])
    for other in others:
        for link in other['links']:
            links.setdefault(link['mac'], link)
    merged = dict(keep, links=[links[m] for m in sorted(links)],
                  macs=sorted(set(keep['macs']).union(*[set(o['macs']) for o in others])))
    merged['bmc_address'] = keep['bmc_address'] or next((o['bmc_address'] for o in others if o['bmc_address']), None)
    return merged


def _deletable(dup, keep, node):
    """A duplicate node is deleted only when it holds nothing of its own: no name, no instance,
    still ``enroll``, and every MAC of its ports is one the kept node's machine reports."""
    if dup.get('name') or node.get('instance_uuid') or node.get('provision_state') != 'enroll':
        return False
    port_macs = set(m for m in dup['macs'])
    return port_macs <= set(keep['macs']) or not dup['ports']


def plan(positions, nodes, ports, inspections, now=None, chassis_names=None, prune=False, orphan_age=ORPHAN_AGE):
    """Which machine becomes which node.

    ``positions``: the inventory nodes to discover, ``{name, rack, nics, driver, driver_info,
    bmc_address_key}`` (``driver_info`` as enrollment writes it; ``bmc_address_key`` the
    driver_info key of the BMC address, filled from the ramdisk's ``bmc_address`` when the
    inventory gives none). ``nodes`` / ``ports``: what Ironic has (NODE_FIELDS / PORT_FIELDS);
    ``inspections``: ``{uuid: GET /v1/nodes/{uuid}/inventory}`` of the candidate nodes; ``now``:
    epoch seconds (orphan age). Returns ``{nodes, unmatched, duplicates, orphans, pending}``:
    one entry per position in ``nodes`` (``action`` claim / unchanged / missing / conflict), see
    the module's RETURN.
    """
    index, errors = position_index(positions)
    if errors:
        raise ValueError('; '.join(errors))
    names = set(p['name'] for p in positions)
    nodes_by_uuid = dict((n['uuid'], n) for n in nodes)
    ports_of = {}
    for port in ports:
        ports_of.setdefault(port.get('node_uuid'), []).append(port)
    out = dict(nodes=[], unmatched=[], duplicates=[], orphans=[], pending=[])

    machines = []
    for node in nodes:
        if not is_candidate(node, names):
            continue
        inspection = inspections.get(node['uuid'])
        m = machine_view(node, ports_of.get(node['uuid'], []), inspection, chassis_names)
        if not node.get('name') and not m['ports'] and not m['inventory']:
            age = _age(node, now)
            if node.get('last_error') or (age is not None and age >= orphan_age):
                out['orphans'].append(dict(uuid=node['uuid'], last_error=node.get('last_error'),
                                           created_at=node.get('created_at'),
                                           action='delete' if prune else 'report'))
            else:
                out['pending'].append(node['uuid'])
            continue
        machines.append(m)

    dropped = set()
    for keep, others in _duplicates(machines, nodes_by_uuid):
        entry = dict(kept=keep['uuid'], name=keep.get('name'), macs=sorted(set(keep['macs']).union(*[o['macs'] for o in others])),
                     deleted=[], kept_too=[])
        for other in others:
            dropped.add(other['uuid'])
            (entry['deleted'] if _deletable(other, keep, nodes_by_uuid[other['uuid']]) else entry['kept_too']).append(other['uuid'])
        out['duplicates'].append(entry)
        machines = [_merge(keep, others) if m['uuid'] == keep['uuid'] else m for m in machines]
    machines = [m for m in machines if m['uuid'] not in dropped]

    at = dict((name, []) for name in names)   # position -> unnamed machines cabled to it
    held = {}                                 # position -> the node already carrying its name
    for m in machines:
        hits = sorted(set(index[k][0] for k in (leaf_port(link['switch'], link['port']) for link in m['links']) if k in index))
        if m.get('name') in names:
            held[m['name']] = m
            continue
        if m.get('name'):
            continue  # claimed before for a position no longer asked for: not ours to judge now
        if not hits:
            reason = ('reports no LLDP neighbour: it cannot be placed. %s' % LLDP_NOT_COLLECTED_FIX if not m['links'] else
                      'cabled to %s, a port no inventory node claims' % _where(m))
            out['unmatched'].append(dict(_machine_summary(m), reason=reason))
        elif len(hits) > 1:
            out['unmatched'].append(dict(_machine_summary(m), reason='cabled to the positions of several nodes (%s): %s'
                                         % (', '.join(hits), _where(m))))
        else:
            at[hits[0]].append(m)

    for pos in positions:
        out['nodes'].append(_plan_position(pos, held.get(pos['name']), at[pos['name']], index, ports_of, out))
    return out


def _learned_nics(pos, machine, node_ports):
    """The position's NICs with the MACs its machine reports at their leaf ports; ``missing``:
    NICs without MAC that no NIC of the machine reports."""
    by_key = dict((leaf_port(link['switch'], link['port']), link['mac']) for link in machine['links'])
    by_nic = dict(((p.get('extra') or {}).get('nic'), normalize_mac(p.get('address'))) for p in node_ports)
    nics, missing = [], []
    for nic in pos.get('nics') or []:
        nic = dict(nic)
        mac = normalize_mac(nic.get('mac')) or by_key.get(leaf_port(nic.get('leaf'), nic.get('port'))) or by_nic.get(nic.get('name'))
        if mac:
            nic['mac'] = mac
        else:
            missing.append('%s (%s %s)' % (nic.get('name'), nic.get('leaf'), nic.get('port')))
        nics.append(nic)
    return nics, missing


def _claim_patch(pos, machine, node):
    """JSON patch naming a machine after its position; ``(ops, reset_interfaces, changes, bmc)``."""
    key = pos.get('bmc_address_key') or 'ipmi_address'
    info = dict(pos.get('driver_info') or {})
    bmc = info.get(key) or machine.get('bmc_address')
    if bmc:
        info[key] = bmc
    position = ', '.join('%s %s' % (n.get('leaf'), n.get('port')) for n in pos.get('nics') or [] if n.get('leaf'))
    ops = [{'op': 'add', 'path': '/name', 'value': pos['name']},
           {'op': 'add', 'path': '/extra/%s' % MARKER, 'value': position}]
    changes = ['name %s' % pos['name'], 'extra.%s' % MARKER]
    if pos.get('rack'):
        ops.append({'op': 'add', 'path': '/extra/rack', 'value': str(pos['rack'])})
        changes.append('extra.rack')
    reset = bool(pos.get('driver') and pos['driver'] != node.get('driver'))
    if reset:
        ops.append({'op': 'replace', 'path': '/driver', 'value': pos['driver']})
        changes.append('driver %s' % pos['driver'])
    for k, v in sorted(info.items()):
        if v is not None:
            ops.append({'op': 'add', 'path': '/driver_info/%s' % json_pointer(k), 'value': v})
    if info:
        changes.append('driver_info')
    return ops, reset, changes, bmc


def _plan_position(pos, held, machines, index, ports_of, out):
    name = pos['name']
    entry = dict(name=name, uuid=None, action='missing', machine=None, nics=[dict(n) for n in pos.get('nics') or []],
                 bmc_address=pos.get('bmc_address'), msg=None, changes=[])
    where = ', '.join('%s %s' % (n.get('leaf'), n.get('port')) for n in pos.get('nics') or [] if n.get('leaf'))
    if held is not None:
        nics, missing = _learned_nics(pos, held, ports_of.get(held['uuid'], []))
        entry.update(uuid=held['uuid'], action='unchanged', machine=_machine_summary(held), nics=nics,
                     bmc_address=pos.get('bmc_address') or held.get('bmc_address'))
        for m in machines:
            out['unmatched'].append(dict(_machine_summary(m), reason='cabled to %s, the position of %s, which is '
                                         'already node %s' % (_where(m), name, held['uuid'])))
        if missing:
            entry['msg'] = 'node %s: no MAC known for NIC %s' % (name, ', '.join(missing))
        return entry
    if not machines:
        entry['msg'] = ('no machine reported at %s (is it racked, powered on and booting the inspection ramdisk '
                        'on the provisioning network?)' % where)
        return entry
    if len(machines) > 1:
        seen = '; '.join('%s (MACs %s; %s)' % (m['uuid'], ', '.join(m['macs']), _where(m)) for m in machines)
        entry.update(action='conflict', msg='%d machines at %s, none claimed: %s' % (len(machines), where, seen))
        for m in machines:
            out['unmatched'].append(dict(_machine_summary(m), reason='one of %d machines on the position of %s'
                                         % (len(machines), name)))
        return entry
    m = machines[0]
    nics, missing = _learned_nics(pos, m, ports_of.get(m['uuid'], []))
    entry.update(uuid=m['uuid'], machine=_machine_summary(m), nics=nics)
    if missing:
        entry.update(action='conflict', msg='machine %s is at %s but reports no NIC on %s: check those cables'
                     % (m['uuid'], _where(m), ', '.join(missing)))
        return entry
    ops, reset, changes, bmc = _claim_patch(pos, m, m)
    entry.update(action='claim', bmc_address=bmc, changes=changes, patch=ops, reset_interfaces=reset)
    if not bmc:
        entry['msg'] = 'no BMC address: neither the inventory nor the machine\'s ramdisk gives one'
    return entry
