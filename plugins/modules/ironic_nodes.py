#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: ironic_nodes
short_description: Enroll many Ironic bare-metal nodes at once, declaratively
version_added: 0.1.0
description:
  - Makes Ironic hold exactly the nodes, ports and port groups described, in one task for a whole
    rack or site. Nodes are processed concurrently; only what differs is written.
  - Reads what Ironic has with three paginated list calls (nodes, ports, port groups), validates
    the whole request before the first write, then creates or updates each node, its port groups
    (before their member ports), its ports and its traits, and moves nodes forward to
    O(target_state).
  - C(properties), C(extra) and C(driver_info) are merged key by key into what Ironic has, so
    inspection results and keys set by other tools survive.
  - "What the module sets is recorded on the node in its owner record, C(extra.spineleaf)
    (C({site, enroll: {traits, extra_keys, property_keys}, tag: {...}}), shared with
    M(spineleaf.baremetal.ironic_traits)). A trait or an C(extra) / C(properties) key the module set
    and the request no longer lists is removed; one set by anybody else is never removed (see
    O(traits_mode) for the one exception). Records of older releases (C(extra.spineleaf_traits),
    C(extra.rack) / C(extra.role)) are read and moved into the record by the next write."
  - With O(site) and O(site_nodes), nodes whose owner record names the site but that are no longer
    in the site (orphans) are listed in RV(orphans); O(prune=true) deletes them with their ports.
  - Values of C(driver_info) keys whose name contains C(password), C(secret) or C(key) are never
    shown (not in the diff, the return values, nor C(-vvv) output). Ironic returns them masked, so
    with O(update_password=on_create) they are written only when a node is created.
  - A node that fails (for example a conductor error) is reported as C(failed) with the reason;
    the others go on, and the task fails at the end listing the failed nodes.
    409 NodeLocked and 503 answers are retried with backoff.
extends_documentation_fragment:
  - spineleaf.baremetal.openstack
  - spineleaf.baremetal.rack_calls
  - spineleaf.baremetal.attributes
options:
  nodes:
    description:
      - The nodes. Each node is identified by its unique O(nodes[].name).
      - A sub-option left unset is neither compared nor changed.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Unique node name (the inventory hostname in this collection's site model).
        type: str
        required: true
      driver:
        description: Hardware type, for example C(ipmi), C(redfish) or C(fake-hardware). Required to create a node.
        type: str
      driver_info:
        description:
          - Driver settings such as C(ipmi_address), C(ipmi_username), C(ipmi_password).
          - Merged key by key into the node's C(driver_info). Values of keys containing C(password),
            C(secret) or C(key) are secret (see O(update_password)).
        type: dict
      resource_class:
        description: Resource class Nova flavors schedule on.
        type: str
      properties:
        description: Node properties (C(cpus), C(memory_mb), C(local_gb), C(capabilities), ...), merged key by key.
        type: dict
      extra:
        description: Free-form data, merged key by key.
        type: dict
      traits:
        description: Traits (C(CUSTOM_[A-Z0-9_]+) or standard os-traits names). See O(traits_mode).
        type: list
        elements: str
      conductor_group:
        description:
          - Conductor group of the node (lower case; the site model's C(rack_conductor_group)).
          - A live conductor must serve it (C(GET /v1/conductors), one call when any node sets a
            group); otherwise the module fails before any write, naming the node, its rack and the group.
        type: str
      owner:
        description: Project that owns the node.
        type: str
      description:
        description: Human-readable description.
        type: str
      bios_interface:
        description: BIOS interface.
        type: str
      boot_interface:
        description: Boot interface.
        type: str
      console_interface:
        description: Console interface.
        type: str
      deploy_interface:
        description: Deploy interface.
        type: str
      firmware_interface:
        description: Firmware interface.
        type: str
      inspect_interface:
        description: Inspect interface (C(agent) for in-band inspection with LLDP).
        type: str
      management_interface:
        description: Management interface.
        type: str
      network_interface:
        description: Network interface (C(flat), C(neutron), C(noop)).
        type: str
      power_interface:
        description: Power interface.
        type: str
      raid_interface:
        description: RAID interface.
        type: str
      rescue_interface:
        description: Rescue interface.
        type: str
      storage_interface:
        description: Storage interface.
        type: str
      vendor_interface:
        description: Vendor interface.
        type: str
      ports:
        description:
          - The node's ports, matched by MAC address. See O(ports_mode) for ports Ironic has that are not listed.
        type: list
        elements: dict
        suboptions:
          address:
            description: MAC address.
            type: str
            required: true
          pxe_enabled:
            description: Whether the node PXE boots from this port.
            type: bool
          physical_network:
            description: Physical network (the rack's physnet in a routed spine-and-leaf site).
            type: str
          local_link_connection:
            description: Switch connection (C(switch_id), C(port_id), C(switch_info)), merged key by key.
            type: dict
          port_group:
            description: Name of a port group of this node (in O(nodes[].port_groups)) the port belongs to.
            type: str
          extra:
            description: Free-form data, merged key by key.
            type: dict
      port_groups:
        description:
          - Port groups (bonds), matched by name, created before their member ports.
          - Ironic port group names are global; this collection's roles name them C(<node>-<bond>).
        type: list
        elements: dict
        suboptions:
          name:
            description: Port group name, unique in Ironic.
            type: str
            required: true
          address:
            description: MAC address of the bond.
            type: str
          mode:
            description: Bonding mode, for example C(802.3ad) or C(active-backup).
            type: str
          properties:
            description: Bond properties (C(miimon), C(xmit_hash_policy), ...), merged key by key.
            type: dict
          standalone_ports_supported:
            description: Whether member ports may be used on their own.
            type: bool
  state:
    description:
      - C(present) creates or updates the nodes. C(absent) deletes only the nodes named, and refuses
        nodes that are deployed or deploying unless O(force=true).
    type: str
    choices: [present, absent]
    default: present
  target_state:
    description:
      - Provision state to move the nodes to, waiting for each with a short poll interval.
      - Nodes only move forward (C(enroll) -> C(manageable) -> C(available)); a node already further
        (for example C(available) or C(active)) is left where it is.
    type: str
    choices: [enroll, manageable, available]
    default: manageable
  timeout:
    description: Seconds to wait for each node to reach O(target_state).
    type: int
    default: 600
  poll_interval:
    description: Seconds between provision state polls (one list call for all nodes each time).
    type: float
    default: 0.1
  ports_mode:
    description:
      - C(exact) removes ports and port groups Ironic has for a node that are not listed
        (only for nodes that list O(nodes[].ports) / O(nodes[].port_groups)). C(add) never removes any.
    type: str
    choices: [exact, add]
    default: exact
  traits_mode:
    description:
      - C(add) adds the listed traits and removes only those this module set earlier (owner record)
        that the list no longer has; traits set by inspection, tagging rules or anybody else stay.
      - C(exact) makes the node's traits exactly the list plus the traits
        M(spineleaf.baremetal.ironic_traits) recorded as its own, so enrollment and tagging do not
        undo each other; every other trait is removed, whoever set it.
    type: str
    choices: [exact, add]
    default: add
  update_password:
    description:
      - C(on_create) writes secret C(driver_info) values only when creating a node (Ironic returns them
        masked, so they cannot be compared). C(always) writes them on every run, which reports a change.
    type: str
    choices: [on_create, always]
    default: on_create
  force:
    description:
      - With O(state=absent), also delete deployed or deploying nodes (they are put in maintenance first).
      - With O(prune=true), also delete orphans that are C(active) or in any state other than
        C(enroll), C(manageable), C(available) or a C(* failed) state (maintenance first).
    type: bool
    default: false
  site:
    description:
      - Name of the site (the inventory's C(site_name)), recorded in the owner record of every node
        the module writes. Needed to find orphans.
    type: str
  site_nodes:
    description:
      - Names of every node the site's inventory still has (not only those of this call). With
        O(site), the nodes whose owner record names the site and that are neither here nor in
        O(nodes) are orphans (RV(orphans)). Nodes without the site's owner record never are.
      - Without it no orphans are looked for (a call for one rack does not know the other racks).
    type: list
    elements: str
  prune:
    description:
      - Delete the orphans (with their ports and port groups). An orphan in a state that may run a
        workload or an operation (C(active), C(deploying), C(inspecting), C(clean wait), ...) is
        refused, with a warning, unless O(force=true).
      - Requires O(site) and O(site_nodes).
    type: bool
    default: false
  concurrency:
    description: How many nodes are worked on at the same time.
    type: int
    default: 16
  fail_fast:
    description:
      - Stop starting work on further nodes after the first failure. By default every node is tried and
        the task fails at the end listing the failed nodes.
    type: bool
    default: false
notes:
  - Check mode returns the same C(changed), C(nodes) and C(diff) a real run would, with no write call.
author:
  - Spineleaf Baremetal Team (@spineleaf)
'''

EXAMPLES = r'''
- name: Enroll rack r01 and make its nodes available
  spineleaf.baremetal.ironic_nodes:
    cloud: spineleaf-lab
    target_state: available
    nodes:
      - name: r01-n01
        driver: ipmi
        driver_info:
          ipmi_address: 10.0.1.11
          ipmi_username: admin
          ipmi_password: "{{ vault_bmc_password }}"
        resource_class: baremetal.compute
        properties: {cpu_arch: x86_64}
        traits: [CUSTOM_RACK_R01]
        port_groups:
          - {name: r01-n01-bond0, address: "52:54:00:01:01:01", mode: 802.3ad}
        ports:
          - {address: "52:54:00:01:01:01", pxe_enabled: true, physical_network: leaf1, port_group: r01-n01-bond0}
          - {address: "52:54:00:01:01:02", pxe_enabled: false, physical_network: leaf1, port_group: r01-n01-bond0}

- name: List (and delete) nodes of site dc1 that its inventory no longer has
  spineleaf.baremetal.ironic_nodes:
    nodes: []
    site: dc1
    site_nodes: "{{ groups['baremetal'] }}"
    prune: true
  register: dc1_orphans

- name: Remove two decommissioned nodes
  spineleaf.baremetal.ironic_nodes:
    state: absent
    nodes:
      - name: r09-n01
      - name: r09-n02
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
  description: One entry per requested node, in request order.
  returned: always
  type: list
  elements: dict
  contains:
    changed:
      description: Whether the node changed (or would, in check mode). Part of the per-node result contract.
      type: bool
    failed:
      description: Whether the node failed. Part of the per-node result contract.
      type: bool
    msg:
      description: Why the node failed, or what happened to it; null when there is nothing to say.
      type: str
    name:
      description: Node name.
      type: str
    uuid:
      description: Node UUID (null for a node that would be created in check mode).
      type: str
    action:
      description: C(created), C(updated), C(unchanged), C(deleted) or C(failed).
      type: str
    changes:
      description: What changed (or would), for example C(driver_info.ipmi_address), C(port 52:54:00:01:01:01 created).
      type: list
      elements: str
    provision_state:
      description: Provision state after the run.
      type: str
    error:
      description: Why the node failed.
      type: str
      returned: when action is failed
  sample:
    - {name: r01-n01, uuid: 8e1b..., action: created, changes: [created, port 52:54:00:01:01:01 created], provision_state: available}
orphans:
  description:
    - Nodes whose owner record names O(site) but that are not in O(site_nodes) nor O(nodes)
      (empty without O(site) and O(site_nodes)).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Node name (its UUID when it has none).
      type: str
    uuid:
      description: Node UUID.
      type: str
    provision_state:
      description: Provision state when read.
      type: str
    action:
      description:
        - C(orphan) (listed only), C(deleted) (pruned, or would be in check mode), C(refused)
          (pruning it needs O(force)) or C(failed).
      type: str
    msg:
      description: Why it was refused, or why deleting it failed.
      type: str
      returned: when action is refused or failed
  sample:
    - {name: r03-n07, uuid: 5c2f..., provision_state: manageable, action: deleted}
summary:
  description: How many nodes had each action.
  returned: always
  type: dict
  sample: {created: 4, updated: 0, unchanged: 0, deleted: 0, failed: 0}
api_writes:
  description: Number of write calls made to Ironic (0 in check mode and on a re-run with nothing to do).
  returned: always
  type: int
elapsed:
  description: Seconds spent writing and waiting for provision states.
  returned: always
  type: float
diff:
  description: Per node, the fields the request talks about, before and after. Secrets are masked.
  returned: in diff mode
  type: dict
'''

import threading
import time

from ..module_utils import _owner
from ..module_utils._base import (
    BaremetalModule, BaremetalError, node_entry, nodes_failure_message)
from ..module_utils._enroll import (
    DELETABLE_STATES, INTERFACES, EnrollPlan, plan_delete, plan_node, secret_values, state_actions, validate)
from ..module_utils._ironic import IronicAdapter, describe
from ..module_utils._site import conductor_group_errors
from ..module_utils._util import DifferenceTracker

_INTERFACE_SPEC = {name: dict(type='str') for name in INTERFACES}

NODE_SPEC = dict(
    name=dict(type='str', required=True),
    driver=dict(type='str'),
    driver_info=dict(type='dict'),
    resource_class=dict(type='str'),
    properties=dict(type='dict'),
    extra=dict(type='dict'),
    traits=dict(type='list', elements='str'),
    conductor_group=dict(type='str'),
    owner=dict(type='str'),
    description=dict(type='str'),
    ports=dict(type='list', elements='dict', options=dict(
        address=dict(type='str', required=True),
        pxe_enabled=dict(type='bool'),
        physical_network=dict(type='str'),
        local_link_connection=dict(type='dict'),
        port_group=dict(type='str'),
        extra=dict(type='dict'),
    )),
    port_groups=dict(type='list', elements='dict', options=dict(
        name=dict(type='str', required=True),
        address=dict(type='str'),
        mode=dict(type='str'),
        properties=dict(type='dict'),
        standalone_ports_supported=dict(type='bool'),
    )),
    **_INTERFACE_SPEC
)


def node_dict(raw):
    """A node as listed by the API (plain dict, API field names), with empty dicts for unset maps."""
    d = dict(raw)
    for key in ('driver_info', 'properties', 'extra'):
        d[key] = d.get(key) or {}
    d['traits'] = list(d.get('traits') or [])
    return d


def port_dict(raw):
    d = dict(raw)
    d['local_link_connection'] = d.get('local_link_connection') or {}
    d['extra'] = d.get('extra') or {}
    return d


class IronicNodesModule(BaremetalModule):
    rack_calls = True  # racks: one call for every rack (module_utils/_base.py)
    argument_spec = dict(
        nodes=dict(type='list', elements='dict', required=True, options=NODE_SPEC),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        target_state=dict(type='str', choices=['enroll', 'manageable', 'available'], default='manageable'),
        timeout=dict(type='int', default=600),
        poll_interval=dict(type='float', default=0.1),
        ports_mode=dict(type='str', choices=['exact', 'add'], default='exact'),
        traits_mode=dict(type='str', choices=['exact', 'add'], default='add'),
        update_password=dict(type='str', choices=['on_create', 'always'], default='on_create', no_log=False),
        force=dict(type='bool', default=False),
        concurrency=dict(type='int', default=16),
        fail_fast=dict(type='bool', default=False),
        site=dict(type='str'),
        site_nodes=dict(type='list', elements='str'),
        prune=dict(type='bool', default=False),
    )
    module_kwargs = dict(required_if=[('prune', True, ('site', 'site_nodes'))])

    # ------------------------------------------------------------ apply
    def _apply_node(self, plan):
        ironic = self.ironic
        if plan.action == 'deleted':
            if plan.force_maintenance:
                ironic.set_maintenance(plan.uuid, reason='deleted by spineleaf.baremetal.ironic_nodes')
            ironic.delete_node(plan.uuid)
            return None
        if plan.create_attrs:
            node = ironic.create_node(plan.create_attrs)
            plan.uuid = node['uuid']
            plan.provision_state = node['provision_state']
        if plan.node_patch:
            ironic.patch_node(plan.uuid, plan.node_patch)
        if plan.traits is not None:
            ironic.set_traits(plan.uuid, plan.traits)
        pg_uuids = dict(self.pg_names.get(plan.name, {}))
        for attrs in plan.pg_create:
            group = ironic.create_port_group(plan.uuid, attrs)
            pg_uuids[group['name']] = group['uuid']
        for uuid, patch, dummy in plan.pg_patch:
            ironic.patch_port_group(uuid, patch)
        for uuid, patch, dummy in plan.port_patch:
            resolved, membership = [], []
            for op in patch:
                if 'port_group' in op:
                    membership.append({'op': 'replace', 'path': '/portgroup_uuid', 'value': pg_uuids[op['port_group']]})
                else:
                    resolved.append(op)
            # Ironic 39 (through openstacksdk) drops a portgroup_uuid change that shares a patch with
            # other fields (measured): an existing port joining a group gets a patch of its own.
            for ops in (resolved, membership):
                if ops:
                    ironic.patch_port(uuid, ops)
        for attrs in plan.port_create:
            attrs = dict(attrs)
            if 'port_group' in attrs:
                attrs['portgroup_uuid'] = pg_uuids[attrs.pop('port_group')]
            ironic.create_port(plan.uuid, attrs)
        for uuid in plan.port_delete:
            ironic.delete_port(uuid)
        for uuid in plan.pg_delete:
            ironic.delete_port_group(uuid)
        return None

    def _run_parallel(self, plans, fn, results):
        """Run fn(plan) for plans with bounded concurrency; failures recorded in results.

        With fail_fast, nodes not yet started when a node fails are skipped (reported failed)."""
        failed = threading.Event()

        def guarded(plan):
            if self.params['fail_fast'] and failed.is_set():
                raise BaremetalError('not attempted: an earlier node failed and fail_fast is set')
            try:
                return fn(plan)
            except Exception:
                failed.set()
                raise

        self._record(self.ironic.parallel(plans, guarded), results)

    @staticmethod
    def _record(outcomes, results):
        for plan, dummy, error in outcomes:
            if error is not None:
                results[plan.name].update(action='failed', error=describe(error, 'node %s' % plan.name))

    def _move_states(self, plans, results, check):
        target = self.params['target_state']
        waves = {}
        for plan in plans:
            if results[plan.name].get('action') == 'failed' or plan.action == 'deleted':
                continue
            state = plan.provision_state or 'enroll'
            actions = state_actions(state, target)
            if actions:
                results[plan.name]['changes'].append('provision_state %s -> %s' % (state, target))
                if check:
                    results[plan.name]['provision_state'] = target
                for i, action in enumerate(actions):
                    waves.setdefault(i, []).append((plan, action))
        if check:
            return
        expected = {'manage': ['manageable'], 'provide': ['available']}
        for i in sorted(waves):
            wave = [(p, a) for p, a in waves[i] if results[p.name].get('action') != 'failed']
            if not wave:
                continue
            outcomes = self.ironic.parallel(wave, lambda item: self.ironic.set_provision_state(item[0].uuid, item[1]))
            for (plan, dummy), dummy2, error in outcomes:
                if error is not None:
                    results[plan.name].update(action='failed', error=describe(error, 'node %s' % plan.name))
            by_target = {}
            for plan, action in wave:
                if results[plan.name].get('action') != 'failed':
                    by_target.setdefault(tuple(expected[action]), []).append(plan)
            for targets, group in by_target.items():
                done = self.ironic.wait_for_states([p.uuid for p in group], targets,
                                                   timeout=self.params['timeout'],
                                                   poll=self.params['poll_interval'])
                for plan in group:
                    state, error = done.get(plan.uuid, (None, 'not seen'))
                    results[plan.name]['provision_state'] = state
                    if error:
                        results[plan.name].update(action='failed', error='node %s: %s' % (plan.name, error))

    def _conductor_group_errors(self, specs):
        """Nodes pinned to a conductor group no live conductor serves: Ironic would refuse to
        create them (No valid host) or strand them, so refuse the whole request before any write.
        One conductors call, only when a node names a group."""
        if self.params['state'] != 'present':
            return []
        wanted = {}
        for spec in specs:
            if spec.get('conductor_group') and spec.get('name'):
                rack = (spec.get('extra') or {}).get('rack')
                where = '%s (rack %s)' % (spec['name'], rack) if rack else spec['name']
                wanted[where] = spec['conductor_group']
        if not wanted:
            return []
        return conductor_group_errors(wanted, self.ironic.list_conductors(), label='node %s')

    # ------------------------------------------------------------ orphans
    def _orphans(self, nodes, specs):
        """The site's orphans, each with what happens to it: ``[(entry, plan or None)]``."""
        p = self.params
        if not p['site'] or p['site_nodes'] is None:
            return []
        keep = set(p['site_nodes']) | set(spec['name'] for spec in specs)
        out = []
        for node in _owner.find_orphans(nodes, p['site'], keep):
            name = node.get('name') or node['uuid']
            entry = dict(name=name, uuid=node['uuid'], provision_state=node.get('provision_state'), action='orphan')
            plan = None
            if p['prune']:
                action, why = _owner.prune_decision(node, p['force'])
                entry['action'] = action
                if why:
                    entry['msg'] = 'node %s %s' % (name, why)
                    self.warn('not pruned: %s' % entry['msg'])
                else:
                    plan = EnrollPlan(name, uuid=node['uuid'], action='deleted')
                    plan.before = {'name': name, 'provision_state': node.get('provision_state')}
                    plan.changes.append('deleted (orphan of site %s)' % p['site'])
                    plan.force_maintenance = (node.get('provision_state') not in DELETABLE_STATES
                                              and not node.get('maintenance'))
            out.append((entry, plan))
        return out

    def _prune(self, orphans, tracker):
        """Delete the orphans that have a plan (not in check mode); failures go in their entry."""
        plans = [plan for dummy, plan in orphans if plan is not None]
        if plans and not self.check_mode:
            results = dict((plan.name, {}) for plan in plans)
            self._record(self.ironic.parallel(plans, self._apply_node), results)
            for entry, plan in orphans:
                if plan is not None and results[plan.name].get('action') == 'failed':
                    entry.update(action='failed', msg=results[plan.name]['error'])
        for entry, plan in orphans:
            if plan is not None and entry['action'] == 'deleted':
                tracker.add(entry['name'], plan.before, {}, plan.changes)
        return [entry for entry, dummy in orphans]

    # ------------------------------------------------------------ main
    def run(self):
        p = self.params
        specs = p['nodes']
        for value in secret_values(specs):
            self.ansible.no_log_values.add(value)
        if p['concurrency'] < 1:
            raise BaremetalError('concurrency must be at least 1')
        if p['timeout'] < 1:
            raise BaremetalError('timeout must be at least 1 (seconds)')

        self.ironic = IronicAdapter(self.conn, concurrency=p['concurrency'])
        # Raw paginated lists (API field names): three kinds of GET however large the site.
        nodes = [node_dict(n) for n in self.ironic.list_raw('nodes')]
        ports = [port_dict(x) for x in self.ironic.list_raw('ports')]
        pgs = [dict(g, properties=g.get('properties') or {}) for g in self.ironic.list_raw('portgroups')]

        errors = validate(specs, nodes, ports, pgs, state=p['state'], force=p['force'])
        errors.extend(self._conductor_group_errors(specs))
        if errors:
            raise BaremetalError('invalid request, nothing was changed: ' + '; '.join(errors))

        by_name = {n['name']: n for n in nodes if n.get('name')}
        ports_by_node, pgs_by_node = {}, {}
        for port in ports:
            ports_by_node.setdefault(port['node_uuid'], []).append(port)
        for group in pgs:
            pgs_by_node.setdefault(group['node_uuid'], []).append(group)
        self.pg_names = {}
        options = dict(traits_mode=p['traits_mode'], ports_mode=p['ports_mode'],
                       update_password=p['update_password'], site=p['site'])
        plans = []
        for spec in specs:
            node = by_name.get(spec['name'])
            if p['state'] == 'absent':
                plans.append(plan_delete(spec, node))
                continue
            uuid = node['uuid'] if node else None
            node_pgs = pgs_by_node.get(uuid, []) if uuid else []
            self.pg_names[spec['name']] = {g['name']: g['uuid'] for g in node_pgs}
            plans.append(plan_node(spec, node, ports_by_node.get(uuid, []) if uuid else [], node_pgs, options))

        results = {}
        for plan in plans:
            results[plan.name] = dict(name=plan.name, uuid=plan.uuid, action=plan.action,
                                      changes=list(plan.changes), provision_state=plan.provision_state)
            if plan.action == 'deleted':
                results[plan.name]['provision_state'] = None
            elif plan.action == 'created':
                results[plan.name]['provision_state'] = 'enroll'

        orphans = self._orphans(nodes, specs)
        started = time.monotonic()
        if not self.check_mode:
            self._run_parallel([pl for pl in plans if pl.writes], self._apply_node, results)
            for plan in plans:
                results[plan.name]['uuid'] = plan.uuid
        if p['state'] == 'present':
            self._move_states(plans, results, self.check_mode)

        ordered = []
        for plan in plans:
            r = results[plan.name]
            if r['action'] == 'unchanged' and r['changes']:
                r['action'] = 'updated'
            # the contract's msg; ``error`` stays as its alias (roles and playbooks of 0.x read it)
            r['msg'] = r.get('error') or (', '.join(r['changes']) if r['changes'] else None)
            ordered.append(r)
        tracker = DifferenceTracker()
        for plan in plans:
            tracker.add(plan.name, plan.before, plan.after, results[plan.name]['changes'])
        orphan_entries = self._prune(orphans, tracker)
        for orphan in orphan_entries:
            node_entry(orphan, changing=('deleted',))
        failed = [node_entry(dict(r), changing=()) for r in ordered] + orphan_entries
        self.report_nodes(ordered, 'enrollment', changing=('created', 'updated', 'deleted'),
                          summary_keys=('created', 'updated', 'unchanged', 'deleted', 'failed'), tracker=tracker,
                          fail_msg=nodes_failure_message('enrollment', failed), api_writes=self.ironic.writes,
                          elapsed=round(time.monotonic() - started, 3), orphans=orphan_entries)


def main():
    IronicNodesModule()()


if __name__ == '__main__':
    main()
