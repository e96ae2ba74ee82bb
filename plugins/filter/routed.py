# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for routed provider networks: rack subnet planning and leaf routes (netaddr)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ..module_utils import _rack_subnets


RACK_KEYS = ('rack', 'rack_index', 'rack_physnet', 'rack_vlans', 'rack_subnets')


def _need_netaddr(name):
    if not _rack_subnets.HAS_NETADDR:
        raise AnsibleFilterError('%s: the netaddr Python library is required on the controller (pip install netaddr)' % name)


def _is_supernet(value):
    return isinstance(value, str) and '/' in value


def rack_subnets(supernet, prefix_length=None, racks=None):
    """``supernet | rack_subnets(prefix_length, racks)``; also accepts ``racks | rack_subnets(supernet, prefix_length)``."""
    _need_netaddr('rack_subnets')
    args = [supernet, prefix_length, racks]
    if not _is_supernet(supernet) and _is_supernet(prefix_length):
        # racks | rack_subnets(supernet, prefix_length)
        args = [prefix_length, racks, supernet]
    supernet, prefix_length, racks = args
    if racks is None or prefix_length is None:
        raise AnsibleFilterError('rack_subnets: usage: supernet | spineleaf.baremetal.rack_subnets(prefix_length, racks)')
    try:
        return _rack_subnets.rack_subnets(supernet, prefix_length, racks)
    except ValueError as exc:
        raise AnsibleFilterError('rack_subnets: %s' % to_native(exc))


def leaf_routes(plan, rack, extra_routes=None):
    _need_netaddr('leaf_routes')
    try:
        return _rack_subnets.leaf_routes(dict(plan), str(rack), extra_routes)
    except (ValueError, KeyError, TypeError) as exc:
        raise AnsibleFilterError('leaf_routes: %s' % to_native(exc))


def routed_network_segments(network, racks):
    _need_netaddr('routed_network_segments')
    if not isinstance(network, dict):
        raise AnsibleFilterError('routed_network_segments: expected one routed_networks entry (a dict), got %s'
                                 % type(network).__name__)
    try:
        # Only the rack keys: racks may be whole hostvars, whose other variables need not template.
        racks = [dict((k, r[k]) for k in RACK_KEYS if k in r) for r in racks]
        return _rack_subnets.routed_network_segments(dict(network), racks)
    except (ValueError, KeyError, TypeError) as exc:
        raise AnsibleFilterError('routed_network_segments: %s' % to_native(exc))


class FilterModule:
    def filters(self):
        return {'rack_subnets': rack_subnets, 'leaf_routes': leaf_routes,
                'routed_network_segments': routed_network_segments}
