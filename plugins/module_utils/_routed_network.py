# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""Routed provider network planning (pure: no I/O).

``normalize_spec`` validates a request (everything the operator can get wrong is found before
any write, each message naming the segment or subnet); ``plan`` compares it with the current
state (plain dicts read by the Neutron adapter) and returns the ordered actions; ``desired_routes``
computes a subnet's host routes the way Neutron does (routes to every peer segment's subnet via
the subnet's gateway) plus the operator's extra routes, so re-runs compare sets and converge.

Neutron facts this relies on (see the lab notes): the network's first segment is created
implicitly from its provider attributes and has no name; segments are read-only except
name/description; a subnet's cidr, segment and IPv6 modes cannot change; deletion order is
subnets, segments, network.
"""

from __future__ import annotations

try:
    import netaddr
    HAS_NETADDR = True
except ImportError:  # pragma: no cover - checked by the module
    netaddr = None
    HAS_NETADDR = False

from ._errors import PlanError

VLAN_MIN, VLAN_MAX = 1, 4094
SUBNET_UPDATABLE = ('gateway_ip', 'allocation_pools', 'dns_nameservers', 'enable_dhcp', 'description')
SUBNET_FIXED = ('cidr', 'ipv6_address_mode', 'ipv6_ra_mode')
NETWORK_UPDATABLE = ('description', 'shared', 'external', 'mtu')


# ---------------------------------------------------------------------------- helpers
def _ip(text):
    return netaddr.IPAddress(str(text))


def _cidr(text):
    return str(netaddr.IPNetwork(str(text)).cidr)


def default_gateway(cidr):
    """The gateway Neutron picks when none is given: first host (IPv4), the network address (IPv6)."""
    net = netaddr.IPNetwork(cidr)
    if net.version == 6:
        return str(net.network)
    return str(netaddr.IPAddress(int(net.network) + 1, 4))


def route_set(routes):
    """Host routes as a set of ``(destination, nexthop)`` in canonical form."""
    return set((_cidr(r['destination']), str(_ip(r['nexthop']))) for r in (routes or []))


def routes_list(pairs):
    return [dict(destination=d, nexthop=n) for d, n in sorted(pairs)]


def pool_list(pools):
    """Allocation pools as a sorted list of ``(start, end)`` in canonical form."""
    return sorted((str(_ip(p['start'])), str(_ip(p['end']))) for p in (pools or []))


def segment_key(seg):
    """The provider identity of a segment: what Neutron never lets change."""
    return (seg.get('network_type') or 'vlan', seg.get('physical_network'), seg.get('segmentation_id'))


def _key_text(key):
    network_type, physnet, vlan = key
    return '%s %s%s' % (network_type, physnet, '' if vlan is None else ' VLAN %s' % vlan)


# ---------------------------------------------------------------------------- request
def normalize_spec(params):
    """Validate and normalise the module's options; return a spec dict.

    Raises PlanError listing every problem at once (each naming the segment / subnet).
    """
    errors = []
    spec = dict(name=params.get('name'), state=params.get('state') or 'present')
    for key in NETWORK_UPDATABLE:
        spec[key] = params.get(key)
    if not spec['name']:
        errors.append('name: a network name is required')
    if spec['mtu'] is not None and not 68 <= int(spec['mtu']) <= 65535:
        errors.append('network %s: mtu %s is out of range 68-65535' % (spec['name'], spec['mtu']))
    segments = []
    seg_names, keys, sub_names = {}, {}, {}
    nets = []  # (IPNetwork, subnet name)
    for pos, raw in enumerate(params.get('segments') or []):
        raw = raw or {}
        seg_name = raw.get('name')
        label = 'segment %s' % seg_name if seg_name else 'segment #%d' % (pos + 1)
        if not seg_name:
            errors.append('%s: every segment needs a name (the module matches segments by name)' % label)
        elif seg_name in seg_names:
            errors.append('%s: duplicate segment name' % label)
        seg_names[seg_name] = True
        network_type = raw.get('network_type') or 'vlan'
        physnet = raw.get('physical_network')
        vlan = raw.get('segmentation_id')
        if network_type not in ('vlan', 'flat'):
            errors.append('%s: network_type %r is not supported (vlan or flat)' % (label, network_type))
        if not physnet:
            errors.append('%s: physical_network is required' % label)
        if network_type == 'vlan':
            if vlan is None:
                errors.append('%s: segmentation_id (the VLAN) is required for a vlan segment' % label)
            else:
                try:
                    vlan = int(vlan)
                except (TypeError, ValueError):
                    errors.append('%s: segmentation_id %r is not an integer' % (label, vlan))
                    vlan = None
                if vlan is not None and not VLAN_MIN <= vlan <= VLAN_MAX:
                    errors.append('%s: VLAN %d is out of range %d-%d' % (label, vlan, VLAN_MIN, VLAN_MAX))
        elif vlan is not None:
            errors.append('%s: segmentation_id must not be set for a flat segment' % label)
            vlan = None
        key = (network_type, physnet, vlan)
        if physnet:
            if key in keys:
                errors.append('%s: %s is already used by segment %s (a physical network carries a VLAN once)'
                              % (label, _key_text(key), keys[key]))
            else:
                keys[key] = seg_name or label
        subnets = []
        for spos, sraw in enumerate(raw.get('subnets') or []):
            sub, errs = _normalize_subnet(sraw or {}, label, spos)
            errors.extend(errs)
            if sub['name']:
                if sub['name'] in sub_names:
                    errors.append('subnet %s (%s): duplicate subnet name (also in %s)' % (sub['name'], label, sub_names[sub['name']]))
                sub_names[sub['name']] = label
            if sub.get('_net') is not None:
                for other, other_name in nets:
                    if other.version == sub['_net'].version and (sub['_net'] in other or other in sub['_net'] or sub['_net'] == other):
                        errors.append('subnet %s (%s): %s overlaps subnet %s (%s)' % (sub['name'], label, sub['cidr'], other_name, other))
                nets.append((sub['_net'], sub['name']))
            subnets.append(sub)
        segments.append(dict(name=seg_name, network_type=network_type, physical_network=physnet,
                             segmentation_id=vlan, description=raw.get('description'), subnets=subnets))
    if spec['state'] == 'present' and not segments and not errors:
        errors.append('network %s: segments is empty: a routed network needs at least one segment' % spec['name'])
    if errors:
        raise PlanError('routed network %s: %d problem(s), nothing was changed: %s'
                        % (spec['name'], len(errors), '; '.join(errors)))
    for seg in segments:
        for sub in seg['subnets']:
            sub.pop('_net', None)
    spec['segments'] = segments
    return spec


def _normalize_subnet(raw, seg_label, pos):
    errors = []
    name = raw.get('name')
    label = 'subnet %s (%s)' % (name, seg_label) if name else 'subnet #%d of %s' % (pos + 1, seg_label)
    if not name:
        errors.append('%s: every subnet needs a name (the module matches subnets by name)' % label)
    sub = dict(name=name, description=raw.get('description'), _net=None)
    cidr = raw.get('cidr')
    net = None
    try:
        net = netaddr.IPNetwork(str(cidr)) if cidr else None
    except (netaddr.AddrFormatError, ValueError, TypeError):
        errors.append('%s: cidr %r is not a valid CIDR' % (label, cidr))
    if not cidr:
        errors.append('%s: cidr is required' % label)
    if net is not None:
        if '/' not in str(cidr):
            errors.append('%s: cidr %r has no prefix length (e.g. %s/24)' % (label, cidr, cidr))
            net = None
        elif net.ip != net.network:
            errors.append('%s: cidr %s has host bits set; did you mean %s?' % (label, cidr, net.cidr))
            net = None
    version = raw.get('ip_version')
    if net is not None:
        if version is not None and int(version) != net.version:
            errors.append('%s: ip_version %s does not match cidr %s (IPv%d)' % (label, version, cidr, net.version))
        version = net.version
    sub['cidr'] = str(net.cidr) if net is not None else cidr
    sub['ip_version'] = int(version) if version is not None else None
    sub['_net'] = net
    sub['enable_dhcp'] = raw.get('enable_dhcp')
    gw = _subnet_gateway(raw, sub, net, label, errors)
    _subnet_pools(raw, sub, net, gw, label, errors)
    _subnet_dns(raw, sub, label, errors)
    _subnet_routes(raw, sub, net, label, errors)
    for mode in ('ipv6_address_mode', 'ipv6_ra_mode'):
        sub[mode] = raw.get(mode)
        if sub[mode] and sub['ip_version'] == 4:
            errors.append('%s: %s is only for IPv6 subnets' % (label, mode))
    return sub, errors


def _subnet_gateway(raw, sub, net, label, errors):
    """Check and set ``gateway_ip``; returns it (an IPAddress) when usable, else None."""
    gateway = raw.get('gateway_ip')
    sub['gateway_ip'] = None
    gw = None
    if gateway:
        try:
            gw = _ip(gateway)
            sub['gateway_ip'] = str(gw)
        except (netaddr.AddrFormatError, ValueError):
            errors.append('%s: gateway_ip %r is not an IP address' % (label, gateway))
    if net is not None and gw is not None:
        if gw not in net or gw.version != net.version:
            errors.append('%s: gateway_ip %s is outside cidr %s' % (label, gw, net.cidr))
            gw = None
        elif net.version == 4 and net.prefixlen < 31 and gw in (net.network, net.broadcast):
            errors.append('%s: gateway_ip %s is the network or broadcast address of %s' % (label, gw, net.cidr))
    return gw


def _subnet_pools(raw, sub, net, gw, label, errors):
    """Check and set ``allocation_pools``: valid, inside the cidr, apart from each other and the gateway."""
    pools = raw.get('allocation_pools')
    sub['allocation_pools'] = None
    if pools is not None:
        norm = []
        ranges = []
        for p in pools:
            p = p or {}
            try:
                start, end = _ip(p.get('start')), _ip(p.get('end'))
            except (netaddr.AddrFormatError, ValueError, TypeError):
                errors.append('%s: allocation pool %r needs valid start and end addresses' % (label, p))
                continue
            text = '%s-%s' % (start, end)
            if start > end:
                errors.append('%s: allocation pool %s starts after it ends' % (label, text))
                continue
            if net is not None and (start not in net or end not in net):
                errors.append('%s: allocation pool %s is outside cidr %s' % (label, text, net.cidr))
            elif net is not None and net.version == 4 and net.prefixlen < 31 and \
                    (start == net.network or end == net.broadcast):
                errors.append('%s: allocation pool %s includes the network or broadcast address' % (label, text))
            if gw is not None and start <= gw <= end:
                errors.append('%s: gateway_ip %s is inside allocation pool %s' % (label, gw, text))
            for other in ranges:
                if start <= other[1] and other[0] <= end:
                    errors.append('%s: allocation pools %s and %s-%s overlap' % (label, text, other[0], other[1]))
            ranges.append((start, end))
            norm.append(dict(start=str(start), end=str(end)))
        sub['allocation_pools'] = norm
        if gw is None and net is not None and not raw.get('gateway_ip'):
            dgw = _ip(default_gateway(str(net.cidr)))
            for start, end in ranges:
                if start <= dgw <= end:
                    errors.append('%s: the default gateway %s is inside allocation pool %s-%s: set gateway_ip'
                                  % (label, dgw, start, end))


def _subnet_dns(raw, sub, label, errors):
    """Check and set ``dns_nameservers``."""
    dns = raw.get('dns_nameservers')
    sub['dns_nameservers'] = None
    if dns is not None:
        sub['dns_nameservers'] = []
        for server in dns:
            try:
                sub['dns_nameservers'].append(str(_ip(server)))
            except (netaddr.AddrFormatError, ValueError, TypeError):
                errors.append('%s: dns_nameservers entry %r is not an IP address' % (label, server))


def _subnet_routes(raw, sub, net, label, errors):
    """Check and set the operator's extra ``host_routes``."""
    routes = []
    for route in raw.get('host_routes') or []:
        route = route or {}
        try:
            dest = netaddr.IPNetwork(str(route.get('destination')))
            hop = _ip(route.get('nexthop'))
        except (netaddr.AddrFormatError, ValueError, TypeError):
            errors.append('%s: host route %r needs a destination CIDR and a nexthop address' % (label, route))
            continue
        if dest.ip != dest.network:
            errors.append('%s: host route destination %s has host bits set; did you mean %s?' % (label, dest, dest.cidr))
            continue
        if net is not None and (hop.version != net.version or hop not in net):
            errors.append('%s: host route nexthop %s is not inside cidr %s' % (label, hop, net.cidr))
        routes.append(dict(destination=str(dest.cidr), nexthop=str(hop)))
    sub['host_routes'] = routes


# ---------------------------------------------------------------------------- routes
def desired_routes(subnet, gateway, peers, extra):
    """Host routes Neutron keeps on ``subnet`` plus the operator's ``extra`` routes, as a set.

    ``peers`` are the other subnets (``{cidr, ip_version, segment}``) on *other* segments of the
    network; a route for a peer CIDR in ``extra`` replaces the automatic one (as Neutron does).
    """
    wanted = route_set(extra)
    explicit = set(dest for dest, dummy in wanted)
    if gateway:
        for peer in peers:
            if peer['ip_version'] != subnet['ip_version'] or peer['segment'] == subnet['segment']:
                continue
            dest = _cidr(peer['cidr'])
            if dest not in explicit:
                wanted.add((dest, str(_ip(gateway))))
    return wanted


def host_route_limit_errors(plan_, limit):
    """The subnets whose host routes after the plan (Neutron's automatic route to each peer subnet
    on another segment, plus the extra routes) would exceed Neutron's ``max_subnet_host_routes``
    ``limit``: one message for all of them, naming the largest count and the fix; ``[]`` when all fit."""
    over = []
    for me in plan_.final:
        if me['name'] not in plan_.route_targets:
            continue  # not managed by this call
        peers = [f for f in plan_.final if f is not me]
        count = len(desired_routes(me, me['gateway'], peers, plan_.route_targets[me['name']]))
        if count > limit:
            over.append((me['name'], count))
    if not over:
        return []
    most = max(count for _name, count in over)
    names = ', '.join(name for name, _count in over[:5]) + (' and %d more' % (len(over) - 5) if len(over) > 5 else '')
    return ['%d subnet(s) would carry up to %d host routes (Neutron adds one to each peer subnet on the network\'s other '
            'segments, plus the extra routes), over max_subnet_host_routes %d: %s. Raise [DEFAULT] max_subnet_host_routes '
            'in neutron.conf to at least %d and set this option (site variable neutron_max_subnet_host_routes) to match'
            % (len(over), most, limit, names, most)]


# ---------------------------------------------------------------------------- plan
class Plan:
    """Ordered actions plus what to report. Actions are tuples ``(kind, payload)``."""

    def __init__(self):
        self.actions = []
        self.segments = []      # per-segment results
        self.subnets = []       # per-subnet results
        self.network = {}
        self.unmanaged = []     # segments / subnets found but not in the spec (not purged)
        self.route_targets = {}  # subnet name -> desired extra routes (for the post-create pass)
        self.final = []          # every subnet on the network after the run (for route checks)
        self.after = {}          # predicted state, for diff

    def add(self, kind, **payload):
        self.actions.append((kind, payload))

    @property
    def writes(self):
        return len(self.actions)


def _subnet_view(sub):
    view = dict(name=sub.get('name'), cidr=sub.get('cidr'))
    for key in ('gateway_ip', 'enable_dhcp', 'dns_nameservers', 'ipv6_address_mode', 'ipv6_ra_mode'):
        if sub.get(key) is not None:
            view[key] = sub[key]
    if sub.get('allocation_pools') is not None:
        view['allocation_pools'] = [dict(start=s, end=e) for s, e in pool_list(sub['allocation_pools'])]
    if sub.get('host_routes') is not None:
        view['host_routes'] = routes_list(route_set(sub['host_routes']))
    return view


def state_view(network, segments, subnets):
    """A compact, stable picture of a routed network for ``diff``."""
    if network is None:
        return {}
    seg_names = dict((s['id'], s.get('name')) for s in segments)
    view = dict(name=network.get('name'))
    for key in NETWORK_UPDATABLE:
        if network.get(key) is not None:
            view[key] = network[key]
    view['segments'] = []
    for seg in sorted(segments, key=lambda s: (s.get('name') or '', s.get('physical_network') or '', s.get('segmentation_id') or 0)):
        entry = dict(name=seg.get('name'), network_type=seg.get('network_type'),
                     physical_network=seg.get('physical_network'), segmentation_id=seg.get('segmentation_id'))
        entry['subnets'] = [_subnet_view(s) for s in sorted(subnets, key=lambda x: x.get('name') or '')
                            if (s.get('segment_id') == seg['id'] if seg.get('id') is not None
                                else s.get('segment_name') == seg.get('name'))]
        view['segments'].append(entry)
    return view


def plan(spec, current, purge_segments=False, replace_segments=False):
    """Compare ``spec`` (from ``normalize_spec``) with ``current`` and return a Plan.

    ``current`` is ``{network: dict or None, segments: [dict], subnets: [dict], ports: [dict]}`` as
    read by the adapter (``segments``: id, name, network_type, physical_network, segmentation_id;
    ``subnets``: id, name, segment_id, cidr, ip_version, gateway_ip, allocation_pools,
    dns_nameservers, enable_dhcp, host_routes, ipv6 modes; ``ports``: id, fixed_ips subnet ids).
    Raises PlanError for changes Neutron forbids or overlaps with existing subnets; nothing has
    been written at that point.
    """
    result = Plan()
    network = current.get('network')
    cur_segments = list(current.get('segments') or [])
    cur_subnets = list(current.get('subnets') or [])
    name = spec['name']
    if spec['state'] == 'absent':
        return _plan_absent(result, name, network, cur_segments, cur_subnets)

    errors = []
    desired = spec['segments']
    cur_segments = _plan_network(result, spec, network, cur_segments)
    matched, extra_segments = _match_segments(desired, cur_segments, name, errors)
    replaced = _replacements(desired, matched, cur_subnets, current.get('ports'), replace_segments, errors)
    seg_of_current = dict((c.get('id'), c) for c in cur_segments if c.get('id'))
    desired_subnets = {}
    for seg in desired:
        for sub in seg['subnets']:
            desired_subnets[sub['name']] = (seg, sub)
    purge_ids = set(c['id'] for c in extra_segments if c.get('id')) if purge_segments else set()
    replace_ids = set(matched[n]['id'] for n in replaced if matched[n].get('id'))
    subnets_to_delete, cur_subnet_by_name, kept_unmanaged = _sort_current_subnets(
        cur_subnets, desired_subnets, purge_ids | replace_ids, purge_segments)
    _check_fixed_subnet_fields(desired_subnets, cur_subnet_by_name, seg_of_current, matched, errors)
    _check_overlaps(desired_subnets, kept_unmanaged, name, errors)
    if errors:
        raise PlanError('routed network %s: %d problem(s), nothing was changed: %s' % (name, len(errors), '; '.join(errors)))

    _plan_deletions(result, subnets_to_delete, replace_ids, extra_segments, kept_unmanaged, replaced, matched,
                    purge_segments)
    _plan_segments(result, desired, matched, replaced)
    after_subnets = _plan_subnets(result, desired_subnets, cur_subnet_by_name, kept_unmanaged, seg_of_current,
                                  replaced, cur_subnets)
    result.after = _predicted_state(spec, network, desired, extra_segments, after_subnets, kept_unmanaged,
                                    seg_of_current, purge_segments)
    return result


def _plan_absent(result, name, network, cur_segments, cur_subnets):
    """state=absent: delete the subnets, then the segments, then the network."""
    if network is None:
        result.network = dict(name=name, action='absent')
        return result
    for sub in cur_subnets:
        result.add('delete_subnet', id=sub['id'], name=sub.get('name'))
        result.subnets.append(dict(name=sub.get('name'), id=sub['id'], cidr=sub.get('cidr'), action='deleted'))
    for seg in cur_segments:
        result.add('delete_segment', id=seg['id'], name=seg.get('name'))
        result.segments.append(dict(name=seg.get('name'), id=seg['id'], action='deleted',
                                    physical_network=seg.get('physical_network'),
                                    segmentation_id=seg.get('segmentation_id')))
    result.add('delete_network', id=network['id'], name=name)
    result.network = dict(name=name, id=network['id'], action='deleted')
    return result


def _plan_network(result, spec, network, cur_segments):
    """Create or update the network itself. Returns the current segments, with the implicit first
    segment a new network gets (no name, the first segment's provider attributes)."""
    name = spec['name']
    desired = spec['segments']
    if network is None:
        first = desired[0]
        attrs = dict(name=name, provider_network_type=first['network_type'],
                     provider_physical_network=first['physical_network'])
        if first['segmentation_id'] is not None:
            attrs['provider_segmentation_id'] = first['segmentation_id']
        for key in NETWORK_UPDATABLE:
            if spec[key] is not None:
                attrs[key] = spec[key]
        result.add('create_network', attrs=attrs)
        result.network = dict(name=name, action='created')
        return [dict(id=None, name=None, network_type=first['network_type'],
                     physical_network=first['physical_network'],
                     segmentation_id=first['segmentation_id'], implicit=True)]
    changes = dict((k, spec[k]) for k in NETWORK_UPDATABLE
                   if spec[k] is not None and network.get(k) != spec[k])
    if changes:
        result.add('update_network', id=network['id'], changes=changes)
        result.network = dict(name=name, id=network['id'], action='updated', changes=sorted(changes))
    else:
        result.network = dict(name=name, id=network['id'], action='unchanged')
    return cur_segments


def _match_segments(desired, cur_segments, name, errors):
    """Match the wanted segments with current ones: by name, then by provider identity (adopts the
    unnamed implicit segment). Returns ``(matched: name -> current, extra current segments)``."""
    matched = {}  # desired name -> current segment
    used = set()
    by_name = {}
    for seg in cur_segments:
        if seg.get('name'):
            by_name.setdefault(seg['name'], []).append(seg)
    for seg in desired:
        cands = by_name.get(seg['name']) or []
        if len(cands) > 1:
            errors.append('segment %s: %d segments of network %s have this name: rename or delete the extra ones'
                          % (seg['name'], len(cands), name))
        if cands:
            matched[seg['name']] = cands[0]
            used.add(id(cands[0]))
    for seg in desired:
        if seg['name'] in matched:
            continue
        for cur in sorted(cur_segments, key=lambda c: c.get('name') is not None):
            if id(cur) in used or segment_key(cur) != segment_key(seg):
                continue
            # Same physnet/VLAN: adopt it (unnamed implicit segment first) unless its own name is wanted.
            if cur.get('name') and any(d['name'] == cur['name'] for d in desired):
                continue
            matched[seg['name']] = cur
            used.add(id(cur))
            break
    return matched, [c for c in cur_segments if id(c) not in used]


def _replacements(desired, matched, cur_subnets, ports, replace_segments, errors):
    """Matched segments whose provider attributes differ: Neutron cannot change them, so they are
    replaced when allowed and free of ports, else reported. Returns the names to replace."""
    replaced = set()
    for seg in desired:
        cur = matched.get(seg['name'])
        if cur is None or segment_key(cur) == segment_key(seg):
            continue
        what = []
        for field, idx in (('network_type', 0), ('physical_network', 1), ('segmentation_id', 2)):
            if segment_key(cur)[idx] != segment_key(seg)[idx]:
                what.append('%s %s -> %s' % (field, segment_key(cur)[idx], segment_key(seg)[idx]))
        if not replace_segments:
            errors.append('segment %s: %s cannot change (Neutron segments are read-only except name and '
                          'description): replace the segment (set replace_segments: true, it must have no ports) '
                          'or give the new segment another name' % (seg['name'], ', '.join(what)))
            continue
        seg_subnet_ids = set(s['id'] for s in cur_subnets if s.get('segment_id') == cur.get('id'))
        busy = [p for p in ports or []
                if seg_subnet_ids & set(ip.get('subnet_id') for ip in p.get('fixed_ips') or [])]
        if busy:
            port_ids = ', '.join(p['id'] for p in busy[:5])
            errors.append('segment %s: %s needs a replacement but %d port(s) use its subnets (%s): '
                          'delete or move them first' % (seg['name'], ', '.join(what), len(busy), port_ids))
            continue
        replaced.add(seg['name'])
    return replaced


def _sort_current_subnets(cur_subnets, desired_subnets, doomed_segment_ids, purge_segments):
    """Which current subnets go (on a purged or replaced segment, or unwanted with purge), which are
    the wanted ones by name, and which stay unmanaged: ``(to_delete, by_name, kept_unmanaged)``."""
    subnets_to_delete = []
    cur_subnet_by_name = {}
    kept_unmanaged = []
    for sub in cur_subnets:
        seg_id = sub.get('segment_id')
        if seg_id in doomed_segment_ids:
            subnets_to_delete.append(sub)
            continue
        if sub.get('name') in desired_subnets and sub.get('name') not in cur_subnet_by_name:
            cur_subnet_by_name[sub['name']] = sub
            continue
        if purge_segments:
            subnets_to_delete.append(sub)
        else:
            kept_unmanaged.append(sub)
    return subnets_to_delete, cur_subnet_by_name, kept_unmanaged


def _check_fixed_subnet_fields(desired_subnets, cur_subnet_by_name, seg_of_current, matched, errors):
    """A wanted subnet that exists must stay on its segment with its cidr and IPv6 modes."""
    for sub_name, (seg, sub) in desired_subnets.items():
        cur = cur_subnet_by_name.get(sub_name)
        if cur is None:
            continue
        cur_seg = seg_of_current.get(cur.get('segment_id'))
        want_seg = matched.get(seg['name'])
        if want_seg is None or cur_seg is not want_seg:
            errors.append('subnet %s: it is on segment %s, wanted on segment %s: Neutron cannot move a subnet; '
                          'delete it or give the new subnet another name'
                          % (sub_name, (cur_seg or {}).get('name') or cur.get('segment_id'), seg['name']))
            continue
        for field in SUBNET_FIXED:
            want = sub.get(field)
            have = cur.get(field)
            if field == 'cidr':
                have = _cidr(have) if have else have
            if want is not None and want != have:
                errors.append('subnet %s (segment %s): %s cannot change (%s -> %s): delete the subnet, or give the '
                              'new one another name' % (sub_name, seg['name'], field, have, want))


def _check_overlaps(desired_subnets, kept_unmanaged, name, errors):
    """Wanted subnets must not overlap subnets that stay on the network."""
    for sub_name, (seg, sub) in desired_subnets.items():
        mine = netaddr.IPNetwork(sub['cidr'])
        for other in kept_unmanaged:
            theirs = netaddr.IPNetwork(other['cidr'])
            if theirs.version == mine.version and (mine in theirs or theirs in mine):
                errors.append('subnet %s (segment %s): %s overlaps existing subnet %s (%s) of network %s: '
                              'change the cidr, or delete that subnet (purge_segments: true)'
                              % (sub_name, seg['name'], sub['cidr'], other.get('name') or other['id'], other['cidr'], name))


def _plan_deletions(result, subnets_to_delete, replace_ids, extra_segments, kept_unmanaged, replaced, matched,
                    purge_segments):
    """Deletions first (they may free a VLAN or a CIDR): subnets, then segments."""
    for sub in subnets_to_delete:
        result.add('delete_subnet', id=sub['id'], name=sub.get('name'))
        result.subnets.append(dict(name=sub.get('name'), id=sub['id'], cidr=sub.get('cidr'),
                                   action='deleted' if sub.get('segment_id') not in replace_ids else 'replaced'))
    for cur in extra_segments:
        entry = dict(name=cur.get('name'), id=cur.get('id'), physical_network=cur.get('physical_network'),
                     segmentation_id=cur.get('segmentation_id'))
        if purge_segments and cur.get('id'):
            result.add('delete_segment', id=cur['id'], name=cur.get('name'))
            entry['action'] = 'deleted'
        else:
            entry['action'] = 'unmanaged'
            result.unmanaged.append(dict(kind='segment', **entry))
        result.segments.append(entry)
    for sub in kept_unmanaged:
        result.unmanaged.append(dict(kind='subnet', name=sub.get('name'), id=sub['id'], cidr=sub.get('cidr')))
    for seg_name in replaced:
        result.add('delete_segment', id=matched[seg_name]['id'], name=seg_name)


def _plan_segments(result, desired, matched, replaced):
    """Adopt, rename or create each wanted segment."""
    for seg in desired:
        cur = matched.get(seg['name'])
        entry = dict(name=seg['name'], physical_network=seg['physical_network'], segmentation_id=seg['segmentation_id'],
                     network_type=seg['network_type'])
        if cur is None or seg['name'] in replaced:
            result.add('create_segment', segment=seg['name'],
                       attrs=dict(name=seg['name'], network_type=seg['network_type'],
                                  physical_network=seg['physical_network'], segmentation_id=seg['segmentation_id'],
                                  description=seg.get('description')))
            entry['action'] = 'replaced' if cur is not None else 'created'
        else:
            entry['id'] = cur.get('id')
            changes = {}
            if cur.get('name') != seg['name']:
                changes['name'] = seg['name']
            if seg.get('description') is not None and cur.get('description') != seg['description']:
                changes['description'] = seg['description']
            if changes:
                result.add('update_segment', id=cur.get('id'), segment=seg['name'], changes=changes)
                entry['action'] = 'adopted' if not cur.get('name') else 'updated'
            else:
                entry['action'] = 'unchanged'
        result.segments.append(entry)


def _plan_subnets(result, desired_subnets, cur_subnet_by_name, kept_unmanaged, seg_of_current, replaced, cur_subnets):
    """Create or update each wanted subnet (routes compared as sets including Neutron's automatic
    ones). Records ``result.final``; returns the predicted subnets for the diff."""
    final = []  # every subnet on the network after this run: {name, cidr, ip_version, segment, gateway}
    for sub_name, (seg, sub) in desired_subnets.items():
        cur = cur_subnet_by_name.get(sub_name)
        if cur is not None and seg['name'] not in replaced:
            gateway = sub['gateway_ip'] or cur.get('gateway_ip')
        else:
            gateway = sub['gateway_ip'] or default_gateway(sub['cidr'])
        final.append(dict(name=sub_name, cidr=sub['cidr'], ip_version=sub['ip_version'], segment=seg['name'], gateway=gateway))
    for other in kept_unmanaged:
        seg = seg_of_current.get(other.get('segment_id')) or {}
        final.append(dict(name=other.get('name'), cidr=other['cidr'], ip_version=other.get('ip_version'),
                          segment=seg.get('name') or other.get('segment_id'), gateway=other.get('gateway_ip')))

    after_subnets = []
    for sub_name, (seg, sub) in desired_subnets.items():
        cur = cur_subnet_by_name.get(sub_name)
        me = [f for f in final if f['name'] == sub_name][0]
        peers = [f for f in final if f['name'] != sub_name]
        want_routes = desired_routes(me, me['gateway'], peers, sub['host_routes'])
        result.route_targets[sub_name] = sub['host_routes']
        entry = dict(name=sub_name, segment=seg['name'], cidr=sub['cidr'])
        if cur is None or seg['name'] in replaced:
            attrs = dict(name=sub_name, cidr=sub['cidr'], ip_version=sub['ip_version'])
            for key in ('gateway_ip', 'allocation_pools', 'dns_nameservers', 'enable_dhcp', 'description',
                        'ipv6_address_mode', 'ipv6_ra_mode'):
                if sub.get(key) is not None:
                    attrs[key] = sub[key]
            if sub['host_routes']:
                attrs['host_routes'] = sub['host_routes']
            result.add('create_subnet', subnet=sub_name, segment=seg['name'], attrs=attrs)
            entry['action'] = 'created'
        else:
            entry['id'] = cur['id']
            changes = {}
            for key in SUBNET_UPDATABLE:
                want = sub.get(key)
                if want is None:
                    continue
                have = cur.get(key)
                if key == 'allocation_pools':
                    if pool_list(want) != pool_list(have):
                        changes[key] = want
                elif key == 'gateway_ip':
                    if not have or _ip(want) != _ip(have):
                        changes[key] = want
                elif want != have:
                    changes[key] = want
            # Neutron adds / removes the automatic routes itself when subnets come and go in this
            # run, so compare with the routes wanted among the subnets that exist now.
            mine_now = dict(name=sub_name, cidr=cur['cidr'], ip_version=cur.get('ip_version'), segment=cur.get('segment_id'))
            peers_now = [dict(name=o.get('name'), cidr=o['cidr'], ip_version=o.get('ip_version'), segment=o.get('segment_id'))
                         for o in cur_subnets if o['id'] != cur['id']]
            want_now = desired_routes(mine_now, me['gateway'], peers_now, sub['host_routes'])
            if route_set(cur.get('host_routes')) != want_now:
                changes['host_routes'] = routes_list(want_now)
            if changes:
                result.add('update_subnet', id=cur['id'], subnet=sub_name, changes=changes)
                entry['action'] = 'updated'
                entry['changes'] = sorted(changes)
            else:
                entry['action'] = 'unchanged'
        result.subnets.append(entry)
        merged = dict(cur) if cur is not None and seg['name'] not in replaced else dict(gateway_ip=me['gateway'])
        merged.update((k, v) for k, v in sub.items() if v is not None)
        merged['host_routes'] = routes_list(want_routes)
        after_subnets.append(dict(merged, segment_name=seg['name']))
    result.final = final
    return after_subnets


def _predicted_state(spec, network, desired, extra_segments, after_subnets, kept_unmanaged, seg_of_current,
                     purge_segments):
    """The network as it will be after the plan, for ``diff.after``."""
    name = spec['name']
    after_net = dict(network or {}, name=name)
    after_net.update((k, spec[k]) for k in NETWORK_UPDATABLE if spec[k] is not None)
    after_segments = [dict(seg, id=None) for seg in desired]
    if not purge_segments:
        after_segments += list(extra_segments)
        after_subnets += [dict(s, segment_name=(seg_of_current.get(s.get('segment_id')) or {}).get('name'))
                          for s in kept_unmanaged]
    return state_view(after_net, after_segments, after_subnets)


def segment_conflicts(plan_, network_id, all_segments, network_names=None):
    """Segments the plan creates whose physnet/VLAN another network already uses (Neutron would
    refuse them with a 409 half-way through). Returns error strings naming both segments."""
    errors = []
    network_names = network_names or {}
    taken = {}
    for seg in all_segments:
        if seg.get('network_id') != network_id or network_id is None:
            taken.setdefault(segment_key(seg), seg)
    for kind, payload in plan_.actions:
        if kind == 'create_network':
            attrs = payload['attrs']
            key = (attrs['provider_network_type'], attrs['provider_physical_network'], attrs.get('provider_segmentation_id'))
            label = 'segment %s' % plan_.segments[0]['name'] if plan_.segments else 'network %s' % attrs['name']
        elif kind == 'create_segment':
            attrs = payload['attrs']
            key = (attrs['network_type'], attrs['physical_network'], attrs.get('segmentation_id'))
            label = 'segment %s' % payload['segment']
        else:
            continue
        other = taken.get(key)
        if other is not None:
            owner = network_names.get(other.get('network_id')) or other.get('network_id')
            errors.append('%s: %s is already used by segment %s of network %s: choose another VLAN'
                          % (label, _key_text(key), other.get('name') or other.get('id'), owner))
    return errors
