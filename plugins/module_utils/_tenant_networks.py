# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""Tenant networks per node role: a ``routed_networks`` entry with ``roles: [storage, ...]`` gives
each node of those roles a VIF on it (a Neutron port on the rack's segment, attached through
Ironic's VIF API), besides its VIF on the provisioning network (``_vifs``).

How several networks reach one node: Ironic's ``neutron`` network interface attaches one VIF per
Ironic port or port group, so each role network takes a *free* attach point of the node - a port
group or a port outside any group that carries no VIF of another network (the provisioning VIF's
point is never free). A two-NIC node carries the provisioning network on its PXE NIC and the
storage network on the other, each NIC's leaf port programmed with its network's VLAN by the switch
driver. A node with no free point (one bond over every NIC) cannot take a role network this way
(a VLAN trunk would be needed) and fails with a message saying so.

A changed role moves an active node's networks with no re-image: the VIFs of role networks the
node no longer needs are detached and their ports deleted, the new ones created and attached.

Pure: Ironic ports / port groups and Neutron ports as plain dicts in, plans out. No I/O.
"""

from __future__ import annotations

from ._errors import PlanError
from ._util import normalize_mac
from ._vifs import vif_of


def role_networks(entries):
    """``{network name: sorted roles}`` of the entries that carry ``roles`` (``routed_networks`` as
    the site gives it; entries without ``roles`` - the provisioning network among them - are left
    out). Raises PlanError naming the entry on a malformed one."""
    out = {}
    for i, entry in enumerate(entries or []):
        if not isinstance(entry, dict):
            raise PlanError('role_networks[%d]: expected a dict {name, roles}, got %r' % (i, entry))
        if 'roles' not in entry:
            continue
        name, roles = entry.get('name'), entry.get('roles')
        if not name:
            raise PlanError('role_networks[%d]: an entry with roles needs a name' % i)
        if isinstance(roles, str) or not isinstance(roles, (list, tuple)):
            raise PlanError('role_networks[%d] (%s): roles must be a list of node roles, got %r' % (i, name, roles))
        if entry.get('provisioning'):
            raise PlanError('role_networks[%d] (%s): the provisioning network serves every node; it takes no roles'
                            % (i, name))
        if name in out:
            raise PlanError('role_networks[%d]: network %s is listed twice' % (i, name))
        out[name] = sorted(set(str(r) for r in roles))
    return out


def wanted_networks(networks, role):
    """The role networks a node of ``role`` gets, sorted by name (none for a node without a role)."""
    if role in (None, ''):
        return []
    return sorted(name for name, roles in networks.items() if str(role) in roles)


def free_points(node_uuid, ports, portgroups, taken):
    """Where a role network's VIF may go, sorted by MAC: every port group of the node and every port
    outside a group, except the points in ``taken`` (uuids: the provisioning VIF's points). Each:
    ``{kind, uuid, label, mac, physical_network, vif}`` as ``_vifs.attach_points`` gives them."""
    groups = dict((g['uuid'], g) for g in portgroups if g.get('node_uuid') == node_uuid)
    mine = [p for p in ports if p.get('node_uuid') == node_uuid]
    out = []
    for uuid, group in groups.items():
        if uuid in taken:
            continue
        members = [p for p in mine if p.get('portgroup_uuid') == uuid]
        physnets = sorted(set(p.get('physical_network') or '' for p in members))
        out.append(dict(kind='portgroup', uuid=uuid, label='port group %s' % (group.get('name') or uuid),
                        mac=normalize_mac(group.get('address') or (members[0].get('address') if members else None)),
                        physical_network=physnets[0] if len(physnets) == 1 else None, vif=vif_of(group)))
    for port in mine:
        if port.get('portgroup_uuid') in groups or port['uuid'] in taken:
            continue
        mac = normalize_mac(port.get('address'))
        out.append(dict(kind='port', uuid=port['uuid'], label='port %s' % mac, mac=mac,
                        physical_network=port.get('physical_network'), vif=vif_of(port)))
    return sorted(out, key=lambda p: p['mac'] or '')


def _on_subnet(port, subnet_id):
    return any(ip.get('subnet_id') == subnet_id for ip in port.get('fixed_ips') or [])


def _subnet(name, network, subnets, physnet, rack):
    subnet = subnets.get(physnet)
    if subnet is None:
        raise PlanError('node %s: rack %s (physical network %s) has no segment with a subnet on network %s: '
                        'add the rack to the routed network (role spineleaf.baremetal.routed_networks)'
                        % (name, rack or '?', physnet or 'unset', network))
    return subnet


def _no_free_point(name, network, role, points):
    used = ', '.join('%s (VIF %s)' % (p['label'], p['vif']) for p in points if p['vif']) or 'none'
    return PlanError('node %s: no free port or port group for network %s (role %s): Ironic attaches one VIF per '
                     'port or port group and every other one carries a VIF (%s); give the node another NIC '
                     'for %s, or leave role %s out of that network\'s roles (one NIC carrying several VLANs '
                     'needs a VLAN trunk, which this collection does not build)'
                     % (name, network, role, used, network, role))


def plan_node(name, role, networks, contexts, points, attached, rack=None):
    """What a node's role networks need.

    ``networks``: ``role_networks()``; ``contexts``: network name -> ``{subnets (physnet -> rack
    subnet), ports (the node's own Neutron ports on it)}``; ``points``: ``free_points()``;
    ``attached``: every VIF on the node. Returns ``{links, detach, delete, changes}``:
    ``links`` ``{network, point, subnet, port (to reuse, or None: create one), attach}`` in network
    order; ``detach`` VIF ids then ``delete`` port ids (role networks the node no longer has, ports
    off the rack's subnet, extra ports)."""
    wanted = wanted_networks(networks, role)
    attached = set(attached)
    by_vif = dict((p['vif'], p) for p in points if p['vif'])
    links, detach, delete, changes = [], [], [], []
    for network in sorted(networks):
        ports = sorted(contexts[network]['ports'], key=lambda p: p['id'])
        keep = None
        if network in wanted:
            keep = _port_to_keep(name, network, ports, contexts[network]['subnets'], points, rack)
        for port in ports:
            if keep is not None and port['id'] == keep['id']:
                continue
            if port['id'] in attached:
                detach.append(port['id'])
                changes.append('detach VIF %s (network %s)' % (port['id'], network))
            delete.append(port['id'])
            changes.append('delete port %s (network %s)' % (port['id'], network))
        if network in wanted:
            links.append(dict(network=network, port=keep))
    freed = set(detach)
    free = [p for p in points if not p['vif'] or p['vif'] in freed]
    for link in links:
        port = link['port']
        point = by_vif.get(port['id']) if port is not None else None
        if point is not None:
            subnet = _subnet(name, link['network'], contexts[link['network']]['subnets'], point['physical_network'], rack)
            link.update(point=point, attach=False, subnet=subnet)
            free = [p for p in free if p['uuid'] != point['uuid']]
    for link in links:
        if 'point' in link:
            continue
        if not free:
            raise _no_free_point(name, link['network'], role, points)
        point = free.pop(0)
        subnet = _subnet(name, link['network'], contexts[link['network']]['subnets'], point['physical_network'], rack)
        link.update(point=point, attach=True, subnet=subnet)
        if link['port'] is None:
            changes.append('create port %s on subnet %s (network %s)' % (
                point['mac'], link['subnet'].get('name') or link['subnet']['cidr'], link['network']))
        changes.append('attach VIF %s (network %s) to %s' % (
            link['port']['id'] if link['port'] else '(new port)', link['network'], point['label']))
    return dict(links=links, detach=detach, delete=delete, changes=changes)


def _port_to_keep(name, network, ports, subnets, points, rack):
    """The node's port on a wanted network it keeps: the one attached (when on the rack's subnet of
    its point), else the first on a rack subnet of a free point's physnet; None: create one."""
    physnets = sorted(set(p['physical_network'] for p in points if p['physical_network']))
    rack_subnets = [subnets[ph]['id'] for ph in physnets if ph in subnets]
    if not rack_subnets:
        _subnet(name, network, subnets, physnets[0] if physnets else None, rack)
    attached_at = dict((p['vif'], p) for p in points if p['vif'])
    for port in ports:
        point = attached_at.get(port['id'])
        if point is not None and point['physical_network'] in subnets \
                and _on_subnet(port, subnets[point['physical_network']]['id']):
            return port
    for port in ports:
        if port['id'] not in attached_at and any(_on_subnet(port, s) for s in rack_subnets):
            return port
    return None


def plan_release(node_uuid, ports, portgroups, contexts):
    """Releasing a node (``available`` / undeploy): every VIF that is one of its ports on a role
    network detached, those ports deleted. Returns ``{detach, delete, changes}``."""
    attached = set()
    for item in list(ports) + list(portgroups):
        if item.get('node_uuid') == node_uuid and vif_of(item):
            attached.add(vif_of(item))
    detach, delete, changes = [], [], []
    for network in sorted(contexts):
        for port in sorted(contexts[network]['ports'], key=lambda p: p['id']):
            if port['id'] in attached:
                detach.append(port['id'])
                changes.append('detach VIF %s (network %s)' % (port['id'], network))
            delete.append(port['id'])
            changes.append('delete port %s (network %s)' % (port['id'], network))
    return dict(detach=detach, delete=delete, changes=changes)


def link_record(link, port, network):
    """A config-drive link of a role network: the address, no default route (the provisioning
    network's gateway keeps the default route; the subnet's host routes stay)."""
    subnet = link['subnet']
    ips = [f['ip_address'] for f in port.get('fixed_ips') or [] if f.get('subnet_id') == subnet['id']]
    if not ips:
        raise PlanError('port %s (%s, network %s): no address on subnet %s' % (
            port['id'], link['point']['mac'], link['network'], subnet['id']))
    return dict(mac=link['point']['mac'], ip_address=ips[0], subnet=dict(subnet, gateway_ip=None),
                network_id=network['id'], mtu=network.get('mtu'))
