# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_utils is PRIVATE to the spineleaf.baremetal collection. It may change
# without notice; do not import it from other collections.
"""Rule-driven node tagging, pure planning (no I/O).

A rule is ``{name, when, traits_add, traits_remove, extra, resource_class, properties}``;
``when`` is a JMESPath expression evaluated on one document per node (the node's API fields,
``ports``, ``inventory``, ``plugin_data`` and ``facts``). Rules apply in order, then the static
per-node assignment. What tagging sets (traits, ``extra`` and ``properties`` keys) is recorded in
the node's owner record (``_owner``, shared with enrollment) in both modes; ``exact`` mode removes
what tagging recorded and no longer wants, never what others set.
"""

from __future__ import annotations

import traceback

try:
    import jmespath
    from jmespath import exceptions as jmespath_exc
    from jmespath import functions as jmespath_functions
    HAS_JMESPATH = True
    JMESPATH_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - the module reports the missing library
    jmespath = None
    jmespath_exc = None
    jmespath_functions = None
    HAS_JMESPATH = False
    JMESPATH_IMPORT_ERROR = traceback.format_exc()

from . import _owner
from ._errors import PlanError
from ._traits import trait_error
from ._util import json_pointer

# Where what this collection set is recorded on a node (the owner record, see _owner).
OWNER_KEY = _owner.OWNER_KEY
# Ironic accepts at most 50 traits per node.
MAX_TRAITS_PER_NODE = 50
MAX_RESOURCE_CLASS_LENGTH = 80
RULE_KEYS = ('name', 'when', 'traits_add', 'traits_remove', 'extra', 'resource_class', 'properties')
ASSIGN_KEYS = ('traits', 'extra', 'resource_class', 'properties')
# Document keys whose data costs extra API calls; fetched only when an expression names them.
INSPECTION_KEYS = frozenset(['inventory', 'plugin_data'])
PORT_KEYS = frozenset(['ports'])
MODES = ('add', 'exact')


class Rule:
    """A validated rule; ``expr`` is the compiled ``when`` (None: the rule always matches)."""

    def __init__(self, name, when=None, expr=None, traits_add=(), traits_remove=(), extra=None,
                 resource_class=None, properties=None):
        self.name = name
        self.when = when
        self.expr = expr
        self.traits_add = list(traits_add)
        self.traits_remove = list(traits_remove)
        self.extra = dict(extra or {})
        self.resource_class = resource_class
        self.properties = dict(properties or {})


# ------------------------------------------------------------------ JMESPath
def _ast_walk(node):
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.get('children') or [])


def compile_expression(text, what):
    """Compile a JMESPath expression, also rejecting unknown functions (jmespath only finds
    those when evaluating). Raises PlanError naming ``what``."""
    if not HAS_JMESPATH:
        raise PlanError('the jmespath Python library is required')
    if not isinstance(text, str) or not text.strip():
        raise PlanError('%s: the expression must be a non-empty string' % what)
    try:
        expr = jmespath.compile(text)
    except jmespath_exc.JMESPathError as exc:
        raise PlanError('%s: invalid JMESPath %r: %s' % (what, text, ' '.join(str(exc).split())))
    known = set(jmespath_functions.Functions.FUNCTION_TABLE)
    for node in _ast_walk(expr.parsed):
        if node.get('type') == 'function_expression' and node.get('value') not in known:
            raise PlanError('%s: invalid JMESPath %r: unknown function %s()' % (what, text, node.get('value')))
    return expr


def referenced_fields(exprs):
    """Every field name any of the compiled expressions reads (at any depth)."""
    names = set()
    for expr in exprs:
        if expr is None:
            continue
        for node in _ast_walk(expr.parsed):
            if node.get('type') == 'field':
                names.add(node.get('value'))
    return names


def is_true(value):
    """JMESPath truthiness: false, null and empty strings / lists / objects are false; 0 is true."""
    if value is None or value is False:
        return False
    if isinstance(value, (str, list, dict)) and not value:
        return False
    return True


def evaluate(expr, document, what):
    """Evaluate a compiled expression; a type error becomes a PlanError naming ``what``."""
    try:
        return expr.search(document)
    except jmespath_exc.JMESPathError as exc:
        raise PlanError('%s: %s' % (what, ' '.join(str(exc).split())))


# ------------------------------------------------------------------ validation
def _trait_list(value, what, errors):
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        errors.append('%s must be a list of trait names' % what)
        return []
    out = []
    for trait in value:
        problem = trait_error(trait)
        if problem:
            errors.append('%s: %s' % (what, problem))
        elif trait not in out:
            out.append(trait)
    return out


def _merge_dict(value, what, errors, field):
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append('%s must be a dict' % what)
        return {}
    for key in value:
        if not isinstance(key, str) or not key:
            errors.append('%s: keys must be non-empty strings' % what)
        elif field == 'extra' and key in _owner.RESERVED_EXTRA_KEYS:
            errors.append('%s: %r is reserved for the owner record of this collection' % (what, key))
    return dict(value)


def _resource_class(value, what, errors):
    if value is None:
        return None
    if not isinstance(value, str):
        # One resource class per node: a list is a mistake to report, never text to write.
        errors.append('%s: resource_class must be one string, got %r (%s)' % (what, value, type(value).__name__))
        return None
    if not value or len(value) > MAX_RESOURCE_CLASS_LENGTH:
        errors.append('%s: resource_class must be a non-empty string of at most %d characters'
                      % (what, MAX_RESOURCE_CLASS_LENGTH))
        return None
    return value


def compile_rules(rules):
    """Validate and compile the rule list. Returns ``(rules, errors)``; every error names its rule."""
    compiled = []
    errors = []
    seen = set()
    for index, raw in enumerate(rules or []):
        if not isinstance(raw, dict):
            errors.append('rules[%d]: a rule must be a dict' % index)
            continue
        name = raw.get('name')
        label = 'rule %r' % name if name else 'rules[%d]' % index
        if not name or not isinstance(name, str):
            errors.append('%s: every rule needs a name' % label)
        elif name in seen:
            errors.append('%s: duplicate rule name' % label)
        seen.add(name)
        unknown = sorted(set(raw) - set(RULE_KEYS))
        if unknown:
            errors.append('%s: unknown key(s) %s (a rule has %s)' % (label, ', '.join(unknown), ', '.join(RULE_KEYS)))
        expr = None
        when = raw.get('when')
        if when is not None:
            try:
                expr = compile_expression(when, '%s, when' % label)
            except PlanError as exc:
                errors.append(str(exc))
        add = _trait_list(raw.get('traits_add'), '%s, traits_add' % label, errors)
        remove = _trait_list(raw.get('traits_remove'), '%s, traits_remove' % label, errors)
        both = sorted(set(add) & set(remove))
        if both:
            errors.append('%s: %s both added and removed' % (label, ', '.join(both)))
        extra = _merge_dict(raw.get('extra'), '%s, extra' % label, errors, 'extra')
        properties = _merge_dict(raw.get('properties'), '%s, properties' % label, errors, 'properties')
        rc = _resource_class(raw.get('resource_class'), label, errors)
        compiled.append(Rule(name, when, expr, add, remove, extra, rc, properties))
    return compiled, errors


def compile_assign(assign):
    """Validate the static per-node assignment ``{node: {traits, extra, resource_class, properties}}``.

    Returns ``(assignments, errors)`` where assignments are Rule objects named ``assign[<node>]``.
    """
    out = {}
    errors = []
    if assign is None:
        return out, errors
    if not isinstance(assign, dict):
        return out, ['assign must be a dict of node name -> {traits, extra, resource_class}']
    for node, raw in assign.items():
        label = 'assign[%s]' % node
        if raw is None:
            raw = {}
        if isinstance(raw, (list, tuple)):  # shorthand: a plain list of traits
            raw = {'traits': list(raw)}
        if not isinstance(raw, dict):
            errors.append('%s must be a dict with traits, extra, resource_class' % label)
            continue
        unknown = sorted(set(raw) - set(ASSIGN_KEYS))
        if unknown:
            errors.append('%s: unknown key(s) %s (an assignment has %s)' % (label, ', '.join(unknown), ', '.join(ASSIGN_KEYS)))
        traits = _trait_list(raw.get('traits'), '%s, traits' % label, errors)
        extra = _merge_dict(raw.get('extra'), '%s, extra' % label, errors, 'extra')
        properties = _merge_dict(raw.get('properties'), '%s, properties' % label, errors, 'properties')
        rc = _resource_class(raw.get('resource_class'), label, errors)
        out[str(node)] = Rule(label, None, None, traits, (), extra, rc, properties)
    return out, errors


def compile_selector(text):
    """Compile ``selector``: either a filter over the list of nodes (``[?starts_with(name, 'r01-')]``)
    or a predicate evaluated per node (``provision_state == 'manageable'``).

    Returns ``(expr, over_list)``; raises PlanError.
    """
    expr = compile_expression(text, 'selector')
    root = expr.parsed
    while root.get('type') == 'pipe':
        root = root['children'][0]
    return expr, root.get('type') in ('filter_projection', 'projection', 'slice', 'flatten')


def candidate_nodes(nodes, wanted=None, selector=None, rules=True, assigned=()):
    """The nodes a run may touch, before any document is built: the ``wanted`` uuids (the
    ``nodes`` option) when given; every node when a selector will choose among them
    (``select_targets`` then narrows them) or when there are rules; else the ``assigned`` ones."""
    if wanted is not None:
        wanted = set(wanted)
        return [n for n in nodes if n['uuid'] in wanted]
    if selector is not None or rules:
        return list(nodes)
    assigned = set(assigned)
    return [n for n in nodes if n['uuid'] in assigned]


def select_targets(candidates, documents, selector=None, over_list=False):
    """The nodes to tag among ``candidates``: all of them, or those the selector picks from their
    ``documents`` (uuid -> document). Raises PlanError for a selector that gives no nodes."""
    if selector is None:
        return list(candidates)
    chosen = set(select_nodes(selector, over_list, [documents[n['uuid']] for n in candidates]))
    return [n for n in candidates if n['uuid'] in chosen]


def select_nodes(selector, over_list, documents):
    """Return the uuids of the documents the selector picks (in input order)."""
    if over_list:
        result = evaluate(selector, documents, 'selector')
        if result is None:
            return []
        if not isinstance(result, list):
            raise PlanError('selector: a filter over the node list must give a list of nodes, got %s'
                            % type(result).__name__)
        picked = set()
        for item in result:
            if isinstance(item, dict) and item.get('uuid'):
                picked.add(item['uuid'])
            elif isinstance(item, str):
                picked.add(item)
            else:
                raise PlanError('selector: the filter must give nodes (or their names / uuids), got %r' % (item,))
        return [d['uuid'] for d in documents if d.get('uuid') in picked or d.get('name') in picked]
    return [d['uuid'] for d in documents if is_true(evaluate(selector, d, 'selector on node %s' % (d.get('name') or d.get('uuid'))))]


# ------------------------------------------------------------------ documents
def node_document(node, ports=None, inspection=None, facts=None):
    """The document rules see for one node: its API fields plus ``ports``, ``inventory``,
    ``plugin_data`` and ``facts``. ``node`` is a dict with Ironic API field names."""
    doc = dict(node)
    doc['traits'] = sorted(node.get('traits') or [])
    doc['ports'] = list(ports or [])
    inspection = inspection or {}
    doc['inventory'] = inspection.get('inventory')
    doc['plugin_data'] = inspection.get('plugin_data')
    doc['facts'] = dict(facts or {})
    return doc


# ------------------------------------------------------------------ planning
class TagPlan:
    """What one node needs: traits, ownership record, extra / properties keys, resource class."""

    def __init__(self, node):
        self.uuid = node.get('uuid')
        self.name = node.get('name') or self.uuid
        self.matched = []
        self.traits_before = sorted(node.get('traits') or [])
        self.traits_after = list(self.traits_before)
        self.owned_before = []
        self.owned_after = []
        self.extra_before = {}
        self.extra_after = {}
        self.properties_before = {}
        self.properties_after = {}
        self.resource_class_before = node.get('resource_class')
        self.resource_class_after = node.get('resource_class')
        self.record_ops = []

    @property
    def traits_added(self):
        return sorted(set(self.traits_after) - set(self.traits_before))

    @property
    def traits_removed(self):
        return sorted(set(self.traits_before) - set(self.traits_after))

    @property
    def traits_changed(self):
        return set(self.traits_before) != set(self.traits_after)

    def patch(self):
        """JSON patch for extra / properties / resource_class (ownership record included)."""
        ops = []
        for field, before, after in (('extra', self.extra_before, self.extra_after),
                                     ('properties', self.properties_before, self.properties_after)):
            for key in sorted(after):
                value = after[key]
                path = '/%s/%s' % (field, json_pointer(key))
                if value is None:
                    if key in before:
                        ops.append({'op': 'remove', 'path': path})
                elif key not in before or before[key] != value:
                    ops.append({'op': 'add', 'path': path, 'value': value})
        if self.resource_class_after != self.resource_class_before:
            ops.append({'op': 'add', 'path': '/resource_class', 'value': self.resource_class_after})
        return ops + list(self.record_ops)

    def changes(self):
        """What this plan changes: ``traits`` and each patched path (``/extra/...``)."""
        return (['traits'] if self.traits_changed else []) + [op['path'] for op in self.patch()]

    @property
    def changed(self):
        return bool(self.changes())

    def diff(self):
        """``(before, after)`` of what this plan touches."""
        before = {'traits': self.traits_before}
        after = {'traits': sorted(self.traits_after)}
        for field, b, a in (('extra', self.extra_before, self.extra_after),
                            ('properties', self.properties_before, self.properties_after)):
            keys = sorted(k for k in a if (a[k] is None and k in b) or (a[k] is not None and b.get(k) != a[k]))
            if keys:
                before[field] = dict((k, b[k]) for k in keys if k in b)
                after[field] = dict((k, a[k]) for k in keys if a[k] is not None)
        if self.resource_class_after != self.resource_class_before:
            before['resource_class'] = self.resource_class_before
            after['resource_class'] = self.resource_class_after
        return before, after

    def result(self):
        return {
            'name': self.name,
            'uuid': self.uuid,
            'changed': self.changed,
            'matched_rules': list(self.matched),
            'traits': sorted(self.traits_after),
            'traits_added': self.traits_added,
            'traits_removed': self.traits_removed,
            'owned_traits': list(self.owned_after),
            'resource_class': self.resource_class_after,
        }


def owned_traits(node):
    """Traits tagging recorded as its own on the node (owner record, or the older list)."""
    return list(_owner.read_record(node)['tag']['traits'])


def plan_node(node, document, rules, assignment=None, mode='add'):
    """Plan one node. ``node`` has API field names (uuid, name, traits, extra, properties,
    resource_class); ``document`` is what ``when`` expressions see; ``assignment`` a Rule from
    compile_assign (applied after the rules). Raises PlanError naming the rule and the node.

    Traits: matching rules add / remove in order, then the assignment adds. What tagging adds (or
    the collection already claimed) is recorded in the owner record's ``tag`` section in both
    modes. ``add`` mode removes nothing else; ``exact`` mode also removes the traits and keys
    tagging recorded that no rule or assignment wants any more. A trait or key already on the node
    that no step of the collection claimed is never claimed, so never removed by ``exact``;
    ``traits_remove`` removes it, as the rule names it explicitly.
    """
    if mode not in MODES:
        raise PlanError('mode must be one of %s' % ', '.join(MODES))
    plan = TagPlan(node)
    label = plan.name
    wanted = []      # in order, no duplicates
    removed = set()
    extra = {}
    properties = {}
    resource_class = None
    for rule in rules:
        if rule.expr is not None:
            value = evaluate(rule.expr, document, 'rule %r on node %s' % (rule.name, label))
            if not is_true(value):
                continue
        plan.matched.append(rule.name)
        for trait in rule.traits_add:
            removed.discard(trait)
            if trait not in wanted:
                wanted.append(trait)
        for trait in rule.traits_remove:
            if trait in wanted:
                wanted.remove(trait)
            removed.add(trait)
        extra.update(rule.extra)
        properties.update(rule.properties)
        if rule.resource_class:
            resource_class = rule.resource_class
    if assignment is not None:
        for trait in assignment.traits_add:
            removed.discard(trait)
            if trait not in wanted:
                wanted.append(trait)
        extra.update(assignment.extra)
        properties.update(assignment.properties)
        if assignment.resource_class:
            resource_class = assignment.resource_class

    record = _owner.read_record(node)
    after, trait_claims = _owner.plan_traits(plan.traits_before, wanted, record, 'tag',
                                             'owned' if mode == 'exact' else 'add', remove=removed)
    plan.traits_after = after
    plan.owned_before = list(record['tag']['traits'])
    plan.owned_after = trait_claims
    if len(after) > MAX_TRAITS_PER_NODE:
        raise PlanError('node %s would have %d traits; Ironic allows at most %d'
                        % (label, len(after), MAX_TRAITS_PER_NODE))

    node_extra = dict(node.get('extra') or {})
    node_properties = dict(node.get('properties') or {})
    exact = mode == 'exact'
    extra_changes, extra_claims = _owner.plan_keys(node_extra, extra, record, 'tag', 'extra_keys', exact)
    prop_changes, prop_claims = _owner.plan_keys(node_properties, properties, record, 'tag', 'property_keys', exact)
    plan.extra_before = dict((k, node_extra[k]) for k in extra_changes if k in node_extra)
    plan.extra_after = extra_changes
    plan.properties_before = dict((k, node_properties[k]) for k in prop_changes if k in node_properties)
    plan.properties_after = prop_changes
    if resource_class is not None:
        plan.resource_class_after = resource_class
    plan.record_ops = _owner.record_ops(node, _owner.with_section(
        record, 'tag', traits=trait_claims, extra_keys=extra_claims, property_keys=prop_claims))
    return plan
