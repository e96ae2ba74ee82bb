# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ..module_utils import _outcome


def node_outcome(results, host, budget=None, rack=None, hosts=None, report=None):
    try:
        return _outcome.node_outcome(results, host, budget, rack=rack, hosts=hosts, report=report)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError('node_outcome: host %s: %s' % (host, exc))


def node_outcomes(results, hosts, budget=None, rack_key='rack', report=None, missing=None, no_rack=True):
    try:
        return _outcome.node_outcomes(results, hosts, budget, rack_key=rack_key, report=report, missing=missing,
                                      no_rack=no_rack)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError('node_outcomes: %s' % exc)


def node_entry(results, name, missing='no result', rack=None, rack_key=None):
    try:
        return _outcome.node_entry(results, name, missing, rack=rack, rack_key=rack_key)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError('node_entry: node %s: %s' % (name, exc))


def site_summary(hosts, play_hosts, introspected=None):
    try:
        return _outcome.site_summary(list(hosts), list(play_hosts), introspected or [])
    except (TypeError, ValueError, KeyError) as exc:
        raise AnsibleFilterError('site_summary: %s' % exc)


def site_results(hosts, introspected=None):
    try:
        return _outcome.site_results(list(hosts), introspected or [])
    except (TypeError, ValueError, KeyError) as exc:
        raise AnsibleFilterError('site_results: %s' % exc)


def routed_changes(results, rack):
    try:
        return _outcome.routed_changes(results, rack)
    except (TypeError, ValueError, KeyError) as exc:
        raise AnsibleFilterError('routed_changes: %s' % exc)


class FilterModule:
    def filters(self):
        return {'node_entry': node_entry, 'node_outcome': node_outcome, 'node_outcomes': node_outcomes, 'site_summary': site_summary,
                'site_results': site_results, 'routed_changes': routed_changes}
