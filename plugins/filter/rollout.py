# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.spineleaf.baremetal.plugins.module_utils import _rollout


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


class FilterModule:
    def filters(self):
        return {'failure_budget': failure_budget, 'rack_budget': rack_budget, 'rollout_racks': rollout_racks}
