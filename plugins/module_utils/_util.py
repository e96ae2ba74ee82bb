# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_utils is PRIVATE to the spineleaf.baremetal collection. It may change
# without notice; do not import it from other collections.
"""Small pure helpers every planner shares: MAC addresses, rack indexes, JSON-pointer escaping
and the difference tracker. One definition of each; no I/O."""

from __future__ import annotations

import re

# A MAC address in the one form the collection compares and stores: lower case, colons.
MAC_RE = re.compile(r'^[0-9a-f]{2}(:[0-9a-f]{2}){5}$')


def normalize_mac(mac):
    """Lower-case a MAC and accept ``-`` separators; return None when it is not a MAC."""
    if not isinstance(mac, str):
        return None
    mac = mac.strip().lower().replace('-', ':')
    return mac if MAC_RE.match(mac) else None


def is_mac(value):
    """True when ``value`` is a MAC address (any case, ``:`` or ``-`` separated)."""
    return normalize_mac(value) is not None


def rack_index(value):
    """The one rule for a rack's stable index: an integer >= 1 (or its decimal text; a bool is
    not one). Returns the int, or None when ``value`` breaks the rule."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    return value if isinstance(value, int) and value >= 1 else None


def node_index(nodes):
    """The one name-or-UUID lookup of Ironic nodes: ``{uuid or name: node}`` over node dicts with
    API field names (Ironic refuses names that look like UUIDs, so the keys never clash)."""
    index = {}
    for node in nodes:
        index[node['uuid']] = node
        if node.get('name'):
            index.setdefault(node['name'], node)
    return index


def json_pointer(key):
    """Escape one key for a JSON-pointer path (RFC 6901): ``~`` -> ``~0``, ``/`` -> ``~1``."""
    return str(key).replace('~', '~0').replace('/', '~1')


class DifferenceTracker:
    """The one difference tracker (after community.docker's): record per item (a node, a network)
    what it was and what it becomes; it yields ``changed``, each item's ``changes`` and the
    ``diff`` with ``before`` / ``after`` keyed by item, in the order items were added.

    An item counts as changed when the ``changes`` listed for it are not empty or, when no list is
    given, when ``before != after``; unchanged items stay out of the diff.
    """

    def __init__(self):
        self._items = {}

    def add(self, item, before, after, changes=None):
        """Record ``item``; returns True when it counts as changed."""
        if not (changes if changes is not None else before != after):
            return False
        self._items[item] = (before, after, list(changes or []))
        return True

    @property
    def changed(self):
        return bool(self._items)

    def items(self):
        """The changed items, in the order they were added."""
        return list(self._items)

    def changes(self, item):
        """What changes for ``item`` (the list given to ``add``), empty when it does not change."""
        return list(self._items.get(item, (None, None, []))[2])

    def diff(self):
        """``{'before': {item: before}, 'after': {item: after}}`` of the changed items."""
        return dict(before=dict((item, entry[0]) for item, entry in self._items.items()),
                    after=dict((item, entry[1]) for item, entry in self._items.items()))
