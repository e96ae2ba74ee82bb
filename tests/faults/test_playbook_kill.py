"""The control node side: ansible-playbook (its process group) SIGKILLed in the middle of
site.yml's enrollment / inspection of the lab site, then run again: it converges to the site asked
for, and the run after that changes nothing. site_final_state=manageable stops site.yml after
tagging (the deploy plays are covered by test_ironic_restart and tests/integration/test_preflight.py),
which keeps the case within the suite's time. (The rolling upgrade's resume after SIGKILL is
tests/integration/test_rolling_upgrade.py.)"""
import collections

from ..recap import changed_hosts
from .conftest import nodes, settled, start_playbook, wait_until

SITE = ["r%02d-n%02d" % (r, n) for r in (1, 2, 3) for n in (1, 2, 3, 4)]
UNTIL_TAGGED = {"site_final_state": "manageable"}


def _site_nodes(conn):
    return [n for n in nodes(conn, "r0") if n["name"] in SITE]


def test_sigkill_ansible_playbook_mid_site_yml(lab, conn):
    run = start_playbook(lab, "playbooks/site.yml", "inventory/lab", UNTIL_TAGGED)

    def inspecting():
        # The kill waits for every site node to exist, so the check below that it came before the
        # end of inspection is about the whole site, not about the few nodes enrolled so far.
        found = _site_nodes(conn)
        return set(n["name"] for n in found) == set(SITE) and any(
            n["provision_state"] in ("inspecting", "inspect wait") or n.get("inspection_finished_at") for n in found)

    try:
        wait_until("every lab node enrolled, one in inspection", lambda: inspecting() or not run.running() and "ended",
                   600, interval=0.1)
    finally:
        assert run.running(), "site.yml ended before it could be killed"
        run.kill()
    at_kill = _site_nodes(conn)
    killed = dict((n["name"], (n["provision_state"], bool(n.get("inspection_finished_at")))) for n in at_kill)
    assert sorted(killed) == sorted(SITE), killed
    assert not all(inspected for _state, inspected in killed.values()), killed  # killed mid-inspection

    rc, _res, elapsed, output = start_playbook(lab, "playbooks/site.yml", "inventory/lab", UNTIL_TAGGED).finish(900)
    assert rc == 0, output[-6000:]
    found = _site_nodes(conn)
    count = collections.Counter(n["name"] for n in found)
    assert sorted(count) == sorted(SITE) and max(count.values()) == 1, count
    assert not [p for n in found for p in settled(n, "manageable")]
    assert all(n.get("inspection_finished_at") and "CUSTOM_RACK_%s" % n["name"][:3].upper() in n["traits"]
               for n in found), [(n["name"], n["traits"]) for n in found]
    by_uuid = dict((n["uuid"], n["name"]) for n in found)
    port_count = collections.Counter(by_uuid[p["node_uuid"]] for p in
                                     conn.baremetal.get("/ports?fields=node_uuid,address&limit=5000",
                                                        microversion="1.81").json()["ports"] if p["node_uuid"] in by_uuid)
    assert set(port_count.values()) == {2}, port_count  # two NICs each, no duplicate port

    rc, _res, elapsed, output = start_playbook(lab, "playbooks/site.yml", "inventory/lab", UNTIL_TAGGED).finish(900)
    assert rc == 0, output[-6000:]
    assert changed_hosts(output) == [], output[-6000:]
