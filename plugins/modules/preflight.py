#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: preflight
short_description: Check that the Ironic and Neutron APIs a site needs are reachable and fit
version_added: 0.1.0
description:
  - Connects to the Bare Metal (Ironic) and Network (Neutron) APIs of the cloud and reports their
    versions, the enabled Ironic hardware types and the Neutron extensions.
  - Fails with one message listing every problem found (unreachable API, missing hardware type,
    missing Neutron extension, too old a microversion), so an operator sees all of them at once.
  - "Site-level problems come first and alone: a cloud that cannot be opened (no such cloud in
    clouds.yaml) or whose identity service (Keystone) cannot be reached or refuses the credentials
    is one problem naming the cloud, the C(auth_url) and the fix; the services are then not checked
    (each would fail the same way). Only a service's own endpoint failing is reported per service."
  - Reads only; never changes anything.
extends_documentation_fragment:
  - spineleaf.baremetal.openstack
  - spineleaf.baremetal.attributes.INFO_MODULE
options:
  services:
    description:
      - Which APIs to check.
    type: list
    elements: str
    choices: [baremetal, network]
    default: [baremetal, network]
  required_drivers:
    description:
      - Ironic hardware types (drivers) that must be enabled, for example C(ipmi) or C(redfish).
    type: list
    elements: str
    default: []
  required_network_extensions:
    description:
      - Neutron extension aliases that must be present. Routed provider networks need C(segment).
    type: list
    elements: str
    default: [segment]
  min_baremetal_microversion:
    description:
      - The lowest Ironic API microversion the site needs, as C(X.Y). The default is the one the
        collection's modules need (node inventory, 1.81).
    type: str
    default: '1.81'
  rack_conductor_groups:
    description:
      - Conductor groups the site pins racks to, mapping each rack to its group (the site model's
        C(rack_conductor_group) per rack). Each group needs a live conductor in
        C(GET /v1/conductors); a rack whose group has none is a problem naming the rack and the group.
      - Empty (the default) checks no conductor groups and makes no conductors call.
    type: dict
    default: {}
  network_interfaces:
    description:
      - Ironic network interfaces the site's nodes use (the site model's C(network_interface) /
        C(rack_network_interface)). When one of them is C(neutron) or C(flat), before any write -
      - Neutron must offer the C(segment) (routed networks) and C(binding) (port binding) extensions;
      - every hardware type of O(required_drivers) must have that network interface enabled
        (C(enabled_network_interfaces) of C(GET /v1/drivers?detail=true));
      - when Ironic already has nodes on such an interface, networking-baremetal's
        C(ironic-neutron-agent) must report them (C(Baremetal Node) agents; without them no segment
        host mapping exists and a routed port cannot bind). Which mechanism driver binds the ports
        (C(genericswitch) or another) is not visible through the API and is not checked.
      - Empty (the default) - none of these checks.
    type: list
    elements: str
    default: []
author:
  - Spineleaf Baremetal Team (@spineleaf)
'''

EXAMPLES = r'''
- name: Check the lab APIs
  spineleaf.baremetal.preflight:
    cloud: spineleaf-lab
    required_drivers: [fake-hardware]

- name: Racks pinned to conductor groups must have a conductor serving them
  spineleaf.baremetal.preflight:
    cloud: spineleaf-lab
    services: [baremetal]
    required_drivers: [fake-hardware]
    rack_conductor_groups:
      r01: group-a
      r02: group-b

- name: The site deploys through Ironic's neutron network interface
  spineleaf.baremetal.preflight:
    required_drivers: [redfish]
    network_interfaces: [neutron]

- name: Only Ironic, for a site whose networks are managed elsewhere
  spineleaf.baremetal.preflight:
    services: [baremetal]
    required_drivers: [redfish, ipmi]
'''

RETURN = r'''
baremetal:
  description: What the Bare Metal API reported.
  returned: when C(baremetal) is checked
  type: dict
  contains:
    endpoint:
      description: The endpoint used.
      type: str
      sample: http://127.0.0.1:6385
    max_microversion:
      description: The highest microversion the API supports.
      type: str
      sample: '1.99'
    drivers:
      description: Enabled hardware types.
      type: list
      elements: str
      sample: [fake-hardware]
    network_interfaces:
      description: Per hardware type, the enabled network interfaces and the default one (with O(network_interfaces)).
      type: dict
      returned: when O(network_interfaces) is not empty
      sample: {ipmi: {enabled: [flat, neutron, noop], default: neutron}}
    conductors:
      description: The conductors Ironic lists, when O(rack_conductor_groups) is set.
      type: list
      elements: dict
      returned: when O(rack_conductor_groups) is not empty
      sample: [{hostname: 127.0.0.1:8089, conductor_group: group-a, alive: true}]
network:
  description: What the Network API reported.
  returned: when C(network) is checked
  type: dict
  contains:
    endpoint:
      description: The endpoint used.
      type: str
      sample: http://127.0.0.1:9696/
    extensions:
      description: Aliases of the loaded extensions.
      type: list
      elements: str
      sample: [segment, provider]
    baremetal_agents:
      description: How many C(Baremetal Node) agents (networking-baremetal) Neutron lists, with O(network_interfaces) neutron or flat.
      type: int
      returned: when O(network_interfaces) names neutron or flat
identity:
  description: The cloud and its identity service, checked before the services.
  returned: always
  type: dict
  contains:
    cloud:
      description: How the cloud was named (the O(cloud) option, C(OS_CLOUD), or the environment).
      type: str
      sample: cloud 'prod-east'
    auth_type:
      description: The auth plugin of the cloud (C(none) needs no identity service; not checked then).
      type: str
      sample: password
    auth_url:
      description: The identity endpoint (null without one).
      type: str
    ok:
      description: Whether the cloud could be opened and a token obtained (or none is needed).
      type: bool
site_level:
  description: Whether the failure is about the cloud as a whole (no connection, no identity), not one service.
  returned: always
  type: bool
  sample: false
problems:
  description: Every problem found; the module fails when this is not empty.
  returned: always
  type: list
  elements: str
  sample: []
'''

from ..module_utils._base import (
    BaremetalError, BaremetalModule, cloud_label, describe_sdk_error)
from ..module_utils._ironic import MICROVERSION, IronicAdapter
from ..module_utils._neutron import Neutron
from ..module_utils._site import conductor_group_errors


# Ironic network interfaces that hand the node's ports to Neutron to bind.
NEUTRON_INTERFACES = frozenset(['neutron', 'flat'])
BAREMETAL_AGENT = 'Baremetal Node'
BINDING_EXTENSIONS = (
    ('segment', 'routed provider networks need service_plugins = segments'),
    ('binding', 'port binding comes with the ML2 plugin (core_plugin = ml2)'),
)
# Auth plugins that need no identity service (standalone Ironic / Neutron, as in the lab).
NO_IDENTITY_AUTH = frozenset(['none', 'noauth', 'http_basic'])


def _version_tuple(text, what='min_baremetal_microversion'):
    try:
        major, minor = str(text).split('.')[:2]
        return int(major), int(minor)
    except ValueError:
        raise BaremetalError('%s: %r is not a microversion such as 1.81' % (what, text))


class PreflightModule(BaremetalModule):
    argument_spec = dict(
        services=dict(type='list', elements='str', choices=['baremetal', 'network'],
                      default=['baremetal', 'network']),
        required_drivers=dict(type='list', elements='str', default=[]),
        required_network_extensions=dict(type='list', elements='str', default=['segment']),
        min_baremetal_microversion=dict(type='str', default=MICROVERSION),
        rack_conductor_groups=dict(type='dict', default={}),
        network_interfaces=dict(type='list', elements='str', default=[]),
    )

    def neutron_backed(self):
        """The site's network interfaces that need Neutron's binding (``neutron``, ``flat``)."""
        return sorted(set(i for i in self.params['network_interfaces'] if i in NEUTRON_INTERFACES))

    def check_baremetal(self, problems):
        try:
            ironic = IronicAdapter(self.conn)  # reaching conn.baremetal already asks the endpoint
            info = ironic.service_info()
            drivers = ironic.driver_names()
        except Exception as exc:
            problems.append('%s: Bare Metal API: %s' % (cloud_label(self.params.get('cloud')), describe_sdk_error(exc)))
            return None
        max_text = info['max_microversion'] or 'unknown'
        want = self.params['min_baremetal_microversion']
        _version_tuple(want)  # bad input fails before the first request
        if info['max_microversion'] and _version_tuple(info['max_microversion']) < _version_tuple(want):
            problems.append('Bare Metal API supports up to %s, the site needs %s: upgrade Ironic'
                            % (max_text, want))
        for name in self.params['required_drivers']:
            if name not in drivers:
                problems.append('Ironic hardware type %r is not enabled (enabled: %s): add it to '
                                'enabled_hardware_types' % (name, ', '.join(drivers) or 'none'))
        out = dict(endpoint=info['endpoint'], max_microversion=max_text, drivers=drivers)
        if self.params['network_interfaces']:
            out['network_interfaces'] = self.check_network_interfaces(ironic, drivers, problems)
            self._ironic = ironic
        if self.params['rack_conductor_groups']:
            out['conductors'] = self.check_conductor_groups(ironic, problems)
        return out

    def check_network_interfaces(self, ironic, drivers, problems):
        try:
            offered = ironic.driver_network_interfaces()
        except Exception as exc:
            problems.append('Bare Metal API: listing the drivers\' network interfaces: %s' % describe_sdk_error(exc))
            return None
        for driver in self.params['required_drivers']:
            if driver not in drivers:
                continue  # already a problem of its own
            enabled = (offered.get(driver) or {}).get('enabled') or []
            for iface in self.params['network_interfaces']:
                if iface not in enabled:
                    problems.append('Ironic network interface %r is not enabled for hardware type %r (enabled: %s): '
                                    'add it to [DEFAULT]enabled_network_interfaces' % (iface, driver, ', '.join(enabled) or 'none'))
        return offered

    def check_baremetal_agents(self, neutron, problems):
        """networking-baremetal: its agent reports every node on a neutron / flat interface."""
        try:
            agents = neutron.agents(BAREMETAL_AGENT)
        except Exception as exc:
            problems.append('Network API: listing agents: %s' % describe_sdk_error(exc))
            return None
        ironic = getattr(self, '_ironic', None)
        if not agents and ironic is not None:
            try:
                nodes = ironic.list_raw('nodes', fields=['uuid', 'network_interface'])
            except Exception:  # the baremetal check reports Ironic's own problems
                nodes = []
            bound = [n for n in nodes if n.get('network_interface') in NEUTRON_INTERFACES]
            if bound:
                problems.append('Neutron lists no Baremetal Node agent although %d Ironic node(s) use the %s network '
                                'interface: run networking-baremetal\'s ironic-neutron-agent and list "baremetal" in '
                                '[ml2]mechanism_drivers (without it routed segments get no host mapping and ports '
                                'cannot bind)' % (len(bound), '/'.join(self.neutron_backed())))
        return len(agents)

    def check_conductor_groups(self, ironic, problems):
        try:
            conductors = ironic.list_conductors()
        except Exception as exc:
            problems.append('Bare Metal API: listing conductors: %s' % describe_sdk_error(exc))
            return None
        rack_groups = dict((str(k), str(v)) for k, v in self.params['rack_conductor_groups'].items())
        problems.extend(conductor_group_errors(rack_groups, conductors))
        return conductors

    def check_network(self, problems):
        neutron = Neutron(self.conn)
        try:
            extensions = neutron.extension_aliases()
            endpoint = neutron.endpoint()
        except Exception as exc:
            problems.append('%s: Network API: %s' % (cloud_label(self.params.get('cloud')), describe_sdk_error(exc)))
            return None
        for alias in self.params['required_network_extensions']:
            if alias not in extensions:
                problems.append('Neutron extension %r is missing: enable the service plugin that '
                                'provides it (routed networks need service_plugins = segments)' % alias)
        out = dict(endpoint=endpoint, extensions=extensions)
        if self.neutron_backed():
            for alias, fix in BINDING_EXTENSIONS:
                if alias not in extensions and alias not in self.params['required_network_extensions']:
                    problems.append('Neutron extension %r is missing, and the %s network interface needs it: %s'
                                    % (alias, '/'.join(self.neutron_backed()), fix))
            out['baremetal_agents'] = self.check_baremetal_agents(neutron, problems)
        return out

    def check_identity(self):
        """Open the cloud and get a token: ``(identity info, problem or None)``. A problem here is
        site-level: every service call would fail the same way, so they are not made."""
        label = cloud_label(self.params.get('cloud'))
        info = dict(cloud=label, auth_type=None, auth_url=None, ok=False)
        try:
            conn = self.open_conn()
        except BaremetalError as exc:
            return info, str(exc)
        config = getattr(conn.config, 'config', None) or {}
        auth_type = config.get('auth_type') or 'password'
        auth_url = (config.get('auth') or {}).get('auth_url')
        info.update(auth_type=auth_type, auth_url=auth_url)
        if auth_type in NO_IDENTITY_AUTH:
            info['ok'] = True
            return info, None
        try:
            conn.authorize()
        except Exception as exc:
            # the SDK wraps keystoneauth's error; its cause carries the status and the kind
            cause = exc.__cause__ or exc.__context__ or exc
            return info, ('%s: the identity service (Keystone, auth_url %s) failed: %s; no service was checked '
                          '(each needs a token first): fix auth_url / the credentials in clouds.yaml, or start '
                          'Keystone' % (label, auth_url or 'not set', describe_sdk_error(cause)))
        info['ok'] = True
        return info, None

    def run(self):
        problems = []
        result = dict(changed=False, site_level=False)
        result['identity'], problem = self.check_identity()
        if problem:
            result.update(problems=[problem], site_level=True)
            self.fail_json(msg='preflight failed: ' + problem, **result)
        if 'baremetal' in self.params['services']:
            result['baremetal'] = self.check_baremetal(problems)
        if 'network' in self.params['services']:
            result['network'] = self.check_network(problems)
        result['problems'] = problems
        if problems:
            self.fail_json(msg='preflight failed: ' + '; '.join(problems), **result)
        self.exit_json(**result)


def main():
    PreflightModule()()


if __name__ == '__main__':
    main()
