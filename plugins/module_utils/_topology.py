# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""LLDP topology: neighbours -> switch, port, rack per NIC; port-level cabling findings against the
intended placement; what to write to Ironic (ports' local_link_connection / physical_network,
nodes' rack trait, extra.rack and cabling record). Pure functions, no I/O. The picture is drawn by
_topology_report."""

from __future__ import annotations

import functools
import hashlib
import json
import re

from ._leaf_port import port_key, same_port
from ._lldp import readable_port, switch_mac
from ._traits import trait_name
from ._util import is_mac, normalize_mac

FINDINGS = ('no_lldp', 'unknown_switch', 'rack_mismatch', 'split_rack', 'wrong_leaf', 'wrong_port',
            'not_mlag_pair', 'bond_split', 'mac_not_seen', 'unexpected_nic', 'duplicate_switch_port',
            'vlan_missing', 'mtu_mismatch')
# unexpected_nic and mtu_mismatch are reported but do not hold a node back by default: a spare NIC
# with link is common, and an MTU difference does not stop provisioning.
DEFAULT_BLOCKING = ('no_lldp', 'unknown_switch', 'rack_mismatch', 'split_rack', 'wrong_leaf', 'wrong_port',
                    'not_mlag_pair', 'bond_split', 'mac_not_seen', 'duplicate_switch_port', 'vlan_missing')
RACK_TRAIT_PREFIX = 'CUSTOM_RACK_'
# Why an inspection that reached every NIC brings no LLDP at all, and the fix (findings with
# cause ``lldp_not_collected``): Ironic's agent inspection collects LLDP only when the ramdisk is
# booted with ipa-collect-lldp=1.
LLDP_NOT_COLLECTED_FIX = (
    "Ironic's agent inspection collects LLDP only with ipa-collect-lldp=1 on the ramdisk's kernel command line: "
    "set [inspector] extra_kernel_params = ipa-collect-lldp=1 in ironic.conf (bifrost and kayobe set it by "
    "default; kayobe: ipa_collect_lldp: true), or use the redfish inspect interface where the BMCs report LLDP; "
    "then inspect again (else LLDP is off on the switches)")
_REGEX_CHARS = re.compile(r'[\^$*+?()\[\]{}|\\]')


def _mac(value):
    """normalize_mac, memoised for strings (every NIC's MAC is normalised several times)."""
    return _mac_cached(value) if isinstance(value, str) else None


_mac_cached = functools.lru_cache(maxsize=262144)(normalize_mac)


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
            if entry.get('chassis_id') and is_mac(entry['chassis_id']):
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
            key = self.by_chassis.get(_mac(candidate))
            if key is not None:
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
        return self.mlag_peer(a) == b or self.mlag_peer(b) == a

    def mlag_peer(self, switch):
        """The MLAG peer of a switch (None when it has none)."""
        return (self.switches.get(switch) or {}).get('mlag_peer')


def _finding(node, kind, msg, nic=None, blocking=True, **detail):
    finding = dict(node=node, nic=nic, finding=kind, blocking=blocking, msg=msg)
    finding.update(detail)
    return finding


def _observed(neighbours, interfaces):
    """Inspected interfaces as ``{name: {name, mac, carrier, parsed}}`` (LLDP-only names included)."""
    seen = {}
    for iface in interfaces or []:
        if isinstance(iface, dict) and iface.get('name') not in (None, 'lo'):
            seen[iface['name']] = dict(name=iface['name'], mac=_mac(iface.get('mac_address')),
                                       carrier=iface.get('has_carrier'), parsed={})
    for name, parsed in (neighbours or {}).items():
        if name in (None, 'lo'):
            continue
        seen.setdefault(name, dict(name=name, mac=None, carrier=None, parsed={}))
        seen[name]['parsed'] = parsed if isinstance(parsed, dict) else {}
    return seen


def match_nics(inventory_nics, observed):
    """Pair inventory NICs with inspected interfaces: by MAC; by name only where the interface
    reports no MAC at all (old inspection data). Returns ``(pairs, unmatched interfaces)`` where
    pairs is a list of ``(inventory nic, interface or None, how)``, how in ``mac``/``name``/None."""
    by_mac = dict((o['mac'], o) for o in observed.values() if o['mac'])
    used = set()
    pairs = []
    for nic in inventory_nics:
        mac = _mac(nic.get('mac'))
        iface = by_mac.get(mac) if mac else None
        how = 'mac' if iface is not None else None
        if iface is None:
            candidate = observed.get(nic.get('name'))
            if candidate is not None and candidate['mac'] is None and candidate['name'] not in used:
                iface, how = candidate, 'name'
        if iface is not None:
            used.add(iface['name'])
        pairs.append((nic, iface, how))
    rest = [o for name, o in sorted(observed.items()) if name not in used]
    return pairs, rest


def _nic_view(nic_name, iface, inv, parsed, switches, matched_by=None):
    """One NIC of the topology: where it is (observed) and where it should be (inventory)."""
    entry_key, entry = switches.match(parsed) if parsed else (None, None)
    vlans = [v.get('id') for v in parsed.get('switch_port_vlans') or [] if isinstance(v, dict)]
    return dict(
        nic=nic_name, interface=iface['name'] if iface else None,
        mac=(iface or {}).get('mac') or _mac((inv or {}).get('mac')),
        inventory=inv is not None,
        intended_leaf=(inv or {}).get('leaf'), intended_port=(inv or {}).get('port'),
        switch=entry_key or parsed.get('switch_system_name'),
        system_name=parsed.get('switch_system_name'),
        chassis_id=parsed.get('switch_chassis_id'),
        switch_mac=switch_mac(parsed) or (_mac(entry.get('chassis_id')) if entry else None),
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
        matched_by=matched_by,
        lldp_interface=iface.get('lldp_interface') if iface else None,
        _entry=entry,
    )


def _where(nic):
    return '%s %s' % (nic['switch'] or '?', nic['port'] if nic['port'] is not None else '?')


def _intended(nic):
    return '%s %s' % (nic['intended_leaf'] or '?', nic['intended_port'] if nic['intended_port'] is not None else '?')


def _switch_findings(name, nic, mtu):
    """vlan_missing / mtu_mismatch of one NIC on a known switch."""
    out = []
    entry = nic['_entry'] or {}
    vlans = nic['vlans']
    provisioning_vlan = entry.get('provisioning_vlan')
    if provisioning_vlan and (vlans or nic['untagged_vlan'] is not None):
        if int(provisioning_vlan) not in vlans and nic['untagged_vlan'] != int(provisioning_vlan):
            out.append(_finding(name, 'vlan_missing', 'node %s NIC %s: provisioning VLAN %s of rack %s is not on %s '
                                '(VLANs: %s)' % (name, nic['nic'], provisioning_vlan, entry.get('rack'), _where(nic),
                                                 vlans or nic['untagged_vlan']), nic['nic']))
    want_mtu = entry.get('mtu') or mtu
    if want_mtu and nic['mtu'] is not None and int(nic['mtu']) != int(want_mtu):
        out.append(_finding(name, 'mtu_mismatch', 'node %s NIC %s: %s has MTU %s, expected %s' % (
            name, nic['nic'], _where(nic), nic['mtu'], want_mtu), nic['nic']))
    return out


def _placement_findings(name, nics, switches, expected_rack, only_inventory=True):
    """rack_mismatch / wrong_leaf / not_mlag_pair / wrong_port of inventory NICs on known switches."""
    out = []
    observed_on = {}
    for nic in nics:
        if nic['known']:
            observed_on.setdefault(nic['switch'], []).append(nic)
    for nic in nics:
        if (only_inventory and not nic['inventory']) or not nic['known']:
            continue
        detail = dict(intended_leaf=nic['intended_leaf'], intended_port=nic['intended_port'],
                      observed_leaf=nic['switch'], observed_port=nic['port'])
        if expected_rack and nic['rack'] and str(nic['rack']) != str(expected_rack):
            out.append(_finding(name, 'rack_mismatch', 'node %s NIC %s: inventory says rack %s, cables say rack %s (%s, '
                                'intended %s)' % (name, nic['nic'], expected_rack, nic['rack'], _where(nic),
                                                  _intended(nic)), nic['nic'], **detail))
            continue
        leaf = nic['intended_leaf']
        if leaf and nic['switch'] != leaf:
            others = [n['nic'] for n in observed_on.get(nic['switch'], []) if n is not nic]
            if switches.mlag_peer(leaf) == nic['switch'] and others:
                out.append(_finding(name, 'not_mlag_pair', 'node %s NIC %s: on %s together with %s instead of on %s: '
                                    'the node is not spread over the MLAG pair %s/%s' % (
                                        name, nic['nic'], _where(nic), ', '.join(others), _intended(nic), leaf,
                                        nic['switch']), nic['nic'], **detail))
            else:
                out.append(_finding(name, 'wrong_leaf', 'node %s NIC %s: cabled to %s, intended %s' % (
                    name, nic['nic'], _where(nic), _intended(nic)), nic['nic'], **detail))
        elif leaf and nic['intended_port'] is not None and not same_port(nic['intended_port'], nic['port']):
            out.append(_finding(name, 'wrong_port', 'node %s NIC %s: cabled to %s, intended %s' % (
                name, nic['nic'], _where(nic), _intended(nic)), nic['nic'], **detail))
    return out


def _nic_findings(name, pairs, rest, nics, has_macs):
    """mac_not_seen / no_lldp / unknown_switch / unexpected_nic."""
    out = []
    by_name = dict((n['nic'], n) for n in nics if n['inventory'])
    extra_views = dict((n['interface'], n) for n in nics if not n['inventory'])
    for inv, iface, _how in pairs:
        nic = by_name[inv.get('name')]
        if iface is None:
            if has_macs:
                hint = [o for o in rest if o['name'] == inv.get('name')]
                seen = (' (the inspection shows %s with MAC %s: a typo in the inventory?)' % (hint[0]['name'], hint[0]['mac'])
                        if hint and hint[0]['mac'] else '')
                out.append(_finding(name, 'mac_not_seen', 'node %s NIC %s: MAC %s was not seen on any inspected interface%s'
                                    % (name, nic['nic'], nic['mac'] or inv.get('mac'), seen), nic['nic'],
                                    intended_leaf=nic['intended_leaf'], intended_port=nic['intended_port']))
            else:
                out.append(_finding(name, 'no_lldp', 'node %s NIC %s: not in the inspection data' % (name, nic['nic']),
                                    nic['nic']))
            continue
        if not iface['parsed']:
            orphans = [o['name'] for o in rest if o['mac'] is None and o['parsed']]
            why = ('; the inspection has LLDP under %s, which names no inspected interface (out-of-band LLDP names '
                   'the BMC\'s ports) and reports none of this node\'s intended leaf ports' % ', '.join(orphans)
                   if orphans else '')
            out.append(_finding(name, 'no_lldp', 'node %s NIC %s (%s): no LLDP neighbour reported (no cable, LLDP off '
                                'on the switch, or the NIC is down)%s' % (name, nic['nic'], iface['name'], why),
                                nic['nic']))
        elif not nic['known']:
            out.append(_unknown(name, nic))
    typo_names = set(inv.get('name') for inv, iface, _h in pairs if iface is None)
    for iface in rest:
        nic = extra_views.get(iface['name'])
        if nic is None or iface['name'] in typo_names:
            continue
        if iface['carrier'] is False:
            continue
        what = ('interface %s (MAC %s) has link to' % (iface['name'], iface['mac']) if iface['mac'] else
                'LLDP entry %s (no inspected interface of that name) reports' % iface['name'])
        out.append(_finding(name, 'unexpected_nic', 'node %s: %s %s but is not in the inventory' % (
                            name, what, _where(nic)), iface['name'],
                            blocking=False, observed_leaf=nic['switch'], observed_port=nic['port']))
    return out


def _unknown(name, nic):
    return _finding(name, 'unknown_switch', 'node %s NIC %s: neighbour %s (chassis %s) is not in the switches map' % (
        name, nic['nic'], nic['system_name'], nic['chassis_id']), nic['nic'])


def _pair_by_placement(pairs, rest, switches):
    """Tie LLDP that names no inspected interface to the inventory NIC whose intended leaf and
    port it reports. Out-of-band (redfish) inspection keys its LLDP by the BMC's port identity
    (``1``, ``NIC.Integrated.1-1``), which need not be the name of any inspected interface and
    carries no MAC; such an entry becomes the LLDP of the NIC (found by MAC) that has none and is
    intended for that switch port. (A swap between two NICs of one node is then not seen.)
    Returns the interfaces still unmatched."""
    orphans = [o for o in rest if o['mac'] is None and o['parsed']]
    if not orphans:
        return rest
    used = set()
    for inv, iface, _how in pairs:
        if iface is None or iface['parsed'] or not inv.get('leaf'):
            continue
        for orphan in orphans:
            if orphan['name'] in used:
                continue
            key, _entry = switches.match(orphan['parsed'])
            observed_leaf = key or orphan['parsed'].get('switch_system_name')
            port = readable_port(orphan['parsed'])
            if observed_leaf == inv.get('leaf') and port is not None and inv.get('port') is not None \
                    and same_port(inv.get('port'), port):
                iface['parsed'] = orphan['parsed']
                iface['lldp_interface'] = orphan['name']
                used.add(orphan['name'])
                break
    return [o for o in rest if o['name'] not in used]


def map_node(name, neighbours, interfaces, switches, expected=None, mtu=None):
    """Map one node's NICs to switches; return ``{name, rack, expected_rack, nics, findings}``.

    ``neighbours``: ``{interface name: parsed_lldp dict}``; ``interfaces``: the inventory's
    interfaces (``name``, ``mac_address``, ``has_carrier``); ``switches``: a SwitchMap;
    ``expected``: intended placement ``{rack, nics: [{name, mac, leaf, port}], bonds: [{name,
    members}]}``. Inventory NICs are found in the inspection by MAC (by name only where the
    inspection has no MAC); each NIC's observed leaf and port are compared with its ``leaf`` /
    ``port`` (``port_key`` spellings).
    """
    expected = expected or {}
    observed = _observed(neighbours, interfaces)
    inventory_nics = [n for n in expected.get('nics') or [] if isinstance(n, dict) and n.get('name')]
    nics = []
    if inventory_nics:
        pairs, rest = match_nics(inventory_nics, observed)
        rest = _pair_by_placement(pairs, rest, switches)
        for inv, iface, how in pairs:
            nics.append(_nic_view(inv['name'], iface, inv, (iface or {}).get('parsed') or {}, switches, how))
        taken = set(n['nic'] for n in nics)
        for iface in rest:
            # An interface under the name of an inventory NIC whose MAC was not seen is that NIC
            # with a typo'd MAC (reported by mac_not_seen), not a second NIC.
            if iface['parsed'] and iface['name'] not in taken:
                nics.append(_nic_view(iface['name'], iface, None, iface['parsed'], switches))
        findings = _nic_findings(name, pairs, rest, nics, any(o['mac'] for o in observed.values()))
    else:
        # No intended placement: map what the inspection shows; every interface should see a switch.
        findings = []
        for iface_name, iface in sorted(observed.items()):
            nic = _nic_view(iface_name, iface, None, iface['parsed'], switches)
            nics.append(nic)
            if not iface['parsed']:
                findings.append(_finding(name, 'no_lldp', 'node %s NIC %s: no LLDP neighbour reported (no cable, LLDP '
                                         'off on the switch, or the NIC is down)' % (name, iface_name), iface_name))
            elif not nic['known']:
                findings.append(_unknown(name, nic))
    for nic in nics:
        if nic['known'] and (nic['inventory'] or not inventory_nics):
            findings.extend(_switch_findings(name, nic, mtu))

    mapped = [n for n in nics if n['inventory'] or not inventory_nics]
    racks = sorted(set(n['rack'] for n in mapped if n['rack']))
    rack = racks[0] if len(racks) == 1 else None
    if len(racks) > 1:
        where = ', '.join('%s on %s (%s)' % (n['nic'], n['switch'], n['rack']) for n in mapped if n['rack'])
        findings.append(_finding(name, 'split_rack', 'node %s: NICs cabled to different racks: %s' % (name, where)))
    expected_rack = expected.get('rack') or None
    findings.extend(_placement_findings(name, nics, switches, expected_rack, bool(inventory_nics)))
    findings.extend(_bond_findings(name, expected.get('bonds') or [], nics, switches))
    interfaces_seen = [o for o in observed.values() if o['mac'] or o['carrier'] is not None]
    if interfaces_seen and not any(o['parsed'] for o in observed.values()):
        # Inspected, but no interface carries LLDP: one finding for the node (the cause is the
        # inspection, not N cables), instead of one "no LLDP neighbour" per NIC.
        findings = [f for f in findings if not (f['finding'] == 'no_lldp' and f['nic'])]
        findings.insert(0, _finding(name, 'no_lldp', 'node %s: none of its %d inspected interfaces carries LLDP (%s): '
                                    'the inspection collected no LLDP at all. %s' % (
                                        name, len(interfaces_seen), ', '.join(sorted(o['name'] for o in interfaces_seen)),
                                        LLDP_NOT_COLLECTED_FIX), cause='lldp_not_collected', fix=LLDP_NOT_COLLECTED_FIX))
    elif not any(n['system_name'] or n['chassis_id'] for n in nics) and not any(
            f['finding'] in ('no_lldp', 'mac_not_seen') for f in findings):
        findings.append(_finding(name, 'no_lldp', 'node %s: no inspection data (inspect it first)' % name,
                                 cause='not_inspected'))
    for nic in nics:
        nic.pop('_entry', None)
    return dict(name=name, rack=rack, expected_rack=expected_rack, nics=nics, findings=findings)


def _bond_findings(name, bonds, nics, switches):
    out = []
    by_nic = dict((n['nic'], n) for n in nics)
    for bond in bonds:
        members = [by_nic[m] for m in bond.get('members') or [] if m in by_nic and by_nic[m]['known']]
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                if not switches.peers(a['switch'], b['switch']):
                    out.append(_finding(name, 'bond_split', 'node %s bond %s: members %s (%s) and %s (%s) are on '
                                        'switches that are not an MLAG pair' % (
                                            name, bond.get('name'), a['nic'], _where(a), b['nic'], _where(b))))
        mtus = sorted(set(m['mtu'] for m in members if m['mtu'] is not None))
        if len(mtus) > 1:
            out.append(_finding(name, 'mtu_mismatch', 'node %s bond %s: members have different MTUs %s' % (
                name, bond.get('name'), mtus)))
    return out


def swapped_cables(topologies):
    """Merge the ``wrong_port`` findings of two NICs that sit on each other's intended ports of
    one leaf (a swapped pair of cables) into one finding that names both; it is listed on both
    nodes (the same dict), and in the flat list once."""
    wrong = {}
    for topo in topologies:
        for f in topo['findings']:
            if f['finding'] == 'wrong_port':
                wrong[(f['intended_leaf'], port_key(f['intended_port']))] = (topo, f)
    merged = set()
    for key, (topo, f) in sorted(wrong.items(), key=lambda kv: (kv[1][0]['name'], str(kv[1][1]['nic']))):
        other = wrong.get((f['observed_leaf'], port_key(f['observed_port'])))
        if other is None or other[1] is f or id(f) in merged:
            continue
        otopo, of = other
        if port_key(of['observed_port']) != port_key(f['intended_port']) or id(of) in merged:
            continue
        swap = _finding(topo['name'], 'wrong_port', 'cables swapped on %s: node %s NIC %s is on %s (intended %s), node '
                        '%s NIC %s is on %s (intended %s)' % (
                            f['intended_leaf'], topo['name'], f['nic'], f['observed_port'], f['intended_port'],
                            otopo['name'], of['nic'], of['observed_port'], of['intended_port']), f['nic'],
                        intended_leaf=f['intended_leaf'], intended_port=f['intended_port'],
                        observed_leaf=f['observed_leaf'], observed_port=f['observed_port'],
                        swapped_with=dict(node=otopo['name'], nic=of['nic'], intended_port=of['intended_port'],
                                          observed_port=of['observed_port']),
                        nodes=sorted(set([topo['name'], otopo['name']])))
        merged.update((id(f), id(of)))
        for t, old in ((topo, f), (otopo, of)):
            t['findings'] = [x for x in t['findings'] if x is not old]
            if not any(x is swap for x in t['findings']):
                t['findings'].append(swap)


def racks_without_lldp(topologies):
    """When no node of a rack (two or more nodes mapped) has LLDP in its inspection data, say it
    once for the rack: one ``no_lldp`` finding (``cause: lldp_not_collected``, ``scope: rack``,
    ``rack``, ``nodes``, ``fix``) listed on every node of the rack (the same dict; in the flat list
    once), instead of the same advice per node. Each node keeps a short message of its own
    (``node_msg``) that points to it."""
    by_rack = {}
    for topo in topologies:
        if topo.get('expected_rack'):
            by_rack.setdefault(str(topo['expected_rack']), []).append(topo)
    for rack, topos in sorted(by_rack.items()):
        node_level = [next((f for f in t['findings'] if f.get('cause') == 'lldp_not_collected'), None) for t in topos]
        if len(topos) < 2 or not all(node_level):
            continue
        names = sorted(t['name'] for t in topos)
        shown = ', '.join(names[:6]) + (' and %d more' % (len(names) - 6) if len(names) > 6 else '')
        finding = _finding(names[0], 'no_lldp', 'rack %s: none of its %d inspected nodes (%s) has LLDP in its inspection '
                           'data: the inspection collects none. %s' % (rack, len(names), shown, LLDP_NOT_COLLECTED_FIX),
                           cause='lldp_not_collected', scope='rack', rack=rack, nodes=names, fix=LLDP_NOT_COLLECTED_FIX)
        for topo, old in zip(topos, node_level):
            topo['findings'] = [f if f is not old else finding for f in topo['findings']]


def node_message(finding, node):
    """A finding as one node's message: its own ``msg``, or for a rack-level finding a short line
    pointing to it (the rack's finding carries the explanation and the fix once)."""
    if finding.get('scope') == 'rack':
        return ('node %s: no LLDP in its inspection data, like every node of rack %s (rack finding: the inspection '
                'collects no LLDP; is ipa-collect-lldp=1 on the ramdisk kernel command line?)' % (node, finding['rack']))
    return finding['msg']


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
        who = ', '.join('%s %s' % (t['name'], n['nic']) for t, n in users[:6])
        if len(users) > 6:
            who += ' and %d more' % (len(users) - 6)
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
    swapped_cables(topologies)
    racks_without_lldp(topologies)
    mark_blocking(topologies, blocking)
    findings, seen = [], set()
    for f in (f for t in topologies for f in t['findings']):
        if id(f) not in seen:  # a swap is one finding listed on both nodes
            seen.add(id(f))
            findings.append(f)
    return topologies, findings


# ---------------------------------------------------------------- what to write
def placement_fingerprint(expected):
    """A short digest of a node's intended placement (rack, NICs with MAC / leaf / port, bonds).

    Recorded on the node (``extra.cabling_fingerprint``) once its cabling checked clean, so a
    later run knows to inspect the node again when the inventory moved it; None without NICs."""
    expected = expected or {}
    nics = [n for n in expected.get('nics') or [] if isinstance(n, dict)]
    if not nics:
        return None
    doc = dict(rack=str(expected.get('rack') or ''),
               nics=sorted([str(n.get('name')), _mac(n.get('mac')) or str(n.get('mac')), str(n.get('leaf') or ''),
                            port_key(n.get('port')) or ''] for n in nics),
               bonds=sorted([str(b.get('name')), sorted(str(m) for m in b.get('members') or [])]
                            for b in expected.get('bonds') or [] if isinstance(b, dict)))
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def cabling_record(fingerprint, inspection_finished_at):
    """What ``extra.cabling_fingerprint`` holds once a node checked clean: the placement digest
    and the inspection it was checked on. A node is inspected again when the record is not
    exactly this (placement changed, or the last check found a problem and wrote nothing)."""
    if not fingerprint:
        return None
    return '%s@%s' % (fingerprint, inspection_finished_at or '')


def plan_node_writes(topo, node, ports, fingerprint=None):
    """Changes to make for one node: ``{'node': {...}, 'ports': [...], 'before', 'after'}``.

    ``node``: ``{uuid, name, traits, extra}``; ``ports``: ``[{uuid, address, local_link_connection,
    physical_network}]``. Ports get ``switch_id`` / ``port_id`` / ``switch_info`` (other keys kept)
    and the rack's physical network; the node gets the rack trait (other CUSTOM_RACK_* removed),
    ``extra.rack`` and, when given, ``extra.cabling_fingerprint``. ``node`` changes are
    ``add_traits``, ``remove_traits`` and ``extra`` (keys to set).
    """
    by_mac = dict((_mac(n['mac']), n) for n in topo['nics'] if n['mac'] and n['interface'])
    port_changes = []
    before_ports, after_ports = {}, {}
    for port in ports:
        key = _mac(port.get('address'))
        nic = by_mac.get(key)
        if not nic or not nic['known'] or not nic['switch_mac'] or nic['port'] is None:
            continue
        llc = dict(port.get('local_link_connection') or {})
        want = dict(llc, switch_id=nic['switch_mac'], port_id=str(nic['port']), switch_info=nic['switch'])
        patch = {}
        if want != llc:
            patch['local_link_connection'] = want
        if nic['physical_network'] and port.get('physical_network') != nic['physical_network']:
            patch['physical_network'] = nic['physical_network']
        before_ports[key] = dict(local_link_connection=llc, physical_network=port.get('physical_network'))
        after_ports[key] = dict(local_link_connection=want, physical_network=nic['physical_network'] or port.get('physical_network'))
        if patch:
            port_changes.append(dict(uuid=port.get('uuid'), address=key, nic=nic['nic'], patch=patch))
    node_changes = {}
    traits = sorted(node.get('traits') or [])
    extra = node.get('extra') or {}
    after_traits = traits
    want_extra = {}
    if topo['rack']:
        trait = trait_name(topo['rack'], RACK_TRAIT_PREFIX)
        stale = [t for t in traits if t.startswith(RACK_TRAIT_PREFIX) and t != trait]
        if trait not in traits or stale:
            node_changes['add_traits'] = [] if trait in traits else [trait]
            node_changes['remove_traits'] = stale
        after_traits = sorted(set(traits) - set(stale) | set([trait]))
        want_extra['rack'] = topo['rack']
    if fingerprint:
        want_extra['cabling_fingerprint'] = fingerprint
    extra_changes = dict((k, v) for k, v in want_extra.items() if extra.get(k) != v)
    if extra_changes:
        node_changes['extra'] = extra_changes
    rack_traits = [t for t in traits if t.startswith(RACK_TRAIT_PREFIX)]
    before = dict(rack_traits=rack_traits, extra=dict((k, extra.get(k)) for k in want_extra), ports=before_ports)
    after = dict(rack_traits=[t for t in after_traits if t.startswith(RACK_TRAIT_PREFIX)],
                 extra=dict(want_extra), ports=after_ports)
    return dict(node=node_changes, ports=port_changes, before=before, after=after)
