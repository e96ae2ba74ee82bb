# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_utils is PRIVATE to the spineleaf.baremetal collection. It may change
# without notice; do not import it from other collections.
"""Settings drift of a node: the BIOS settings and firmware versions the site asks for against what
Ironic reports (``GET /v1/nodes/<n>/bios``, ``GET /v1/nodes/<n>/firmware``). Pure; no I/O.

A node's request is ``{bios_settings: {name: value}, firmware: {component: {version, url}}}``; what
Ironic reports is ``{name: value}`` and ``{component: current_version}`` (None: the driver reports
nothing of that kind). A finding is ``{node, kind, name, requested, reported, msg}``, ``kind`` being
``bios`` or ``firmware``."""

from __future__ import annotations

from collections.abc import Mapping
from xml.sax.saxutils import escape

from ._util import node_index

DRIFT_KINDS = ('bios', 'firmware')


def _text(value):
    """Ironic keeps BIOS values as text: ``True`` / ``1`` in YAML compare as ``'True'`` / ``'1'``."""
    if value is None:
        return None
    if isinstance(value, bool):
        return 'Enabled' if value else 'Disabled'
    return str(value)


def check_request(name, bios_settings, firmware):
    """Validate one node's request; returns ``(bios {name: text}, firmware {component: {version, url}})``.
    Raises ValueError naming the node and the field."""
    if bios_settings is None:
        bios_settings = {}
    if not isinstance(bios_settings, Mapping):
        raise ValueError('node %s: bios_settings must be a dict of setting name -> value, got %s'
                         % (name, type(bios_settings).__name__))
    bios = {}
    for key, value in bios_settings.items():
        if value is None or isinstance(value, (list, dict)):
            raise ValueError('node %s: bios_settings.%s must be a single value (text, number or boolean)' % (name, key))
        bios[str(key)] = _text(value)
    if firmware is None:
        firmware = {}
    if not isinstance(firmware, Mapping):
        raise ValueError('node %s: firmware must be a dict of component -> {version, url}, got %s'
                         % (name, type(firmware).__name__))
    fw = {}
    for component, spec in firmware.items():
        if isinstance(spec, (str, int, float)) and not isinstance(spec, bool):
            spec = {'version': spec}
        if not isinstance(spec, Mapping) or spec.get('version') in (None, ''):
            raise ValueError('node %s: firmware.%s needs a version (and a url for an update), e.g. '
                             '{version: "2.1.0", url: "https://fw.example/bmc-2.1.0.bin"}' % (name, component))
        fw[str(component)] = dict(version=str(spec['version']), url=spec.get('url'))
    return bios, fw


def node_drift(name, bios, firmware, reported_bios, reported_firmware):
    """The findings of one node, BIOS settings first, each kind sorted by name. ``reported_*`` None:
    the driver reports nothing of that kind, one finding says so (the drift cannot be known)."""
    findings = []
    if bios and reported_bios is None:
        findings.append(_finding(name, 'bios', '*', None, None,
                                 'BIOS settings requested, but the driver reports none (no BIOS interface?)'))
    for key in sorted(bios if reported_bios is not None else ()):
        got = reported_bios.get(key)
        if got != bios[key]:
            findings.append(_finding(name, 'bios', key, bios[key], got, 'BIOS %s is %s, requested %s' % (
                key, 'not reported' if got is None else got, bios[key])))
    if firmware and reported_firmware is None:
        findings.append(_finding(name, 'firmware', '*', None, None,
                                 'firmware versions requested, but the driver reports no components (API 1.86)'))
    for component in sorted(firmware if reported_firmware is not None else ()):
        want, got = firmware[component]['version'], reported_firmware.get(component)
        if got != want:
            findings.append(_finding(name, 'firmware', component, want, got, 'firmware %s is %s, requested %s' % (
                component, 'not reported' if got is None else got, want)))
    return findings


def _finding(node, kind, name, requested, reported, msg):
    return dict(node=node, kind=kind, name=name, requested=requested, reported=reported, msg=msg)


def drift_steps(findings, firmware):
    """The clean steps that correct ``findings`` (one node's): ``bios.apply_configuration`` with the
    drifted settings, ``firmware.update`` with the drifted components (those with a ``url``). Returns
    ``(steps, problems)``: a drifted component without a url, or drift the driver cannot report, is a
    problem (no step can correct it)."""
    settings, components, problems = [], [], []
    for f in findings:
        if f['name'] == '*':
            problems.append(f['msg'])
        elif f['kind'] == 'bios':
            settings.append(dict(name=f['name'], value=f['requested']))
        elif firmware.get(f['name'], {}).get('url'):
            components.append(dict(component=f['name'], url=firmware[f['name']]['url']))
        else:
            problems.append('%s, and firmware.%s has no url to update from' % (f['msg'], f['name']))
    steps = []
    if settings:
        steps.append(dict(interface='bios', step='apply_configuration', args=dict(settings=settings)))
    if components:
        steps.append(dict(interface='firmware', step='update', args=dict(settings=components)))
    return steps, problems


def reported_bios(entries):
    """``GET /v1/nodes/<n>/bios`` body's ``bios`` list -> ``{name: value}``."""
    return dict((str(e.get('name')), _text(e.get('value'))) for e in entries or [] if isinstance(e, Mapping))


def reported_firmware(entries):
    """``GET /v1/nodes/<n>/firmware`` body's ``firmware`` list -> ``{component: current_version}``."""
    return dict((str(e.get('component')), _text(e.get('current_version')))
                for e in entries or [] if isinstance(e, Mapping))


def drift_section(results):
    """The HTML section of the topology report listing the drift per rack: ``results`` are
    ironic_drift results (their ``nodes``, each with ``rack`` and ``drift``). Empty text when no
    node was checked."""
    nodes = [n for r in results if isinstance(r, Mapping) for n in r.get('nodes') or [] if isinstance(n, Mapping)]
    if not nodes:
        return ''
    drifted = [n for n in nodes if n.get('drift')]
    rows = ''.join('<tr class="warning" data-node=%s><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>' % (
        '"%s"' % escape(str(n.get('name'))), escape(str(n.get('rack') or '')), escape(str(n.get('name'))),
        escape(f['kind']), escape(str(f['name'])), escape(str(f.get('requested'))), escape(str(f.get('reported'))))
        for n in sorted(drifted, key=lambda n: (str(n.get('rack') or ''), str(n.get('name'))))
        for f in n['drift'])
    return ('<section id="drift"><h2>Settings drift</h2><p>%d of %d nodes checked drift from the requested '
            'settings</p><table><tr><th>rack</th><th>node</th><th>kind</th><th>setting</th><th>requested</th>'
            '<th>reported</th></tr>%s</table></section>' % (len(drifted), len(nodes), rows))


# ------------------------------------------------------------------ requests and reads
# The options ironic_drift and ironic_clean share: which nodes, and what is requested of them.
REQUEST_OPTIONS = dict(
    nodes=dict(type='list', elements='raw', required=True),
    bios_settings=dict(type='dict'),
    firmware=dict(type='dict'),
    concurrency=dict(type='int', default=8),
)

NODE_FIELDS = ('uuid', 'name', 'provision_state', 'maintenance', 'maintenance_reason', 'provision_updated_at',
               'bios_interface', 'firmware_interface', 'fault')


def node_requests(nodes, bios_settings=None, firmware=None, clean_steps=None):
    """The module option ``nodes`` (names, or dicts ``{name, bios_settings, firmware, clean_steps}``)
    with the module-wide defaults under each node's own (a node's keys win, per setting / component):
    ``[{name, bios, firmware, clean_steps, requested}]``. Raises ValueError naming node and field."""
    out, seen = [], set()
    for item in nodes or []:
        spec = dict(name=item) if isinstance(item, str) else dict(item) if isinstance(item, Mapping) else None
        if spec is None or not spec.get('name'):
            raise ValueError('each entry of nodes is a node name or a dict with name, got %r' % (item,))
        name = str(spec['name'])
        if name in seen:
            raise ValueError('node %s is listed twice in nodes' % name)
        seen.add(name)
        bios, fw = check_request(name, dict(bios_settings or {}, **dict(spec.get('bios_settings') or {})),
                                 dict(firmware or {}, **dict(spec.get('firmware') or {})))
        steps = list(clean_steps or []) + list(spec.get('clean_steps') or [])
        out.append(dict(name=name, bios=bios, firmware=fw, clean_steps=steps, requested=bool(bios or fw)))
    return out


def read_reported(adapter, node, want_bios, want_firmware):
    """``(bios {name: value} or None, firmware {component: version} or None)`` of one node, read through
    the adapter only for the kinds requested (None: the node has no such interface, or the API lacks
    the resource)."""
    bios = firmware = None
    if want_bios and node.get('bios_interface') not in ('no-bios',):
        entries = adapter.node_settings(node['uuid'], 'bios')
        bios = reported_bios(entries) if entries is not None else None
    if want_firmware and node.get('firmware_interface') not in ('no-firmware',):
        entries = adapter.node_settings(node['uuid'], 'firmware')
        firmware = reported_firmware(entries) if entries is not None else None
    return bios, firmware


def collect_drift(adapter, requests, nodes_by_key=None):
    """Each request's node (``nodes_by_key``: name or uuid -> node; by default one list call of the
    NODE_FIELDS) and findings, reading the nodes' settings with the adapter's bounded concurrency:
    ``{name: (node or None, findings)}``."""
    if nodes_by_key is None:
        nodes_by_key = node_index(adapter.list_raw('nodes', fields=list(NODE_FIELDS)))

    def one(req):
        node = nodes_by_key.get(req['name'])
        if node is None or not req['requested']:
            return node, []
        bios, fw = read_reported(adapter, node, bool(req['bios']), bool(req['firmware']))
        return node, node_drift(req['name'], req['bios'], req['firmware'], bios, fw)
    out = {}
    for req, result, error in adapter.parallel(requests, one):
        if error is not None:
            raise error
        out[req['name']] = result
    return out
