# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_utils is PRIVATE to the spineleaf.baremetal collection. It may change
# without notice; do not import it from other collections.
"""Leaf-port identity: the one answer to "do these two names mean the same switch port?", used
by the site check, the racks inventory, discovery and the cabling check. Pure, no I/O."""

from __future__ import annotations

import functools
import re

# Spellings of one port across switch operating systems, reduced to (family, numbers):
# NX-OS / EOS "Ethernet1/3", "Eth1/3", "Et1/3"; Cumulus / SONiC "swp3", "Ethernet3"; Junos
# "xe-0/0/3", "ge-0/0/3.0", "et-0/0/3" (the media prefix follows the configured speed, the
# logical unit ".0" is not a cable). Anything else is compared case- and space-insensitively.
_PORT_FAMILIES = (
    (re.compile(r'^(?:ge|xe|et|mge|ce)-(\d+/\d+/\d+(?::\d+)?)(?:\.\d+)?$'), 'junos'),
    (re.compile(r'^(?:ethernet|eth|et)[_]?(\d+(?:/\d+)*)$'), 'eth'),
    (re.compile(r'^swp(\d+(?:s\d+)?)$'), 'swp'),
    (re.compile(r'^(?:gigabitethernet|tengigabitethernet|twentyfivegige|hundredgige|fortygige|gi|te|tw|hu|fo)'
                r'(\d+(?:/\d+)*)$'), 'ios'),
)


def port_key(port):
    """A comparable form of a switch port name; memoised (a site has few distinct port names)."""
    if isinstance(port, str):
        return _port_key_cached(port)
    return _port_key(port)


def _port_key(port):
    """A comparable form of a switch port name (see _PORT_FAMILIES); None for no port.

    ``Ethernet1/3``, ``Eth1/3`` and ``et1/3`` give the same key; so do ``xe-0/0/3`` and
    ``ge-0/0/3.0``. A bare number (``3``) is kept as such and matched by ``same_port``.
    """
    if port is None:
        return None
    text = re.sub(r'\s+', '', str(port)).lower()
    if not text:
        return None
    for pattern, family in _PORT_FAMILIES:
        match = pattern.match(text)
        if match:
            return '%s:%s' % (family, match.group(1))
    return text


_port_key_cached = functools.lru_cache(maxsize=65536)(_port_key)


def same_port(intended, observed):
    """True when an inventory port and an observed port name the same switch port.

    An inventory port given as a bare number (``3``) matches an observed port whose last number
    is that number (``swp3``, ``Ethernet1/3``): for sites that number ports without the prefix.
    """
    a, b = port_key(intended), port_key(observed)
    if a is None or b is None:
        return True  # nothing intended (or nothing readable): nothing to compare
    if a == b:
        return True
    if a.isdigit():
        numbers = re.findall(r'\d+', b)
        return bool(numbers) and int(numbers[-1]) == int(a)
    return False


def leaf_port(leaf, port):
    """One leaf port as a comparable key ``(leaf, port_key(port))``, or None when the leaf or the
    port is not given. ``('leaf-1', 'Ethernet1/3')`` and ``('leaf-1', 'Eth1/3')`` give one key."""
    if not leaf or port is None:
        return None
    key = port_key(port)
    return (str(leaf), key) if key is not None else None


def leaf_position(nic):
    """The leaf port a NIC (site model ``{name, mac, pxe, leaf, port}``) is cabled to, as
    ``leaf_port`` gives it, or None when the NIC does not say both."""
    if not isinstance(nic, dict):
        return None
    return leaf_port(nic.get('leaf'), nic.get('port'))
