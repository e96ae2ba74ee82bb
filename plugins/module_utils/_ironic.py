# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_utils is PRIVATE to the spineleaf.baremetal collection.
"""The one Ironic adapter: plain dicts with API field names in and out, bulk reads in few paginated
calls, bounded concurrency for writes, the one retry policy (409 NodeLocked / 503 with backoff),
read / write counting, and the node state poller (``poll_nodes``, on ``_window.poll``)."""

from __future__ import annotations

import functools
import threading
import time
from concurrent.futures import ThreadPoolExecutor

try:
    from openstack import exceptions as sdk_exc
except ImportError:  # pragma: no cover - the module reports the missing library
    sdk_exc = None
try:
    from keystoneauth1 import exceptions as ksa_exc
except ImportError:  # pragma: no cover - comes with openstacksdk
    ksa_exc = None

from ._base import (
    call_with_retry, describe_sdk_error, is_retryable, is_transient_db_error, status_code)
from ._util import json_pointer
# InspectionRunner lives with inspection's planning now; importable from here as it always was.
from ._inspect import InspectionRunner  # pylint: disable=unused-import
from ._states import FAILED_STATES, NEEDS_MANAGE  # pylint: disable=unused-import
from ._window import poll

# The lowest Bare Metal API microversion the collection's modules need (node inventory, 1.81);
# preflight checks the server offers it.
MICROVERSION = '1.81'


# API field name -> openstacksdk attribute name, where they differ (the SDK takes its own names
# on create). Written once here so modules speak the API's names only.
_SDK_NAMES = dict(pxe_enabled='is_pxe_enabled', portgroup_uuid='port_group_id', node_uuid='node_id',
                  standalone_ports_supported='is_standalone_ports_supported', uuid='id')


def _sdk_attrs(attrs):
    return dict((_SDK_NAMES.get(key, key), value) for key, value in attrs.items())


def _created(resource):
    """What a module needs of a resource it just created, with API field names."""
    return dict(uuid=resource.id, name=getattr(resource, 'name', None),
                provision_state=getattr(resource, 'provision_state', None))


def _plain(data):
    """The SDK's answer for node inventory as a plain dict (it may be a resource or a dict)."""
    if data is None or isinstance(data, dict):
        return data
    to_dict = getattr(data, 'to_dict', None)
    return to_dict() if to_dict else dict(data)


def _size_connection_pool(conn, concurrency):
    """Keep one pooled HTTP connection per writer thread: requests' default pool holds 10, so with
    more threads every request beyond the tenth opened a new TCP connection and threw it away
    after (urllib3's "Connection pool is full" warning)."""
    try:
        from keystoneauth1.session import TCPKeepAliveAdapter  # the adapter keystoneauth mounts itself
        http = conn.session.session
    except (ImportError, AttributeError):  # pragma: no cover - a session without requests under it
        return
    if concurrency <= 10:
        return
    for scheme in ('https://', 'http://'):
        old = http.adapters.get(scheme)
        if not isinstance(old, TCPKeepAliveAdapter):
            continue  # not the session keystoneauth built: leave it alone
        http.mount(scheme, TCPKeepAliveAdapter(  # the TLS settings the session was given, kept
            tls_ciphers=getattr(old, 'tls_ciphers', None), tls_min_version=getattr(old, 'tls_min_version', None),
            pool_maxsize=concurrency))


def _is_retryable_read(exc):
    """Reads are idempotent: also retry a connection the server dropped (the lab's cheroot closes
    keep-alive connections idle for 10 s; one pooled while idle can meet that close mid-request)."""
    return is_retryable(exc) or (ksa_exc is not None and isinstance(exc, ksa_exc.ConnectFailure))


def _is_db_contention(exc):
    return is_retryable(exc) or is_transient_db_error(exc)


def _not_mapped_yet(exc):
    """Neutron's refusal to bind a port to a host that no segment of the network is mapped to yet."""
    return 'is not connected to any segments' in str(getattr(exc, 'details', None) or exc)


def _timed_out(exc):
    """No answer within the request's timeout: the server may still carry the request out."""
    return ksa_exc is not None and isinstance(exc, ksa_exc.ConnectTimeout)


def _already_attached(exc):
    """Ironic's 409 for a VIF that is attached to this node already (an earlier attempt did it)."""
    return status_code(exc) == 409 and 'already attached' in str(getattr(exc, 'details', None) or exc).lower()


def _moves_node(method):
    """A write that changes what a poller reads of the node given first (``IronicReads.moved``):
    noted also when it failed, which may have changed the node anyway."""
    @functools.wraps(method)
    def wrapper(self, node_id, *args, **kwargs):
        try:
            return method(self, node_id, *args, **kwargs)
        finally:
            self.moved(node_id)
    return wrapper


class _IronicBase:
    """What every part of the adapter shares: the SDK's Bare Metal proxy, the retry policy's
    settings, the read / write counters and bounded concurrency (``parallel``)."""

    def __init__(self, conn, concurrency=16, retries=10, backoff=0.1, max_backoff=2.0,
                 adaptive_writes=False, sleep=time.sleep, poll_share=None):
        self.api = conn.baremetal
        self.concurrency = max(1, int(concurrency))
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.writes = 0
        self.reads = 0
        self._sleep = sleep
        self._lock = threading.Lock()
        self.adaptive_writes = adaptive_writes
        self._gate = AdaptiveGate(self.concurrency)  # only adaptive writes pass through it
        self._microversion = None
        self._site_size = None  # nodes in the site at the last whole-site list (read_nodes)
        # Lists shared with parallel jobs (_poll_share.PollShare, option shared_poll_dir), and when
        # this process last changed each node (moved): a shared list from before that is not this
        # node's truth.
        self.poll_share = poll_share
        self._moved = {}
        self._share_endpoint = None
        _size_connection_pool(conn, self.concurrency)

    def parallel(self, items, fn, concurrency=None):
        """Run ``fn(item)`` for every item with bounded concurrency.

        Returns a list of ``(item, result, error)`` in input order; an exception in one item
        never stops the others.
        """
        items = list(items)
        if not items:
            return []

        def guarded(item):
            try:
                return item, fn(item), None
            except Exception as exc:  # isolated per item by design
                return item, None, exc

        workers = min(concurrency or self.concurrency, len(items))
        if workers == 1:
            return [guarded(i) for i in items]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(guarded, items))


class IronicReads(_IronicBase):
    """Listing and paging: every read of the adapter (``list_raw`` follows ``next`` links;
    ``read_nodes`` picks the cheapest way to read some nodes), each counted in ``reads`` and
    retried by the one policy (reads also on a dropped connection)."""

    def _count_read(self, n=1):
        with self._lock:
            self.reads += n

    def list_raw(self, collection, fields=None, **params):
        """Every item of ``collection`` (``nodes``, ``ports``, ``portgroups``) as plain dicts with the
        API's own field names, following ``next`` links: one GET per page (``limit``, at most the
        server's max_limit of 1,000 by default), about four times faster than building SDK objects.

        ``fields``: only these fields (``GET /<collection>?fields=``); otherwise every field
        (``GET /<collection>/detail``). Read at the highest microversion the server offers, so
        every field the server has is there. Other ``params`` are the API's filters.
        """
        path = '/%s' % collection if fields else '/%s/detail' % collection
        if fields:
            params['fields'] = ','.join(fields)
        return self._paged(path, params, self._max_microversion(), collection)

    def _paged(self, path, params, microversion, collection):
        """Every item of a paginated list at ``path``, following ``next`` links (one read each)."""
        url = path
        items = []
        while url:
            self._count_read()
            response = self._read_page(url, params, microversion, collection)
            body = response.json()
            page = body.get(collection) or []
            items.extend(page)
            link = body.get('next') if page else None
            # "next" is an absolute URL built from the server's idea of its own address (wrong
            # behind a proxy): keep only its query (limit, marker, filters) on our own path.
            url = '%s?%s' % (path, link.split('?', 1)[1]) if link and '?' in link else None
            params = None
        return items

    def _read_page(self, url, params, microversion, collection):
        def attempt():
            response = self.api.get(url, params=params, microversion=microversion)
            if sdk_exc is not None:
                sdk_exc.raise_from_response(response, error_message='listing %s failed' % collection)
            return response
        return call_with_retry(attempt, self.retries, self.backoff, self.max_backoff, retryable=_is_retryable_read,
                               sleep=self._sleep)

    # What one request (a GET of one node, a filtered list of few) costs, in nodes of a site list:
    # ~6-11 ms against ~0.2-0.8 ms per listed node on a quiet sqlite lab, and about 40 under heavy
    # load, when every request also queues for a core (bench/bench_poll.py). Below site size / this,
    # reading nodes one by one is cheaper than listing the site.
    GET_COST_IN_LISTED_NODES = 40

    def read_nodes(self, fields, node_ids, moving_states=()):
        """The ``fields`` of the given nodes, ``{uuid: node}`` (a node that no longer exists is absent),
        read at the least cost to the API rather than in the fewest calls: a list of the whole site
        (paginated) when the nodes are a large share of it, or the first time (it learns the site's
        size); otherwise one list per state in ``moving_states`` (``?provision_state=``, nodes in
        transit: few) plus one GET per given node not found in them. So a poller's round costs what
        is in flight, not what the site holds (2,000 nodes, 16 in ``inspect wait``: 2 calls, 0.2 s
        against 3.3 s for the site list on the loaded lab).

        With ``poll_share`` (parallel jobs, one per rack) the lists are the share's: one list per
        round for every job, however many nodes in transit they hold together."""
        wanted = set(node_ids)
        if not wanted:
            return {}
        fields = list(fields) if 'uuid' in fields else ['uuid'] + list(fields)
        if self._site_size is None:
            return self._whole_site(fields, wanted)
        found = {}
        # A filtered list costs about one GET (its nodes are few: those in transit): worth it for
        # more nodes than lists, and while the lists cost less than the site. A shared list costs
        # this job nothing when another job read it.
        if moving_states and (self.poll_share is not None or (
                len(wanted) > len(moving_states) and self._cheaper_one_by_one(len(moving_states)))):
            for state in moving_states:
                found.update(self._listed(fields, wanted, provision_state=state)[0])
        rest = sorted(wanted.difference(found))
        if not rest:
            return found
        if not self._cheaper_one_by_one(len(rest)):
            return dict(found, **self._whole_site(fields, set(rest)))
        return dict(found, **self._get_each(fields, rest))

    def _get_each(self, fields, node_ids):
        """``{uuid: node}`` of the given nodes, one GET each (absent: no such node)."""
        def get(node_id):
            return self._get_node_raw(node_id, fields)
        found = {}
        # Four at a time: as fast as sixteen here, and kinder to the API workers and the SDK's pool.
        for _node_id, node, error in self.parallel(node_ids, get, concurrency=min(4, self.concurrency)):
            if error is not None:
                raise error
            if node is not None:
                found[node['uuid']] = node
        return found

    def _cheaper_one_by_one(self, count):
        return self._site_size is not None and count * self.GET_COST_IN_LISTED_NODES < self._site_size

    def _whole_site(self, fields, wanted):
        found, stale = self._listed(fields, wanted)
        return dict(found, **self._get_each(fields, sorted(stale))) if stale else found

    def list_nodes(self, fields, **params):
        """Every node (``fields`` of each), or those the API's filters ``params`` select; from the
        share when there is one (see ``poll_share``). A list of the whole site learns its size."""
        return self._shared_list(fields, params)[1]

    def _shared_list(self, fields, params):
        """``(started, nodes)``: the list and when its read began (None: by this call)."""
        fields = list(fields) if 'uuid' in fields else ['uuid'] + list(fields)

        def fetch():
            return self.list_raw('nodes', fields=fields, **params)
        if self.poll_share is None:
            started, nodes = None, fetch()
        else:
            if self._share_endpoint is None:
                self._share_endpoint = self.endpoint()  # "this Ironic" in the share's keys
            key = self.poll_share.key(self._share_endpoint, 'nodes', sorted(fields), sorted(params.items()))
            started, nodes = self.poll_share.get(key, fetch)
        if not params:
            self._site_size = len(nodes)
        return started, nodes

    def _listed(self, fields, wanted, **params):
        """``({uuid: node}, stale)``: the ``wanted`` nodes of one list; ``stale``: those of them this
        process moved after a shared list's read began (read them again)."""
        started, nodes = self._shared_list(fields, params)
        found, stale = {}, set()
        for node in nodes:
            uuid = node['uuid']
            if uuid in wanted:
                if started is not None and self._moved.get(uuid, float('-inf')) >= started:
                    stale.add(uuid)
                else:
                    found[uuid] = node
        return found, stale

    def moved(self, node_id):
        """Note that this process just changed ``node_id`` (a provision verb, maintenance, a patch:
        the writes marked ``_moves_node``); a shared list read before that is not its truth (``_listed``)."""
        if self.poll_share is not None:
            self._moved[node_id] = self.poll_share.clock()

    def _get_node_raw(self, node_id, fields):
        """``GET /nodes/<id>?fields=`` as a plain dict; None if the node does not exist."""
        def attempt():
            response = self.api.get('/nodes/%s' % node_id, params={'fields': ','.join(fields)},
                                    microversion=self._max_microversion())
            if response.status_code == 404:
                return None
            if sdk_exc is not None:
                sdk_exc.raise_from_response(response, error_message='reading node %s failed' % node_id)
            return response.json()
        self._count_read()
        return call_with_retry(attempt, self.retries, self.backoff, self.max_backoff, retryable=_is_retryable_read,
                               sleep=self._sleep)

    def _max_microversion(self):
        if self._microversion is None:
            self._microversion = self.service_info()['max_microversion'] or MICROVERSION
        return self._microversion

    def endpoint(self):
        """The Bare Metal API endpoint this adapter talks to (the URL the SDK resolved from the
        catalog or the endpoint override): names "this Ironic" in keys of local state."""
        return self.api.get_endpoint()

    def service_info(self):
        """``{endpoint, max_microversion}`` of the Bare Metal API (``X.Y`` text, None if unknown)."""
        data = self.api.get_endpoint_data()
        version = data.max_microversion
        return dict(endpoint=data.url, max_microversion='%d.%d' % tuple(version[:2]) if version else None)

    def driver_names(self):
        """Names of the enabled hardware types, sorted."""
        self._count_read()
        return sorted(d.name for d in self.api.drivers())

    def get_inventory(self, node_id):
        """Inspection data of a node (API 1.81): ``{'inventory': ..., 'plugin_data': ...}`` or None."""
        self._count_read()
        try:
            return self.api.get_node_inventory(node_id)
        except Exception as exc:  # 404: never inspected
            if status_code(exc) == 404 or (sdk_exc is not None and isinstance(exc, sdk_exc.NotFoundException)):
                return None
            raise

    def discovery_state(self, node_fields, port_fields, wants_inspection):
        """What discovery matches against: ``(nodes, ports, {uuid: inspection data})`` - every node
        and port (one paginated listing each) and the stored inspection data of the nodes
        ``wants_inspection(node)`` selects (bounded concurrency; None for a node without any)."""
        # Detailed listing: ``created_at`` (an orphan's age) cannot be asked for with ``fields``.
        nodes = [dict((k, n.get(k)) for k in node_fields) for n in self.list_raw('nodes')]
        ports = self.list_raw('ports', fields=port_fields)
        wanted = [n['uuid'] for n in nodes if wants_inspection(n)]
        inspections = {}
        for uuid, data, error in self.parallel(wanted, self.get_inventory):
            if error is not None:
                raise error
            inspections[uuid] = _plain(data)
        return nodes, ports, inspections

    def list_port_dicts(self):
        """Every port as ``{uuid, address, node_uuid, local_link_connection, physical_network}``."""
        return [dict(uuid=p.get('uuid'), address=p.get('address'), node_uuid=p.get('node_uuid'),
                     local_link_connection=dict(p.get('local_link_connection') or {}),
                     physical_network=p.get('physical_network'))
                for p in self.list_raw('ports')]

    def list_node_vifs(self, node_id):
        """Ids of the VIFs attached to a node (``GET /v1/nodes/<node>/vifs``)."""
        self._count_read()
        return sorted(self.api.list_node_vifs(node_id))

    def driver_network_interfaces(self):
        """``{hardware type: {enabled: [...], default: name}}`` of the network interfaces each
        enabled hardware type offers (``GET /v1/drivers?detail=True``)."""
        self._count_read()
        return dict((d.name, dict(enabled=sorted(getattr(d, 'enabled_network_interfaces', None) or []),
                                  default=getattr(d, 'default_network_interface', None)))
                    for d in self.api.drivers(details=True))

    def list_conductors(self):
        """The conductors Ironic knows (``GET /v1/conductors``, API 1.49), as plain dicts
        ``{hostname, conductor_group, alive}``; ``conductor_group`` is ``""`` for the default group."""
        return [dict(hostname=c.get('hostname'), conductor_group=c.get('conductor_group') or '',
                     alive=bool(c.get('alive')))
                for c in self.list_raw('conductors', fields=['hostname', 'conductor_group', 'alive'])]


class IronicWrites(IronicReads):
    """Writes: every call that changes Ironic goes through ``write`` (the one retry policy, 409
    NodeLocked / 503 with backoff, counted in ``writes``; with ``adaptive_writes`` through the
    AdaptiveGate), or ``provision`` (503 retried while the conductor's deploy slots are busy)."""

    def write(self, fn, *args, **kwargs):
        """Call a write method with the one retry policy (409 NodeLocked / 503, exponential
        backoff); every attempt counts in ``writes``. With ``adaptive_writes`` also a transient
        database 500, through the adaptive concurrency gate."""
        if not self.adaptive_writes:
            return call_with_retry(lambda: self._counted(fn, args, kwargs), self.retries, self.backoff,
                                   self.max_backoff, sleep=self._sleep)
        gate = self._gate

        def attempt():
            with gate:
                result = self._counted(fn, args, kwargs)
            gate.success()
            return result
        return call_with_retry(attempt, self.retries, self.backoff, self.max_backoff, retryable=_is_db_contention,
                               sleep=self._sleep, on_retry=lambda exc: gate.shrink())

    def _counted(self, fn, args, kwargs):
        with self._lock:
            self.writes += 1
        return fn(*args, **kwargs)

    def create_node(self, attrs):
        """Create a node from API fields; returns ``{uuid, name, provision_state}``."""
        return _created(self.write(self.api.create_node, **_sdk_attrs(attrs)))

    @_moves_node
    def patch_node(self, node_id, ops):
        """Apply a JSON patch to a node (by id: an SDK object made stale by an earlier write
        would resend old fields)."""
        self.write(self.api.patch_node, node_id, ops)

    def set_traits(self, node_id, traits):
        """Replace the node's traits (one PUT)."""
        self.write(self.api.set_node_traits, node_id, sorted(traits))

    @_moves_node
    def set_maintenance(self, node_id, on=True, reason=None):
        """Maintenance on (with ``reason``) or off."""
        if on:
            return self.write(self.api.set_node_maintenance, node_id, reason=reason)
        return self.write(self.api.unset_node_maintenance, node_id)

    def delete_node(self, node_id):
        self.write(self.api.delete_node, node_id)

    def create_port(self, node_id, attrs):
        """Create a port of the node from API fields (``address``, ``pxe_enabled``, ``portgroup_uuid``...)."""
        return _created(self.write(self.api.create_port, node_id=node_id, **_sdk_attrs(attrs)))

    def patch_port(self, port_id, ops):
        self.write(self.api.patch_port, port_id, ops)

    def delete_port(self, port_id):
        self.write(self.api.delete_port, port_id)

    def create_port_group(self, node_id, attrs):
        """Create a port group of the node from API fields; returns ``{uuid, name, ...}``."""
        return _created(self.write(self.api.create_port_group, node_id=node_id, **_sdk_attrs(attrs)))

    def patch_port_group(self, group_id, ops):
        self.write(self.api.patch_port_group, group_id, ops)

    def delete_port_group(self, group_id):
        self.write(self.api.delete_port_group, group_id)

    def claim_node(self, node_id, ops, reset_interfaces=False):
        """Apply a JSON patch to a discovered node; ``reset_interfaces`` when it changes the driver
        (Ironic answers 400 to a driver change that keeps interfaces the new driver lacks)."""
        self.write(self.api.patch_node, node_id, ops, reset_interfaces=True if reset_interfaces else None)

    @_moves_node
    def set_provision_state(self, node_id, action, **body):
        """Start a provision action (``manage``, ``inspect``, ``provide``, ``abort``...): one PUT, with
        the action's other body fields (``clean_steps``...). The
        SDK's call also reads the node back, a GET per node and action that nobody here uses (the
        pollers read the states in bulk)."""
        def put():
            response = self.api.put('/nodes/%s/states/provision' % node_id, json=dict(body, target=action),
                                    microversion=self._max_microversion())
            if sdk_exc is not None:
                sdk_exc.raise_from_response(response, error_message='%s of node %s failed' % (action, node_id))
        return self.write(put)

    def update_port_fields(self, port_uuid, fields):
        """Set top-level port fields (e.g. ``local_link_connection``, ``physical_network``): one
        idempotent JSON patch, retried on transient errors."""
        self.patch_port(port_uuid, [dict(op='add', path='/%s' % key, value=value)
                                    for key, value in sorted(fields.items())])

    def set_node_trait(self, node_uuid, trait, present=True):
        """Add (or remove) one trait of a node."""
        fn = self.api.add_node_trait if present else self.api.remove_node_trait
        return self.write(fn, node_uuid, trait)

    def set_node_extra(self, node_uuid, values):
        """Set keys of a node's ``extra`` (other keys kept): one JSON patch."""
        self.patch_node(node_uuid, [dict(op='add', path='/extra/%s' % json_pointer(key), value=value)
                                    for key, value in sorted(values.items())])

    @_moves_node
    def provision(self, node_id, action, config_drive=None, max_wait=600.0):
        """One provision action (``active``, ``rebuild``, ``deleted``, ``provide``...), with the config
        drive as a dict (``meta_data``, ``user_data``, ``network_data``; Ironic builds the ISO).

        The one retry policy (409 NodeLocked, 503), bounded by ``max_wait`` seconds rather than a
        count: 503 is what Ironic answers while ``[conductor]max_concurrent_deploy`` deployments are
        in progress, which lasts as long as those deployments do."""
        deadline = time.monotonic() + max_wait
        kwargs = dict(wait=False)
        if config_drive:
            kwargs['config_drive'] = config_drive
        return call_with_retry(lambda: self._counted(self.api.set_node_provision_state, (node_id, action), kwargs),
                               retries=1 << 30, backoff=self.backoff, max_backoff=max(self.max_backoff, 5.0),
                               retryable=lambda exc: is_retryable(exc) and time.monotonic() < deadline,
                               sleep=self._sleep)

    @_moves_node
    def service(self, node_id, service_steps=None, runbook=None, max_wait=600.0):
        """Service an active node (``PUT .../states/provision {target: service}``, API 1.87) with
        ``service_steps`` (``[{interface, step, args}]``) or a ``runbook`` (name or UUID, API 1.92).
        The retry policy of ``provision``. (ironic_rollout's servicing mode, _service.py.)"""
        from openstack.baremetal.v1 import node as _node  # the proxy's call does not pass service steps
        deadline = time.monotonic() + max_wait
        kwargs = dict(wait=False)
        if runbook:
            kwargs['runbook'] = runbook
        else:
            kwargs['service_steps'] = list(service_steps or [])
        resource = _node.Node.new(id=node_id)
        return call_with_retry(lambda: self._counted(resource.set_provision_state, (self.api, 'service'), kwargs),
                               retries=1 << 30, backoff=self.backoff, max_backoff=max(self.max_backoff, 5.0),
                               retryable=lambda exc: is_retryable(exc) and time.monotonic() < deadline,
                               sleep=self._sleep)

    VIF_MAPPING_WAIT = 180.0
    # A VIF attach is synchronous in Ironic (the conductor has Neutron bind the port, and the switch
    # driver programs the switch): with many attaches queued at Neutron it can outlast the request's
    # timeout and still succeed. After a timeout the node's VIF list is watched this long.
    VIF_ATTACH_WAIT = 300.0

    def attach_vif(self, node_id, vif_id, port_uuid=None, portgroup_uuid=None):
        """Attach a Neutron port to a node as a VIF (``POST /v1/nodes/<node>/vifs``), on the given
        Ironic port or port group (API 1.67) when named. 409 NodeLocked is retried by the one policy."""
        kwargs = dict(retry_on_conflict=False)
        if portgroup_uuid:
            kwargs['port_group'] = portgroup_uuid
        elif port_uuid:
            kwargs['port'] = port_uuid
        # A node enrolled moments ago has no segment host mapping yet: networking-baremetal's agent
        # maps it at its next report, and until then Neutron refuses the binding ("not connected to
        # any segments"). Waited for, up to VIF_MAPPING_WAIT seconds, as for a transient error.
        deadline = time.monotonic() + self.VIF_MAPPING_WAIT

        def forget(_exc):  # Ironic may keep the refused VIF on the port: detach it before the next try
            try:
                self.write(self.api.detach_vif_from_node, node_id, vif_id, ignore_missing=True)
            except Exception:  # pylint: disable=broad-except
                pass

        def attach():
            try:
                self.write(self.api.attach_vif_to_node, node_id, vif_id, **kwargs)
            except Exception as exc:  # pylint: disable=broad-except
                if _already_attached(exc) or (_timed_out(exc) and self._vif_appears(node_id, vif_id)):
                    return  # a timed-out attempt that Ironic carried out after all
                raise
        call_with_retry(attach, retries=1 << 30, backoff=max(self.backoff, 1.0), max_backoff=10.0,
                        retryable=lambda exc: _not_mapped_yet(exc) and time.monotonic() < deadline, sleep=self._sleep,
                        on_retry=forget)

    def _vif_appears(self, node_id, vif_id, interval=2.0):
        """Whether ``vif_id`` shows up among the node's VIFs within VIF_ATTACH_WAIT seconds (the
        one poller, ``_window.poll``)."""
        deadline = time.monotonic() + self.VIF_ATTACH_WAIT
        seen = []

        def read():
            self._count_read()
            try:
                return self.api.list_node_vifs(node_id) or []
            except Exception:  # pylint: disable=broad-except
                return []  # a read that fails too: look again until the deadline

        def settle(vifs):
            if vif_id in vifs:
                seen.append(vif_id)
            return bool(seen) or time.monotonic() >= deadline
        poll(read, settle, interval, sleep=self._sleep)
        return bool(seen)

    def detach_vif(self, node_id, vif_id):
        """Detach a VIF from a node (a VIF already gone is no error)."""
        self.write(self.api.detach_vif_from_node, node_id, vif_id, ignore_missing=True)


class IronicPolling(IronicWrites):
    """Polling node states: ``poll_nodes`` (on ``_window.poll``, the one poller) reads only the
    nodes in flight each round; ``wait_for_states`` waits for targets; ``node_states`` is the read
    the provisioning and rollout windows poll with."""

    PROVISION_FIELDS = ('uuid', 'name', 'provision_state', 'target_provision_state', 'last_error',
                        'provision_updated_at', 'maintenance')

    def node_states(self, node_ids):
        """State of the given nodes: ``{uuid: {provision_state, ...}}`` (``read_nodes``: one list of
        the site, or one GET per node when they are few against the site)."""
        return self.read_nodes(list(self.PROVISION_FIELDS), node_ids,
                               moving_states=('deploying', 'wait call-back', 'deleting', 'cleaning', 'clean wait'))

    def poll_nodes(self, fields, settle, interval=0.1, max_interval=None, wait_first=False, sleep=None,
                   watch=None, moving_states=()):
        """The one state poller: read the nodes' ``fields`` and pass ``{uuid: node}`` to ``settle``
        until it returns True, sleeping ``interval`` between rounds (growing by half up to
        ``max_interval``). ``wait_first``: sleep before the first round too (the caller has just
        started actions).

        ``watch``: a callable returning the ids of the nodes in flight; each round then reads only
        those (``read_nodes``, with ``moving_states`` the states they pass through), so a round
        costs what is in flight, not the site. Without it, every node (one paginated list)."""
        fields = list(fields) if 'uuid' in fields else ['uuid'] + list(fields)

        def read():
            if watch is not None:
                return self.read_nodes(fields, watch(), moving_states)
            return dict((n['uuid'], n) for n in self.list_raw('nodes', fields=fields))
        poll(read, settle, interval, max_interval=max_interval, wait_first=wait_first, sleep=sleep or self._sleep)

    def wait_for_states(self, node_ids, targets, timeout=300, poll=0.1, max_poll=1.0):
        """Poll all nodes at once until each is in one of ``targets``: each round reads only the
        nodes still pending (``read_nodes``: one list of the site while they are many, one GET each
        once they are few).

        Returns ``{node_id: (provision_state, error or None)}``. A node that lands in a failed
        state, or is still moving at its deadline, gets an error message.
        """
        pending = set(node_ids)
        done = {}
        deadline = time.monotonic() + timeout

        def settle(nodes):
            for node_id in list(pending):
                node = nodes.get(node_id)
                state = node['provision_state'] if node else None
                if node is None:
                    done[node_id] = (None, 'node disappeared while waiting')
                elif state in targets and not node.get('target_provision_state'):
                    done[node_id] = (state, None)
                elif state in FAILED_STATES and state not in targets:
                    done[node_id] = (state, 'went to %s: %s' % (state, node.get('last_error') or 'no error recorded'))
                elif state == 'enroll' and 'enroll' not in targets and not node.get('target_provision_state') \
                        and node.get('last_error'):
                    # "manage" failed its verify (BMC unreachable, wrong credentials): Ironic puts
                    # the node back in enroll with last_error; it never gets there by waiting.
                    done[node_id] = (state, 'verify failed, node back in enroll: %s' % node['last_error'])
                else:
                    continue
                pending.discard(node_id)
            if pending and time.monotonic() > deadline:
                for node_id in pending:
                    node = nodes.get(node_id)
                    state = node['provision_state'] if node else None
                    done[node_id] = (state, 'still %s after %ss' % (state or 'unknown', timeout))
                return True
            return not pending

        if pending:
            self.poll_nodes(['provision_state', 'target_provision_state', 'last_error'], settle,
                            interval=poll, max_interval=max_poll, watch=lambda: pending)
        return done


class IronicAdapter(IronicPolling):
    """Ironic over one openstacksdk connection: plain dicts with API field names in, plain dicts
    out; counts every read in ``reads`` and every write call (retries included) in ``writes``.

    ``adaptive_writes``: for callers writing many nodes at once with idempotent writes only (a
    JSON patch of absolute values, a traits PUT): each write also retries a 500 from a transient
    database lock and the writers narrow their own concurrency on contention (AdaptiveGate), so
    a database that takes one writer at a time (the lab's sqlite) stops wasting requests.
    """

    # ---- deploy templates (1.55) and runbooks (1.92): ``collection`` is deploy_templates / runbooks
    # Spoken at the version that introduced them (runbook names are traits there; at 1.112 they
    # are not), through the proxy's session: the SDK's resources pick their own newest version.
    def list_step_resources(self, collection, microversion):
        """Every deploy template or runbook, with details, as plain API dicts (paginated)."""
        return self._paged('/%s' % collection, dict(detail='True'), microversion, collection)

    def _step_resource_call(self, method, path, microversion, what, **kwargs):
        def call():
            response = getattr(self.api, method)(path, microversion=microversion, **kwargs)
            if sdk_exc is not None:
                sdk_exc.raise_from_response(response, error_message='%s failed' % what)
            return response.json() if response.content else None
        return self.write(call)

    def create_step_resource(self, collection, microversion, body):
        """POST a new deploy template or runbook; returns its API dict."""
        return self._step_resource_call('post', '/%s' % collection, microversion,
                                        'creating %s %s' % (collection, body.get('name')), json=body)

    def patch_step_resource(self, collection, microversion, ident, ops):
        return self._step_resource_call('patch', '/%s/%s' % (collection, ident), microversion,
                                        'updating %s %s' % (collection, ident), json=ops)

    def delete_step_resource(self, collection, microversion, ident):
        return self._step_resource_call('delete', '/%s/%s' % (collection, ident), microversion,
                                        'deleting %s %s' % (collection, ident))

    # ---- settings drift (ironic_drift, ironic_clean)
    def node_settings(self, node_id, kind):
        """What Ironic reports of a node's ``kind`` (``bios``: ``GET /nodes/<n>/bios``; ``firmware``:
        ``GET /nodes/<n>/firmware``, API 1.86): the body's list, or None when the API has no such
        resource (404, 406: an older Ironic)."""
        def attempt():
            response = self.api.get('/nodes/%s/%s' % (node_id, kind), microversion=self._max_microversion())
            if response.status_code in (404, 406):
                return None
            if sdk_exc is not None:
                sdk_exc.raise_from_response(response, error_message='reading the %s of node %s failed' % (kind, node_id))
            return response.json().get(kind) or []
        self._count_read()
        return call_with_retry(attempt, self.retries, self.backoff, self.max_backoff, retryable=_is_retryable_read,
                               sleep=self._sleep)


class AdaptiveGate:
    """A concurrency limit that starts at 2 (a single-writer database, like the lab's sqlite,
    answers more parallel writers mostly with "database is locked"), grows by one per ``limit``
    successes up to the maximum and halves on contention (additive increase, multiplicative
    decrease), lowering the maximum to below the level that met contention."""

    def __init__(self, limit, start=2):
        self.max = max(1, int(limit))
        self.limit = float(min(self.max, max(1, int(start))))
        self.active = 0
        self._cond = threading.Condition()

    def __enter__(self):
        with self._cond:
            while self.active >= max(1, int(self.limit)):
                self._cond.wait()
            self.active += 1
        return self

    def __exit__(self, *exc_info):
        with self._cond:
            self.active -= 1
            self._cond.notify_all()
        return False

    def shrink(self):
        """Contention: halve, and never again grow past one below the level that hit it
        (failed writes cost the server as much as good ones)."""
        with self._cond:
            self.max = max(min(2, self.max), int(self.limit) - 1)
            self.limit = max(1.0, self.limit / 2)

    def success(self):
        with self._cond:
            if self.limit < self.max:
                self.limit = min(float(self.max), self.limit + 1.0 / self.limit)
                self._cond.notify_all()


def describe(exc, what):
    """Operator message for an exception raised while working on ``what``."""
    return describe_sdk_error(exc, what)
