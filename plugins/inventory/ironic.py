# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
name: ironic
short_description: The site as Ironic knows it (nodes grouped by rack, role and state)
version_added: 0.1.0
description:
  - Reads every bare metal node and port from Ironic, one paginated list call for nodes and one for
    ports whatever the size of the site, and makes each node an inventory host named by its
    Ironic name (its UUID when it has none).
  - Groups are C(baremetal) (every node), C(rack_<rack>) (a child of C(baremetal); the rack comes
    from the node's C(CUSTOM_RACK_*) trait, else its C(extra.rack)), C(role_<role>) (the
    C(CUSTOM_ROLE_*) trait, else C(extra.role)), C(state_<provision state>) (C(state_active),
    C(state_deploy_failed), ...), C(resource_class_<class>), C(conductor_group_<group>) and
    C(maintenance).
  - Hostvars are C(rack) and C(node_role) (the site model's names) and C(ironic), the node's
    fields that are set (null and empty fields are left out) with its C(traits) and C(ports) (each with C(address), C(physical_network),
    C(pxe_enabled), and C(switch), C(switch_id) and C(port) from its local link connection).
  - Nothing secret is exported or cached. C(driver_info) passwords and BMC credentials, the
    C(instance_info) config drive, C(driver_internal_info) (agent tokens) and any key that looks
    like a secret (password, key, token, user, auth, ...) are removed.
  - The configuration file must be named C(ironic.yml), C(ironic.yaml), or end with C(.ironic.yml) /
    C(.ironic.yaml). It works as an AWX / AAP inventory source sourced from a project.
author:
  - Spineleaf Baremetal Team (@spineleaf)
requirements:
  - openstacksdk
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: Marks the file as a configuration of this plugin.
    required: true
    type: str
    choices: [spineleaf.baremetal.ironic]
  cloud:
    description:
      - Name of the clouds.yaml entry to use. Without it, C(OS_CLOUD) or the C(OS_*) variables
        are used, as by every OpenStack client.
    type: str
  auth:
    description: Authentication dict (C(auth_url), C(username), ...) instead of a clouds.yaml entry.
    type: dict
  auth_type:
    description: Authentication plugin (C(password), C(token), C(none), ...).
    type: str
  region_name:
    description: Region of the cloud.
    type: str
  interface:
    description: Endpoint interface of the service catalog.
    type: str
    choices: [admin, internal, public]
    default: public
  validate_certs:
    description: Verify TLS certificates (on by default, like the clouds.yaml default).
    type: bool
  ca_cert:
    description: CA bundle to verify the API's certificate with.
    type: path
  client_cert:
    description: Client certificate for TLS client authentication.
    type: path
  client_key:
    description: Key of the client certificate.
    type: path
  api_timeout:
    description: Timeout of each API call, in seconds.
    type: int
  node_filters:
    description:
      - Query parameters of the node list call, as the Bare Metal API names them, for example
        C(provision_state), C(conductor_group), C(resource_class), C(maintenance), C(owner).
    type: dict
    default: {}
  with_ports:
    description: List the ports too (one more paginated call) and add them to each node's hostvars.
    type: bool
    default: true
'''

EXAMPLES = r'''
# inventory/dc1.ironic.yml
plugin: spineleaf.baremetal.ironic
cloud: dc1
# cache the listing for 5 minutes (any inventory cache plugin)
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ansible-ironic
cache_timeout: 300
# Constructable: more groups and variables from the hostvars
keyed_groups:
  - key: ironic.properties.cpu_arch
    prefix: arch
groups:
  deployable: ironic.provision_state == 'available' and not ironic.maintenance
compose:
  bmc_address: ironic.driver_info.redfish_address | default(ironic.driver_info.ipmi_address | default(omit))

# Only the active nodes of one conductor group:
# plugin: spineleaf.baremetal.ironic
# node_filters: {provision_state: active, conductor_group: rack-a}

# ansible-inventory -i inventory/dc1.ironic.yml --graph rack_r07
'''

from concurrent.futures import ThreadPoolExecutor

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ..module_utils._base import (
    BaremetalError, describe_sdk_error, open_connection)
from ..module_utils._ironic import IronicAdapter
from ..module_utils._node_inventory import inventory_from_ironic

AUTH_OPTIONS = ('cloud', 'auth', 'auth_type', 'region_name', 'interface', 'validate_certs', 'ca_cert',
                'client_cert', 'client_key', 'api_timeout')


# Ansible's config layer reads any unknown text as false: a typo in validate_certs would turn TLS
# verification off without a word. These options take only real booleans.
STRICT_BOOLEANS = ('validate_certs', 'with_ports', 'cache', 'strict')
BOOLEAN_TEXT = ('yes', 'no', 'true', 'false', 'on', 'off', '1', '0', 'y', 'n', 't', 'f')


def strict_booleans(config, path):
    """Refuse a boolean option of the configuration ``config`` (read from ``path``) whose value is
    not a boolean, naming the file and the option."""
    for key in STRICT_BOOLEANS:
        value = (config or {}).get(key)
        if value is None or isinstance(value, bool) or str(value).strip().lower() in BOOLEAN_TEXT:
            continue
        raise AnsibleParserError('%s: %s must be true or false, got %r' % (path, key, value))


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """Yields Ironic's nodes, grouped by rack, role, state, resource class and conductor group."""

    NAME = 'spineleaf.baremetal.ironic'

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(
            ('/ironic.yml', '/ironic.yaml', '.ironic.yml', '.ironic.yaml')) or path in ('ironic.yml', 'ironic.yaml')

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        strict_booleans(self._read_config_data(path), path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option('cache') and cache
        update_cache = self.get_option('cache') and not cache
        site = None
        if use_cache:
            try:
                site = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if site is None:
            site = self._fetch(path)
        if update_cache:
            # Only the mapped inventory is cached: secrets were removed before this point.
            self._cache[cache_key] = site
        self._populate(site)

    def _fetch(self, path):
        params = dict((key, self.get_option(key)) for key in AUTH_OPTIONS)
        try:
            adapter = IronicAdapter(open_connection(**params))
            # Nodes and ports are two independent paginated lists: read them side by side.
            with ThreadPoolExecutor(2) as pool:
                nodes = pool.submit(adapter.list_raw, 'nodes', **(self.get_option('node_filters') or {}))
                ports = pool.submit(adapter.list_raw, 'ports') if self.get_option('with_ports') else None
                nodes = nodes.result()
                ports = ports.result() if ports is not None else []
        except BaremetalError as exc:
            raise AnsibleParserError('%s: %s' % (path, exc))
        except Exception as exc:  # SDK / keystoneauth errors: one clear message, no traceback
            raise AnsibleParserError('%s: listing Ironic nodes failed: %s' % (path, describe_sdk_error(exc)))
        return inventory_from_ironic(nodes, ports)

    def _populate(self, site):
        inventory = self.inventory
        strict = self.get_option('strict')
        for group in site['groups']:
            inventory.add_group(group)
        for group in site['racks']:
            inventory.add_child('baremetal', group)
        for group, hosts in site['groups'].items():
            for host in hosts:
                inventory.add_host(host, group=group)
        for host, hostvars in site['hosts'].items():
            for key, value in hostvars.items():
                inventory.set_variable(host, key, value)
            self._set_composite_vars(self.get_option('compose'), hostvars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option('groups'), hostvars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option('keyed_groups'), hostvars, host, strict=strict)
