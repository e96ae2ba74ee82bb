# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""Checks of the site model (inventory) that every role relies on. Pure: no I/O."""

from __future__ import annotations

import re

MAC_RE = re.compile(r'^([0-9a-f]{2}:){5}[0-9a-f]{2}$')


def normalize_mac(mac):
    """Lower-case a MAC and accept ``-`` separators; return None when it is not a MAC."""
    if not isinstance(mac, str):
        return None
    mac = mac.strip().lower().replace('-', ':')
    return mac if MAC_RE.match(mac) else None


def site_errors(nodes):
    """Return a list of messages, one per problem, for a list of node hostvars dicts.

    Each dict carries ``inventory_hostname`` (or ``name``), ``rack``, ``rack_index``,
    ``bmc_address``, ``nics`` and optional ``bonds`` (see the site model in the README).
    """
    errors = []
    seen_names = set()
    macs = {}
    rack_index = {}
    for node in nodes:
        name = node.get('inventory_hostname') or node.get('name')
        where = 'node %s' % name
        if not name:
            errors.append('a node has no name')
            continue
        if name in seen_names:
            errors.append('%s: listed twice' % where)
        seen_names.add(name)
        rack = node.get('rack')
        if not rack:
            errors.append('%s: no rack (put the node in a rack_<id> group whose group_vars set rack)' % where)
        else:
            idx = node.get('rack_index')
            if not isinstance(idx, int) or isinstance(idx, bool) or idx < 1:
                errors.append('%s: rack %s needs rack_index, a positive integer' % (where, rack))
            else:
                other = rack_index.setdefault(idx, rack)
                if other != rack:
                    errors.append('rack_index %d is used by racks %s and %s: each rack needs its own'
                                  % (idx, other, rack))
        if not node.get('bmc_address'):
            errors.append('%s: bmc_address is missing' % where)
        nics = node.get('nics') or []
        if not isinstance(nics, list) or not nics:
            errors.append('%s: nics must be a non-empty list of {name, mac, pxe, leaf}' % where)
            nics = []
        nic_names = set()
        for i, nic in enumerate(nics):
            if not isinstance(nic, dict):
                errors.append('%s: nics[%d] must be a dict' % (where, i))
                continue
            nic_where = '%s nic %s' % (where, nic.get('name', '#%d' % i))
            if not nic.get('name'):
                errors.append('%s: nics[%d] has no name' % (where, i))
            elif nic['name'] in nic_names:
                errors.append('%s: NIC name listed twice' % nic_where)
            nic_names.add(nic.get('name'))
            mac = normalize_mac(nic.get('mac'))
            if mac is None:
                errors.append('%s: mac %r is not a MAC address (aa:bb:cc:dd:ee:ff)' % (nic_where, nic.get('mac')))
            elif mac in macs:
                errors.append('%s: mac %s is also on %s' % (nic_where, mac, macs[mac]))
            else:
                macs[mac] = nic_where
        if nics and not any(isinstance(n, dict) and n.get('pxe') for n in nics):
            errors.append('%s: no NIC has pxe: true' % where)
        for bond in node.get('bonds') or []:
            members = bond.get('members') or []
            if not bond.get('name'):
                errors.append('%s: a bond has no name' % where)
            for member in members:
                if member not in nic_names:
                    errors.append('%s bond %s: member %r is not one of its nics' % (where, bond.get('name'), member))
            if len(members) < 2:
                errors.append('%s bond %s: a bond needs at least two members' % (where, bond.get('name')))
    return errors
