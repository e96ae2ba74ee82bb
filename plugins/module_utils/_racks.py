# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_utils is PRIVATE to the spineleaf.baremetal collection. It may change
# without notice; do not import it from other collections.
"""The compact racks file (``*.racks.yml``) expanded into the site model. Pure: no I/O.

``expand_site(data)`` turns the parsed file into groups, group vars and host vars exactly as the
hand-written inventory holds them (see the README "Site model" and "Inventory plugins"), and
returns every problem it finds, each naming the rack and the node or range, instead of a
partial site. The inventory plugin ``spineleaf.baremetal.racks`` is a thin layer over it.
"""

from __future__ import annotations

import copy
import re
import string

try:
    import netaddr
    HAS_NETADDR = True
except ImportError:  # pragma: no cover - the plugin reports the missing library
    netaddr = None
    HAS_NETADDR = False

from ._leaf_port import leaf_position
from ._site import site_errors
from ._util import normalize_mac

TOP_KEYS = ('vars', 'switches', 'defaults', 'racks')
RACK_KEYS = ('index', 'physnet', 'leaves', 'nodes', 'vars')
# Keys of a node range the expansion consumes; every other key is copied to the hostvars as is.
RANGE_KEYS = ('range', 'role', 'bmc_address', 'nics', 'bonds', 'overrides', 'exclude')
NIC_KEYS = ('name', 'mac', 'pxe', 'leaf', 'port')
# Switch attributes used only for expansion (not part of the leaf_switches variable).
SWITCH_LAYOUT_KEYS = ('port_name', 'port_count')
DEFAULT_PORT_NAME = '{port}'

RANGE_RE = re.compile(r'^(?P<head>[^\[\]]*)\[(?P<start>\d+):(?P<end>\d+)(?::(?P<step>\d+))?\](?P<tail>[^\[\]]*)$')
LAST_NUMBER_RE = re.compile(r'(\d+)(?!.*\d)')
HOSTNAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*$')


class PatternError(ValueError):
    """A pattern that does not expand; the message says why."""


def expand_range(pattern):
    """Expand ``r07-n[01:40]`` (optionally ``[start:end:step]``) into ``[(name, number), ...]``.

    Numbers keep the width of ``start`` when it is zero-padded. A name without brackets is one
    node whose number is the last integer in its name (None when it has none).
    Raises PatternError for anything else.
    """
    if not isinstance(pattern, str) or not pattern:
        raise PatternError('a range must be a non-empty string such as r01-n[01:40]')
    if '[' not in pattern and ']' not in pattern:
        if not HOSTNAME_RE.match(pattern):
            raise PatternError('%r is not a valid node name' % pattern)
        last = LAST_NUMBER_RE.search(pattern)
        return [(pattern, int(last.group(1)) if last else None)]
    match = RANGE_RE.match(pattern)
    if not match:
        raise PatternError('%r does not expand: write one range as name[start:end] or name[start:end:step]'
                           % pattern)
    start, end = int(match.group('start')), int(match.group('end'))
    step = int(match.group('step') or 1)
    if step < 1 or end < start:
        raise PatternError('%r does not expand: needs start <= end and a positive step' % pattern)
    raw = match.group('start')
    width = len(raw) if raw.startswith('0') and len(raw) > 1 else 0
    names = []
    for number in range(start, end + 1, step):
        name = '%s%0*d%s' % (match.group('head'), width, number, match.group('tail'))
        if not HOSTNAME_RE.match(name):
            raise PatternError('%r does not expand to valid node names (%r)' % (pattern, name))
        names.append((name, number))
    return names


def render(value, context):
    """Format a ``{field}`` pattern with ``context``; non-strings are returned unchanged."""
    if not isinstance(value, str):
        return value
    try:
        fields = [f for _t, f, _s, _c in string.Formatter().parse(value) if f is not None]
    except ValueError as exc:
        raise PatternError('pattern %r does not expand: %s' % (value, exc))
    for field in fields:
        base = re.split(r'[.\[]', field, maxsplit=1)[0]
        if base not in context:
            raise PatternError('pattern %r does not expand: unknown field {%s} (known: %s)'
                               % (value, field, ', '.join(sorted(context))))
        if context[base] is None:
            raise PatternError('pattern %r does not expand: {%s} has no value here (a node name '
                               'without a number?)' % (value, field))
    try:
        return value.format(**context)
    except (ValueError, KeyError, IndexError, AttributeError, TypeError) as exc:
        raise PatternError('pattern %r does not expand: %s' % (value, exc))


def _number(spec):
    """Return (base, step) from ``{base, step}``; raises PatternError."""
    unknown = set(spec) - {'base', 'step'}
    if unknown or 'base' not in spec:
        raise PatternError('an offset pattern is {base: ..., step: ...} (got keys %s)' % ', '.join(sorted(spec)))
    step = spec.get('step', 1)
    if not isinstance(step, int) or isinstance(step, bool):
        raise PatternError('step %r must be an integer' % (step,))
    return spec['base'], step


def _need_number(context):
    if context.get('n') is None:
        raise PatternError('a {base, step} pattern needs the node number, and the node name has none')
    return context['n']


def expand_mac(spec, context):
    """A NIC's MAC: a literal or ``{field}`` pattern, or ``{base, step}`` = base + step x node number."""
    if isinstance(spec, dict):
        base, step = _number(spec)
        base_mac = normalize_mac(render(base, context))
        if base_mac is None:
            raise PatternError('mac base %r is not a MAC address' % (base,))
        value = int(netaddr.EUI(base_mac)) + step * _need_number(context)
        if not 0 <= value < 2 ** 48:
            raise PatternError('mac base %s + %d x %d is outside the MAC address space'
                               % (base_mac, step, context['n']))
        return str(netaddr.EUI(value, dialect=netaddr.mac_unix_expanded))
    text = render(spec, context)
    mac = normalize_mac(text)
    if mac is None:
        raise PatternError('mac %r is not a MAC address (aa:bb:cc:dd:ee:ff)' % (text,))
    return mac


def expand_address(spec, context):
    """A BMC address: a literal or pattern, or ``{base, step}`` = IP base + step x node number."""
    if isinstance(spec, dict):
        base, step = _number(spec)
        text = render(base, context)
        try:
            address = netaddr.IPAddress(text) + step * _need_number(context)
        except (netaddr.AddrFormatError, ValueError, TypeError, IndexError) as exc:
            raise PatternError('bmc_address base %r + %d x node number is not an IP address (%s)'
                               % (text, step, exc))
        return str(address)
    if spec is None:
        return None
    return render(spec, context)


def expand_port(spec, context, switch):
    """A NIC's switch port: ``{base, step}`` or an integer is a port number, named with the leaf's
    ``port_name``; a string is a literal or pattern. Returns (name, number or None)."""
    if spec is None:
        return None, None
    if isinstance(spec, dict):
        base, step = _number(spec)
        if not isinstance(base, int) or isinstance(base, bool):
            raise PatternError('port base %r must be an integer' % (base,))
        number = base + step * _need_number(context)
    elif isinstance(spec, int) and not isinstance(spec, bool):
        number = spec
    else:
        return render(str(spec), context), None
    port_name = (switch or {}).get('port_name') or DEFAULT_PORT_NAME
    return render(port_name, dict(context, port=number)), number


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


class _Site:
    """Accumulates the expanded site and the problems found on the way."""

    def __init__(self):
        self.errors = []
        self.switches = {}        # name -> attributes incl. rack and layout keys
        self.switch_origin = {}   # name -> where it was declared
        self.racks = []           # [(rack, rack vars, [host names])]
        self.hosts = {}           # name -> hostvars
        self.host_origin = {}     # name -> 'rack r01 range r01-n[01:04]'
        self.role_groups = {}     # group -> [host names]
        self.macs = {}
        self.positions = {}       # (leaf, port) -> ((node, NIC), where): one leaf port, one NIC
        self.bmcs = {}

    def error(self, where, msg):
        self.errors.append('%s: %s' % (where, msg) if where else msg)


def _declare_switches(site, switches):
    if switches is None:
        return {}
    if not isinstance(switches, dict):
        site.error('switches', 'must be a mapping with port_name, port_count and leaves')
        return {}
    unknown = set(switches) - set(SWITCH_LAYOUT_KEYS + ('leaves',))
    if unknown:
        site.error('switches', 'unknown keys %s (known: port_name, port_count, leaves)' % ', '.join(sorted(unknown)))
    layout = dict((k, switches[k]) for k in SWITCH_LAYOUT_KEYS if k in switches)
    leaves = switches.get('leaves') or {}
    if not isinstance(leaves, dict):
        site.error('switches', 'leaves must be a mapping of switch name -> {rack, chassis_id, mlag_peer}')
        return layout
    for name, attrs in leaves.items():
        attrs = attrs or {}
        if not isinstance(attrs, dict):
            site.error('switch %s' % name, 'must be a mapping such as {rack: r01, chassis_id: ...}')
            continue
        merged = dict(layout)
        merged.update(attrs)
        site.switches[name] = merged
        site.switch_origin[name] = 'switches'
    return layout


def _rack_leaves(site, rack, rack_where, leaves, context, layout):
    """Declare the rack's leaves (a list of names or a mapping name -> attributes); return names."""
    if leaves is None:
        return [n for n, s in site.switches.items() if s.get('rack') == rack]
    if isinstance(leaves, list):
        leaves = dict((name, None) for name in leaves)
    if not isinstance(leaves, dict):
        site.error(rack_where, 'leaves must be a list of switch names or a mapping name -> attributes')
        return []
    names = []
    for raw_name, attrs in leaves.items():
        try:
            name = render(raw_name, context)
            attrs = dict((k, render(v, context)) for k, v in (attrs or {}).items())
        except PatternError as exc:
            site.error(rack_where, 'leaf %s: %s' % (raw_name, exc))
            continue
        except AttributeError:
            site.error(rack_where, 'leaf %s: attributes must be a mapping' % raw_name)
            continue
        names.append(name)
        known = site.switches.get(name)
        if known is None:
            merged = dict(layout)
            merged.update(attrs)
            merged['rack'] = rack
            site.switches[name] = merged
            site.switch_origin[name] = rack_where
            continue
        owner = attrs.get('rack') or known.get('rack')
        if known.get('rack') not in (None, rack) or owner != rack:
            site.error(rack_where, 'leaf %s is a leaf of rack %s (declared in %s)'
                       % (name, known.get('rack') or owner, site.switch_origin[name]))
            continue
        known.update(attrs)
        known['rack'] = rack
    return names


def _expand_nic(site, where, nic, context, rack):
    if not isinstance(nic, dict):
        raise PatternError('each NIC is a mapping {name, mac, pxe, leaf, port}')
    unknown = set(nic) - set(NIC_KEYS)
    if unknown:
        raise PatternError('NIC %s: unknown keys %s (known: %s)'
                           % (nic.get('name'), ', '.join(sorted(unknown)), ', '.join(NIC_KEYS)))
    name = render(nic.get('name'), context)
    out = {'name': name}
    if 'mac' in nic:
        out['mac'] = expand_mac(nic['mac'], context)
    out['pxe'] = bool(nic.get('pxe', False))
    leaf = render(nic.get('leaf'), context)
    switch = None
    if leaf is not None:
        switch = site.switches.get(leaf)
        if switch is None:
            site.error(where, 'NIC %s: leaf %s is not declared (switches.leaves or the rack\'s leaves)'
                       % (name, leaf))
        elif switch.get('rack') != rack:
            site.error(where, 'NIC %s: leaf %s is a leaf of rack %s, not of rack %s'
                       % (name, leaf, switch.get('rack'), rack))
        out['leaf'] = leaf
    port, number = expand_port(nic.get('port'), context, switch)
    if port is not None:
        out['port'] = port
    count = (switch or {}).get('port_count')
    if number is not None and _is_int(count) and not 1 <= number <= count:
        site.error(where, 'NIC %s: port %s (number %d) is beyond leaf %s\'s %d ports'
                   % (name, port, number, leaf, count))
    return out


def _merge_nics(base, overrides):
    """NIC overrides are merged by NIC name; a NIC name not in the range is added."""
    nics = [dict(n) if isinstance(n, dict) else n for n in base or []]
    for nic in overrides or []:
        if not isinstance(nic, dict):
            nics.append(nic)
            continue
        for current in nics:
            if isinstance(current, dict) and current.get('name') == nic.get('name'):
                current.update(nic)
                break
        else:
            nics.append(dict(nic))
    return nics


def _node_spec(group, override):
    spec = dict((k, v) for k, v in group.items() if k not in ('range', 'overrides', 'exclude'))
    for key, value in (override or {}).items():
        spec[key] = _merge_nics(spec.get('nics'), value) if key == 'nics' else value
    return spec


def _expand_node(site, where, name, number, spec, rack_vars):
    """One node's hostvars from its range spec (with this node's overrides applied)."""
    rack = rack_vars['rack']
    context = {'rack': rack, 'rack_index': rack_vars['rack_index'], 'n': number, 'name': name}
    hv = {}
    try:
        hv['bmc_address'] = expand_address(spec.get('bmc_address'), context)
        if hv['bmc_address'] is None:
            del hv['bmc_address']
        if spec.get('role') is not None:
            hv['node_role'] = render(spec['role'], context)
        nics = spec.get('nics')
        if nics is not None:
            if not isinstance(nics, list):
                raise PatternError('nics must be a list')
            hv['nics'] = [_expand_nic(site, where, nic, context, rack) for nic in nics]
        if spec.get('bonds') is not None:
            hv['bonds'] = copy.deepcopy(spec['bonds'])
    except PatternError as exc:
        site.error(where, str(exc))
        return None
    for key, value in spec.items():
        if key not in RANGE_KEYS:
            hv[key] = copy.deepcopy(value)
    return hv


def _check_unique(site, name, where, hv):
    """A MAC, a leaf port or a BMC address belongs to one node in the whole site."""
    for nic in hv.get('nics') or []:
        mac = nic.get('mac') if isinstance(nic, dict) else None
        if not mac:
            continue
        owner = (name, nic.get('name'))
        first = site.macs.setdefault(mac, (owner, where))
        if first[0] != owner:
            site.error(where, 'node %s NIC %s: MAC %s is also on %s NIC %s (%s)'
                       % (name, nic.get('name'), mac, first[0][0], first[0][1], first[1]))
    for nic in hv.get('nics') or []:
        position = leaf_position(nic)
        if position is None:
            continue
        owner = (name, nic.get('name'))
        first = site.positions.setdefault(position, (owner, where))
        if first[0] != owner:
            site.error(where, 'node %s NIC %s: leaf %s port %s is also claimed by %s NIC %s (%s)'
                       % (name, nic.get('name'), nic.get('leaf'), nic.get('port'), first[0][0], first[0][1], first[1]))
    bmc = hv.get('bmc_address')
    if bmc:
        first = site.bmcs.setdefault(bmc, (name, where))
        if first[0] != name:
            site.error(where, 'node %s: BMC address %s is also the BMC of %s (%s)' % (name, bmc, first[0], first[1]))


def _expand_range(site, rack_where, group, rack_vars, hosts):
    if not isinstance(group, dict):
        site.error(rack_where, 'each entry of nodes is a mapping with range, role, bmc_address, nics, ...')
        return
    context = {'rack': rack_vars['rack'], 'rack_index': rack_vars['rack_index']}
    try:
        pattern = render(group.get('range'), context)
        members = expand_range(pattern)
    except PatternError as exc:
        site.error(rack_where, 'range %s: %s' % (group.get('range'), exc))
        return
    where = '%s range %s' % (rack_where, pattern)
    names = [name for name, _n in members]
    overrides = group.get('overrides') or {}
    exclude = group.get('exclude') or []
    if not isinstance(overrides, dict) or not isinstance(exclude, list):
        site.error(where, 'overrides must map node name -> hostvars and exclude must be a list of node names')
        return
    try:  # names in a defaults range may be patterns too ("{rack}-n01")
        overrides = dict((render(k, context), v) for k, v in overrides.items())
        exclude = [render(name, context) for name in exclude]
    except PatternError as exc:
        site.error(where, 'overrides/exclude: %s' % exc)
        return
    for name in list(overrides) + list(exclude):
        if name not in names:
            site.error(where, 'node %s (in overrides/exclude) is not in the range' % name)
    for name, number in members:
        if name in exclude:
            continue
        if name in site.host_origin:
            site.error(where, 'node %s overlaps %s' % (name, site.host_origin[name]))
            continue
        site.host_origin[name] = where
        override = overrides.get(name)
        if override is not None and not isinstance(override, dict):
            site.error(where, 'node %s: an override is a mapping of hostvars' % name)
            continue
        hv = _expand_node(site, '%s node %s' % (where, name), name, number, _node_spec(group, override), rack_vars)
        if hv is None:
            continue
        node_where = '%s node %s' % (where, name)
        for problem in site_errors([dict(hv, inventory_hostname=name, rack=rack_vars['rack'],
                                         rack_index=rack_vars['rack_index'])]):
            site.error(node_where, problem)
        _check_unique(site, name, where, hv)
        site.hosts[name] = hv
        hosts.append(name)
        if hv.get('node_role'):
            site.role_groups.setdefault('role_%s' % _group_safe(hv['node_role']), []).append(name)


def _group_safe(value):
    return re.sub(r'[^A-Za-z0-9_]', '_', str(value))


def _expand_rack(site, rack, spec, defaults, layout, indexes):
    rack_where = 'rack %s' % rack
    if not isinstance(spec, dict):
        site.error(rack_where, 'must be a mapping with index, physnet, leaves, nodes')
        return
    unknown = set(spec) - set(RACK_KEYS)
    if unknown:
        site.error(rack_where, 'unknown keys %s (known: %s)' % (', '.join(sorted(unknown)), ', '.join(RACK_KEYS)))
    merged = dict(defaults)
    merged.update(spec)
    index = merged.get('index')
    if not _is_int(index) or index < 1:
        site.error(rack_where, 'index must be a positive integer (got %r)' % (index,))
        return
    if index in indexes:
        site.error(rack_where, 'index %d is also the index of rack %s' % (index, indexes[index]))
    indexes.setdefault(index, rack)
    context = {'rack': rack, 'rack_index': index}
    try:
        physnet = render(merged.get('physnet'), context)
    except PatternError as exc:
        site.error(rack_where, 'physnet: %s' % exc)
        return
    rack_vars = {'rack': rack, 'rack_index': index}
    if physnet is not None:
        rack_vars['rack_physnet'] = physnet
    rack_vars['rack_leaves'] = _rack_leaves(site, rack, rack_where, merged.get('leaves'), context, layout)
    extra_vars = merged.get('vars') or {}
    if not isinstance(extra_vars, dict):
        site.error(rack_where, 'vars must be a mapping')
    else:
        rack_vars.update(copy.deepcopy(extra_vars))
    hosts = []
    site.racks.append((rack, rack_vars, hosts))
    groups = merged.get('nodes') or []
    if not isinstance(groups, list):
        site.error(rack_where, 'nodes must be a list of ranges')
        return
    for group in groups:
        _expand_range(site, rack_where, group, rack_vars, hosts)


def _check_switches(site):
    for name, attrs in site.switches.items():
        where = 'switch %s' % name
        if not attrs.get('rack'):
            site.error(where, 'has no rack (set rack:, or list it in a rack\'s leaves)')
        peer = attrs.get('mlag_peer')
        if peer and peer not in site.switches:
            site.error(where, 'mlag_peer %s is not a declared switch' % peer)
        elif peer and site.switches[peer].get('rack') != attrs.get('rack'):
            site.error(where, 'mlag_peer %s is a leaf of rack %s' % (peer, site.switches[peer].get('rack')))
        count = attrs.get('port_count')
        if count is not None and (not _is_int(count) or count < 1):
            site.error(where, 'port_count must be a positive integer')


def expand_site(data):
    """Expand a parsed racks file into the site model.

    Returns ``(site, errors)``. ``site`` is a dict: ``vars`` (site-wide, including the derived
    ``leaf_switches``), ``racks`` (a list of ``(rack id, rack group vars, [host names])`` in file
    order), ``hosts`` (host name -> hostvars) and ``role_groups`` (``role_<role>`` -> host names).
    ``errors`` lists every problem, each naming the rack and the node or range; when it is not
    empty the site must not be used.
    """
    site = _Site()
    if not HAS_NETADDR:
        return None, ['the racks file needs the netaddr Python library (pip install netaddr)']
    if not isinstance(data, dict):
        return None, ['the racks file must be a mapping']
    site_vars = data.get('vars') or {}
    if not isinstance(site_vars, dict):
        site.error('vars', 'must be a mapping of site-wide variables')
        site_vars = {}
    layout = _declare_switches(site, data.get('switches'))
    defaults = data.get('defaults') or {}
    if not isinstance(defaults, dict):
        site.error('defaults', 'must be a mapping of rack keys (physnet, leaves, nodes, vars)')
        defaults = {}
    unknown = set(defaults) - set(RACK_KEYS)
    if unknown:
        site.error('defaults', 'unknown keys %s (known: %s)' % (', '.join(sorted(unknown)), ', '.join(RACK_KEYS)))
    racks = data.get('racks')
    if not isinstance(racks, dict) or not racks:
        site.error('racks', 'must map each rack id (e.g. r01) to its index, leaves and node ranges')
        racks = {}
    indexes = {}
    # Leaves first, for all racks: a NIC may only name a leaf of its own rack, wherever declared.
    for rack, spec in racks.items():
        if isinstance(spec, dict):
            merged = dict(defaults)
            merged.update(spec)
            index = merged.get('index')
            if _is_int(index) and merged.get('leaves') is not None:
                _rack_leaves(site, str(rack), 'rack %s' % rack, merged.get('leaves'),
                             {'rack': str(rack), 'rack_index': index}, layout)
    for rack, spec in racks.items():
        _expand_rack(site, str(rack), spec, defaults, layout, indexes)
    _check_switches(site)
    if site.errors:
        return None, _unique(site.errors)
    out_vars = copy.deepcopy(site_vars)
    if site.switches:
        out_vars['leaf_switches'] = dict(
            (name, dict((k, v) for k, v in attrs.items() if k not in SWITCH_LAYOUT_KEYS))
            for name, attrs in site.switches.items())
    return {'vars': out_vars, 'racks': site.racks, 'hosts': site.hosts, 'role_groups': site.role_groups}, []


def _unique(items):
    seen = set()
    return [i for i in items if not (i in seen or seen.add(i))]
