# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""VIFs of a node on the routed provisioning network, planned the way Nova and metalsmith attach
them: one Neutron port per place a VIF goes (a port group holding a PXE NIC - a bond, so the leaf
pair programs a LAG - or a PXE NIC outside any group), reused when it exists on the rack's subnet,
attached through Ironic's VIF API before deploy, detached and deleted when the node is released.

Pure: reads Ironic ports / port groups (API field names, ``internal_info.tenant_vif_port_id`` is
where Ironic records a VIF) and Neutron ports as plain dicts; returns plans. No I/O.
"""

from __future__ import annotations

from ._errors import PlanError
from ._util import normalize_mac

VIF_KEY = 'tenant_vif_port_id'


def vif_of(port_like):
    """The VIF id Ironic recorded on a port or port group, or None."""
    return (port_like.get('internal_info') or {}).get(VIF_KEY) or (port_like.get('extra') or {}).get('vif_port_id')


def node_vifs(node_uuid, ports, portgroups):
    """Every VIF id attached to a node (its ports and port groups), sorted."""
    out = set()
    for item in list(ports) + list(portgroups):
        if item.get('node_uuid') == node_uuid and vif_of(item):
            out.add(vif_of(item))
    return sorted(out)


def attach_points(name, node_uuid, ports, portgroups):
    """Where a node's VIFs on the provisioning network go, sorted by MAC: one per port group with
    a PXE-enabled member (``kind='portgroup'``, ``members`` = every member's MAC, ``mode``) and one
    per PXE-enabled port outside any group (``kind='port'``). Each: ``{kind, uuid, label, mac,
    physical_network, members, mode, vif}`` (``vif``: the VIF attached there now, or None).
    Raises PlanError when a port group's members are on different physical networks."""
    mine = [p for p in ports if p.get('node_uuid') == node_uuid]
    groups = dict((g['uuid'], g) for g in portgroups if g.get('node_uuid') == node_uuid)
    members = {}
    for port in mine:
        if port.get('portgroup_uuid') in groups:
            members.setdefault(port['portgroup_uuid'], []).append(port)
    points = []
    for uuid, group in groups.items():
        group_ports = sorted(members.get(uuid, []), key=lambda p: normalize_mac(p.get('address')) or '')
        if not any(p.get('pxe_enabled', True) for p in group_ports):
            continue
        physnets = sorted(set(p.get('physical_network') or '' for p in group_ports))
        if len(physnets) > 1:
            raise PlanError('node %s: port group %s has members on physical networks %s: a bond sits on one '
                            "rack's leaf pair; fix the ports' physical_network (re-run enrollment)"
                            % (name, group.get('name') or uuid, ', '.join(physnets)))
        points.append(dict(kind='portgroup', uuid=uuid, label='port group %s' % (group.get('name') or uuid),
                           mac=normalize_mac(group.get('address') or group_ports[0].get('address')),
                           physical_network=physnets[0] or None, mode=group.get('mode'),
                           members=[normalize_mac(p.get('address')) for p in group_ports], vif=vif_of(group)))
    for port in mine:
        if port.get('portgroup_uuid') in groups or not port.get('pxe_enabled', True):
            continue
        mac = normalize_mac(port.get('address'))
        points.append(dict(kind='port', uuid=port['uuid'], label='port %s' % mac, mac=mac,
                           physical_network=port.get('physical_network'), mode=None, members=[mac],
                           vif=vif_of(port)))
    return sorted(points, key=lambda p: p['mac'] or '')


def _on_subnet(port, subnet_id):
    return any(ip.get('subnet_id') == subnet_id for ip in port.get('fixed_ips') or [])


def _subnet_of(name, point, subnets, network, rack):
    subnet = subnets.get(point['physical_network'])
    if subnet is None:
        raise PlanError('node %s: rack %s (physical network %s) has no segment with a subnet on network %s: '
                        'add the rack to the routed network (role spineleaf.baremetal.routed_networks)'
                        % (name, rack or '?', point['physical_network'] or 'unset', network))
    return subnet


def _reusable_ports(name, points, node_ports, subnets, network, rack):
    """``{point MAC: the node's Neutron port it keeps}``: the port with its MAC on the rack's subnet,
    else another port of the node on that subnet that no point claims - Ironic gives a port a
    random MAC when it unbinds it (a VIF detached from an active node), and reusing it keeps the
    node's address (Ironic sets the MAC again on attach). A port on another rack's subnet (the
    node moved) is not reused."""
    out, taken = {}, set()
    by_mac = dict((normalize_mac(p.get('mac_address')), p) for p in node_ports)
    for point in points:
        subnet = _subnet_of(name, point, subnets, network, rack)
        port = by_mac.get(point['mac'])
        if port is not None and _on_subnet(port, subnet['id']):
            out[point['mac']] = port
            taken.add(port['id'])
    for point in points:
        if point['mac'] in out:
            continue
        subnet = _subnet_of(name, point, subnets, network, rack)
        spare = [p for p in node_ports if p['id'] not in taken and _on_subnet(p, subnet['id'])
                 and normalize_mac(p.get('mac_address')) not in [q['mac'] for q in points]]
        if spare:
            out[point['mac']] = spare[0]
            taken.add(spare[0]['id'])
    return out


def plan_node(name, points, node_ports, subnets, network, rack=None, attach=True, attached=()):
    """What a node needs on the provisioning network before deploy.

    ``points``: ``attach_points``; ``node_ports``: the node's own Neutron ports on the network
    (``{id, mac_address, fixed_ips}``); ``subnets``: physical network -> the rack's subnet
    (``_provision.segment_subnets``). Returns ``{links, detach, delete, changes}``: ``links`` in
    point order ``{point, subnet, port (an existing Neutron port to reuse, or None: create one),
    attach (bool)}``; ``detach``: VIF ids to detach first; ``delete``: Neutron port ids to delete
    (on another rack's subnet, or no longer wanted); ``changes``: what is done, in words. With
    ``attach=False`` ports are only created (config drive) and VIFs are left alone. ``attached``:
    every VIF on the node (``node_vifs``): a port to delete is detached first."""
    if not points:
        raise PlanError('node %s: no PXE-enabled port in Ironic; enroll its NICs first' % name)
    ours = set(p['id'] for p in node_ports)
    used, links, detach, delete, changes = set(), [], [], [], []
    reuse = _reusable_ports(name, points, node_ports, subnets, network, rack)
    for point in points:
        subnet = _subnet_of(name, point, subnets, network, rack)
        port = reuse.get(point['mac'])
        if port is not None:
            used.add(port['id'])
        else:
            changes.append('create port %s on subnet %s' % (point['mac'], subnet.get('name') or subnet['cidr']))
        if not attach:
            links.append(dict(point=point, subnet=subnet, port=port, attach=False))
            continue
        current = point.get('vif')
        if current and (port is None or current != port['id']):
            if current not in ours:
                raise PlanError('node %s: %s carries VIF %s, which is not its port on network %s: detach it '
                                '(openstack baremetal node vif detach %s %s) or let the provisioning network be '
                                'the one there' % (name, point['label'], current, network, name, current))
            detach.append(current)
            changes.append('detach VIF %s from %s' % (current, point['label']))
        do_attach = port is None or current != port['id']
        if do_attach:
            changes.append('attach VIF %s to %s' % (port['id'] if port else '(new port)', point['label']))
        links.append(dict(point=point, subnet=subnet, port=port, attach=do_attach))
    for port in node_ports:
        if port['id'] not in used:
            if port['id'] in attached and port['id'] not in detach:
                detach.append(port['id'])
                changes.append('detach VIF %s' % port['id'])
            delete.append(port['id'])
            changes.append('delete port %s (%s)' % (port['id'], port.get('mac_address')))
    return dict(links=links, detach=detach, delete=delete, changes=changes)


def plan_release(node_uuid, ports, portgroups, node_ports):
    """What releasing a node (``available`` / undeploy) does on the network: detach every VIF that
    is one of its own Neutron ports on the network, then delete those ports. Returns
    ``{detach, delete, changes}``; VIFs on other networks are left alone."""
    ours = dict((p['id'], p) for p in node_ports)
    detach = [vif for vif in node_vifs(node_uuid, ports, portgroups) if vif in ours]
    changes = ['detach VIF %s' % vif for vif in detach]
    changes += ['delete port %s (%s)' % (p['id'], p.get('mac_address')) for p in node_ports]
    return dict(detach=detach, delete=[p['id'] for p in node_ports], changes=changes)


def link_record(link, port, network):
    """One config-drive link (``_provision.network_data``) from a planned link and its Neutron port."""
    subnet = link['subnet']
    ips = [f['ip_address'] for f in port.get('fixed_ips') or [] if f.get('subnet_id') == subnet['id']]
    if not ips:
        raise PlanError('port %s (%s): no address on subnet %s' % (port['id'], link['point']['mac'], subnet['id']))
    out = dict(mac=link['point']['mac'], ip_address=ips[0], subnet=subnet, network_id=network['id'],
               mtu=network.get('mtu'))
    if link['point']['kind'] == 'portgroup':
        out['bond'] = dict(mode=link['point']['mode'], members=list(link['point']['members']))
    return out
