# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""Rack subnet planning for routed provider networks (pure: no I/O).

* ``rack_subnets``: one subnet per rack carved from a supernet by the rack's stable index, so
  appending a rack never moves the others.
* ``leaf_routes``: the routes a node of one rack needs to reach the other racks' subnets via
  its leaf gateway (the same routes Neutron puts on a routed network's subnets).
* ``routed_network_segments``: one ``routed_network`` segment (with its subnet) per rack from
  a site's ``routed_networks`` entry and the rack group_vars.

Errors are ``ValueError`` with a message naming the rack or network and the fix.
"""

from __future__ import annotations

try:
    import netaddr
    HAS_NETADDR = True
except ImportError:  # pragma: no cover - checked by the callers
    netaddr = None
    HAS_NETADDR = False

from ._util import rack_index


def _network(text, what):
    try:
        net = netaddr.IPNetwork(str(text))
    except (netaddr.AddrFormatError, ValueError, TypeError) as exc:
        raise ValueError('%s: %r is not a valid CIDR (%s)' % (what, text, exc))
    if net.ip != net.network:
        raise ValueError('%s: %s has host bits set; did you mean %s?' % (what, text, net.cidr))
    return net


def rack_indexes(racks):
    """Normalise racks to an ordered list of ``(rack, index)``.

    Accepts a list of names (position = index, from 1), a list of ``{rack, rack_index}`` dicts,
    or a dict ``rack -> index``. Raises ValueError on duplicate names or indexes, or an index
    that breaks the rack_index rule (an integer >= 1, as in the site model).
    """
    pairs = []
    if isinstance(racks, dict):
        pairs = list(racks.items())
    elif isinstance(racks, (list, tuple)):
        for pos, item in enumerate(racks, 1):
            if isinstance(item, dict):
                if 'rack' not in item:
                    raise ValueError('rack #%d: %r has no "rack" key' % (pos, item))
                pairs.append((item['rack'], item.get('rack_index', pos)))
            else:
                pairs.append((item, pos))
    else:
        raise ValueError('racks must be a list of rack names, a list of {rack, rack_index} or a dict rack -> index, '
                         'got %s' % type(racks).__name__)
    seen_names, seen_index, out = {}, {}, []
    for name, value in pairs:
        name = str(name)
        index = rack_index(value)
        if index is None:
            raise ValueError('rack %s: rack_index %r is not a positive integer' % (name, value))
        if name in seen_names:
            raise ValueError('rack %s is listed twice' % name)
        if index in seen_index:
            raise ValueError('racks %s and %s share rack_index %d: each rack needs its own stable index'
                             % (seen_index[index], name, index))
        seen_names[name] = index
        seen_index[index] = name
        out.append((name, index))
    return out


def rack_subnet(supernet, prefix_length, index, rack='rack'):
    """The plan of the rack with stable ``index``: the index-th ``/prefix_length`` of ``supernet``.

    Returns ``{cidr, gateway, allocation_pool: {start, end}, rack_index, ip_version}``: the gateway
    is the first address after the network address, the pool the rest of the subnet (IPv4 keeps
    the broadcast address out).
    """
    net = _network(supernet, 'supernet') if not isinstance(supernet, netaddr.IPNetwork) else supernet
    try:
        prefix_length = int(prefix_length)
    except (TypeError, ValueError):
        raise ValueError('prefix length %r is not an integer' % (prefix_length,))
    max_len = 32 if net.version == 4 else 128
    if prefix_length < net.prefixlen or prefix_length > max_len:
        raise ValueError('prefix length /%d does not fit in supernet %s (must be /%d to /%d)'
                         % (prefix_length, net, net.prefixlen, max_len))
    if max_len - prefix_length < 2:
        raise ValueError('prefix length /%d leaves no room for a gateway and hosts: use /%d or shorter'
                         % (prefix_length, max_len - 2))
    count = 1 << (prefix_length - net.prefixlen)
    if index >= count:
        raise ValueError('supernet %s is too small: rack %s (rack_index %d) needs /%d number %d but only %d fit '
                         '(indexes 1-%d); use a larger supernet or a longer prefix'
                         % (net, rack, index, prefix_length, index, count, count - 1))
    size = 1 << (max_len - prefix_length)
    first = int(net.network) + index * size
    cidr = netaddr.IPNetwork('%s/%d' % (netaddr.IPAddress(first, net.version), prefix_length))
    last = first + size - 1
    if net.version == 4:
        last -= 1  # broadcast
    return dict(
        cidr=str(cidr),
        gateway=str(netaddr.IPAddress(first + 1, net.version)),
        allocation_pool=dict(start=str(netaddr.IPAddress(first + 2, net.version)),
                             end=str(netaddr.IPAddress(last, net.version))),
        rack_index=index,
        ip_version=net.version,
    )


def rack_subnets(supernet, prefix_length, racks):
    """Plan one subnet per rack: ``{rack: {cidr, gateway, allocation_pool, rack_index, ip_version}}``.

    The rack with index ``i`` always gets the i-th subnet, so appending racks never moves the
    existing ones. Raises ValueError (naming the rack) when the supernet is too small.
    """
    net = _network(supernet, 'supernet')
    return dict((rack, rack_subnet(net, prefix_length, index, rack)) for rack, index in rack_indexes(racks))


def leaf_routes(plan, rack, extra_routes=None):
    """Routes a node of ``rack`` needs: every other rack's subnet (same IP version) via ``rack``'s gateway.

    ``plan`` is a ``rack_subnets`` result (or any ``{rack: {cidr, gateway}}``). This is what Neutron
    puts on each subnet of a routed network; ``extra_routes`` (``{destination, nexthop}``) are
    appended, and one for a peer's CIDR replaces the automatic route (as Neutron does).
    """
    if not isinstance(plan, dict):
        raise ValueError('leaf_routes: expected a rack_subnets plan (dict rack -> {cidr, gateway}), got %s'
                         % type(plan).__name__)
    if rack not in plan:
        raise ValueError('leaf_routes: rack %s is not in the plan (racks: %s)' % (rack, ', '.join(sorted(plan)) or 'none'))
    own = plan[rack]
    own_net = _network(own['cidr'], 'rack %s' % rack)
    gateway = own.get('gateway') or own.get('gateway_ip')
    if not gateway:
        raise ValueError('leaf_routes: rack %s has no gateway in the plan' % rack)
    extra = list(extra_routes or [])
    extra_dest = set(str(netaddr.IPNetwork(r['destination']).cidr) for r in extra)
    routes = []
    peers = sorted(((k, v) for k, v in plan.items() if k != rack), key=lambda kv: (kv[1].get('rack_index', 0), kv[0]))
    for peer, info in peers:
        peer_net = _network(info['cidr'], 'rack %s' % peer)
        if peer_net.version != own_net.version or str(peer_net.cidr) in extra_dest:
            continue
        routes.append(dict(destination=str(peer_net.cidr), nexthop=str(gateway)))
    for route in extra:
        routes.append(dict(destination=str(netaddr.IPNetwork(route['destination']).cidr), nexthop=str(route['nexthop'])))
    return routes


def _format(pattern, rack, index, network):
    try:
        return str(pattern).format(rack_index=index, rack=rack, network=network)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError('network %s: physnet_pattern %r cannot be formatted (%s); use {rack_index} or {rack}'
                         % (network, pattern, exc))


def _extra_routes(routes, gateway, network, rack):
    """Site-wide extra routes for one rack: a destination alone (or a dict without nexthop) goes via
    the rack's own leaf gateway."""
    out = []
    for route in routes:
        if isinstance(route, dict):
            dest, hop = route.get('destination'), route.get('nexthop')
        else:
            dest, hop = route, None
        if not dest:
            raise ValueError('network %s: extra route %r has no destination' % (network, route))
        hop = hop or gateway
        if not hop:
            raise ValueError('network %s, rack %s: extra route %s needs a nexthop (no gateway known)' % (network, rack, dest))
        out.append(dict(destination=str(dest), nexthop=str(hop)))
    return out


def rack_vlan(network, rack, index):
    """The VLAN of one rack's segment of a site network: the rack's ``rack_vlans[<network>]``
    override, else ``vlan_base + rack_index``. ``rack``: the rack's group_vars (``{rack, rack_vlans}``)."""
    name = network.get('name')
    override = (rack.get('rack_vlans') or {}).get(name)
    if override is not None:
        vlan, source = override, 'rack_vlans.%s' % name
    elif network.get('vlan_base') is not None:
        vlan, source = int(network['vlan_base']) + index, 'vlan_base + rack_index'
    else:
        raise ValueError('network %s, rack %s: no VLAN: set vlan_base or rack_vlans.%s' % (name, rack.get('rack'), name))
    # Caught here, before any write: Neutron accepts out-of-range VLANs from an admin.
    try:
        vlan = int(vlan)
    except (TypeError, ValueError):
        vlan = None
    if vlan is None or not 1 <= vlan <= 4094:
        raise ValueError('network %s, rack %s: VLAN %r (%s) is outside 1-4094'
                         % (name, rack.get('rack'), override if vlan is None else vlan, source))
    return vlan


def routed_network_segments(network, racks):
    """The ``segments`` option of ``routed_network`` for one site network and its racks.

    ``network`` is one entry of the site's ``routed_networks``: ``{name, supernet, prefix_per_rack,
    vlan_base, physnet_pattern, network_type, dhcp, extra_routes, dns_nameservers, provisioning}``.
    ``extra_routes`` entries are a destination CIDR (via each rack's gateway) or
    ``{destination, nexthop}``. ``racks`` is a list of ``{rack, rack_index, rack_physnet, rack_vlans, rack_subnets}`` (rack
    group_vars). The VLAN is ``vlan_base + rack_index`` unless ``rack_vlans[<network>]`` is set; the
    subnet comes from ``rack_subnets`` planning unless ``rack_subnets[<network>]`` (a CIDR or
    ``{cidr, gateway, allocation_pool}``) is set. Segments are named ``<network>-<rack>``.
    """
    name = network.get('name')
    if not name:
        raise ValueError('routed_networks: an entry has no name: %r' % (network,))
    network_type = network.get('network_type') or ('vlan' if network.get('vlan_base') is not None else 'flat')
    pairs = rack_indexes([dict(rack=r.get('rack'), rack_index=r.get('rack_index')) for r in racks])
    by_rack = dict((str(r.get('rack')), r) for r in racks)
    supernet = network.get('supernet')
    prefix = network.get('prefix_per_rack')
    segments = []
    for rack, index in sorted(pairs, key=lambda p: p[1]):
        info = by_rack[rack]
        if network.get('physnet_pattern'):
            physnet = _format(network['physnet_pattern'], rack, index, name)
            if network.get('provisioning') and info.get('rack_physnet') and info['rack_physnet'] != physnet:
                raise ValueError('network %s, rack %s: physnet_pattern gives %s but the rack\'s rack_physnet is %s: '
                                 'Ironic ports use rack_physnet, make them agree' % (name, rack, physnet, info['rack_physnet']))
        else:
            physnet = info.get('rack_physnet')
        if not physnet:
            raise ValueError('network %s, rack %s: no physical network: set physnet_pattern or the rack\'s rack_physnet'
                             % (name, rack))
        vlan = rack_vlan(network, info, index) if network_type == 'vlan' else None
        sub_override = (info.get('rack_subnets') or {}).get(name)
        if sub_override:
            if isinstance(sub_override, dict):
                plan = dict(sub_override)
                if 'cidr' not in plan:
                    raise ValueError('network %s, rack %s: rack_subnets.%s has no cidr' % (name, rack, name))
            else:
                override_net = _network(sub_override, 'network %s, rack %s: rack_subnets.%s' % (name, rack, name))
                plan = dict(cidr=str(override_net.cidr),
                            gateway=str(netaddr.IPAddress(int(override_net.network) + 1, override_net.version)))
        else:
            if not supernet or not prefix:
                raise ValueError('network %s, rack %s: no subnet: set supernet and prefix_per_rack, or rack_subnets.%s'
                                 % (name, rack, name))
            plan = rack_subnet(_network(supernet, 'network %s supernet' % name), prefix, index, rack)
        subnet = dict(name='%s-%s' % (name, rack), cidr=plan['cidr'],
                      enable_dhcp=bool(network.get('dhcp', True)))
        gateway = plan.get('gateway') or plan.get('gateway_ip')
        if gateway:
            subnet['gateway_ip'] = gateway
        pools = plan.get('allocation_pools') or ([plan['allocation_pool']] if plan.get('allocation_pool') else None)
        if pools:
            subnet['allocation_pools'] = pools
        if network.get('dns_nameservers'):
            subnet['dns_nameservers'] = list(network['dns_nameservers'])
        if network.get('extra_routes'):
            subnet['host_routes'] = _extra_routes(network['extra_routes'], gateway, name, rack)
        segment = dict(name='%s-%s' % (name, rack), physical_network=physnet, network_type=network_type,
                       subnets=[subnet])
        if vlan is not None:
            segment['segmentation_id'] = vlan
        segments.append(segment)
    return segments
