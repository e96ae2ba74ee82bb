# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os
from collections.abc import Mapping

import yaml
from ansible.errors import AnsibleFilterError

from ..module_utils import _outcome, _rollout, _service


def failure_budget(budget, total):
    try:
        return _rollout.failure_budget(budget, total)
    except ValueError as exc:
        raise AnsibleFilterError('failure_budget: %s' % exc)


def rack_budget(failed, total, budget, rack):
    try:
        return _rollout.rack_budget(rack, failed, total, budget)
    except ValueError as exc:
        raise AnsibleFilterError('rack_budget: rack %s: %s' % (rack, exc))


def rollout_racks(racks, order=None, index=None, wanted=None):
    try:
        return _rollout.select_racks(_rollout.rack_order(racks, order, index), wanted)
    except ValueError as exc:
        raise AnsibleFilterError('rollout_racks: %s' % exc)


def _upgrade_round(hosts, wave, max_unavailable, budget):
    out = {}
    max_unavailable = int(max_unavailable)
    for rack in wave:
        members = [h for h in hosts if 'rack' in h and str(h['rack']) == str(rack)]
        done = [h.get('rolling_upgrade_node') for h in members]
        failed = sum(1 for d in done if isinstance(d, Mapping) and d.get('action') == 'failed')
        pending = [str(h['inventory_hostname']) for h, d in zip(members, done)
                   if d is None and h.get('rolling_upgrade_planned_action') == 'upgraded']
        nodes = [dict(d if isinstance(d, Mapping) else {'action': 'pending', 'failed': False},
                      name=str(h['inventory_hostname'])) for h, d in zip(members, done)]
        verdict = _outcome.node_outcome({'nodes': nodes}, '', budget, rack=rack)['verdict']
        free = max_unavailable - failed
        if pending and not verdict['stopped'] and free > 0:
            out[str(rack)] = pending[:free]
    return out


def upgrade_round(hosts, wave, max_unavailable, budget=None):
    """The next round of a rollout with upgrade tasks: ``{rack: [hosts to start]}`` for each rack of
    the wave within its budget, as many of its pending nodes as it has free slots (max_unavailable
    less its failed nodes). ``hosts``: the members' variables (``rack``, ``rolling_upgrade_node``
    once done, ``rolling_upgrade_planned_action``)."""
    try:
        return _upgrade_round(list(hosts), list(wave), max_unavailable, budget)
    except (TypeError, ValueError, KeyError) as exc:
        raise AnsibleFilterError('upgrade_round: %s' % exc)


def rollout_what(image, upgrade_tasks='', service_steps=None, runbook='', rollout_id=''):
    """What the rolling_upgrade role rolls (_service.rollout_what); service steps may come as YAML
    or JSON text (an -e or AWX survey answer)."""
    if isinstance(service_steps, str):
        try:
            service_steps = yaml.safe_load(service_steps) if service_steps.strip() else []
        except yaml.YAMLError as exc:
            raise AnsibleFilterError('rollout_what: rollout_service_steps is not YAML or JSON: %s' % exc)
    if isinstance(image, Mapping):
        image = dict(image)
    tasks = str(upgrade_tasks or '').strip()
    return _service.rollout_what(image, tasks, service_steps, runbook, rollout_id,
                                 tasks_exist=not tasks or os.path.isfile(tasks))


class FilterModule:
    def filters(self):
        return {'rollout_what': rollout_what, 'failure_budget': failure_budget, 'rack_budget': rack_budget, 'rollout_racks': rollout_racks,
                'upgrade_round': upgrade_round}
