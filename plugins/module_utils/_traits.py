# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""Trait names: the one function that turns rack and role names into Ironic traits."""

from __future__ import annotations

import re

CUSTOM_TRAIT_RE = re.compile(r'^CUSTOM_[A-Z0-9_]+$')
# Standard (os-traits) names are upper-case words separated by underscores, e.g. HW_CPU_X86_AVX2.
STANDARD_TRAIT_RE = re.compile(r'^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$')
MAX_TRAIT_LENGTH = 255


def trait_name(value, prefix='CUSTOM_'):
    """Return the Ironic trait for a name: ``trait_name('r01', 'CUSTOM_RACK_')`` is ``CUSTOM_RACK_R01``.

    Upper-cases, turns every run of characters outside ``[A-Z0-9]`` into one ``_``, strips
    leading/trailing ``_``. Raises ValueError for an empty result or one over 255 characters.
    """
    if value is None:
        raise ValueError('trait_name: no name given')
    body = re.sub(r'[^A-Z0-9]+', '_', str(value).upper()).strip('_')
    if not prefix:
        prefix = 'CUSTOM_'
    prefix = str(prefix).upper()
    if not prefix.startswith('CUSTOM_'):
        prefix = 'CUSTOM_' + prefix.lstrip('_')
    if not prefix.endswith('_'):
        prefix += '_'
    if body.startswith(prefix):  # already a trait of that family
        body = body[len(prefix):]
    if not body:
        raise ValueError('trait_name: %r has no letters or digits to make a trait from' % (value,))
    name = prefix + body
    if len(name) > MAX_TRAIT_LENGTH:
        raise ValueError('trait_name: %r is longer than %d characters' % (name, MAX_TRAIT_LENGTH))
    return name


def trait_error(name):
    """Return why ``name`` is not a valid Ironic trait, or None when it is."""
    if not isinstance(name, str) or not name:
        return 'a trait must be a non-empty string'
    if len(name) > MAX_TRAIT_LENGTH:
        return 'trait %r is longer than %d characters' % (name, MAX_TRAIT_LENGTH)
    if name.startswith('CUSTOM_'):
        if not CUSTOM_TRAIT_RE.match(name):
            return 'trait %r: custom traits match CUSTOM_[A-Z0-9_]+' % name
        return None
    if not STANDARD_TRAIT_RE.match(name):
        return ('trait %r is neither a CUSTOM_[A-Z0-9_]+ trait nor a standard (os-traits) '
                'name such as HW_CPU_X86_AVX2' % name)
    return None
