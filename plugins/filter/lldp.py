# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

from ..module_utils._lldp import parse_lldp as _parse_lldp
from ..module_utils._topology import placement_fingerprint as _fingerprint
from ..module_utils._drift import drift_section as _drift_section
from ..module_utils._topology_report import leaf_vlans as _leaf_vlans
from ..module_utils._topology_report import render_report as _render_report

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


def cabling_fingerprint(placement):
    """One node's intended placement ``{rack, nics, bonds}`` in, its digest out (None without NICs)."""
    if not isinstance(placement, dict):
        raise AnsibleFilterError('cabling_fingerprint: expected a dict {rack, nics, bonds}, got %s' % type(placement).__name__)
    return _fingerprint(dict(placement))


def topology_html(results, switches=None, site='site', network=None, drift=None):
    """lldp_topology results (one per rack, or one) in, the site-wide HTML page out; ``network``:
    network_check results, whose leaf ports' VLANs (intended, programmed) the port map shows;
    ``drift``: ironic_drift results or the drift role's drift.json content (a dict with ``nodes``,
    or a list)."""
    if isinstance(results, dict):
        results = [results]
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise AnsibleFilterError('topology_html: expected lldp_topology results (a dict or a list of dicts)')
    topologies = [dict(t) for r in results for t in r.get('nodes') or [] if isinstance(t, dict) and 'nics' in t]
    if network is not None and (not isinstance(network, (list, dict))):
        raise AnsibleFilterError('topology_html: network must be network_check results (a dict or a list of dicts)')
    try:
        vlans = None if network is None else _leaf_vlans([network] if isinstance(network, dict) else list(network))
        drift = [drift] if isinstance(drift, dict) else list(drift or [])
        return _render_report(topologies, dict(switches or {}), site=str(site), vlans=vlans,
                              extra_html=_drift_section(drift))
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError('topology_html: cannot draw these results: %s' % exc)


class FilterModule:
    def filters(self):
        return {'parse_lldp': parse_lldp, 'cabling_fingerprint': cabling_fingerprint, 'topology_html': topology_html}
