# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.spineleaf.baremetal.plugins.module_utils import _outcome


def node_outcome(results, host, budget=None, rack=None, hosts=None, report=None):
    try:
        return _outcome.node_outcome(results, host, budget, rack=rack, hosts=hosts, report=report)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError('node_outcome: host %s: %s' % (host, exc))


class FilterModule:
    def filters(self):
        return {'node_outcome': node_outcome}
