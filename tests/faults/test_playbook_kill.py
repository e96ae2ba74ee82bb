"""The control node side: ansible-playbook (its whole session: workers and module processes)
SIGKILLed in the middle of site.yml's inspection of the lab site, then run again: it converges
to the site asked for, and the run after that changes nothing. (The rolling upgrade's resume
after SIGKILL is tests/integration/test_rolling_upgrade.py.)"""
import collections
import os
import re

import yaml

from .conftest import REPO, nodes, settled, start_playbook, wait_until

SITE = ["r%02d-n%02d" % (r, n) for r in (1, 2, 3) for n in (1, 2, 3, 4)]


def _site_nodes(conn):
    return [n for n in nodes(conn, "r0") if n["name"] in SITE]


def test_sigkill_ansible_playbook_mid_site_yml(lab, conn):
    run = start_playbook(lab, "playbooks/site.yml", "inventory/lab")

    def inspecting():
        return any(n["provision_state"] in ("inspecting", "inspect wait") or n.get("inspection_finished_at")
                   for n in _site_nodes(conn))

    try:
        wait_until("a lab node in inspection", lambda: inspecting() or not run.running() and "ended", 600, interval=0.1)
    finally:
        assert run.running(), "site.yml ended before it could be killed"
        run.kill()
    killed = dict((n["name"], n["provision_state"]) for n in _site_nodes(conn))
    assert not all(state == "active" for state in killed.values()), killed

    rc, _, elapsed, output = start_playbook(lab, "playbooks/site.yml", "inventory/lab").finish(900)
    assert rc == 0, output[-6000:]
    with open(os.path.join(REPO, "inventory", "lab", "group_vars", "all.yml")) as f:
        image = yaml.safe_load(f)["deploy_image"]["source"]
    found = _site_nodes(conn)
    count = collections.Counter(n["name"] for n in found)
    assert sorted(count) == sorted(SITE) and max(count.values()) == 1, count
    assert not [p for n in found for p in settled(n, "active")]
    assert all(n["instance_info"].get("image_source") == image for n in found)
    by_uuid = dict((n["uuid"], n["name"]) for n in found)
    port_count = collections.Counter(by_uuid[p["node_uuid"]] for p in
                                     conn.baremetal.get("/ports?fields=node_uuid,address&limit=5000",
                                                        microversion="1.81").json()["ports"] if p["node_uuid"] in by_uuid)
    assert set(port_count.values()) == {2}, port_count  # two NICs each, no duplicate port

    rc, _, elapsed, output = start_playbook(lab, "playbooks/site.yml", "inventory/lab").finish(900)
    assert rc == 0, output[-6000:]
    recap = output[output.index("PLAY RECAP"):]
    assert re.search(r"changed=[1-9]", recap) is None, output[-6000:]
