# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""The planner of the routed_network_check module (pure: no I/O): do Ironic's ports sit on the
segments of the provisioning network, each in its own rack's?"""

from __future__ import annotations


def ironic_port_problems(network, segments, ports, racks, node_racks, require_ports=True):
    """Cross-check Ironic ports with the segments of the provisioning ``network``.

    ``segments``: ``{name, physical_network}``; ``ports``: ``{address, node, physical_network}``;
    ``racks``: ``{rack, physical_network}``; ``node_racks``: node name -> rack. Returns
    ``(problems, racks_summary, physnet_to_segment)``; each problem names node, port and rack.
    """
    problems = []
    by_physnet = {}
    for seg in segments:
        if seg.get('physical_network'):
            by_physnet[seg['physical_network']] = seg.get('name') or seg.get('id')
    rack_of_physnet = dict((r['physical_network'], r['rack']) for r in racks)
    summary = dict((r['rack'], dict(physical_network=r['physical_network'],
                                    segment=by_physnet.get(r['physical_network']), ports=0)) for r in racks)

    def add(node, port, rack, physnet, text):
        where = 'node %s%s, port %s' % (node, ' (rack %s)' % rack if rack else '', port)
        problems.append(dict(node=node, port=port, rack=rack, physical_network=physnet,
                             message='%s: %s' % (where, text)))

    for port in sorted(ports, key=lambda x: (str(x.get('node')), str(x.get('address')))):
        node, address, physnet = port.get('node'), port.get('address'), port.get('physical_network')
        rack = node_racks.get(node)
        if not physnet:
            want = summary.get(rack, {}).get('physical_network')
            add(node, address, rack, None, 'no physical_network: set it to the rack\'s physical network%s'
                % (' (%s)' % want if want else ''))
            continue
        if physnet not in by_physnet:
            add(node, address, rack, physnet, 'physical_network %s has no segment on network %s: add the rack\'s segment '
                '(routed_network) or fix the port' % (physnet, network))
        port_rack = rack_of_physnet.get(physnet)
        if rack and port_rack and port_rack != rack:
            add(node, address, rack, physnet, 'physical_network %s belongs to rack %s: the node is cabled to the wrong leaf '
                'or the port\'s physical_network is wrong' % (physnet, port_rack))
        if port_rack in summary:
            summary[port_rack]['ports'] += 1
    for rack, info in sorted(summary.items()):
        if not info['segment']:
            problems.append(dict(node=None, port=None, rack=rack, physical_network=info['physical_network'],
                                 message='rack %s: no segment for physical_network %s on network %s: run routed_network '
                                         'with this rack' % (rack, info['physical_network'], network)))
        if require_ports and not info['ports']:
            problems.append(dict(node=None, port=None, rack=rack, physical_network=info['physical_network'],
                                 message='rack %s: no Ironic port on physical_network %s: enroll the rack\'s nodes '
                                         '(ports take the rack\'s physical network)' % (rack, info['physical_network'])))
    return problems, summary, by_physnet
