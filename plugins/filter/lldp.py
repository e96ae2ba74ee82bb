# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

from ansible_collections.spineleaf.baremetal.plugins.module_utils._lldp import parse_lldp as _parse_lldp

display = Display()


def parse_lldp(tlvs):
    """One NIC's IPA ``lldp_raw`` TLV list in, Ironic's ``parsed_lldp`` dict out."""
    if not isinstance(tlvs, (list, tuple)):
        raise AnsibleFilterError('parse_lldp: expected a list of [type, "hex"] TLVs, got %s' % type(tlvs).__name__)
    warnings = []
    result = _parse_lldp(list(tlvs), warnings)
    for warning in warnings:
        display.warning('parse_lldp: %s' % warning)
    return result


class FilterModule:
    def filters(self):
        return {'parse_lldp': parse_lldp}
