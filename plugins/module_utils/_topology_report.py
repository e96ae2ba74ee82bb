# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""The topology picture: one self-contained HTML page (inline SVG, no script, no external file)
per site or rack, from the node topologies of _topology.analyse. Pure: returns text.

Per rack: its leaves on top (MLAG pairs side by side, joined by a bar), each leaf's ports as
small squares, the nodes below; a line from every NIC to the leaf port it is cabled to, labelled
with the port; a mis-cabled NIC's line in red plus a dashed red line from the intended port to the
observed one; leaves of other racks and unknown switches drawn where a NIC lands on them; then a
port map per leaf. Elements carry data-* attributes (node, nic, switch, port) so tools and tests
can check the picture against the data."""

from __future__ import annotations

import re
import time
from xml.sax.saxutils import escape, quoteattr

from ._leaf_port import port_key

MISCABLED = frozenset(('wrong_port', 'wrong_leaf', 'rack_mismatch', 'not_mlag_pair'))
RED, GREEN, GREY, BLUE = '#d32f2f', '#2e7d32', '#9e9e9e', '#1e88e5'
PORT, PORT_GAP, LEAF_GAP, PAIR_GAP = 14, 8, 40, 14
NODE_W, NODE_H, NODE_GAP, PER_ROW = 120, 34, 10, 20
LEAF_Y, LEAF_H, NODES_Y, ROW_H = 70, 56, 330, 90


def _natural(port):
    key = port_key(port) or ''
    return [int(p) if p.isdigit() else p for p in re.split(r'(\d+)', key)]


def _attrs(**kw):
    return ' '.join('%s=%s' % (k.replace('_', '-'), quoteattr(str(v))) for k, v in kw.items() if v is not None)


def _nic_state(topo, nic):
    kinds = set(f['finding'] for f in topo['findings'] if f.get('nic') == nic['nic'] and f['node'] == topo['name']
                or (f.get('swapped_with') or {}).get('node') == topo['name'] and f['swapped_with'].get('nic') == nic['nic'])
    if kinds & MISCABLED:
        return 'miscabled'
    if not nic.get('interface'):
        return 'mac_not_seen'
    if nic['port'] is None:
        return 'no_lldp'
    if not nic['known']:
        return 'unknown_switch'
    return 'ok'


def _rack_leaves(rack, topologies, smap):
    """Leaves to draw for a rack: its own (MLAG peers side by side), then the foreign and unknown
    switches its NICs land on."""
    own = sorted(k for k, e in smap.items() if str((e or {}).get('rack')) == str(rack))
    ordered = []
    for leaf in own:
        if leaf in ordered:
            continue
        ordered.append(leaf)
        peer = (smap.get(leaf) or {}).get('mlag_peer')
        if peer in own and peer not in ordered:
            ordered.append(peer)
    for topo in topologies:
        for nic in topo['nics']:
            if nic['switch'] and nic['switch'] not in ordered and nic['port'] is not None:
                ordered.append(nic['switch'])
    return ordered


def _leaf_ports(leaves, topologies):
    ports = dict((leaf, set()) for leaf in leaves)
    for topo in topologies:
        for nic in topo['nics']:
            if nic['switch'] in ports and nic['port'] is not None:
                ports[nic['switch']].add(str(nic['port']))
            if nic.get('intended_leaf') in ports and nic.get('intended_port') is not None:
                observed = [p for p in ports[nic['intended_leaf']] if port_key(p) == port_key(nic['intended_port'])]
                if not observed:
                    ports[nic['intended_leaf']].add(str(nic['intended_port']))
    return dict((leaf, sorted(p, key=_natural)) for leaf, p in ports.items())


def _port_at(positions, switch, port):
    if switch not in positions or port is None:
        return None
    for name, xy in positions[switch].items():
        if port_key(name) == port_key(port):
            return xy
    return None


def _draw_leaves(out, rack, leaves, ports, smap):
    positions, x = {}, 20
    previous = None
    for leaf in leaves:
        entry = smap.get(leaf)
        width = max(150, len(ports[leaf]) * (PORT + PORT_GAP) + PORT_GAP)
        paired = previous is not None and (smap.get(previous) or {}).get('mlag_peer') == leaf
        if paired:
            x -= LEAF_GAP - PAIR_GAP
            out.append('<rect class="mlag" x="%d" y="%d" width="%d" height="6" fill="%s"/>' % (
                x - PAIR_GAP - 20, LEAF_Y + 20, PAIR_GAP + 40, '#5c6bc0'))
        foreign = entry is not None and str(entry.get('rack')) != str(rack)
        fill = BLUE if entry is not None and not foreign else ('#78909c' if foreign else '#ffffff')
        label = leaf if entry is not None and not foreign else (
            '%s (rack %s)' % (leaf, entry.get('rack')) if foreign else 'unknown: %s' % leaf)
        out.append('<g class="leaf" %s><rect x="%d" y="%d" width="%d" height="%d" rx="5" fill="%s" stroke="%s"%s/>'
                   '<text x="%d" y="%d" fill="%s" font-weight="bold">%s</text></g>' % (
                       _attrs(data_switch=leaf, data_kind='unknown' if entry is None else ('foreign' if foreign else 'leaf')),
                       x, LEAF_Y, width, LEAF_H, fill, RED if entry is None else fill,
                       ' stroke-dasharray="6 3"' if entry is None else '', x + 2, LEAF_Y - 6,
                       RED if entry is None else '#263238', escape(label)))
        positions[leaf] = {}
        for i, port in enumerate(ports[leaf]):
            px = x + PORT_GAP + i * (PORT + PORT_GAP)
            py = LEAF_Y + LEAF_H - PORT - 4
            positions[leaf][port] = (px + PORT // 2, py + PORT)
            out.append('<rect class="port" %s x="%d" y="%d" width="%d" height="%d" fill="#ffffff" stroke="#263238">'
                       '<title>%s %s</title></rect>' % (_attrs(data_switch=leaf, data_port=port), px, py, PORT, PORT,
                                                        escape(leaf), escape(port)))
            out.append('<text x="%d" y="%d" font-size="9" fill="#ffffff" transform="rotate(-90 %d %d)">%s</text>' % (
                px + PORT // 2 + 3, py - 2, px + PORT // 2 + 3, py - 2, escape(_short(port))))
        x += width + LEAF_GAP
        previous = leaf
    return positions, x


def _short(port):
    text = str(port)
    return text.replace('Ethernet', 'Eth') if len(text) > 8 else text


def _draw_nodes(out, topologies, positions):
    width = 0
    for index, topo in enumerate(sorted(topologies, key=lambda t: t['name'])):
        row, col = divmod(index, PER_ROW)
        x, y = 20 + col * (NODE_W + NODE_GAP), NODES_Y + row * ROW_H
        width = max(width, x + NODE_W + 20)
        blocked = topo.get('blocked')
        fill = RED if blocked else ('#fb8c00' if topo['findings'] else GREEN)
        title = '; '.join(f['msg'] for f in topo['findings']) or 'cabling as intended'
        out.append('<g class="node" %s><title>%s</title><rect x="%d" y="%d" width="%d" height="%d" rx="4" fill="%s"/>'
                   '<text x="%d" y="%d" fill="#ffffff" font-size="11">%s</text></g>' % (
                       _attrs(data_node=topo['name'], data_blocked=str(bool(blocked)).lower()), escape(title), x, y,
                       NODE_W, NODE_H, fill, x + 5, y + 22, escape(topo['name'][:18])))
        nics = [n for n in topo['nics'] if n.get('inventory', True) or n['port'] is not None]
        for i, nic in enumerate(nics):
            nx = x + (i + 1) * NODE_W // (len(nics) + 1)
            _draw_link(out, topo, nic, (nx, y), positions)
    return width


def _draw_link(out, topo, nic, start, positions):
    state = _nic_state(topo, nic)
    nx, ny = start
    color = {'miscabled': RED, 'ok': GREEN}.get(state, GREY)
    out.append('<circle class="nic" %s cx="%d" cy="%d" r="4" fill="%s"/>' % (
        _attrs(data_node=topo['name'], data_nic=nic['nic'], data_state=state), nx, ny, color))
    end = _port_at(positions, nic['switch'], nic['port'])
    if end is not None:
        out.append('<line class="link" %s x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="%s">'
                   '<title>%s %s -> %s %s</title></line>' % (
                       _attrs(data_node=topo['name'], data_nic=nic['nic'], data_switch=nic['switch'],
                              data_port=nic['port'], data_state=state),
                       nx, ny, end[0], end[1], color, 2 if state == 'miscabled' else 1, escape(topo['name']),
                       escape(nic['nic']), escape(str(nic['switch'])), escape(str(nic['port']))))
        out.append('<text class="link-label" x="%d" y="%d" font-size="9" text-anchor="middle" fill="%s">%s</text>' % (
            nx, ny - 6, color, escape(_short(nic['port']))))
    else:
        out.append('<text x="%d" y="%d" font-size="9" text-anchor="middle" fill="%s">%s</text>' % (
            nx, ny - 6, RED if state == 'mac_not_seen' else GREY, state.replace('_', ' ')))
    intended = _port_at(positions, nic.get('intended_leaf'), nic.get('intended_port'))
    if state == 'miscabled' and intended is not None and end is not None and intended != end:
        mid_y = LEAF_Y + LEAF_H + 60
        out.append('<path class="miscabled" %s d="M %d %d C %d %d, %d %d, %d %d" fill="none" stroke="%s" '
                   'stroke-width="2" stroke-dasharray="5 4"/>' % (
                       _attrs(data_node=topo['name'], data_nic=nic['nic'], data_from=nic['intended_port'],
                              data_to=nic['port']),
                       intended[0], intended[1], intended[0], mid_y, end[0], mid_y, end[0], end[1], RED))


def render_rack_svg(rack, topologies, switches):
    """One rack's picture (an ``<svg>`` element)."""
    smap = dict(switches or {})
    leaves = _rack_leaves(rack, topologies, smap)
    ports = _leaf_ports(leaves, topologies)
    body = []
    positions, leaves_width = _draw_leaves(body, rack, leaves, ports, smap)
    nodes_width = _draw_nodes(body, topologies, positions)
    rows = max(1, (len(topologies) + PER_ROW - 1) // PER_ROW)
    width, height = max(leaves_width, nodes_width, 400), NODES_Y + rows * ROW_H
    head = ('<svg xmlns="http://www.w3.org/2000/svg" class="rack" %s width="%d" height="%d" font-family="sans-serif" '
            'font-size="12"><rect x="0" y="0" width="%d" height="%d" fill="#fafafa"/>'
            '<text x="20" y="30" font-size="18" font-weight="bold">rack %s</text>' % (
                _attrs(data_rack=rack), width, height, width, height, escape(str(rack))))
    # Links are drawn under the boxes, so every port square and node stays readable.
    links = [e for e in body if e.startswith(('<line', '<path'))]
    rest = [e for e in body if not e.startswith(('<line', '<path'))]
    return head + ''.join(links + rest) + '</svg>'


def leaf_vlans(network_results):
    """``{(leaf, port key): {intended, programmed}}`` from network_check results (module results with
    ``nodes``, or node entries with ``leaf_ports``): the VLANs each leaf port should carry and the ones
    the switch driver programmed there (None: not read)."""
    out = {}
    for result in network_results or []:
        entries = result.get('nodes') if isinstance(result.get('nodes'), list) else [result]
        for entry in entries:
            for row in (entry or {}).get('leaf_ports') or []:
                out[(row['leaf'], port_key(row['port']))] = dict(
                    intended=list(row.get('intended') or []), programmed=row.get('programmed'))
    return out


def _vlan_cells(vlans, leaf, port):
    """The two VLAN cells of a port map row and whether they disagree."""
    if vlans is None:
        return '', False
    entry = vlans.get((leaf, port_key(port)))
    if entry is None:
        return '<td></td><td></td>', False
    intended, programmed = entry['intended'], entry['programmed']
    shown = 'not read' if programmed is None else (', '.join(str(v) for v in programmed) or 'none')
    differs = programmed is not None and sorted(programmed) != sorted(intended)
    return ('<td>%s</td><td %s>%s</td>' % (escape(', '.join(str(v) for v in intended) or 'none'),
                                           _attrs(data_leaf=leaf, data_port=port, data_intended=','.join(
                                               str(v) for v in intended), data_programmed=shown), escape(shown)),
            differs)


def _port_map(rack, topologies, switches, vlans=None):
    """The port map table; ``vlans`` (``leaf_vlans``) adds the VLANs intended and programmed."""
    rows = []
    for leaf in _rack_leaves(rack, topologies, dict(switches or {})):
        for topo in topologies:
            for nic in topo['nics']:
                on_leaf = nic['switch'] == leaf and nic['port'] is not None
                meant = nic.get('intended_leaf') == leaf and nic.get('intended_port') is not None
                if not (on_leaf or meant):
                    continue
                state = _nic_state(topo, nic)
                cells, differs = _vlan_cells(vlans, leaf, nic['port'] if on_leaf else nic['intended_port'])
                rows.append((leaf, _natural(nic['port'] if on_leaf else nic['intended_port']), '<tr class="%s"><td>%s</td>'
                             '<td>%s</td><td>%s %s</td><td>%s</td><td>%s</td><td>%s</td>%s<td>%s</td></tr>' % (
                                 'bad' if state != 'ok' or differs else 'ok', escape(leaf),
                                 escape(str(nic['port'])) if on_leaf else '-', escape(topo['name']), escape(nic['nic']),
                                 escape('%s %s' % (nic.get('intended_leaf') or '?', nic.get('intended_port') or '?')),
                                 'yes' if nic.get('lag') else '', escape(str(nic.get('untagged_vlan') or '')), cells,
                                 escape(state.replace('_', ' ') + (' (VLANs differ)' if differs else '')))))
    rows.sort(key=lambda r: (r[0], r[1]))
    heads = '<th>VLANs intended</th><th>VLANs programmed</th>' if vlans is not None else ''
    return ('<table class="portmap"><tr><th>leaf</th><th>port (observed)</th><th>node / NIC</th><th>intended</th>'
            '<th>LAG</th><th>native VLAN</th>%s<th>state</th></tr>%s</table>' % (heads, ''.join(r[2] for r in rows)))


def merge_report(previous, topologies, findings, keep):
    """A limited run's report merged into the earlier one (pure): ``previous`` is the earlier
    ``topology.json`` content (or None); entries and findings of the nodes in ``keep`` that this run
    did not map are carried over; nodes come out sorted by name. Returns
    ``(topologies, findings, kept names)``."""
    if not previous or not keep:
        return list(topologies), list(findings), []
    mapped = set(t.get('name') for t in topologies)
    wanted = set(keep) - mapped
    old = [t for t in previous.get('nodes') or [] if isinstance(t, dict) and t.get('name') in wanted]
    kept = [t['name'] for t in old]
    kept_set = set(kept)
    old_findings = [f for f in previous.get('findings') or [] if isinstance(f, dict)
                    and kept_set.intersection(f.get('nodes') or [f.get('node')])
                    and not mapped.intersection(f.get('nodes') or [f.get('node')])]
    merged = sorted(old + list(topologies), key=lambda t: str(t.get('name')))
    return merged, old_findings + list(findings), sorted(kept)


def render_report(topologies, switches, site='site', generated=None, vlans=None, extra_html=''):
    """The whole page: header (site, racks, time, finding counts), then per rack its picture, its
    findings and its port map per leaf; with ``vlans`` (``leaf_vlans`` of network_check's results)
    the port map also shows per leaf port the VLANs intended and programmed; ``extra_html`` (other
    per-node findings, e.g. the settings drift section of _drift) at the end."""
    findings, seen = [], set()
    for f in (f for topo in topologies for f in topo['findings']):
        # A swap is one finding listed on both nodes (one dict, or two equal ones after JSON).
        if (f['finding'], f['msg']) not in seen:
            seen.add((f['finding'], f['msg']))
            findings.append(f)
    by_rack = {}
    for topo in topologies:
        by_rack.setdefault(str(topo.get('expected_rack') or topo.get('rack') or '?'), []).append(topo)
    counts = {}
    for f in findings:
        counts[f['finding']] = counts.get(f['finding'], 0) + 1
    when = generated or time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())
    parts = ['<!DOCTYPE html><html><head><meta charset="utf-8"><title>Topology of %s</title><style>'
             'body{font-family:sans-serif;margin:16px}table{border-collapse:collapse;margin:8px 0 24px}'
             'td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px}tr.bad td{background:#ffcdd2}'
             '.blocking{background:#ffcdd2}.warning{background:#ffe0b2}section{margin-bottom:32px}</style></head><body>'
             % escape(site),
             '<header><h1>Topology of site %s</h1><p id="summary">%d racks (%s), %d nodes, generated %s; findings: %s</p>'
             '</header>' % (escape(site), len(by_rack), escape(', '.join(sorted(by_rack))), len(topologies), escape(when),
                            escape(', '.join('%s %d' % kv for kv in sorted(counts.items())) or 'none'))]
    for rack in sorted(by_rack):
        topos = by_rack[rack]
        rack_findings = [f for f in findings if any(f in t['findings'] for t in topos)]
        rows = ''.join('<tr class="%s"><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>' % (
            'blocking' if f['blocking'] else 'warning', escape(f['node']), escape(str(f.get('nic') or '')),
            escape(f['finding']), escape(f['msg'])) for f in rack_findings)
        parts.append('<section %s><h2>Rack %s</h2>%s<h3>Findings (%d)</h3><table><tr><th>node</th><th>NIC</th>'
                     '<th>finding</th><th>detail</th></tr>%s</table><h3>Port map</h3>%s</section>' % (
                         _attrs(data_rack=rack), escape(rack), render_rack_svg(rack, topos, switches),
                         len(rack_findings), rows, _port_map(rack, topos, switches, vlans)))
    parts.append(extra_html or '')
    parts.append('</body></html>\n')
    return ''.join(parts)
