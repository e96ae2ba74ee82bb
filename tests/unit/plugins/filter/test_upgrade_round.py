"""upgrade_round: the upgrade-tasks mode's sliding window, in Python (was a Jinja table)."""
from ansible_collections.spineleaf.baremetal.plugins.filter.rollout import upgrade_round


def member(name, rack, planned='upgraded', node=None):
    hv = dict(inventory_hostname=name, rack=rack, rolling_upgrade_planned_action=planned)
    if node is not None:
        hv['rolling_upgrade_node'] = node
    return hv


def test_free_slots_budget_and_pending_only():
    hosts = [member('a1', 'r1', node={'action': 'upgraded', 'failed': False}), member('a2', 'r1'), member('a3', 'r1'),
             member('a4', 'r1', planned='unchanged'),
             member('b1', 'r2', node={'action': 'failed', 'failed': True}), member('b2', 'r2'), member('b3', 'r2'),
             member('c1', 'r3', node={'action': 'failed', 'failed': True}), member('c2', 'r3')]
    assert upgrade_round(hosts, ['r1', 'r2'], 2, 5) == {'r1': ['a2', 'a3'], 'r2': ['b2']}
    assert upgrade_round(hosts, ['r3'], 2, 0) == {}  # past its budget: nothing starts
    assert upgrade_round(hosts, ['r2'], 1, 5) == {}  # no free slot: its failed node holds it
