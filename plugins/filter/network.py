# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the Neutron side of bare metal: networking-generic-switch device sections."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ..module_utils import _switch_config


def switch_config(leaf_switches, racks, device_type='netmiko_fake', ips=None, username=None, options=None,
                  leaf_options=None):
    if not isinstance(leaf_switches, Mapping):
        raise AnsibleFilterError('switch_config: expected leaf_switches (a dict leaf -> {rack, chassis_id}), got %s'
                                 % type(leaf_switches).__name__)
    if isinstance(racks, Mapping):
        racks = dict(racks)
    elif isinstance(racks, (list, tuple)):
        racks = [dict((k, r[k]) for k in ('rack', 'rack_physnet') if k in r) for r in racks if isinstance(r, Mapping)]
    else:
        raise AnsibleFilterError('switch_config: racks must be a dict rack -> physnet or a list of hostvars, got %s'
                                 % type(racks).__name__)
    try:
        return _switch_config.switch_config(dict(leaf_switches), racks, device_type=device_type, ips=ips,
                                            username=username, options=options, leaf_options=leaf_options)
    except ValueError as exc:
        raise AnsibleFilterError('switch_config: %s' % to_native(exc))


class FilterModule:
    def filters(self):
        return {'switch_config': switch_config}
