#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: ironic_traits
short_description: Tag Ironic nodes with traits, extra, properties and resource class by rules
version_added: 0.1.0
description:
  - Applies an ordered list of O(rules) and a static per-node assignment (O(assign)) to many Ironic nodes
    in one task. Each rule's O(rules[].when) is a JMESPath expression evaluated on one document
    per node; when it is true the rule adds or removes traits, merges keys into C(extra) and
    C(properties) and sets the resource class.
  - "The document of a node has the node's API fields (C(name), C(uuid), C(driver),
    C(properties), C(extra), C(traits), C(resource_class), C(provision_state), ...), C(ports)
    (the node's ports with their API fields, for example C(address), C(physical_network),
    C(local_link_connection)), C(inventory) and C(plugin_data) (its inspection data, C(null)
    when never inspected) and C(facts) (this node's entry of O(facts))."
  - Inspection data costs one API call per node, so it is read only when some expression names
    C(inventory) or C(plugin_data); ports (one list call) only when some expression names C(ports).
  - Every trait name, rule and expression is validated before anything is read or written, and
    every rule is evaluated on every node before the first write; any problem fails the task
    with a message naming the rule (and node), and nothing is changed.
  - "What this module sets (traits, C(extra) and C(properties) keys) is recorded, in both modes,
    in the node's owner record C(extra.spineleaf) (section C(tag)), which
    M(spineleaf.baremetal.ironic_nodes) shares (section C(enroll)). With O(mode=exact) the
    recorded traits and keys that no rule or assignment wants any more are removed. What anybody
    outside the collection set is never claimed, so never removed, except by an explicit
    O(rules[].traits_remove). The older record C(extra.spineleaf_traits) is read and moved into
    the owner record by the next write."
  - Writes go out with adaptive bounded concurrency, one C(PUT /traits) per node whose traits
    change and one C(PATCH) per node whose C(extra), C(properties), resource class or owner
    record changes (Ironic cannot set traits in a node PATCH). A node locked by another operation
    (HTTP 409) or a database busy with other writers is retried with backoff, and the module then
    narrows its concurrency.
  - Rack and role names become traits through the P(spineleaf.baremetal.trait_name#filter)
    filter (C(CUSTOM_RACK_R01), C(CUSTOM_ROLE_COMPUTE)), which the C(spineleaf.baremetal.tag)
    role uses to build O(assign).
extends_documentation_fragment:
  - spineleaf.baremetal.openstack
  - spineleaf.baremetal.rack_calls
  - spineleaf.baremetal.attributes
options:
  rules:
    description:
      - Ordered rules; later rules win over earlier ones for the same trait, key or resource class.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the rule, used in results and error messages.
        type: str
        required: true
      when:
        description:
          - JMESPath expression evaluated on the node's document (see the description). The rule
            applies when the result is true in the JMESPath sense (not C(false), C(null) or empty).
          - Omit it for a rule that applies to every selected node.
          - "Example: C(inventory.memory.physical_mb >= `262144`)."
        type: str
      traits_add:
        description:
          - Traits to add, C(CUSTOM_[A-Z0-9_]+) or standard os-traits names such as C(HW_CPU_X86_AVX2).
        type: list
        elements: str
        default: []
      traits_remove:
        description:
          - Traits to remove when the rule applies, whoever set them.
        type: list
        elements: str
        default: []
      extra:
        description:
          - Keys merged into the node's C(extra); a C(null) value removes the key.
        type: dict
      properties:
        description:
          - Keys merged into the node's C(properties); a C(null) value removes the key.
        type: dict
      resource_class:
        description:
          - Resource class to set, a string. Any other type (a list, a number) is refused with an error
            naming the rule, instead of being written as its text.
        type: raw
  assign:
    description:
      - "Static per-node assignment from inventory: node name (or UUID) ->
        C({traits: [...], extra: {...}, resource_class: ..., properties: {...}}); a plain list is
        taken as the traits. Applied after the rules."
      - Every node named here must exist.
    type: dict
    default: {}
  nodes:
    description:
      - Names (or UUIDs) of the nodes to work on; each must exist.
      - Without O(nodes) and O(selector), the rules apply to every node, or, when there are no
        rules, to the nodes of O(assign).
    type: list
    elements: str
  selector:
    description:
      - JMESPath choosing the nodes to work on, either a filter over the list of node documents,
        for example C([?starts_with(name, 'r01-')]), or a condition evaluated per node, for
        example C(provision_state == 'manageable').
      - Mutually exclusive with O(nodes).
    type: str
  facts:
    description:
      - "Per-node facts from inventory, node name -> dict, visible to rules as C(facts), for
        example C({r01-n01: {rack: r01, node_role: compute}})."
    type: dict
    default: {}
  mode:
    description:
      - V(add) adds what the rules and assignment want and removes only what O(rules[].traits_remove)
        names. It still records what it set, so a later V(exact) run, and enrollment's C(exact)
        traits mode, know these traits are the collection's.
      - V(exact) also removes the traits and keys it recorded that no rule or assignment wants any
        more; other traits are left alone.
    type: str
    choices: [add, exact]
    default: add
  concurrency:
    description: How many nodes are written at the same time.
    type: int
    default: 16
requirements:
  - openstacksdk >= 1.0
  - jmespath
author:
  - Spineleaf Baremetal Team (@spineleaf)
'''

EXAMPLES = r'''
- name: Tag nodes by hardware and rack
  spineleaf.baremetal.ironic_traits:
    cloud: spineleaf-lab
    rules:
      - name: big-memory
        when: "inventory.memory.physical_mb >= `262144`"
        traits_add: [CUSTOM_MEM_256G]
      - name: arm
        when: "inventory.cpu.architecture == 'aarch64'"
        traits_add: [CUSTOM_CPU_ARM64]
        properties: {cpu_arch: aarch64}
      - name: fast-nics
        when: "length(inventory.interfaces[?speed_mbps >= `25000`]) >= `2`"
        traits_add: [CUSTOM_NIC_25G]
      - name: gpu-compute
        when: "facts.node_role == 'compute' && contains(traits, 'CUSTOM_GPU')"
        resource_class: baremetal-gpu
        extra: {tier: gpu}
    assign:
      r01-n01: {traits: [CUSTOM_RACK_R01, CUSTOM_ROLE_CONTROLLER]}
      r01-n02: {traits: [CUSTOM_RACK_R01, CUSTOM_ROLE_COMPUTE]}
    facts:
      r01-n01: {node_role: controller}
      r01-n02: {node_role: compute}
    nodes: [r01-n01, r01-n02]
    mode: exact

- name: Rack trait for every node of a rack, chosen by name
  spineleaf.baremetal.ironic_traits:
    selector: "[?starts_with(name, 'r02-')]"
    rules:
      - name: rack-r02
        traits_add: ["{{ 'r02' | spineleaf.baremetal.trait_name('CUSTOM_RACK_') }}"]
'''

RETURN = r'''
results:
  description:
    - With O(racks), one entry per rack, in the order given - each this module's result for that
      rack (the keys below) and C(rack), the rack's name - as a loop over the racks would register.
  returned: when O(racks) is given
  type: list
  elements: dict
nodes:
  description: One entry per selected node, in the order Ironic lists them.
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: C(updated) (traits or records changed, or would in check mode), C(unchanged) or C(failed).
      type: str
    failed:
      description: Whether the node failed. Part of the per-node result contract.
      type: bool
    msg:
      description: Why the node failed, or what happened to it; null when there is nothing to say.
      type: str
    name:
      description: Node name (its UUID when it has no name).
      type: str
    uuid:
      description: Node UUID.
      type: str
    changed:
      description: Whether the node was (or in check mode would be) changed.
      type: bool
    matched_rules:
      description: Names of the rules that applied to the node, in order.
      type: list
      elements: str
      sample: [big-memory, fast-nics]
    traits:
      description: The node's traits after the run.
      type: list
      elements: str
    traits_added:
      description: Traits added.
      type: list
      elements: str
    traits_removed:
      description: Traits removed.
      type: list
      elements: str
    owned_traits:
      description: Traits recorded as this module's in the owner record (C(extra.spineleaf.tag.traits)).
      type: list
      elements: str
    resource_class:
      description: Resource class after the run.
      type: str
    error:
      description: Why writing to this node failed.
      type: str
      returned: when the write failed
changed_nodes:
  description: Names of the nodes changed (or that would be, in check mode).
  returned: always
  type: list
  elements: str
api_writes:
  description: Number of write calls made (0 in check mode and when nothing changed).
  returned: always
  type: int
api_reads:
  description: Number of read calls made.
  returned: always
  type: int
diff:
  description: Before and after of what changed, per node name.
  returned: when diff mode is on
  type: dict
summary:
  description: Number of nodes per RV(nodes[].action).
  returned: always
  type: dict
  sample: {updated: 3, unchanged: 37}
'''

from ansible.module_utils.basic import missing_required_lib

from ..module_utils._base import BaremetalError, BaremetalModule
from ..module_utils._ironic import IronicAdapter, describe
from ..module_utils import _tagging
from ..module_utils._util import DifferenceTracker, node_index

# Node and port fields that are links, not useful to rules.
_DROP = ('links', 'ports', 'portgroups', 'states', 'volume')


def _clean(data):
    for key in _DROP:
        data.pop(key, None)
    return data


class IronicTraitsModule(BaremetalModule):
    rack_calls = True  # racks: one call for every rack (module_utils/_base.py)
    argument_spec = dict(
        rules=dict(type='list', elements='dict', default=[], options=dict(
            name=dict(type='str', required=True),
            when=dict(type='str'),
            traits_add=dict(type='list', elements='str', default=[]),
            traits_remove=dict(type='list', elements='str', default=[]),
            extra=dict(type='dict'),
            properties=dict(type='dict'),
            # raw, not str: AnsibleModule would turn a list into its text ("['a']") and that text
            # would be written; the planner checks the type and names the rule instead.
            resource_class=dict(type='raw'),
        )),
        assign=dict(type='dict', default={}),
        nodes=dict(type='list', elements='str'),
        selector=dict(type='str'),
        facts=dict(type='dict', default={}),
        mode=dict(type='str', choices=['add', 'exact'], default='add'),
        concurrency=dict(type='int', default=16),
    )
    module_kwargs = dict(mutually_exclusive=[('nodes', 'selector')])

    # ------------------------------------------------------------ validation (no I/O)
    def validate(self):
        p = self.params
        rules, errors = _tagging.compile_rules(p['rules'])
        assign, assign_errors = _tagging.compile_assign(p['assign'])
        errors.extend(assign_errors)
        selector = over_list = None
        if p['selector'] is not None:
            try:
                selector, over_list = _tagging.compile_selector(p['selector'])
            except _tagging.PlanError as exc:
                errors.append(str(exc))
        for name, value in (p['facts'] or {}).items():
            if not isinstance(value, dict):
                errors.append('facts[%s] must be a dict' % name)
        if p['concurrency'] < 1:
            errors.append('concurrency must be at least 1')
        if errors:
            raise BaremetalError('nothing changed; fix these first: ' + '; '.join(errors))
        return rules, assign, selector, over_list

    # ------------------------------------------------------------ run: read -> plan -> apply -> report
    def run(self):
        if not _tagging.HAS_JMESPATH:
            self.fail_json(msg=missing_required_lib('jmespath'), exception=_tagging.JMESPATH_IMPORT_ERROR)
        p = self.params
        rules, assign, selector, over_list = self.validate()
        # Idempotent writes only (a traits PUT, a patch of absolute values): let the adapter retry
        # database contention and narrow its own concurrency on it.
        adapter = IronicAdapter(self.conn, concurrency=p['concurrency'], adaptive_writes=True)
        nodes = [_clean(n) for n in adapter.list_raw('nodes')]
        wanted, assignment, facts = self.resolve(nodes, assign)
        candidates = _tagging.candidate_nodes(nodes, wanted, selector, rules=bool(rules), assigned=assignment)
        documents = self.read_documents(adapter, candidates, facts, [r.expr for r in rules] + [selector])

        try:
            targets = _tagging.select_targets(candidates, documents, selector, over_list)
        except _tagging.PlanError as exc:
            raise BaremetalError('nothing changed: %s' % exc)
        plans = self.plan(targets, documents, rules, assignment, p['mode'], nodes)
        failures = self.apply_all(adapter, plans)
        self.report(adapter, plans, failures)

    def resolve(self, nodes, assign):
        """Node references (names or uuids) of ``nodes``, ``assign`` and ``facts`` to uuids:
        ``(wanted or None, assignment, facts)``; fails before any write when one names no node."""
        p = self.params
        lookup = node_index(nodes).get
        missing = [ref for ref in (p['nodes'] or []) if lookup(ref) is None]
        missing += ['%s (in assign)' % ref for ref in assign if lookup(ref) is None]
        if missing:
            raise BaremetalError('nothing changed: no such node(s) in Ironic: %s' % ', '.join(missing))
        assignment = dict((lookup(ref)['uuid'], rule) for ref, rule in assign.items())
        facts = dict((lookup(ref)['uuid'], value) for ref, value in (p['facts'] or {}).items() if lookup(ref))
        wanted = [lookup(ref)['uuid'] for ref in p['nodes']] if p['nodes'] is not None else None
        return wanted, assignment, facts

    @staticmethod
    def read_documents(adapter, candidates, facts, expressions):
        """What the rules and the selector see of each candidate: its node, and its ports and
        inspection data when an expression reads them (one list call; inventories in parallel)."""
        fields = _tagging.referenced_fields(expressions)
        ports = {}
        if fields & _tagging.PORT_KEYS:
            for port in adapter.list_raw('ports'):
                ports.setdefault(port.get('node_uuid'), []).append(_clean(port))
        inspection = {}
        if fields & _tagging.INSPECTION_KEYS and candidates:
            names = dict((n['uuid'], n.get('name') or n['uuid']) for n in candidates)
            for item, data, error in adapter.parallel(list(names), adapter.get_inventory):
                if error is not None:
                    raise BaremetalError('nothing changed: reading the inspection data of node %s failed: %s'
                                         % (names[item], describe(error, 'node %s' % item)))
                inspection[item] = data
        return dict((n['uuid'], _tagging.node_document(n, ports.get(n['uuid']), inspection.get(n['uuid']),
                                                       facts.get(n['uuid'])))
                    for n in candidates)

    def plan(self, targets, documents, rules, assignment, mode, nodes):
        target_ids = set(n['uuid'] for n in targets)
        by_uuid = dict((n['uuid'], n) for n in nodes)
        skipped = sorted(by_uuid[u].get('name') or u for u in assignment if u not in target_ids)
        if skipped:
            self.warn('assign names node(s) outside the selected nodes, left alone: %s' % ', '.join(skipped))
        plans, errors = [], []
        for node in targets:
            try:
                plans.append(_tagging.plan_node(node, documents[node['uuid']], rules,
                                                assignment.get(node['uuid']), mode))
            except _tagging.PlanError as exc:
                errors.append(str(exc))
        if errors:
            raise BaremetalError('nothing changed; fix these first: ' + '; '.join(errors))
        return plans

    def apply_all(self, adapter, plans):
        """Write the changed plans (skipped in check mode); returns ``{uuid: error message}``."""
        failures = {}
        todo = [plan for plan in plans if plan.changed]
        if todo and not self.check_mode:
            for plan, _unused, error in adapter.parallel(todo, lambda plan: self.apply(adapter, plan)):
                if error is not None:
                    failures[plan.uuid] = describe(error, 'node %s' % plan.name)
        return failures

    def report(self, adapter, plans, failures):
        results = []
        tracker = DifferenceTracker()
        for plan in plans:
            entry = plan.result()
            if plan.uuid in failures:
                # the contract's msg; ``error`` stays as its alias (playbooks of 0.x read it)
                entry.update(action='failed', changed=False, error=failures[plan.uuid], msg=failures[plan.uuid])
            elif plan.changed:
                entry.update(action='updated', msg='+%s -%s' % (','.join(plan.traits_added), ','.join(plan.traits_removed)))
            else:
                entry['action'] = 'unchanged'
            results.append(entry)
            tracker.add(plan.name, *plan.diff(), changes=plan.changes())
        self.report_nodes(results, 'tagging', changing=('updated',), tracker=tracker,
                          changed_nodes=tracker.items(), api_writes=adapter.writes, api_reads=adapter.reads)

    @staticmethod
    def apply(adapter, plan):
        """Traits first (one PUT), then extra / properties / resource class and the ownership
        record (one PATCH), so the record never claims a trait the node does not have."""
        if plan.traits_changed:
            adapter.set_traits(plan.uuid, plan.traits_after)
        ops = plan.patch()
        if ops:
            adapter.patch_node(plan.uuid, ops)


def main():
    IronicTraitsModule()()


if __name__ == '__main__':
    main()
