# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""The one Neutron adapter: reads networks / segments / subnets / ports as plain dicts in few
paginated calls, writes through counted calls (so modules can report ``api_writes``), retries with
the adapters' one policy (``_base.call_with_retry``: 503 / locked 409, backoff), and turns SDK
errors into ``NeutronError`` naming the object."""

from __future__ import annotations

import threading
import time

try:
    from openstack import exceptions as sdk_exc
except ImportError:  # pragma: no cover - the base module reports the missing SDK
    sdk_exc = None

from ._base import call_with_retry, describe_sdk_error
from ._errors import BaremetalError

RETRIES = 3
BACKOFF = 0.5
MAX_BACKOFF = 2.0

# SDK attribute name -> the name used in plans (and by Neutron's API where they differ).
_NETWORK_ATTRS = dict(is_shared='shared', is_router_external='external', mtu='mtu', description='description')
_SUBNET_FIELDS = ('cidr', 'ip_version', 'gateway_ip', 'allocation_pools', 'dns_nameservers', 'host_routes',
                  'ipv6_address_mode', 'ipv6_ra_mode', 'segment_id', 'description')


class NeutronError(BaremetalError):
    """A Neutron call failed; the message names the object and the likely fix."""


def network_dict(net):
    out = dict(id=net.id, name=net.name)
    for sdk_name, name in _NETWORK_ATTRS.items():
        out[name] = getattr(net, sdk_name, None)
    out['provider_network_type'] = net.provider_network_type
    out['provider_physical_network'] = net.provider_physical_network
    out['provider_segmentation_id'] = net.provider_segmentation_id
    return out


def segment_dict(seg):
    return dict(id=seg.id, name=seg.name or None, description=seg.description or None,
                network_id=seg.network_id, network_type=seg.network_type,
                physical_network=seg.physical_network, segmentation_id=seg.segmentation_id)


def subnet_dict(sub):
    out = dict(id=sub.id, name=sub.name, network_id=sub.network_id, enable_dhcp=sub.is_dhcp_enabled)
    for field in _SUBNET_FIELDS:
        out[field] = getattr(sub, field, None)
    out['description'] = out['description'] or None
    return out


def port_dict(port):
    return dict(id=port.id, name=port.name, network_id=port.network_id, fixed_ips=list(port.fixed_ips or []),
                device_owner=port.device_owner, binding_host_id=getattr(port, 'binding_host_id', None))


def _sdk_network_attrs(attrs):
    out = {}
    for key, value in attrs.items():
        if key == 'shared':
            out['is_shared'] = value
        elif key == 'external':
            out['is_router_external'] = value
        else:
            out[key] = value
    return out


def _sdk_subnet_attrs(attrs):
    out = dict(attrs)
    if 'enable_dhcp' in out:
        out['is_dhcp_enabled'] = out.pop('enable_dhcp')
    return out


class Neutron:
    """Neutron over one openstacksdk connection; counts reads and writes."""

    def __init__(self, conn, sleep=time.sleep):
        self.conn = conn
        self.reads = 0
        self.writes = 0
        self._lock = threading.Lock()
        self._sleep = sleep

    def _call(self, what, fn, *args, **kwargs):
        try:
            return call_with_retry(lambda: fn(*args, **kwargs), RETRIES, BACKOFF, MAX_BACKOFF, sleep=self._sleep)
        except Exception as exc:
            if sdk_exc is not None and isinstance(exc, sdk_exc.SDKException):
                raise NeutronError(describe_sdk_error(exc, what))
            raise

    def _read(self, what, fn, *args, **kwargs):
        self.reads += 1
        return self._call(what, lambda: list(fn(*args, **kwargs)))

    def _write(self, what, fn, *args, **kwargs):
        with self._lock:  # ironic_provision writes from several threads (PrepareAhead)
            self.writes += 1
        return self._call(what, fn, *args, **kwargs)

    # ------------------------------------------------------------------ reads
    def extension_aliases(self):
        """Aliases of the API extensions Neutron offers, sorted."""
        return sorted(e.alias for e in self._read('network extensions', self.conn.network.extensions))

    def endpoint(self):
        """The Network API endpoint URL this connection uses."""
        return self.conn.network.get_endpoint()

    def find_network(self, name):
        found = self._read('network %s' % name, self.conn.network.networks, name=name)
        if len(found) > 1:
            raise NeutronError('network %s: %d networks have this name (%s): delete the extra ones or use another name'
                               % (name, len(found), ', '.join(n.id for n in found)))
        return network_dict(found[0]) if found else None

    def segments(self, network_id=None):
        query = dict(network_id=network_id) if network_id else {}
        return [segment_dict(s) for s in self._read('segments of network %s' % (network_id or '(all)'),
                                                    self.conn.network.segments, **query)]

    def network_names(self, ids):
        """Names of the networks with these ids (one list call)."""
        ids = set(ids)
        return dict((n.id, n.name) for n in self._read('networks', self.conn.network.networks) if n.id in ids)

    def subnets(self, network_id=None):
        query = dict(network_id=network_id) if network_id else {}
        return [subnet_dict(s) for s in self._read('subnets', self.conn.network.subnets, **query)]

    def ports(self, network_id):
        return [port_dict(p) for p in self._read('ports of network %s' % network_id,
                                                 self.conn.network.ports, network_id=network_id)]

    # ------------------------------------------------------------------ writes
    def create_network(self, attrs):
        return network_dict(self._write('network %s' % attrs.get('name'), self.conn.network.create_network,
                                        **_sdk_network_attrs(attrs)))

    def update_network(self, network_id, changes, name=None):
        return network_dict(self._write('network %s' % (name or network_id), self.conn.network.update_network,
                                        network_id, **_sdk_network_attrs(changes)))

    def delete_network(self, network_id, name=None):
        self._write('network %s' % (name or network_id), self.conn.network.delete_network, network_id,
                    ignore_missing=True)

    def create_segment(self, network_id, attrs):
        attrs = dict((k, v) for k, v in attrs.items() if v is not None)
        return segment_dict(self._write('segment %s' % attrs.get('name'), self.conn.network.create_segment,
                                        network_id=network_id, **attrs))

    def update_segment(self, segment_id, changes, name=None):
        return segment_dict(self._write('segment %s' % (name or segment_id), self.conn.network.update_segment,
                                        segment_id, **changes))

    def delete_segment(self, segment_id, name=None):
        self._write('segment %s' % (name or segment_id), self.conn.network.delete_segment, segment_id,
                    ignore_missing=True)

    def create_subnet(self, network_id, segment_id, attrs):
        return subnet_dict(self._write('subnet %s' % attrs.get('name'), self.conn.network.create_subnet,
                                       network_id=network_id, segment_id=segment_id, **_sdk_subnet_attrs(attrs)))

    def update_subnet(self, subnet_id, changes, name=None):
        return subnet_dict(self._write('subnet %s' % (name or subnet_id), self.conn.network.update_subnet,
                                       subnet_id, **_sdk_subnet_attrs(changes)))

    def delete_subnet(self, subnet_id, name=None):
        self._write('subnet %s' % (name or subnet_id), self.conn.network.delete_subnet, subnet_id,
                    ignore_missing=True)

    # ---- provisioning (ironic_provision): a node's fixed addresses on the routed network
    def node_ports(self, network_id, name):
        """Ports on ``network_id`` named ``name`` (a node's own ports), with MAC and fixed IPs."""
        return [_node_port_dict(p) for p in self._read('ports of node %s' % name, self.conn.network.ports,
                                                       network_id=network_id, name=name)]

    def network_ports(self, network_id):
        """Every port on ``network_id`` with MAC, fixed IPs and binding (one paginated list):
        ``{id, name, mac_address, fixed_ips, status, device_owner, binding_host_id,
        binding_vif_type, binding_vnic_type, binding_profile}``."""
        return [_node_port_dict(p) for p in self._read('ports of network %s' % network_id,
                                                       self.conn.network.ports, network_id=network_id)]

    def baremetal_ports(self):
        """Every port Ironic attached as a VIF (``device_owner=baremetal:none``, which Ironic sets on
        attach; Neutron does not filter on ``binding:vnic_type``), one paginated list, as
        ``network_ports`` gives them."""
        return [_node_port_dict(p) for p in self._read('bare-metal ports', self.conn.network.ports,
                                                       device_owner='baremetal:none')]

    def get_port(self, port_id):
        """One port (as ``network_ports`` gives them), or None when it does not exist."""
        self.reads += 1
        port = self._call('port %s' % port_id, self.conn.network.find_port, port_id, ignore_missing=True)
        return _node_port_dict(port) if port is not None else None

    def agents(self, agent_type=None):
        """Neutron agents as ``{id, agent_type, host, alive, configurations}`` (networking-baremetal
        reports one ``Baremetal Node`` agent per Ironic node: host = node UUID,
        ``configurations.bridge_mappings`` = its physical networks)."""
        query = dict(agent_type=agent_type) if agent_type else {}
        return [dict(id=a.id, agent_type=a.agent_type, host=a.host, alive=bool(a.is_alive),
                     configurations=dict(a.configuration or {}))
                for a in self._read('agents', self.conn.network.agents, **query)]

    def create_node_port(self, network_id, name, mac, subnet_id):
        """A port named after the node, with the NIC's MAC and a fixed IP on the rack's subnet."""
        return _node_port_dict(self._write('port of node %s (%s)' % (name, mac), self.conn.network.create_port,
                                           network_id=network_id, name=name, mac_address=mac,
                                           fixed_ips=[{'subnet_id': subnet_id}],
                                           description='spineleaf.baremetal: address of node %s' % name))

    def delete_port(self, port_id, name=None):
        self._write('port %s' % (name or port_id), self.conn.network.delete_port, port_id, ignore_missing=True)


def _node_port_dict(port):
    return dict(id=port.id, name=port.name, network_id=port.network_id, mac_address=port.mac_address,
                fixed_ips=list(port.fixed_ips or []), status=getattr(port, 'status', None),
                device_owner=getattr(port, 'device_owner', None),
                binding_host_id=getattr(port, 'binding_host_id', None),
                binding_vif_type=getattr(port, 'binding_vif_type', None),
                binding_vnic_type=getattr(port, 'binding_vnic_type', None),
                binding_profile=dict(getattr(port, 'binding_profile', None) or {}))
