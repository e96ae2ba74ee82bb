# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_utils is PRIVATE to the spineleaf.baremetal collection. It may change
# without notice; do not import it from other collections.
"""The owner record: what this collection set on a node, kept on the node itself. Pure, no I/O.

One record per node, in ``extra[OWNER_KEY]``, shared by enrollment (``ironic_nodes``) and
tagging (``ironic_traits``)::

    {"site": "lab",
     "enroll": {"traits": [...], "extra_keys": [...], "property_keys": [...]},
     "tag":    {"traits": [...], "extra_keys": [...], "property_keys": [...]}}

Each step has its own section because each only knows what *it* wants: enrollment cannot tell a
rule trait it should keep from a stale one unless tagging's claims are written down, and the
other way round. A step removes what it claimed and no longer wants; what nobody in the
collection claimed (set by inspection rules, operators, other tools) is never claimed later,
so never removed, except by enrollment's ``exact`` traits mode, which asks for exactly that.

Records written before this one are read too: tagging's ``extra.spineleaf_traits`` list, and for
enrollment the rack / role traits and keys it always derived from ``extra.rack`` / ``extra.role``.
The next write moves them into the record and drops the old key.
"""

from __future__ import annotations

from ._states import DELETABLE_STATES
from ._traits import trait_name

OWNER_KEY = 'spineleaf'
# Tagging's record before the shared one: a plain list of the traits tag mode=exact added.
LEGACY_TAG_KEY = 'spineleaf_traits'
RESERVED_EXTRA_KEYS = (OWNER_KEY, LEGACY_TAG_KEY)
SECTIONS = ('enroll', 'tag')
FIELDS = ('traits', 'extra_keys', 'property_keys')
# How a step treats traits it does not want:
#   add    - removes nothing (tag mode=add); what it claimed stays claimed for a later exact run
#   owned  - removes what it claimed and no longer wants (enroll add, tag exact)
#   exact  - also removes every trait no step of the collection claims (enroll exact)
TRAIT_POLICIES = ('add', 'owned', 'exact')


def _names(value):
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return []
    return sorted(set(v for v in value if isinstance(v, str) and v))


def _legacy_enroll(node):
    """What enrollment set before it kept a record: ``extra.rack`` / ``extra.role`` and the
    ``CUSTOM_RACK_`` / ``CUSTOM_ROLE_`` traits derived from them (when still on the node)."""
    extra = node.get('extra') or {}
    traits = set(node.get('traits') or [])
    section = {'traits': [], 'extra_keys': [], 'property_keys': []}
    for key, prefix in (('rack', 'CUSTOM_RACK_'), ('role', 'CUSTOM_ROLE_')):
        value = extra.get(key)
        if value in (None, ''):
            continue
        section['extra_keys'].append(key)
        try:
            trait = trait_name(value, prefix)
        except ValueError:
            continue
        if trait in traits:
            section['traits'].append(trait)
    return dict((k, sorted(v)) for k, v in section.items())


def read_record(node):
    """The node's owner record, normalised: ``{site, enroll: {...}, tag: {...}}`` with every
    field a sorted list. Reads the record of older releases when there is no current one."""
    extra = node.get('extra') or {}
    raw = extra.get(OWNER_KEY)
    record = {'site': None}
    if isinstance(raw, dict):
        record['site'] = raw.get('site') if isinstance(raw.get('site'), str) else None
        for section in SECTIONS:
            part = raw.get(section) if isinstance(raw.get(section), dict) else {}
            record[section] = dict((field, _names(part.get(field))) for field in FIELDS)
    else:
        record['enroll'] = _legacy_enroll(node)
        record['tag'] = dict((field, []) for field in FIELDS)
    legacy = _names(extra.get(LEGACY_TAG_KEY))
    if legacy:
        record['tag']['traits'] = sorted(set(record['tag']['traits']) | set(legacy))
    return record


def stored_form(record):
    """The record as written to Ironic: sorted lists, empty lists and sections left out (so a
    record compares equal to what a later run computes). None when nothing is left."""
    out = {}
    if record.get('site'):
        out['site'] = record['site']
    for section in SECTIONS:
        part = dict((field, sorted(set(record.get(section, {}).get(field) or [])))
                    for field in FIELDS if record.get(section, {}).get(field))
        if part:
            out[section] = part
    return out or None


def record_ops(node, record):
    """JSON-patch ops that store ``record`` on ``node`` (none when it is already there), also
    dropping the key of the older record."""
    extra = node.get('extra') or {}
    ops = []
    stored = stored_form(record)
    path = '/extra/%s' % OWNER_KEY
    if stored is None:
        if OWNER_KEY in extra:
            ops.append({'op': 'remove', 'path': path})
    elif extra.get(OWNER_KEY) != stored:
        ops.append({'op': 'add', 'path': path, 'value': stored})
    if LEGACY_TAG_KEY in extra:
        ops.append({'op': 'remove', 'path': '/extra/%s' % LEGACY_TAG_KEY})
    return ops


def claimed_by_others(record, section, field):
    """What the other steps of the collection claim (``field`` of every other section)."""
    out = set()
    for other in SECTIONS:
        if other != section:
            out |= set(record.get(other, {}).get(field) or [])
    return out


def plan_traits(current, wanted, record, section, policy, remove=()):
    """Traits of one node after a step, and what the step claims: ``(after, claims)``, sorted.

    ``current``: the node's traits; ``wanted``: what the step wants now; ``remove``: traits the
    step removes explicitly (tagging's ``traits_remove``), whoever set them. A trait the step adds,
    or that the collection already claimed, is claimed; one somebody else set is not.
    """
    if policy not in TRAIT_POLICIES:
        raise ValueError('trait policy must be one of %s' % ', '.join(TRAIT_POLICIES))
    current, wanted, remove = set(current or []), set(wanted or []), set(remove or [])
    mine = set(record[section]['traits'])
    others = claimed_by_others(record, section, 'traits')
    stale = mine - wanted
    if policy == 'add':
        after = current | wanted
    elif policy == 'owned':
        after = (current - stale) | wanted
    else:
        after = wanted | ((others & current) - stale)
    after -= remove
    foreign = current - mine - others
    claims = ((mine & after) | (wanted - foreign)) & after
    return sorted(after), sorted(claims)


def plan_keys(current, wanted, record, section, field, remove_stale=True):
    """Keys of ``extra`` or ``properties`` (``field`` is ``extra_keys`` / ``property_keys``) after a
    step: ``(changes, claims)`` where ``changes`` maps key -> new value, or None to remove it.

    ``wanted`` maps key -> value (None removes the key). With ``remove_stale`` the keys the step
    claimed and no longer wants are removed. A key the step writes, or that the collection already
    claimed, is claimed; one already holding the wanted value, set by somebody else, is not.
    """
    current = current or {}
    mine = set(record[section][field])
    others = claimed_by_others(record, section, field)
    changes = {}
    claims = set()
    for key, value in (wanted or {}).items():
        if value is None:
            if key in current:
                changes[key] = None
            continue
        if key not in current or current[key] != value:
            changes[key] = value
            claims.add(key)
        elif key in mine or key in others:
            claims.add(key)
    for key in mine - set(wanted or {}):
        if remove_stale:
            if key in current:
                changes[key] = None
        elif key in current:
            claims.add(key)
    return changes, sorted(claims)


def with_section(record, section, site=None, **fields):
    """A copy of ``record`` with ``section``'s fields replaced (those given) and the site set."""
    out = {'site': site or record.get('site')}
    for name in SECTIONS:
        out[name] = dict(record.get(name) or dict((f, []) for f in FIELDS))
    out[section] = dict(out[section])
    for field, value in fields.items():
        out[section][field] = sorted(set(value))
    return out


# ------------------------------------------------------------------ orphans


def find_orphans(nodes, site, keep):
    """Nodes this site enrolled (their owner record names ``site``) whose name and uuid are not in
    ``keep`` (the site's inventory). Nodes without the site's record are never orphans."""
    if not site:
        return []
    keep = set(keep or [])
    out = []
    for node in nodes:
        if read_record(node).get('site') != site:
            continue
        if node.get('name') in keep or node.get('uuid') in keep:
            continue
        out.append(node)
    return sorted(out, key=lambda n: (str(n.get('name') or ''), n['uuid']))


def prune_decision(node, force=False):
    """``(action, reason)`` for an orphan under ``prune``: ``deleted`` (maintenance first when its
    state needs it: only with ``force``) or ``refused`` with why."""
    state = node.get('provision_state')
    if state in DELETABLE_STATES:
        return 'deleted', None
    if force:
        return 'deleted', None
    return 'refused', ('is %s; pruning it could destroy a workload or break an operation in progress: '
                       'undeploy it or wait, or set force' % state)
