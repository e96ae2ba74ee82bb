# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_utils is PRIVATE to the spineleaf.baremetal collection. It may change
# without notice; do not import it from other collections.
"""Small pure helpers every planner shares: MAC addresses and JSON-pointer escaping.
One definition of each; no I/O."""

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


def json_pointer(key):
    """Escape one key for a JSON-pointer path (RFC 6901): ``~`` -> ``~0``, ``/`` -> ``~1``."""
    return str(key).replace('~', '~0').replace('/', '~1')
