# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_utils is PRIVATE to the spineleaf.baremetal collection. It may change
# without notice; do not import it from other collections.
"""The collection's error types, in a module of their own: planners and filters raise them
without importing the module base class (AnsibleModule, openstacksdk). No imports, no I/O."""

from __future__ import annotations


class BaremetalError(Exception):
    """An error with a message meant for the operator (names the object and the fix)."""


class PlanError(BaremetalError, ValueError):
    """Bad input found while planning, before any write: the message names the object (node,
    rule, segment, subnet) and the fix. The module base class reports it like any BaremetalError;
    a ValueError too, so filters report it like the other bad input they are given."""
