# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ..module_utils._site import discover_spec as _discover_spec
from ..module_utils._site import is_discovered as _is_discovered
from ..module_utils._site import node_spec as _node_spec
from ..module_utils._site import node_network_interface as _node_network_interface
from ..module_utils._site import node_traits as _node_traits
from ..module_utils._site import rack_conductor_groups as _rack_conductor_groups
from ..module_utils._site import role_templates as _role_templates
from ..module_utils._site import site_errors as _site_errors
from ..module_utils._traits import trait_name as _trait_name


def site_errors(nodes):
    if not isinstance(nodes, list):
        raise AnsibleFilterError('site_errors: expected a list of node hostvars, got %s' % type(nodes).__name__)
    return _site_errors([dict(n) for n in nodes])


def trait_name(value, prefix='CUSTOM_'):
    try:
        return _trait_name(value, prefix)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


def enroll_node(hostvars):
    if not isinstance(hostvars, Mapping):
        raise AnsibleFilterError('enroll_node: expected one node\'s hostvars (a dict), got %s' % type(hostvars).__name__)
    try:
        return _node_spec(dict(hostvars))
    except (KeyError, ValueError, TypeError) as exc:
        raise AnsibleFilterError('enroll_node: node %s: %s' % (hostvars.get('inventory_hostname'), exc))


def discover_node(hostvars):
    if not isinstance(hostvars, Mapping):
        raise AnsibleFilterError('discover_node: expected one node\'s hostvars (a dict), got %s' % type(hostvars).__name__)
    try:
        return _discover_spec(dict(hostvars))
    except (KeyError, ValueError, TypeError) as exc:
        raise AnsibleFilterError('discover_node: node %s: %s' % (hostvars.get('inventory_hostname'), exc))


def to_discover(nodes):
    if not isinstance(nodes, list):
        raise AnsibleFilterError('to_discover: expected a list of node hostvars, got %s' % type(nodes).__name__)
    return [n for n in nodes if isinstance(n, Mapping) and _is_discovered(dict(n))]


def node_traits(hostvars, rack=True, role=True):
    if not isinstance(hostvars, Mapping):
        raise AnsibleFilterError('node_traits: expected one node\'s hostvars (a dict), got %s' % type(hostvars).__name__)
    try:
        return _node_traits(hostvars, rack=rack, role=role)
    except ValueError as exc:
        raise AnsibleFilterError('node_traits: node %s: %s' % (hostvars.get('inventory_hostname'), exc))


def deploy_template_traits(hostvars, deploy_templates=None):
    if not isinstance(hostvars, Mapping):
        raise AnsibleFilterError('deploy_template_traits: expected one node\'s hostvars (a dict), got %s'
                                 % type(hostvars).__name__)
    templates = hostvars.get('deploy_templates') if deploy_templates is None else deploy_templates
    if templates is not None and not isinstance(templates, list):
        raise AnsibleFilterError('deploy_template_traits: node %s: deploy_templates must be a list of {name, steps, roles}, got %s'
                                 % (hostvars.get('inventory_hostname'), type(templates).__name__))
    try:
        return _role_templates(templates, hostvars.get('node_role'))
    except ValueError as exc:
        raise AnsibleFilterError('deploy_template_traits: node %s: %s' % (hostvars.get('inventory_hostname'), exc))


def rack_conductor_groups(nodes):
    if not isinstance(nodes, list):
        raise AnsibleFilterError('rack_conductor_groups: expected a list of node hostvars, got %s' % type(nodes).__name__)
    return _rack_conductor_groups([dict(n) for n in nodes])


def network_interfaces(nodes):
    if not isinstance(nodes, list):
        raise AnsibleFilterError('network_interfaces: expected a list of node hostvars, got %s' % type(nodes).__name__)
    return sorted(set(_node_network_interface(dict(n)) for n in nodes if isinstance(n, Mapping))
                  - set([None]))


class FilterModule:
    def filters(self):
        return {'site_errors': site_errors, 'trait_name': trait_name, 'enroll_node': enroll_node,
                'node_traits': node_traits, 'rack_conductor_groups': rack_conductor_groups,
                'discover_node': discover_node, 'to_discover': to_discover,
                'network_interfaces': network_interfaces, 'deploy_template_traits': deploy_template_traits}
