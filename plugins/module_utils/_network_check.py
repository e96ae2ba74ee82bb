# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""The network side of deployed nodes, checked per node (module network_check): the segment host
mapping of the rack's segment (networking-baremetal's ``Baremetal Node`` agent), every VIF bound
on the rack's segment with an address from the rack's subnet, and the VLANs the switch driver
programmed on the node's leaf ports against the ones its networks need.

Pure: Ironic nodes / ports / port groups and Neutron agents / segments / subnets / ports as plain
dicts in, per-node results with findings (the cabling check's shape: ``{node, nic, finding,
blocking, msg, ...}``) out. No I/O.
"""

from __future__ import annotations

from ._topology import _finding
from ._util import normalize_mac
from ._vifs import vif_of

try:
    import netaddr
except ImportError:  # pragma: no cover - the module reports the missing library
    netaddr = None

BAREMETAL_AGENT = 'Baremetal Node'
UNBOUND_VIF_TYPES = frozenset(['unbound', '', None])


def _port_vlans(value):
    """VLANs of one switch port: a list, or a dict with ``vlans``, or with ``vlan`` (access) and
    ``tagged`` (the lab's ``labctl.py switch <leaf> --json``). Returns ``(sorted ints, lag or None)``."""
    if not isinstance(value, dict):
        return sorted(set(int(v) for v in value or [])), None
    vlans = set(int(v) for v in value.get('vlans') or [])
    if value.get('vlan') is not None:
        vlans.add(int(value['vlan']))
    vlans |= set(int(v) for v in value.get('tagged') or [])
    return sorted(vlans), value.get('lag')


def normalize_switch_state(state):
    """``{leaf: {port: {vlans, lag}}}`` from what switches report, per leaf either ``{port: ...}``
    or a switch document with ``ports`` (``labctl.py switch <leaf> --json``)."""
    out = {}
    for leaf, ports in (state or {}).items():
        if isinstance(ports, dict) and isinstance(ports.get('ports'), dict):
            ports = ports['ports']
        out[str(leaf)] = {}
        for port, value in (ports or {}).items():
            vlans, lag = _port_vlans(value)
            out[str(leaf)][str(port)] = dict(vlans=vlans, lag=lag)
    return out


def created_vlans(state):
    """``{leaf: sorted VLANs}`` the switch driver created on each leaf, for the leaves whose report
    says so (a switch document with ``vlans`` beside ``ports``, as ``labctl.py switch <leaf> --json``
    gives it); leaves reporting only their ports are left out (nothing to say about them)."""
    out = {}
    for leaf, doc in (state or {}).items():
        if isinstance(doc, dict) and isinstance(doc.get('ports'), dict) and isinstance(doc.get('vlans'), list):
            out[str(leaf)] = sorted(set(int(v) for v in doc['vlans']))
    return out


def vlan_created_findings(name, rows, created):
    """One finding per leaf of the node whose intended VLANs the switch driver never created there:
    networking-generic-switch sends "create VLAN" only for a network's first segment (when the
    network is created), so the leaves of racks added as later segments never get one. A fake
    switch accepts the plug all the same; a real one may refuse it or forward nothing."""
    missing = {}
    for row in rows:
        if row['leaf'] in created:
            missing.setdefault(row['leaf'], set()).update(set(row['intended']) - set(created[row['leaf']]))
    out = []
    for leaf in sorted(missing):
        if not missing[leaf]:
            continue
        vlans = ', '.join(str(v) for v in sorted(missing[leaf]))
        out.append(_finding(name, 'vlan_not_created', 'node %s: %s was never told to create VLAN %s (the switch '
                            'driver creates a network\'s VLAN only for its first segment, not for racks added as '
                            'later segments): create it in the leaf\'s configuration, or a real switch may refuse '
                            'the port\'s plug' % (name, leaf, vlans), blocking=False, leaf=leaf,
                            vlans=sorted(missing[leaf]), created=created[leaf]))
    return out


def leaf_of(llc, leaf_by_chassis):
    """The leaf name of an Ironic port's ``local_link_connection``: its ``switch_id`` (chassis MAC)
    through ``leaf_switches``, else its ``switch_info``; None when neither is known."""
    chassis = normalize_mac((llc or {}).get('switch_id'))
    return leaf_by_chassis.get(chassis) or (llc or {}).get('switch_info') or None


class Site:
    """The cloud's state the check reads, indexed once: ``segments`` / ``subnets`` by network,
    ``agents`` (Baremetal Node) by host, Ironic ports / port groups by node, VIF ports by id."""

    def __init__(self, segments, subnets, agents, ports, portgroups, vif_ports, leaf_switches=None):
        self.segments = {}
        for seg in segments:
            self.segments.setdefault(seg['network_id'], []).append(seg)
        self.subnets_by_segment = {}
        self.subnets = dict((s['id'], s) for s in subnets)
        for sub in subnets:
            self.subnets_by_segment.setdefault(sub.get('segment_id'), []).append(sub)
        self.agents = {}
        for agent in agents:
            if agent.get('agent_type') == BAREMETAL_AGENT:
                self.agents[agent['host']] = agent
        self.ports, self.portgroups = {}, {}
        for port in ports:
            self.ports.setdefault(port.get('node_uuid'), []).append(port)
        for group in portgroups:
            self.portgroups.setdefault(group.get('node_uuid'), []).append(group)
        self.vif_ports = dict((p['id'], p) for p in vif_ports)
        self.leaf_by_chassis = dict((normalize_mac(v.get('chassis_id')), k) for k, v in (leaf_switches or {}).items()
                                    if isinstance(v, dict) and v.get('chassis_id'))

    def rack_segment(self, network_id, physnet):
        for seg in self.segments.get(network_id, []):
            if seg.get('physical_network') == physnet:
                return seg
        return None


def _physnet(name, ports):
    physnets = sorted(set(p.get('physical_network') for p in ports if p.get('physical_network')))
    return physnets, (physnets[0] if len(physnets) == 1 else None)


def mapping_findings(name, uuid, physnet, site):
    """The segment host mapping: networking-baremetal's agent for the node maps its physnet."""
    agent = site.agents.get(uuid)
    if agent is None:
        return [_finding(name, 'no_host_mapping', 'node %s: no segment host mapping - Neutron has no Baremetal Node '
                         'agent for %s (is ironic-neutron-agent running, and the node\'s ports enrolled with '
                         'physical_network?)' % (name, uuid))]
    mapped = sorted(((agent.get('configurations') or {}).get('bridge_mappings') or {}))
    out = []
    if physnet and physnet not in mapped:
        out.append(_finding(name, 'mapping_wrong_physnet', 'node %s: its host mapping is on %s, not on its rack\'s '
                            'physical network %s' % (name, ', '.join(mapped) or 'nothing', physnet),
                            mapped=mapped, expected=physnet))
    if not agent.get('alive', True):
        out.append(_finding(name, 'agent_down', 'node %s: the Baremetal Node agent is not alive: new mappings and '
                            'bindings wait for ironic-neutron-agent' % name, blocking=False))
    return out


def _in_subnet(ip, cidr):
    try:
        return netaddr.IPAddress(ip) in netaddr.IPNetwork(cidr)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return False


def flat_binding_findings(name, vif_id, port):
    """``flat``: Ironic binds the VIF with the node as host and no ``local_link_information``, and
    no switch driver programs anything. Whether Neutron then marks the port bound depends on its
    mechanism drivers (networking-baremetal 8 binds only ports with link information: the lab's
    flat VIFs stay ``binding_failed``), so the binding result is a warning there; the host Ironic
    set is what is checked."""
    vif_type = port.get('binding_vif_type')
    if vif_type not in UNBOUND_VIF_TYPES and vif_type != 'binding_failed':
        return []
    return [_finding(name, 'flat_not_bound', 'node %s: VIF %s (%s) on the flat network interface is %s in Neutron '
                     '(no mechanism driver bound it without link information): the leaf port must be configured '
                     'by hand, nothing programs it' % (name, vif_id, port.get('mac_address'), vif_type or 'unbound'),
                     vif=vif_id, blocking=False)]


def vif_findings(name, uuid, physnet, vif_id, port, site, flat=False):
    """One VIF: bound to this node, on the rack's segment of its network, an address from it
    (``flat``: the binding's result is a warning, the binding host must still be the node)."""
    if port is None:
        return [_finding(name, 'vif_port_missing', 'node %s: VIF %s is not a Neutron port: detach it '
                         '(openstack baremetal node vif detach %s %s)' % (name, vif_id, name, vif_id), vif=vif_id)], None
    out = []
    vif_type = port.get('binding_vif_type')
    if flat:
        out.extend(flat_binding_findings(name, vif_id, port))
        if not port.get('binding_host_id'):
            out.append(_finding(name, 'not_bound', 'node %s: VIF %s (%s) has no binding host: Ironic\'s flat '
                                'interface sets the node as host at deploy' % (name, vif_id, port.get('mac_address')),
                                vif=vif_id))
    elif vif_type == 'binding_failed':
        out.append(_finding(name, 'binding_failed', 'node %s: VIF %s (%s) is binding_failed - no mechanism driver '
                            'could bind it on host %s (see neutron-server\'s log; is the link on a leaf of physical '
                            'network %s?)' % (name, vif_id, port.get('mac_address'), port.get('binding_host_id'),
                                              physnet or '?'), vif=vif_id))
    elif vif_type in UNBOUND_VIF_TYPES:
        out.append(_finding(name, 'not_bound', 'node %s: VIF %s (%s) is not bound' % (name, vif_id, port.get('mac_address')),
                            vif=vif_id))
    if port.get('binding_host_id') and port['binding_host_id'] != uuid:
        out.append(_finding(name, 'wrong_host', 'node %s: VIF %s is bound to host %s, not to the node %s' % (
            name, vif_id, port['binding_host_id'], uuid), vif=vif_id))
    segment = site.rack_segment(port.get('network_id'), physnet) if physnet else None
    if segment is None:
        out.append(_finding(name, 'no_segment', 'node %s: VIF %s: network %s has no segment on the rack\'s physical '
                            'network %s: add the rack to the routed network'
                            % (name, vif_id, port.get('network_id'), physnet or '?'), vif=vif_id))
        return out, None
    rack_subnets = site.subnets_by_segment.get(segment['id'], [])
    addresses = port.get('fixed_ips') or []
    if not addresses:
        out.append(_finding(name, 'no_address', 'node %s: VIF %s has no fixed IP' % (name, vif_id), vif=vif_id))
    for fixed in addresses:
        subnet = site.subnets.get(fixed.get('subnet_id'))
        ok = subnet is not None and subnet in rack_subnets and _in_subnet(fixed.get('ip_address'), subnet['cidr'])
        if not ok:
            out.append(_finding(name, 'wrong_segment', 'node %s: VIF %s has %s from subnet %s, not from the subnet of '
                                'its rack\'s segment %s (%s)' % (
                                    name, vif_id, fixed.get('ip_address'), (subnet or {}).get('name') or fixed.get('subnet_id'),
                                    segment.get('name') or segment['id'],
                                    ', '.join(s['cidr'] for s in rack_subnets) or 'no subnet'), vif=vif_id))
    return out, segment


def _leaf_ports(points, vlans_of_point, site, lag_groups=()):
    """``{(leaf, port): {nic, vlans, lag}}`` - every Ironic port of the node with its intended VLANs
    (the VLANs of the VIFs on it or on its port group) and whether it is the member of an 802.3ad
    bond carrying a VIF (the switch should program a LAG there)."""
    out = {}
    for port, group_uuid in points:
        llc = port.get('local_link_connection') or {}
        leaf, switch_port = leaf_of(llc, site.leaf_by_chassis), llc.get('port_id')
        if not leaf or not switch_port:
            continue
        vlans = set(vlans_of_point.get(port['uuid'], ())) | set(vlans_of_point.get(group_uuid, ()))
        entry = out.setdefault((leaf, switch_port), dict(nic=port.get('address'), vlans=set(), lag=False))
        entry['vlans'] |= vlans
        entry['lag'] = entry['lag'] or bool(vlans_of_point.get(group_uuid) and group_uuid in lag_groups)
    return out


def switch_findings(name, leaf_ports, switch_state):
    """Intended against programmed VLANs, per leaf port; ``switch_state`` None checks nothing."""
    out, rows = [], []
    for (leaf, port), entry in sorted(leaf_ports.items()):
        intended = sorted(entry['vlans'])
        programmed, lag = None, None
        if switch_state is not None and leaf in switch_state:
            state = switch_state[leaf].get(port) or dict(vlans=[], lag=None)
            programmed, lag = state['vlans'], state['lag']
        rows.append(dict(leaf=leaf, port=port, nic=entry['nic'], intended=intended, programmed=programmed,
                         lag=lag, lag_intended=entry['lag']))
        if switch_state is None:
            continue
        if leaf not in switch_state:
            out.append(_finding(name, 'leaf_not_reported', 'node %s NIC %s: no programmed state given for %s' % (
                name, entry['nic'], leaf), nic=entry['nic'], blocking=False, leaf=leaf, port=port))
            continue
        missing = sorted(set(intended) - set(programmed))
        extra = sorted(set(programmed) - set(intended))
        if missing:
            out.append(_finding(name, 'vlan_missing', 'node %s NIC %s: %s %s lacks VLAN %s (programmed: %s)' % (
                name, entry['nic'], leaf, port, ', '.join(map(str, missing)), ', '.join(map(str, programmed)) or 'none'),
                nic=entry['nic'], leaf=leaf, port=port, intended=intended, programmed=programmed))
        if entry['lag'] and intended and lag is False:
            out.append(_finding(name, 'not_lag', 'node %s NIC %s: %s %s is plugged as a single port, not as a '
                                'member of the node\'s 802.3ad bond (LAG)' % (name, entry['nic'], leaf, port),
                                nic=entry['nic'], leaf=leaf, port=port))
        if extra:
            out.append(_finding(name, 'vlan_extra', 'node %s NIC %s: %s %s carries VLAN %s that none of its networks '
                                'needs (intended: %s)'
                                % (name, entry['nic'], leaf, port, ', '.join(map(str, extra)),
                                   ', '.join(map(str, intended)) or 'none'),
                                nic=entry['nic'], leaf=leaf, port=port, intended=intended, programmed=programmed))
    return out, rows


def programs_switch(node):
    """Whether a switch driver programs the node's leaf ports: Ironic's ``neutron`` network interface
    sends each port's ``local_link_information`` with the binding. ``flat`` binds the VIF with the
    node as host only (networking-baremetal's driver binds it on the mapped physnet), so nothing is
    told to the switches: their ports are configured outside Neutron, and the programmed VLANs are
    not checked (the rows keep the intended ones, ``programmed`` None)."""
    return (node.get('network_interface') or 'noop') not in ('flat', 'noop')


def check_node(node, site, switch_state=None, created=None):
    """One node's result ``{name, uuid, action, changed, failed, msg, findings, vifs, leaf_ports}``;
    ``action``: ``checked``, ``failed`` (a blocking finding) or ``not_checked`` (nothing to check: the
    ``noop`` network interface, or a node not deployed). ``created``: ``created_vlans`` of the
    switch state (a leaf missing an intended VLAN: a ``vlan_not_created`` finding, not blocking)."""
    name, uuid = node.get('name') or node['uuid'], node['uuid']
    result = dict(name=name, uuid=uuid, changed=False, findings=[], vifs=[], leaf_ports=[])
    if (node.get('network_interface') or 'noop') == 'noop':
        return dict(result, action='not_checked', failed=False, msg='network interface noop: Ironic binds no port')
    ports, groups = site.ports.get(uuid, []), site.portgroups.get(uuid, [])
    physnets, physnet = _physnet(name, ports)
    findings = []
    if len(physnets) > 1:
        findings.append(_finding(name, 'split_rack', 'node %s: its ports are on physical networks %s' % (
            name, ', '.join(physnets))))
    elif not physnets:
        findings.append(_finding(name, 'no_physnet', 'node %s: no port has a physical_network: enroll its ports with '
                                 'the rack\'s physnet' % name))
    findings.extend(mapping_findings(name, uuid, physnet, site))
    points = [(p, p.get('portgroup_uuid')) for p in ports]
    vlans_of_point = {}
    vif_rows = []
    for owner in list(groups) + list(ports):
        vif_id = vif_of(owner)
        if not vif_id:
            continue
        port = site.vif_ports.get(vif_id)
        found, segment = vif_findings(name, uuid, physnet, vif_id, port, site,
                                      flat=node.get('network_interface') == 'flat')
        findings.extend(found)
        if segment is not None and segment.get('network_type') == 'vlan' and segment.get('segmentation_id'):
            vlans_of_point.setdefault(owner['uuid'], set()).add(int(segment['segmentation_id']))
        vif_rows.append(dict(vif=vif_id, on=owner.get('name') or owner.get('address') or owner['uuid'],
                             network_id=(port or {}).get('network_id'),
                             vif_type=(port or {}).get('binding_vif_type'),
                             addresses=[f.get('ip_address') for f in (port or {}).get('fixed_ips') or []],
                             segment=(segment or {}).get('name')))
    if not vif_rows and node.get('provision_state') == 'active':
        findings.append(_finding(name, 'no_vif', 'node %s: active without a VIF: attach its port on the provisioning '
                                 'network (spineleaf.baremetal.ironic_provision with network)' % name))
    lag_groups = set(g['uuid'] for g in groups if g.get('mode') == '802.3ad')
    found, rows = switch_findings(name, _leaf_ports(points, vlans_of_point, site, lag_groups),
                                  switch_state if programs_switch(node) else None)
    findings.extend(found)
    if programs_switch(node):  # flat: nothing told the switches, no VLAN was to be created by a driver
        findings.extend(vlan_created_findings(name, rows, created or {}))
    blocking = [f for f in findings if f.get('blocking', True)]
    return dict(result, action='failed' if blocking else 'checked', failed=bool(blocking),
                msg='; '.join(f['msg'] for f in blocking) or None, findings=findings, vifs=vif_rows, leaf_ports=rows)


def check(nodes, site, switch_state=None):
    """Every node's result, in the given order (``check_node``)."""
    state = normalize_switch_state(switch_state) if switch_state is not None else None
    created = created_vlans(switch_state)
    return [check_node(node, site, state, created) for node in nodes]
