#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: ironic_provision
short_description: Deploy, rebuild or undeploy many bare-metal nodes in one task
version_added: 0.1.0
description:
  - Deploys an image to many Ironic nodes at once (O(state=active)), rebuilds the active nodes
    whose image differs from the request, or makes nodes available (O(state=available)), with bounded
    concurrency as a sliding window - a node starts as soon as another one finishes.
  - Always sends C(image_source) in C(instance_info) (Ironic answers HTTP 500 to a rebuild
    without one). An C(active) node whose C(instance_info.image_source) and checksum equal the
    request is left alone (O(rebuild=auto)), so a second run makes no write call.
  - Nodes in maintenance, C(retired) nodes (deploy) and C(protected) nodes (rebuild, undeploy)
    are refused with a per-node message; they are never silently skipped. A node in
    C(manageable) is made C(available) first. A node in C(deploy failed) is deployed again, and a
    deployment that fails is tried again up to O(retries) times.
  - Ironic's own limits are respected - HTTP 503 (C([conductor]max_concurrent_deploy) reached) and
    409 NodeLocked are retried with backoff.
  - With O(network), each node gets its addresses from the routed provisioning network -
    a Neutron port per PXE NIC (by MAC, named after the node) on the subnet of the segment
    whose physical network is the NIC's C(physical_network) (the rack's segment); the
    config drive's C(network_data) carries its fixed IP, the subnet's gateway, DNS servers and
    host routes (the routes to the other racks via the local leaf). Re-runs reuse the same
    ports; nodes made or found C(available) have them released. A node whose rack has no segment on the network fails
    with a message naming the rack and the network.
  - VIFs, the way Nova and metalsmith deploy - each of those ports is attached to the node as a VIF
    (C(POST /v1/nodes/<node>/vifs)) before its deploy, on the Ironic port or port group it belongs to.
    A bonded node (a port group with a PXE member) gets one port and one VIF on its port group, so the
    leaf pair programs a LAG, and its C(network_data) carries a bond over the members. VIFs are kept on
    re-runs and rebuilds (a node keeps its addresses); an active node left as it is gets a missing VIF
    attached (action V(updated)); nodes made or found C(available) have their VIFs detached and their
    ports deleted. Nodes on the C(noop) network interface get no VIF (Ironic records none there).
    O(attach_vifs=false) turns attachment off.
  - Role networks (O(role_networks)) - a node given with a C(role) gets a VIF on each network whose
    C(roles) list its role, on a free port or port group of the node (one that carries no other
    VIF; the PXE NIC carries the provisioning network), a Neutron port on the rack's segment of that
    network; the switch driver programs the network's VLAN on that NIC's leaf port. Ironic's
    C(neutron) network interface takes one VIF per port or port group, so a node with no free one
    (a single bond over every NIC) fails with a message saying so. A changed role moves an C(active)
    node's role networks with no re-image - the VIFs of networks its new role does not have are
    detached and their ports deleted, the new ones attached (action V(networks_moved)). Nodes made
    available release their role-network ports too.
  - Secrets never reach the output - O(config_drive.user_data) is C(no_log), and values of
    C(instance_info) or config-drive keys named like passwords, tokens or keys are masked.
  - The module fails at the end when any node failed, after reporting every node.
extends_documentation_fragment:
  - spineleaf.baremetal.openstack
  - spineleaf.baremetal.attributes
  - spineleaf.baremetal.shared_poll
options:
  nodes:
    description:
      - Nodes by name or UUID, or dicts with C(name) and per-node overrides of O(image),
        O(instance_info) (merged over the module's), O(instance_traits) and O(config_drive).
      - A dict's C(role) (the inventory's C(node_role)) selects its O(role_networks); a node given
        without C(role) keeps the role-network VIFs it has, one with C(role=null) gets none.
    type: list
    elements: raw
    required: true
  state:
    description:
      - V(active) deploys (or rebuilds) the image; V(available) makes C(manageable) nodes
        available and, with O(undeploy=true) only, undeploys active nodes (with cleaning when
        Ironic is configured for it).
    type: str
    choices: [active, available]
    default: active
  image:
    description:
      - The image to deploy. Required with O(state=active) unless every node gives its own.
    type: dict
    suboptions:
      source:
        description: C(image_source) - a Glance image ID or an HTTP(S) / file URL.
        type: str
      checksum:
        description: C(image_checksum) (an MD5 or a URL to a checksum file).
        type: str
      os_hash_algo:
        description: C(image_os_hash_algo), for example C(sha256).
        type: str
      os_hash_value:
        description: C(image_os_hash_value), the hash in O(image.os_hash_algo).
        type: str
      type:
        description: C(image_type) (C(whole-disk) or C(partition)).
        type: str
      kernel:
        description: Kernel of a partition image.
        type: str
      ramdisk:
        description: Ramdisk of a partition image.
        type: str
  instance_info:
    description:
      - More C(instance_info) keys (for example C(root_gb), C(capabilities)), merged into the
        node's. Values of keys named like passwords or tokens are never shown.
    type: dict
    default: {}
  instance_traits:
    description:
      - The deploy-template traits to deploy (and rebuild) with, set as C(instance_info.traits)
        before the deploy or rebuild starts. Ironic runs the deploy steps of every deploy
        template (M(spineleaf.baremetal.ironic_deploy_template)) named by one of them; each must
        also be a trait of the node (the C(tag) role gives a node the templates of its role).
      - A node given as a dict may carry its own C(instance_traits). An empty list clears them;
        unset leaves C(instance_info.traits) as it is.
      - A change of instance traits alone does not rebuild an active node; it takes effect at the
        next deploy or rebuild.
    type: list
    elements: str
  config_drive:
    description:
      - Config drive contents; Ironic builds the ISO. Sent with deploy and rebuild only.
    type: dict
    suboptions:
      meta_data:
        description: Meta data (C(hostname), C(public_keys), ...).
        type: dict
      user_data:
        description: User data (cloud-init). Never shown.
        type: raw
      network_data:
        description: Network data; when not given and O(network) is set it is built from Neutron.
        type: dict
  undeploy:
    description:
      - With O(state=available), undeploy nodes that are C(active) (or C(deploy failed)). Off by
        default - an active node is then reported C(unchanged) and left running.
    type: bool
    default: false
  network:
    description:
      - Name (or ID) of the routed provisioning network whose rack segments give the nodes their
        addresses. Unset - no Neutron port is made and no C(network_data) generated.
    type: str
  attach_vifs:
    description:
      - Attach each node's ports on O(network) to it as VIFs before deploy (see the description).
      - V(false) only makes the ports for the config drive, as before VIFs were attached. On a
        C(flat) or C(neutron) network interface Ironic then fails the deploy with
        C(No VIFs found for node ...) (a negative control).
    type: bool
    default: true
  role_networks:
    description:
      - Networks that nodes get by role, each C({name, roles}) - the site's C(routed_networks) can be
        given as they are (entries without C(roles), the provisioning network among them, are ignored).
      - Each network needs a segment with a subnet on every rack it serves (role
        spineleaf.baremetal.routed_networks builds them). Needs O(network) and O(attach_vifs).
      - The node ports the module made on these networks (named after the node) are its own - on a
        network a node's role no longer lists they are detached and deleted.
    type: list
    elements: dict
  rebuild:
    description:
      - V(auto) rebuilds an active node whose image (source and checksum) differs from the
        request; V(always) rebuilds every active node; V(never) leaves active nodes alone.
    type: str
    choices: [auto, always, never]
    default: auto
  concurrency:
    description: How many nodes are provisioned at the same time (a sliding window).
    type: int
    default: 16
  max_failures:
    description:
      - Once more than this many nodes failed no new node is started (nodes in flight finish);
        the others are reported as C(skipped). Unset - no limit.
    type: int
  retries:
    description: How many more times a node whose deployment failed is deployed again.
    type: int
    default: 1
  timeout:
    description: Seconds one node may take from its first action to its end state.
    type: int
    default: 3600
  poll_interval:
    description: Seconds between two polls of the nodes in flight (one list call per poll, or one GET per node for a few).
    type: float
    default: 0.5
  progress_file:
    description:
      - Write the progress there as JSON C({rack, total, done, failed, in_progress}) after every poll
        round (C(done) - nodes that reached the requested state, unchanged ones included), for
        the role's progress lines while the task runs asynchronously.
    type: path
  progress_label:
    description: The C(rack) written in O(progress_file).
    type: str
    default: '-'
author:
  - Spineleaf Baremetal Team (@spineleaf)
'''

EXAMPLES = r'''
- name: Deploy rack r01 with the site image, 8 nodes at a time, addresses from the routed network
  spineleaf.baremetal.ironic_provision:
    cloud: spineleaf-lab
    nodes: "{{ groups['rack_r01'] }}"
    image:
      source: http://images.example.com/ubuntu-24.04.qcow2
      os_hash_algo: sha256
      os_hash_value: 9f0c3a...
    network: ctlplane
    config_drive:
      meta_data:
        public_keys: {ops: "ssh-ed25519 AAAA... ops"}
    concurrency: 8
    max_failures: 2

- name: Deploy with a storage VLAN for storage nodes (its own NIC), moved when a node's role changes
  spineleaf.baremetal.ironic_provision:
    nodes:
      - {name: r01-n01, role: controller}
      - {name: r01-n04, role: storage}    # gets a VIF on storage too, on its second NIC
    image: {source: http://images.example.com/ubuntu-24.04.qcow2}
    network: ctlplane
    role_networks: [{name: storage, roles: [storage]}]

- name: Re-image one node with another image (rebuild), keeping its disk layout hint
  spineleaf.baremetal.ironic_provision:
    nodes:
      - name: r02-n03
        image: {source: http://images.example.com/ubuntu-24.04.1.qcow2, checksum: 5d41402abc4b2a76b9719d911017c592}
        instance_info: {root_gb: 100}

- name: Make manageable nodes available (provide); active nodes are left alone
  spineleaf.baremetal.ironic_provision:
    nodes: [r01-n01, r01-n02]
    state: available

- name: Undeploy two nodes and release their addresses
  spineleaf.baremetal.ironic_provision:
    nodes: [r01-n03, r01-n04]
    state: available
    undeploy: true
    network: ctlplane
'''

RETURN = r'''
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
    name:
      description: Node name (or the requested key when the node was not found).
      type: str
      sample: r01-n01
    uuid:
      description: Node UUID.
      type: str
    action:
      description:
        - What happened (in check mode, what would happen).
        - V(updated) - an active node left as it is got its missing VIFs on O(network) attached.
        - V(networks_moved) - an active node's role networks changed (its role did) - VIFs detached and
          attached, no re-image.
      type: str
      choices: [deployed, rebuilt, undeployed, provided, updated, networks_moved, unchanged, failed, skipped]
    provision_state:
      description: The node's provision state at the end.
      type: str
      sample: active
    duration:
      description: Seconds from the node's first action to its end (0 when nothing was done).
      type: float
    last_error:
      description: Ironic's C(last_error) of the node when it failed.
      type: str
    msg:
      description: Why it failed, was skipped or left unchanged; null otherwise.
      type: str
    image:
      description: C(image_source) before and after.
      type: dict
      sample: {before: http://img/a.qcow2, after: http://img/b.qcow2}
    addresses:
      description: Fixed IPs of the node's ports on O(network) (deploy and rebuild).
      type: list
      elements: str
    vifs:
      description:
        - The node's VIFs on O(network) - one per port group with a PXE member (a bond) and one per
          PXE port outside any group (deploy, rebuild, and active nodes left as they are).
        - In check mode a port still to be created has C(port) and C(ip_address) null.
        - A VIF on one of O(role_networks) carries C(network), its name.
      type: list
      elements: dict
      returned: with O(network)
      sample: [{mac: '52:54:00:03:01:01', 'on': port group r03-n01-bond0, port: 5c1e..., ip_address: 10.10.3.12, attached: true}]
    network_changes:
      description: >-
        What was done (in check mode, what would be done) on O(network) - ports created or deleted,
        VIFs attached or detached; empty when the node's network was already as wanted.
      type: list
      elements: str
      returned: with O(network)
      sample: ['create port 52:54:00:01:01:01 on subnet ctlplane-r01', 'attach VIF (new port) to port 52:54:00:01:01:01']
summary:
  description: How many nodes ended with each action.
  returned: always
  type: dict
  sample: {deployed: 10, unchanged: 2, failed: 0}
failed_nodes:
  description: Names of the nodes that failed.
  returned: always
  type: list
  elements: str
api_writes:
  description: Write calls made to Ironic and Neutron (0 in check mode and when nothing was to do).
  returned: always
  type: int
elapsed:
  description: Seconds the whole task took.
  returned: always
  type: float
'''

import copy
import time

from ..module_utils._base import BaremetalError, BaremetalModule
from ..module_utils._ironic import IronicAdapter
from ..module_utils._poll_share import SHARED_POLL_SPEC, PollShare
from ..module_utils._neutron import Neutron
from ..module_utils._prepare_ahead import PrepareAhead
from ..module_utils._rack_progress import progress_writer
from ..module_utils._util import DifferenceTracker
from ..module_utils import _provision as prov
from ..module_utils import _vifs as vifs
from ..module_utils import _tenant_networks as tenant

IMAGE_SPEC = dict(source=dict(type='str'), checksum=dict(type='str'), os_hash_algo=dict(type='str'),
                  os_hash_value=dict(type='str'), type=dict(type='str'), kernel=dict(type='str'),
                  ramdisk=dict(type='str'))
NODE_KEYS = frozenset(['name', 'image', 'instance_info', 'config_drive', 'instance_traits', 'role'])
# A changed role moved an active node's role-network VIFs (no re-image): a change like the others.
CHANGING = prov.CHANGING_ACTIONS | frozenset(['networks_moved'])


class IronicProvisionModule(BaremetalModule):
    argument_spec = dict(
        nodes=dict(type='list', elements='raw', required=True),
        state=dict(type='str', choices=['active', 'available'], default='active'),
        image=dict(type='dict', options=IMAGE_SPEC),
        instance_info=dict(type='dict', default={}),
        instance_traits=dict(type='list', elements='str'),
        config_drive=dict(type='dict', options=dict(meta_data=dict(type='dict'),
                                                    user_data=dict(type='raw', no_log=True),
                                                    network_data=dict(type='dict'))),
        network=dict(type='str'),
        attach_vifs=dict(type='bool', default=True),
        role_networks=dict(type='list', elements='dict'),
        undeploy=dict(type='bool', default=False),
        rebuild=dict(type='str', choices=['auto', 'always', 'never'], default='auto'),
        concurrency=dict(type='int', default=16),
        max_failures=dict(type='int'),
        retries=dict(type='int', default=1),
        timeout=dict(type='int', default=3600),
        poll_interval=dict(type='float', default=0.5),
        progress_file=dict(type='path'),
        **SHARED_POLL_SPEC,
        progress_label=dict(type='str', default='-'),
    )

    # ------------------------------------------------------------ validation
    def _hide(self, data):
        """Register secret-looking values (and per-node user data) so Ansible masks them anywhere."""
        for value in prov.secret_values(data):
            self.ansible.no_log_values.add(value)

    def requests(self):
        """Per-node requests with the full wanted instance_info; every problem at once."""
        p = self.params
        errors = []
        out = []
        base_image = dict((k, v) for k, v in (p['image'] or {}).items() if v is not None)
        base_drive = dict((k, v) for k, v in (p['config_drive'] or {}).items() if v is not None)
        self._hide(p['instance_info'])
        self._hide(base_drive)
        for i, raw in enumerate(p['nodes']):
            if isinstance(raw, dict):
                unknown = sorted(set(raw) - NODE_KEYS)
                if not raw.get('name'):
                    errors.append('nodes[%d]: a node given as a dict needs a name' % i)
                    continue
                if unknown:
                    errors.append('node %s: unknown keys %s (allowed: %s)' % (
                        raw['name'], ', '.join(unknown), ', '.join(sorted(NODE_KEYS))))
                spec = raw
            elif isinstance(raw, (str, int)) and str(raw):
                spec = dict(name=str(raw))
            else:
                errors.append('nodes[%d]: expected a node name or a dict, got %r' % (i, raw))
                continue
            image = dict(base_image, **(spec.get('image') or {}))
            drive = dict(base_drive, **(spec.get('config_drive') or {}))
            if 'user_data' in (spec.get('config_drive') or {}) and spec['config_drive']['user_data']:
                self.ansible.no_log_values.add(str(spec['config_drive']['user_data']))
            self._hide(spec.get('instance_info'))
            self._hide(spec.get('config_drive'))
            wanted = dict(p['instance_info'], **(spec.get('instance_info') or {}))
            wanted.update(prov.image_instance_info(image))
            traits = spec.get('instance_traits', p['instance_traits'])
            if traits is not None:  # the deploy templates this node is deployed with (#26)
                wanted['traits'], problems = prov.instance_traits(traits)
                errors.extend('node %s: instance_traits: %s' % (spec['name'], problem) for problem in problems)
            if p['state'] == 'active' and not wanted.get('image_source'):
                errors.append('node %s: no image source: set image.source (for all nodes or this one)' % spec['name'])
            req = dict(key=str(spec['name']), instance_info=wanted, config_drive=drive or None, state=p['state'])
            if 'role' in spec:  # a node given without a role keeps whatever role-network VIFs it has
                req['role'] = None if spec['role'] in (None, '') else str(spec['role'])
            out.append(req)
        if p['concurrency'] < 1:
            errors.append('concurrency must be at least 1, got %s' % p['concurrency'])
        if p['retries'] < 0:
            errors.append('retries cannot be negative, got %s' % p['retries'])
        if p['max_failures'] is not None and p['max_failures'] < 0:
            errors.append('max_failures cannot be negative, got %s' % p['max_failures'])
        if errors:
            raise BaremetalError('invalid request, nothing was changed (%d problem(s)): %s' % (len(errors), '; '.join(errors)))
        return out

    # ------------------------------------------------------------ neutron
    def network_context(self, ironic):
        """Everything the per-node network work needs, read once in a few list calls: the network,
        rack subnets by physical network, Ironic's ports and port groups (with the VIFs Ironic
        recorded on them) and the network's Neutron ports by name (a node's own ports)."""
        neutron = Neutron(self.conn)
        net = neutron.find_network(self.params['network'])
        if net is None:
            raise BaremetalError('network %s: not found in Neutron; create the routed provisioning network first '
                                 '(role spineleaf.baremetal.routed_networks)' % self.params['network'])
        subnets = prov.segment_subnets(neutron.segments(net['id']), neutron.subnets(net['id']))
        by_name = {}
        for port in neutron.network_ports(net['id']):
            by_name.setdefault(port['name'], []).append(port)
        ctx = dict(neutron=neutron, network=net, subnets=subnets, ports=ironic.list_raw('ports'),
                   portgroups=ironic.list_raw('portgroups'), by_name=by_name)
        ctx.update(self.tenant_context(neutron))
        return ctx

    # ------------------------------------------------------------ role networks (_tenant_networks)
    def tenant_context(self, neutron):
        """O(role_networks) read once: ``role_networks`` (name -> roles) and ``tenant`` (name ->
        ``{network, subnets, by_name}``, as the provisioning network's context)."""
        networks = tenant.role_networks(self.params['role_networks'])  # PlanError: the module fails, no write
        out = {}
        for name in sorted(networks):
            net = neutron.find_network(name)
            if net is None:
                raise BaremetalError('network %s (role_networks, roles %s): not found in Neutron; create it first '
                                     '(role spineleaf.baremetal.routed_networks)' % (name, ', '.join(networks[name])))
            by_name = {}
            for port in neutron.network_ports(net['id']):
                by_name.setdefault(port['name'], []).append(port)
            out[name] = dict(network=net, subnets=prov.segment_subnets(neutron.segments(net['id']),
                                                                       neutron.subnets(net['id'])), by_name=by_name)
        return dict(role_networks=networks, tenant=out)

    def tenant_plan(self, ctx, item):
        """The node's role-network plan (``_tenant_networks.plan_node``), or None: no O(role_networks),
        the node given without a C(role), or VIFs not attached to it."""
        if not ctx.get('role_networks') or 'role' not in item['request'] or not self.attaches_vifs(item['node']):
            return None
        uuid = item['uuid']
        taken = set(p['uuid'] for p in vifs.attach_points(item['name'], uuid, ctx['ports'], ctx['portgroups']))
        points = tenant.free_points(uuid, ctx['ports'], ctx['portgroups'], taken)
        contexts = dict((name, dict(subnets=c['subnets'], ports=c['by_name'].get(item['name'], [])))
                        for name, c in ctx['tenant'].items())
        return tenant.plan_node(item['name'], item['request']['role'], ctx['role_networks'], contexts, points,
                                vifs.node_vifs(uuid, ctx['ports'], ctx['portgroups']),
                                rack=(item['node'].get('extra') or {}).get('rack'))

    def apply_tenant_plan(self, ironic, ctx, item, plan):
        """Carry out a role-network plan (detach, delete, create, attach); return ``[(link, port)]``."""
        return self.apply_vif_plan(ironic, ctx, item, plan,
                                   network_id=lambda link: ctx['tenant'][link['network']]['network']['id'])

    @staticmethod
    def tenant_entry(entry, plan, links=None):
        """Add a role-network plan to a node's result: its VIFs (with ``network``) and changes."""
        if plan is None:
            return
        for link, port in links or [(link, link['port']) for link in plan['links']]:
            ips = [f['ip_address'] for f in (port or {}).get('fixed_ips') or []
                   if f.get('subnet_id') == link['subnet']['id']]
            entry.setdefault('vifs', []).append(dict(
                mac=link['point']['mac'], on=link['point']['label'], port=(port or {}).get('id'),
                ip_address=ips[0] if ips else None, network=link['network'],
                attached=link['attach'] or bool(port and link['point'].get('vif') == port['id'])))
        entry['network_changes'] = list(entry.get('network_changes') or []) + list(plan['changes'])

    def attaches_vifs(self, node):
        """Whether VIFs are attached to this node: O(attach_vifs), and a network interface that
        keeps them (C(noop) records none, so attaching there would repeat on every run)."""
        return self.params['attach_vifs'] and (node.get('network_interface') or 'noop') != 'noop'

    def vif_plan(self, ctx, item):
        """The node's network plan (``_vifs.plan_node``) from the context's lists."""
        node = item['node']
        points = vifs.attach_points(item['name'], item['uuid'], ctx['ports'], ctx['portgroups'])
        return vifs.plan_node(item['name'], points, ctx['by_name'].get(item['name'], []), ctx['subnets'],
                              ctx['network']['name'], rack=(node.get('extra') or {}).get('rack'),
                              attach=self.attaches_vifs(node),
                              attached=vifs.node_vifs(item['uuid'], ctx['ports'], ctx['portgroups']))

    def apply_vif_plan(self, ironic, ctx, item, plan, network_id=None):
        """Carry out a node's network plan - detach, delete, create, attach, in that order (a
        replaced port frees its MAC first) - and return its config-drive links ``[(link, port)]``.
        ``network_id(link)``: the network of a port to create (default: the provisioning network)."""
        neutron, name, uuid = ctx['neutron'], item['name'], item['uuid']
        network_id = network_id or (lambda link: ctx['network']['id'])
        for vif in plan['detach']:
            ironic.detach_vif(uuid, vif)
        for port_id in plan['delete']:
            neutron.delete_port(port_id, name)
        links = []
        for link in plan['links']:
            port = link['port']
            if port is None:
                port = neutron.create_node_port(network_id(link), name, link['point']['mac'], link['subnet']['id'])
            if link['attach']:
                point = link['point']
                ironic.attach_vif(uuid, port['id'], **{'%s_uuid' % point['kind']: point['uuid']})
            links.append((link, port))
        return links

    def network_entry(self, plan, links=None):
        """The per-node result keys of the network work: ``vifs`` and ``network_changes``."""
        out = []
        for link, port in links or [(link, link['port']) for link in plan['links']]:
            ips = [f['ip_address'] for f in (port or {}).get('fixed_ips') or []
                   if f.get('subnet_id') == link['subnet']['id']]
            out.append(dict(mac=link['point']['mac'], on=link['point']['label'], port=(port or {}).get('id'),
                            ip_address=ips[0] if ips else None, attached=link['attach'] or bool(
                                port and link['point'].get('vif') == port['id'])))
        return dict(vifs=out, network_changes=list(plan['changes']))

    def release(self, ironic, ctx, item, results):
        """A node made (or found) available: its VIFs on the network detached, its ports deleted."""
        plan = vifs.plan_release(item['uuid'], ctx['ports'], ctx['portgroups'], ctx['by_name'].get(item['name'], []))
        if ctx.get('tenant'):  # and its ports on the role networks
            extra = tenant.plan_release(item['uuid'], ctx['ports'], ctx['portgroups'], dict(
                (name, dict(ports=c['by_name'].get(item['name'], []))) for name, c in ctx['tenant'].items()))
            plan = dict((key, plan[key] + extra[key]) for key in ('detach', 'delete', 'changes'))
        entry = results[item['uuid']]
        entry['network_changes'] = plan['changes']
        if self.check_mode or not plan['changes']:
            return
        try:
            for vif in plan['detach']:
                ironic.detach_vif(item['uuid'], vif)
            for port_id in plan['delete']:
                ctx['neutron'].delete_port(port_id, item['name'])
        except Exception as exc:  # per node: reported, the others go on
            entry.update(action='failed', msg='node %s: releasing its network ports failed: %s' % (
                item['name'], getattr(exc, 'details', None) or exc))

    def converge_active(self, ironic, ctx, item, results):
        """An active node left as it is still gets its VIFs (a node deployed before VIFs were attached,
        or whose VIF was detached): attaching to an active node binds it, the switch is programmed."""
        entry = results[item['uuid']]
        try:
            plan = self.vif_plan(ctx, item)
            moves = self.tenant_plan(ctx, item)  # a changed role: its role networks move, no re-image
            if not plan['changes'] and not (moves and moves['changes']):
                entry.update(self.network_entry(plan))
                self.tenant_entry(entry, moves)
                return
            links = None if self.check_mode else self.apply_vif_plan(ironic, ctx, item, plan)
            moved = None if self.check_mode or moves is None else self.apply_tenant_plan(ironic, ctx, item, moves)
        except Exception as exc:  # per node: reported, the others go on
            entry.update(action='failed', msg='node %s: %s' % (item['name'], getattr(exc, 'details', None) or exc))
            return
        entry.update(self.network_entry(plan, links), action='networks_moved' if moves and moves['changes'] else 'updated')
        self.tenant_entry(entry, moves, moved)
        entry['msg'] = 'VIFs: %s' % '; '.join(entry['network_changes'])

    # ------------------------------------------------------------ run
    def run(self):
        start = time.monotonic()
        p = self.params
        requests = self.requests()
        ironic = IronicAdapter(self.conn, concurrency=p['concurrency'], poll_share=PollShare.open(p['shared_poll_dir']))
        planned = prov.plan(requests, ironic.list_raw('nodes'), p['state'], p['rebuild'],
                            p['undeploy'])
        ctx = self.network_context(ironic) if p['network'] else None

        results = {}
        to_run = []
        for item in planned:
            before = (item['node'] or {}).get('instance_info') or {}
            entry = dict(name=item['name'], uuid=item['uuid'], action=prov.planned_action(item),
                         provision_state=(item['node'] or {}).get('provision_state'), duration=0.0,
                         last_error=(item['node'] or {}).get('last_error') if item['op'] == 'fail' else None,
                         msg=item['msg'],
                         image=dict(before=before.get('image_source'),
                                    after=item['request']['instance_info'].get('image_source')
                                    if p['state'] == 'active' and item['op'] not in ('fail', 'unchanged')
                                    else before.get('image_source') if p['state'] == 'active' else None))
            results[item['uuid'] or item['name']] = entry
            if ctx is not None and item['op'] in ('deploy', 'rebuild') and self.check_mode:
                self.plan_only(ctx, item, entry)
            if item['op'] in ('fail', 'unchanged') or self.check_mode:
                continue
            to_run.append(dict(item, result=entry['action']))

        if ctx is not None and p['state'] == 'available':
            for item in planned:
                if item['op'] in ('undeploy', 'provide') or (item['op'] == 'unchanged'
                                                             and item['node']['provision_state'] == 'available'):
                    self.release(ironic, ctx, item, results)
        if ctx is not None and p['state'] == 'active':
            for item in planned:
                if item['op'] == 'unchanged' and item['node'].get('provision_state') == 'active' \
                        and self.attaches_vifs(item['node']):  # and its role networks (tenant_plan)
                    self.converge_active(ironic, ctx, item, results)

        progress = self.progress(planned, results)
        if to_run:
            # the next nodes' instance_info, ports and VIF attaches run ahead of the window, in threads
            ahead = PrepareAhead(lambda item: self.prepare(ironic, ctx, item, results), to_run, p['concurrency'])
            runner = prov.Runner(ironic, concurrency=p['concurrency'], timeout=p['timeout'], retries=p['retries'],
                                 max_failures=p['max_failures'], poll=p['poll_interval'], progress=progress,
                                 prepare=ahead)
            try:
                done = runner.run(to_run)
            finally:
                ahead.close()
            for rec in done:
                results[rec['uuid']].update(action=rec['action'], provision_state=rec['provision_state'],
                                            duration=rec['duration'], msg=rec['msg'], last_error=rec.get('last_error'))
        if progress:
            progress(self.runner_counts(to_run, results))
        self.report(planned, results, ironic, ctx, start)

    @staticmethod
    def runner_counts(to_run, results):
        """The last progress counts, of the nodes the runner ran only: ``progress`` adds the
        unchanged and refused nodes it never sees (counting them here too made a no-change re-run
        read "36/18 deployed")."""
        ran = [results[item['uuid'] or item['name']] for item in to_run]
        return dict(done=sum(1 for e in ran if e['action'] != 'skipped'),
                    failed=sum(1 for e in ran if e['action'] == 'failed'), in_flight=0)

    def progress(self, planned, results):
        """The Runner's ``progress(counts)`` as a writer of O(progress_file) (rack counts), or None."""
        # a write error of the file warns (the module's warn), never aborts the deployments
        write = progress_writer(self.params['progress_file'], warn=getattr(self, 'warn', None),
                                rack=self.params['progress_label'])
        if write is None:
            return None
        total = len(planned)
        # Nodes the runner never sees: unchanged (done already) and refused (failed) ones.
        settled = sum(1 for item in planned if item['op'] == 'unchanged')
        refused = sum(1 for item in planned if item['op'] == 'fail')

        def report(counts):
            failed = refused + counts.get('failed', 0)
            finished = counts.get('done', 0) - counts.get('failed', 0)
            write(dict(total=total, done=settled + max(0, finished), failed=failed, in_progress=counts.get('in_flight', 0)))
        report(dict(done=0, failed=0, in_flight=0))
        return report

    def prepare(self, ironic, ctx, item, results):
        """Before a node's first step: its instance_info (image_source always), its addresses."""
        if item['op'] not in ('deploy', 'rebuild'):
            return None
        wanted = item['request']['instance_info']
        ops = prov.instance_info_patch(item['node'].get('instance_info'), wanted)
        if ops:
            ironic.patch_node(item['uuid'], ops)
        drive = copy.deepcopy(item['request'].get('config_drive')) or {}
        if ctx is not None:
            plan = self.vif_plan(ctx, item)
            links = self.apply_vif_plan(ironic, ctx, item, plan)
            records = [vifs.link_record(link, port, ctx['network']) for link, port in links]
            results[item['uuid']]['addresses'] = [r['ip_address'] for r in records]
            results[item['uuid']].update(self.network_entry(plan, links))
            moves = self.tenant_plan(ctx, item)
            if moves is not None:  # role networks: attached before deploy, in network_data without a default route
                role_links = self.apply_tenant_plan(ironic, ctx, item, moves)
                self.tenant_entry(results[item['uuid']], moves, role_links)
                records += [tenant.link_record(link, port, ctx['tenant'][link['network']]['network'])
                            for link, port in role_links]
            drive.setdefault('network_data', prov.network_data(records))
        return drive or None

    def plan_only(self, ctx, item, entry):
        """Check mode: the network work a deploy or rebuild would do, reported, nothing written."""
        try:
            plan = self.vif_plan(ctx, item)
            moves = self.tenant_plan(ctx, item)
        except BaremetalError as exc:
            entry.update(action='failed', msg=str(exc))
            return
        entry.update(self.network_entry(plan))
        self.tenant_entry(entry, moves)
        entry['addresses'] = [v['ip_address'] for v in entry['vifs'] if v['ip_address']]

    def report(self, planned, results, ironic, ctx, start):
        ordered = [results[item['uuid'] or item['name']] for item in planned]
        writes = ironic.writes + (ctx['neutron'].writes if ctx else 0)
        tracker = DifferenceTracker()
        for e in ordered:
            if e['action'] == 'failed' and e.get('last_error') and e['last_error'] not in (e['msg'] or ''):
                e['msg'] = '%s (last_error: %s)' % (e['msg'] or 'failed', e['last_error'])  # the reason, in one line
            if e['action'] in CHANGING or e.get('network_changes'):
                after = dict(image=e['image']['after'], action=e['action'])
                if e.get('network_changes'):
                    after['network_changes'] = e['network_changes']
                    if e['action'] not in ('failed',):
                        e['changed'] = True  # planned or made network changes alone are a change
                tracker.add(e['name'], dict(image=e['image']['before']), after,
                            changes=[e['action']] + (['network'] if e.get('network_changes') else []))
        self.report_nodes(ordered, 'provisioning', changing=CHANGING, tracker=tracker,
                          changed=tracker.changed or writes > 0,
                          failed_nodes=[e['name'] for e in ordered if e['action'] == 'failed'], api_writes=writes,
                          elapsed=round(time.monotonic() - start, 3))


def main():
    IronicProvisionModule()()


if __name__ == '__main__':
    main()
