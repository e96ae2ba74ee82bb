# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""networking-generic-switch device sections from the site model: one ``[genericswitch:<leaf>]``
per leaf of ``leaf_switches``, with the leaf's chassis ID as ``ngs_mac_address`` (how NGS finds the
switch from a port's ``local_link_information.switch_id``) and its rack's physical network as
``ngs_physical_networks`` (so a leaf only binds ports of its own rack's segment). Pure; no I/O."""

from __future__ import annotations

from ._errors import PlanError
from ._util import normalize_mac

SECRET_OPTIONS = ('password', 'secret', 'key_file')


def rack_physnets(racks):
    """``{rack: physnet}`` from a dict (already that) or from a list of hostvars / rack dicts with
    ``rack`` and ``rack_physnet``; two physnets for one rack is an error naming it."""
    if isinstance(racks, dict):
        return dict((str(k), str(v)) for k, v in racks.items() if v)
    out = {}
    for item in racks or []:
        rack, physnet = item.get('rack'), item.get('rack_physnet')
        if rack is None or not physnet:
            continue
        if out.get(str(rack), physnet) != physnet:
            raise PlanError('rack %s: two physical networks in the inventory (%s, %s): give the rack one rack_physnet'
                            % (rack, out[str(rack)], physnet))
        out[str(rack)] = str(physnet)
    return out


def _value(value):
    if isinstance(value, bool):
        return 'True' if value else 'False'
    if isinstance(value, (list, tuple)):
        return ','.join(str(v) for v in value)
    return str(value)


def switch_sections(leaf_switches, racks, device_type='netmiko_fake', ips=None, username=None, options=None,
                    leaf_options=None):
    """The sections, leaf by leaf (sorted): ``[(leaf, [(key, value), ...])]``. A leaf without a
    known IP gets the placeholder ``<management address of LEAF>``; passwords are never written
    (a comment says where they go)."""
    physnets = rack_physnets(racks)
    errors = []
    out = []
    for leaf in sorted(leaf_switches or {}):
        spec = leaf_switches[leaf] or {}
        if not isinstance(spec, dict):
            errors.append('leaf %s: expected {rack, chassis_id, mlag_peer}, got %r' % (leaf, spec))
            continue
        rack = spec.get('rack')
        physnet = physnets.get(str(rack)) if rack is not None else None
        if physnet is None:
            errors.append('leaf %s: rack %s has no rack_physnet in the inventory' % (leaf, rack))
            continue
        keys = [('device_type', spec.get('device_type') or device_type),
                ('ip', (ips or {}).get(leaf) or spec.get('ip') or '<management address of %s>' % leaf),
                ('username', username or spec.get('username') or '<switch user>')]
        chassis = normalize_mac(spec.get('chassis_id'))
        if spec.get('chassis_id') and chassis is None:
            errors.append('leaf %s: chassis_id %r is not a MAC address' % (leaf, spec.get('chassis_id')))
            continue
        if chassis:
            keys.append(('ngs_mac_address', chassis))
        keys.append(('ngs_physical_networks', physnet))
        extra = dict(options or {})
        extra.update((leaf_options or {}).get(leaf) or {})
        for key in sorted(extra):
            if key.lower() in SECRET_OPTIONS or 'password' in key.lower():
                errors.append('leaf %s: option %s is a secret: keep it out of the generated text (vault / a '
                              'separate config file)' % (leaf, key))
                continue
            keys.append((key, _value(extra[key])))
        out.append((leaf, keys))
    if errors:
        raise PlanError('; '.join(errors))
    return out


def switch_config(leaf_switches, racks, **kwargs):
    """The ``[genericswitch:<leaf>]`` sections as ml2_conf.ini text (``switch_sections``)."""
    blocks = []
    for leaf, keys in switch_sections(leaf_switches, racks, **kwargs):
        lines = ['[genericswitch:%s]' % leaf] + ['%s = %s' % kv for kv in keys]
        lines.append('# password = <from your vault>')
        blocks.append('\n'.join(lines))
    return '\n\n'.join(blocks) + ('\n' if blocks else '')
