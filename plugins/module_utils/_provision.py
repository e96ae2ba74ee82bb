# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""Provisioning (deploy / rebuild / undeploy) of many nodes.

Pure planning (what each node needs: deploy, rebuild, undeploy, provide, wait, unchanged or a
refusal naming the node), the config-drive ``network_data`` built from Neutron ports and subnets,
and a runner that drives the planned nodes through their steps on the one sliding window
(``_window``). I/O happens only through the adapter given to the runner (``_ironic.IronicAdapter``).
"""

from __future__ import annotations

import time

# Keys of instance_info / config drive values that are secrets whatever the user marks: the one
# rule of _secrets (is_secret_key / secret_values are importable from here, as ironic_provision does).
from ._secrets import is_secret_key, secret_values  # pylint: disable=unused-import
from ._states import DEPLOY_STATES, FAILURE_STATES, UNDEPLOY_FROM
from ._traits import trait_error
from ._util import json_pointer, node_index
from ._window import Step, Window

try:
    import netaddr
except ImportError:  # pragma: no cover - the module reports the missing library
    netaddr = None

# Image fields: option name -> Ironic instance_info key.
IMAGE_KEYS = (('source', 'image_source'), ('checksum', 'image_checksum'),
              ('os_hash_algo', 'image_os_hash_algo'), ('os_hash_value', 'image_os_hash_value'),
              ('type', 'image_type'), ('kernel', 'kernel'), ('ramdisk', 'ramdisk'))

CHANGING_ACTIONS = frozenset(['deployed', 'rebuilt', 'undeployed', 'provided', 'updated'])


def image_instance_info(image):
    """The instance_info keys of an ``image`` option (``source``, ``checksum`` ...), None dropped."""
    image = image or {}
    return dict((key, image[opt]) for opt, key in IMAGE_KEYS if image.get(opt) not in (None, ''))


def image_identity(instance_info):
    """``(image_source, checksum)`` of an instance_info; the checksum is ``image_checksum`` or
    ``image_os_hash_value`` (what decides whether two deployments carry the same image)."""
    info = instance_info or {}
    return info.get('image_source'), info.get('image_checksum') or info.get('image_os_hash_value')


def same_image(current_info, wanted_info):
    """True when the node's current instance_info carries the wanted image (source, and the
    checksum when the request has one)."""
    cur_source, cur_sum = image_identity(current_info)
    want_source, want_sum = image_identity(wanted_info)
    if cur_source != want_source:
        return False
    return want_sum is None or cur_sum == want_sum


def instance_info_patch(current_info, wanted_info):
    """JSON-patch ops that set ``wanted_info`` keys differing from ``current_info`` (merge)."""
    ops = []
    current_info = current_info or {}
    for key in sorted(wanted_info):
        if current_info.get(key) != wanted_info[key]:
            ops.append({'op': 'add', 'path': '/instance_info/%s' % json_pointer(key),
                        'value': wanted_info[key]})
    return ops


def instance_traits(traits):
    """``instance_info.traits`` for a deploy or rebuild: the deploy-template traits the node is
    deployed with (Ironic runs the steps of the deploy templates so named, and requires each to be
    a trait of the node too). Returns ``(sorted unique traits, [problems])``."""
    if not isinstance(traits, list):
        return [], ['instance_traits must be a list of traits, got %r' % (traits,)]
    problems = [trait_error(t) for t in traits if trait_error(t)]
    return sorted(set(t for t in traits if isinstance(t, str))), problems


def _refusal(name, node):
    """Why a node may not be provisioned at all (maintenance, retired), or None."""
    if node.get('maintenance'):
        return 'node %s: in maintenance (%s); take it out of maintenance to provision it' % (
            name, node.get('maintenance_reason') or 'no reason given')
    return None


def _plan_active(name, node, wanted, rebuild):
    state, target = node.get('provision_state'), node.get('target_provision_state')
    if node.get('retired'):
        return 'fail', [], 'node %s: retired; un-retire it to deploy it' % name
    if target and state not in FAILURE_STATES:
        if target == 'active' and state in DEPLOY_STATES and same_image(node.get('instance_info'), wanted):
            return 'wait', [], 'already deploying the requested image'
        return 'fail', [], 'node %s: busy (%s -> %s); wait until it settles' % (name, state, target)
    if state == 'available':
        return 'deploy', [('active', 'active')], None
    if state == 'manageable':
        return 'deploy', [('provide', 'available'), ('active', 'active')], None
    if state == 'deploy failed':
        return 'deploy', [('active', 'active')], 'retrying a failed deployment: %s' % (node.get('last_error') or '-')
    if state == 'active':
        same = same_image(node.get('instance_info'), wanted)
        if rebuild == 'always' or (rebuild == 'auto' and not same):
            if node.get('protected'):
                return 'fail', [], 'node %s: protected (%s); a protected node is never rebuilt: unset protected first' % (
                    name, node.get('protected_reason') or 'no reason given')
            return 'rebuild', [('rebuild', 'active')], None
        return 'unchanged', [], None if same else 'image differs but rebuild=never'
    return 'fail', [], 'node %s: cannot deploy from provision state %r%s' % (
        name, state, ': %s' % node['last_error'] if node.get('last_error') else '')


def _plan_available(name, node, undeploy):
    state, target = node.get('provision_state'), node.get('target_provision_state')
    if target and state not in FAILURE_STATES:
        if target == 'available' and state in ('cleaning', 'clean wait', 'deleting'):
            return 'wait', [], 'already being made available'
        return 'fail', [], 'node %s: busy (%s -> %s); wait until it settles' % (name, state, target)
    if state == 'available':
        return 'unchanged', [], None
    if state == 'manageable':
        return 'provide', [('provide', 'available')], None
    if state in UNDEPLOY_FROM:
        if not undeploy:
            # Undeploying wipes a running machine: only when asked for explicitly.
            return 'unchanged', [], 'left %s (undeploy=false)' % state
        if node.get('protected'):
            return 'fail', [], 'node %s: protected (%s); a protected node is never undeployed: unset protected first' % (
                name, node.get('protected_reason') or 'no reason given')
        return 'undeploy', [('deleted', 'available')], None
    return 'fail', [], 'node %s: cannot make available from provision state %r' % (name, state)


RESULT_OF = dict(deploy='deployed', rebuild='rebuilt', undeploy='undeployed', provide='provided', wait=None)


def plan(requests, nodes, state='active', rebuild='auto', undeploy=False):
    """Decide per requested node what to do.

    ``requests``: list of ``{key, instance_info}`` (``instance_info``: the full wanted
    instance_info, image keys included; ignored for ``state='available'``). ``nodes``: Ironic
    node dicts (API field names). Returns, in request order and without duplicates, dicts
    ``{name, uuid, op, steps, msg, node, request}``: ``op`` is deploy / rebuild / undeploy /
    provide / wait / unchanged / fail; ``steps`` the provision actions with the state each reaches.
    Active nodes are undeployed for ``state='available'`` only with ``undeploy=True``.
    """
    by_key = node_index(nodes)
    out = []
    seen = set()
    for req in requests:
        key = req['key']
        node = by_key.get(key)
        if node is None:
            out.append(dict(name=key, uuid=None, op='fail', steps=[], node=None, request=req,
                            msg='node %s: not found in Ironic (enroll it first)' % key))
            continue
        if node['uuid'] in seen:
            continue
        seen.add(node['uuid'])
        name = node.get('name') or node['uuid']
        refusal = _refusal(name, node)
        if refusal:
            op, steps, msg = 'fail', [], refusal
        elif state == 'active':
            op, steps, msg = _plan_active(name, node, req.get('instance_info') or {}, rebuild)
        else:
            op, steps, msg = _plan_available(name, node, undeploy)
        out.append(dict(name=name, uuid=node['uuid'], op=op, steps=steps, msg=msg, node=node, request=req))
    return out


def planned_action(item):
    """The result ``action`` a planned item reports before it runs (check mode) or when nothing runs."""
    if item['op'] == 'fail':
        return 'failed'
    if item['op'] == 'wait':
        wanted = item['request'].get('state', 'active')
        return 'deployed' if wanted == 'active' else 'undeployed'
    return RESULT_OF.get(item['op']) or 'unchanged'


# ------------------------------------------------------------------ network_data
def _mask(cidr):
    net = netaddr.IPNetwork(cidr)
    return str(net.netmask), net.version


def _route(cidr, gateway):
    net = netaddr.IPNetwork(cidr)
    return {'network': str(net.network), 'netmask': str(net.netmask), 'gateway': gateway}


def network_data(links):
    """A config-drive ``network_data.json`` document.

    ``links``: list of ``{mac, ip_address, subnet, network_id, mtu}`` where ``subnet`` is a Neutron
    subnet dict (``cidr``, ``gateway_ip``, ``dns_nameservers``, ``host_routes``). Each link gets
    its fixed IP, a default route via the subnet's gateway plus the subnet's host routes (the
    routes to the other racks via the local leaf), and the subnet's DNS servers as services.
    A link with ``bond: {mode, members: [macs]}`` (a port group) becomes one ``phy`` link per
    member plus a ``bond`` link over them that carries the address.
    """
    doc = {'links': [], 'networks': [], 'services': []}
    dns = []
    for i, link in enumerate(links):
        subnet = link['subnet']
        netmask, version = _mask(subnet['cidr'])
        link_id = _add_links(doc['links'], i, link)
        routes = []
        gateway = subnet.get('gateway_ip')
        if gateway:
            routes.append({'network': '0.0.0.0' if version == 4 else '::',
                           'netmask': '0.0.0.0' if version == 4 else '::', 'gateway': gateway})
        for hr in sorted(subnet.get('host_routes') or [], key=lambda r: (r.get('destination'), r.get('nexthop'))):
            routes.append(_route(hr['destination'], hr['nexthop']))
        doc['networks'].append({'id': 'network%d' % i, 'type': 'ipv%d' % version, 'link': link_id,
                                'ip_address': link['ip_address'], 'netmask': netmask, 'routes': routes,
                                'network_id': link.get('network_id')})
        for server in subnet.get('dns_nameservers') or []:
            if server not in dns:
                dns.append(server)
    doc['services'] = [{'type': 'dns', 'address': server} for server in dns]
    return doc


def _add_links(out, i, link):
    """Append the config-drive links of one address-carrying link; return the id that carries it."""
    bond = link.get('bond')
    if not bond:
        entry = {'id': 'port%d' % i, 'type': 'phy', 'ethernet_mac_address': link['mac']}
        if link.get('mtu'):
            entry['mtu'] = link['mtu']
        out.append(entry)
        return entry['id']
    member_ids = []
    for j, mac in enumerate(bond['members']):
        member = {'id': 'port%d-%d' % (i, j), 'type': 'phy', 'ethernet_mac_address': mac}
        if link.get('mtu'):
            member['mtu'] = link['mtu']
        out.append(member)
        member_ids.append(member['id'])
    entry = {'id': 'bond%d' % i, 'type': 'bond', 'bond_links': member_ids,
             'bond_mode': bond.get('mode') or 'active-backup', 'ethernet_mac_address': link['mac']}
    if link.get('mtu'):
        entry['mtu'] = link['mtu']
    out.append(entry)
    return entry['id']


def segment_subnets(segments, subnets):
    """physical_network -> the subnet on that network's segment for it (the rack's subnet).
    The first subnet of the family with the lowest version wins when a segment has several."""
    seg_by_physnet = dict((s['physical_network'], s) for s in segments if s.get('physical_network'))
    out = {}
    for physnet, seg in seg_by_physnet.items():
        subs = sorted((s for s in subnets if s.get('segment_id') == seg['id']),
                      key=lambda s: (s.get('ip_version') or 4, s.get('name') or '', s['id']))
        if subs:
            out[physnet] = dict(subs[0], segment_name=seg.get('name'))
    return out


# ------------------------------------------------------------------ runner
def provision_step(action, reach):
    """The ``Step`` of one planned provision action (``('active', 'active')``...): done when the
    node rests in ``reach``; failed in a failure state (Ironic keeps the target there). ``action``
    None: nothing to send, the node is already on its way to ``reach``."""
    return Step(action, done=(reach,), failed=FAILURE_STATES, what='provisioning')


class Runner(Window):
    """Drive planned nodes through their provision steps on the sliding window; ``run(items)``
    returns per-node records.

    At most ``concurrency`` nodes in flight, a new one starts as soon as one finishes. Once more
    than ``max_failures`` nodes failed no new node starts (nodes in flight finish). A node that
    lands in ``deploy failed`` is tried again up to ``retries`` times. ``prepare(item)`` runs just
    before a node's first step (instance_info, network ports) and returns the config drive for its
    deploy step, or raises to fail that node alone. ``progress(counts)`` is called after every poll
    round (``Window.run_window``'s counts). ``timeout`` counts from the node's start.
    """

    what = 'provisioning'

    def __init__(self, adapter, concurrency=16, timeout=3600, retries=0, max_failures=None, poll=0.5,
                 prepare=None, progress=None, clock=time.monotonic, sleep=time.sleep):
        super().__init__(adapter, concurrency=concurrency, timeout=timeout, retries=retries, poll=poll,
                         clock=clock, sleep=sleep)
        self.max_failures = max_failures
        self.prepare_node = prepare or (lambda item: None)
        self.progress = progress

    def run(self, items):
        """``items``: planned dicts (``_provision.plan``) with the ``result`` action of success."""
        recs = []
        for item in items:
            reach = item['request'].get('state', 'active')
            steps = [provision_step(action, to) for action, to in item['steps']] or [provision_step(None, reach)]
            recs.append(dict(item, steps=steps))
        return self.run_window(recs, self.progress)

    def prepare(self, rec):
        rec['config_drive'] = self.prepare_node(rec)

    def call(self, rec, action, **kwargs):
        config_drive = rec.get('config_drive') if action in ('active', 'rebuild') else None
        self.adapter.provision(rec['uuid'], action, config_drive=config_drive)

    def retryable(self, rec, node):
        # Only a failed deployment is tried again (once the node rests in "deploy failed").
        return node.get('provision_state') == 'deploy failed' and 'active' in self.step_of(rec).done

    def retry(self, rec, node):
        return self.begin(rec, [provision_step('active', 'active')])

    def stopped(self):
        return self.max_failures is not None and self.failures > self.max_failures

    def skip(self, rec):
        rec.update(action='skipped', provision_state=rec['node'].get('provision_state'), duration=0.0,
                   last_error=None, msg='node %s: not started: %d node(s) failed, more than max_failures %d'
                   % (rec['name'], self.failures, self.max_failures))
