# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""LLDP topology: neighbours -> switch, port, rack per NIC; cabling findings; what to write to
Ironic (ports' local_link_connection / physical_network, nodes' rack trait and extra.rack); and a
topology picture. Pure functions, no I/O."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from ansible_collections.spineleaf.baremetal.plugins.module_utils._lldp import is_mac, readable_port, switch_mac
from ansible_collections.spineleaf.baremetal.plugins.module_utils._traits import trait_name

FINDINGS = ('no_lldp', 'unknown_switch', 'rack_mismatch', 'split_rack', 'bond_split',
            'duplicate_switch_port', 'vlan_missing', 'mtu_mismatch')
DEFAULT_BLOCKING = ('no_lldp', 'unknown_switch', 'rack_mismatch', 'split_rack', 'bond_split',
                    'duplicate_switch_port', 'vlan_missing')
RACK_TRAIT_PREFIX = 'CUSTOM_RACK_'
_REGEX_CHARS = re.compile(r'[\^$*+?()\[\]{}|\\]')


def _mac(value):
    return str(value).strip().lower().replace('-', ':') if value else None


class SwitchMap:
    """Look up a neighbour in the ``switches`` map: by system name, by chassis ID (the key or an
    entry's ``chassis_id``), or by a key that is a regular expression over the system name."""

    def __init__(self, switches):
        self.switches = dict(switches or {})
        self.by_chassis = {}
        self.patterns = []
        for key, entry in self.switches.items():
            entry = entry or {}
            if is_mac(key):
                self.by_chassis[_mac(key)] = key
            if entry.get('chassis_id'):
                self.by_chassis[_mac(entry['chassis_id'])] = key
            if _REGEX_CHARS.search(key):
                try:
                    self.patterns.append((re.compile(key), key))
                except re.error:
                    pass

    def match(self, parsed):
        """Return ``(switch key, entry)`` or ``(None, None)``."""
        name = parsed.get('switch_system_name')
        if name and name in self.switches:
            return name, self.switches[name] or {}
        for candidate in [parsed.get('switch_chassis_id')] + list(parsed.get('switch_mgmt_addresses') or []):
            if candidate and is_mac(candidate) and _mac(candidate) in self.by_chassis:
                key = self.by_chassis[_mac(candidate)]
                return key, self.switches[key] or {}
        if name:
            for pattern, key in self.patterns:
                if pattern.fullmatch(name):
                    return key, self.switches[key] or {}
        return None, None

    def peers(self, a, b):
        """True when switches a and b are the same switch or an MLAG pair."""
        if a == b:
            return True
        ea, eb = self.switches.get(a) or {}, self.switches.get(b) or {}
        return ea.get('mlag_peer') == b or eb.get('mlag_peer') == a


def _finding(node, kind, msg, nic=None, blocking=True):
    return dict(node=node, nic=nic, finding=kind, blocking=blocking, msg=msg)


def map_node(name, neighbours, interfaces, switches, expected=None, mtu=None):
    """Map one node's NICs to switches; return ``{name, rack, expected_rack, nics, findings}``.

    ``neighbours``: ``{interface name: parsed_lldp dict}``; ``interfaces``: the inventory's
    interfaces (``name``, ``mac_address``); ``switches``: a SwitchMap; ``expected``: intended
    placement ``{rack, nics: [{name, mac, leaf, port}], bonds: [{name, members}]}``.
    """
    expected = expected or {}
    findings = []
    nics = []
    macs = dict((i.get('name'), _mac(i.get('mac_address'))) for i in interfaces or [] if isinstance(i, dict))
    for nic in expected.get('nics') or []:
        macs.setdefault(nic.get('name'), _mac(nic.get('mac')))
    names = sorted(set(macs) | set(neighbours or {}), key=lambda n: (n is None, str(n)))
    expected_nics = dict((n.get('name'), n) for n in expected.get('nics') or [])
    for nic_name in names:
        if nic_name in ('lo', None):
            continue
        parsed = (neighbours or {}).get(nic_name) or {}
        entry_key, entry = switches.match(parsed) if parsed else (None, None)
        vlans = [v.get('id') for v in parsed.get('switch_port_vlans') or [] if isinstance(v, dict)]
        nic = dict(
            nic=nic_name, mac=macs.get(nic_name),
            switch=entry_key or parsed.get('switch_system_name'),
            system_name=parsed.get('switch_system_name'),
            chassis_id=parsed.get('switch_chassis_id'),
            switch_mac=switch_mac(parsed) or (_mac(entry.get('chassis_id')) if entry and entry.get('chassis_id') else None),
            port=readable_port(parsed) if parsed else None,
            port_id=parsed.get('switch_port_id'),
            port_description=parsed.get('switch_port_description'),
            untagged_vlan=parsed.get('switch_port_untagged_vlan_id'),
            vlans=vlans,
            mtu=parsed.get('switch_port_mtu'),
            lag=bool(parsed.get('switch_port_link_aggregation_enabled')),
            rack=entry.get('rack') if entry else None,
            physical_network=entry.get('physical_network') if entry else None,
            known=entry is not None,
        )
        nics.append(nic)
        if not parsed:
            if nic_name in expected_nics or not expected_nics:
                findings.append(_finding(name, 'no_lldp', 'node %s NIC %s: no LLDP neighbour reported (no cable, '
                                         'LLDP off on the switch, or the NIC is down)' % (name, nic_name), nic_name))
            continue
        if entry is None:
            findings.append(_finding(name, 'unknown_switch', 'node %s NIC %s: neighbour %s (chassis %s) is not in '
                                     'the switches map' % (name, nic_name, parsed.get('switch_system_name'),
                                                           parsed.get('switch_chassis_id')), nic_name))
            continue
        provisioning_vlan = entry.get('provisioning_vlan')
        if provisioning_vlan and (vlans or nic['untagged_vlan'] is not None):
            if int(provisioning_vlan) not in vlans and nic['untagged_vlan'] != int(provisioning_vlan):
                msg = 'node %s NIC %s: provisioning VLAN %s of rack %s is not on %s %s (VLANs: %s)' % (
                    name, nic_name, provisioning_vlan, entry.get('rack'), nic['switch'], nic['port'], vlans or nic['untagged_vlan'])
                findings.append(_finding(name, 'vlan_missing', msg, nic_name))
        want_mtu = entry.get('mtu') or mtu
        if want_mtu and nic['mtu'] is not None and int(nic['mtu']) != int(want_mtu):
            findings.append(_finding(name, 'mtu_mismatch', 'node %s NIC %s: %s %s has MTU %s, expected %s' % (
                name, nic_name, nic['switch'], nic['port'], nic['mtu'], want_mtu), nic_name))

    racks = sorted(set(n['rack'] for n in nics if n['rack']))
    rack = racks[0] if len(racks) == 1 else None
    if len(racks) > 1:
        where = ', '.join('%s on %s (%s)' % (n['nic'], n['switch'], n['rack']) for n in nics if n['rack'])
        findings.append(_finding(name, 'split_rack', 'node %s: NICs cabled to different racks: %s' % (name, where)))
    expected_rack = expected.get('rack')
    if expected_rack:
        for n in nics:
            if n['rack'] and str(n['rack']) != str(expected_rack):
                findings.append(_finding(name, 'rack_mismatch', 'node %s NIC %s: inventory says rack %s, cables say rack '
                                         '%s (%s %s)' % (name, n['nic'], expected_rack, n['rack'], n['switch'], n['port']),
                                         n['nic']))
    by_nic = dict((n['nic'], n) for n in nics)
    for bond in expected.get('bonds') or []:
        members = [by_nic[m] for m in bond.get('members') or [] if m in by_nic and by_nic[m]['known']]
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                if not switches.peers(a['switch'], b['switch']):
                    findings.append(_finding(name, 'bond_split', 'node %s bond %s: members %s (%s) and %s (%s) are on '
                                             'switches that are not an MLAG pair' % (
                                                 name, bond.get('name'), a['nic'], a['switch'], b['nic'], b['switch'])))
        mtus = sorted(set(m['mtu'] for m in members if m['mtu'] is not None))
        if len(mtus) > 1:
            findings.append(_finding(name, 'mtu_mismatch', 'node %s bond %s: members have different MTUs %s' % (
                name, bond.get('name'), mtus)))
    if not any(n['system_name'] or n['chassis_id'] for n in nics) and not any(f['finding'] == 'no_lldp' for f in findings):
        findings.append(_finding(name, 'no_lldp', 'node %s: no LLDP data at all (inspect it first)' % name))
    return dict(name=name, rack=rack, expected_rack=expected_rack, nics=nics, findings=findings)


def duplicate_ports(topologies):
    """Add ``duplicate_switch_port`` findings for (switch, port) pairs seen on more than one NIC."""
    seen = {}
    for topo in topologies:
        for nic in topo['nics']:
            if nic['switch'] and nic['port'] is not None:
                seen.setdefault((nic['switch'], str(nic['port'])), []).append((topo, nic))
    for (switch, port), users in sorted(seen.items()):
        if len(users) < 2:
            continue
        who = ', '.join('%s %s' % (t['name'], n['nic']) for t, n in users)
        for topo, nic in users:
            topo['findings'].append(_finding(topo['name'], 'duplicate_switch_port', 'node %s NIC %s: %s %s is also '
                                             'reported by %s' % (topo['name'], nic['nic'], switch, port, who), nic['nic']))


def mark_blocking(topologies, blocking=DEFAULT_BLOCKING):
    blocking = set(blocking)
    for topo in topologies:
        for f in topo['findings']:
            f['blocking'] = f['finding'] in blocking
        topo['blocked'] = any(f['blocking'] for f in topo['findings'])


def analyse(nodes, switches, blocking=DEFAULT_BLOCKING, mtu=None):
    """Map every node and find cabling problems.

    ``nodes``: list of ``{name, neighbours, interfaces, expected}``. Returns the list of node
    topologies (see map_node) with ``blocked`` set, and the flat list of findings.
    """
    smap = switches if isinstance(switches, SwitchMap) else SwitchMap(switches)
    topologies = [map_node(n['name'], n.get('neighbours') or {}, n.get('interfaces') or [], smap,
                           n.get('expected'), mtu) for n in nodes]
    duplicate_ports(topologies)
    mark_blocking(topologies, blocking)
    findings = [f for t in topologies for f in t['findings']]
    return topologies, findings


# ---------------------------------------------------------------- what to write
def plan_node_writes(topo, node, ports):
    """Changes to make for one node: ``{'node': [...], 'ports': [...]}``.

    ``node``: ``{uuid, name, traits, extra}``; ``ports``: ``[{uuid, address, local_link_connection,
    physical_network}]``. Ports get ``switch_id`` / ``port_id`` / ``switch_info`` (other keys kept)
    and the rack's physical network; the node gets the rack trait (other CUSTOM_RACK_* removed)
    and ``extra.rack``. Returns also before/after views for the diff.
    """
    by_mac = dict((_mac(n['mac']), n) for n in topo['nics'] if n['mac'])
    port_changes = []
    before_ports, after_ports = {}, {}
    for port in ports:
        nic = by_mac.get(_mac(port.get('address')))
        if not nic or not nic['known'] or not nic['switch_mac'] or nic['port'] is None:
            continue
        llc = dict(port.get('local_link_connection') or {})
        want = dict(llc, switch_id=nic['switch_mac'], port_id=str(nic['port']), switch_info=nic['switch'])
        patch = {}
        if want != llc:
            patch['local_link_connection'] = want
        if nic['physical_network'] and port.get('physical_network') != nic['physical_network']:
            patch['physical_network'] = nic['physical_network']
        key = _mac(port.get('address'))
        before_ports[key] = dict(local_link_connection=llc, physical_network=port.get('physical_network'))
        after_ports[key] = dict(local_link_connection=want, physical_network=nic['physical_network'] or port.get('physical_network'))
        if patch:
            port_changes.append(dict(uuid=port.get('uuid'), address=key, nic=nic['nic'], patch=patch))
    node_changes = {}
    traits = sorted(node.get('traits') or [])
    extra = node.get('extra') or {}
    after_traits, after_rack = traits, extra.get('rack')
    if topo['rack']:
        trait = trait_name(topo['rack'], RACK_TRAIT_PREFIX)
        stale = [t for t in traits if t.startswith(RACK_TRAIT_PREFIX) and t != trait]
        if trait not in traits or stale:
            node_changes['add_traits'] = [] if trait in traits else [trait]
            node_changes['remove_traits'] = stale
        after_traits = sorted(set(traits) - set(stale) | set([trait]))
        if extra.get('rack') != topo['rack']:
            node_changes['extra_rack'] = topo['rack']
        after_rack = topo['rack']
    rack_traits = [t for t in traits if t.startswith(RACK_TRAIT_PREFIX)]
    before = dict(rack_traits=rack_traits, extra_rack=extra.get('rack'), ports=before_ports)
    after = dict(rack_traits=[t for t in after_traits if t.startswith(RACK_TRAIT_PREFIX)], extra_rack=after_rack, ports=after_ports)
    return dict(node=node_changes, ports=port_changes, before=before, after=after)


# ---------------------------------------------------------------- the picture
def render_svg(topologies, switches):
    """An SVG of racks (columns) with their leaves and nodes; findings in red."""
    smap = switches if isinstance(switches, SwitchMap) else SwitchMap(switches)
    racks = sorted(set([t['rack'] or t['expected_rack'] or '?' for t in topologies] +
                       [str((e or {}).get('rack')) for e in smap.switches.values() if (e or {}).get('rack')]))
    col_w, row_h, top = 260, 30, 110
    leaves = dict((r, sorted(k for k, e in smap.switches.items() if str((e or {}).get('rack')) == r)) for r in racks)
    nodes = dict((r, sorted((t for t in topologies if (t['rack'] or t['expected_rack'] or '?') == r), key=lambda t: t['name']))
                 for r in racks)
    height = top + 60 + row_h * max([len(v) for v in nodes.values()] + [1]) + 40 * max([len(v) for v in leaves.values()] + [1])
    width = max(col_w * len(racks), 400) + 20
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (width, height),
           '<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>' % (width, height),
           '<rect x="10" y="10" width="%d" height="36" rx="6" fill="#37474f"/>' % (width - 20),
           '<text x="%d" y="33" fill="#ffffff" text-anchor="middle" font-size="14">spines (fabric)</text>' % (width // 2)]
    for ci, rack in enumerate(racks):
        x = 10 + ci * col_w
        out.append('<text x="%d" y="70" font-weight="bold" font-size="14">rack %s</text>' % (x + 4, escape(rack)))
        y = 80
        for leaf in leaves[rack]:
            out.append('<line x1="%d" y1="46" x2="%d" y2="%d" stroke="#90a4ae"/>' % (x + 60, x + 60, y))
            out.append('<rect x="%d" y="%d" width="%d" height="26" rx="4" fill="#1e88e5"/>' % (x, y, col_w - 20))
            out.append('<text x="%d" y="%d" fill="#ffffff">%s</text>' % (x + 6, y + 17, escape(leaf)))
            y += 32
        y += 10
        for topo in nodes[rack]:
            bad = [f for f in topo['findings'] if f['blocking']]
            warn = [f for f in topo['findings'] if not f['blocking']]
            fill = '#e53935' if bad else ('#fb8c00' if warn else '#43a047')
            title = '; '.join(f['msg'] for f in topo['findings']) or 'cabling as intended'
            ports = ', '.join('%s→%s %s' % (n['nic'], n['switch'] or '?', n['port'] or '?') for n in topo['nics'])
            out.append('<g><title>%s</title><rect x="%d" y="%d" width="%d" height="%d" rx="4" fill="%s"/>' % (
                escape(title + ' | ' + ports), x, y, col_w - 20, row_h - 6, fill))
            label = topo['name'] + ('  [%s]' % ', '.join(sorted(set(f['finding'] for f in topo['findings']))) if topo['findings'] else '')
            out.append('<text x="%d" y="%d" fill="#ffffff">%s</text></g>' % (x + 6, y + 16, escape(label[:40])))
            y += row_h
    out.append('</svg>')
    return '\n'.join(out)


def render_html(topologies, findings, switches, title='LLDP topology'):
    """A self-contained HTML page: the SVG plus a findings table and a per-NIC table."""
    rows = ''.join('<tr class="%s"><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>' % (
        'block' if f['blocking'] else 'warn', escape(f['node']), escape(str(f['nic'] or '')), escape(f['finding']),
        escape(f['msg'])) for f in findings)
    nic_rows = ''.join('<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>' % tuple(
        escape(str(v)) for v in (t['name'], n['nic'], n['mac'], n['switch'], n['port'], n['vlans'], n['mtu'], n['rack']))
        for t in topologies for n in t['nics'])
    return ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>%s</title><style>body{font-family:sans-serif}'
            'table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}.block{background:#ffcdd2}'
            '.warn{background:#ffe0b2}</style></head><body><h1>%s</h1>%s<h2>Findings (%d)</h2><table><tr><th>node</th>'
            '<th>NIC</th><th>finding</th><th>detail</th></tr>%s</table><h2>NICs</h2><table><tr><th>node</th><th>NIC</th>'
            '<th>MAC</th><th>switch</th><th>port</th><th>VLANs</th><th>MTU</th><th>rack</th></tr>%s</table></body></html>\n') % (
        escape(title), escape(title), render_svg(topologies, switches), len(findings), rows, nic_rows)
