"""Host results are node results (issue #11): the enroll and tag roles, on a two-rack site of this
test's own, read through the per-host stats of the play recap.

(The JSON callback lives in ansible.posix since ansible-core 2.19, which the project does not
install; the default callback's recap carries the same per-host counts.)"""
import os
import re
import subprocess
import tempfile

import yaml

from ..recap import recap
from lab.harness import REPO, VENV_BIN

PY = os.path.join(REPO, ".venv", "bin", "python")


def mac(rack, i, nic):
    return "52:54:00:b%d:%02x:%02x" % (rack, i, nic)


def host(rack_no, i, **kw):
    hv = {"bmc_driver": "fake-hardware", "bmc_address": "10.11.%d.%d" % (rack_no, i),
          "bmc_username": "admin", "bmc_password": "truth-secret",
          "nics": [{"name": "eno1", "mac": mac(rack_no, i, 1), "pxe": True}], "node_role": "compute"}
    hv.update(kw)
    return hv


def site(racks, loose=None, budget=None):
    """Inventory: racks = {rack: {host: hostvars}}; loose = hosts in baremetal without a rack."""
    all_vars = {"ansible_connection": "local", "ansible_python_interpreter": PY}
    # tagging adds a trait of its own (enrollment already set the rack and role traits)
    all_vars["tag_rules"] = [{"name": "all", "traits_add": ["CUSTOM_TRUTH"]}]
    if budget is not None:
        all_vars["rollout"] = {"failure_budget": budget}
    children = dict(("rack_%s" % rack, {"vars": {"rack": rack}, "hosts": hosts}) for rack, hosts in racks.items())
    bm = {"children": children}
    if loose:
        bm["hosts"] = loose
    return {"all": {"vars": all_vars, "children": {"baremetal": bm}}}


def play(lab, roles, inventory, extra_args=()):
    """Run the roles on baremetal: (rc, per-host recap stats, the output)."""
    plays = [{"name": role, "hosts": "baremetal", "gather_facts": False,
              "roles": [{"role": "spineleaf.baremetal." + role}]} for role in roles if role != "summary"]
    if "summary" in roles:  # site.yml's last play
        plays.append({"name": "summary", "hosts": "baremetal", "gather_facts": False,
                      "tasks": [{"ansible.builtin.include_tasks": os.path.join(REPO, "playbooks", "tasks", "site_summary.yml")}]})
    with tempfile.TemporaryDirectory() as tmp:
        pb, inv = os.path.join(tmp, "play.yml"), os.path.join(tmp, "hosts.yml")
        with open(pb, "w") as f:
            yaml.safe_dump(plays, f, sort_keys=False)
        with open(inv, "w") as f:
            yaml.safe_dump(inventory, f)
        env = lab.ansible_env()
        proc = subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), pb, "-i", inv] + list(extra_args),
                              env=env, capture_output=True, text=True, cwd=REPO, check=False, timeout=900)
    stats = recap(proc.stdout)
    assert stats, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.returncode, stats, proc.stdout + proc.stderr


def host_says(out, host_name, text):
    """Whether a task result line of host_name carries text (fatal: [h]: ... or ok: [h] => ...)."""
    return any(host_name in line and text in line for line in _results(out))


def _results(out):
    """Each task result as one string (the default callback spreads a result over several lines)."""
    return re.split(r"\n(?=(?:ok|changed|fatal|failed|skipping): \[)", out)


def test_enroll_and_tag_host_results_are_node_results(lab, conn):
    racks = {"ta": {"ta-n1": host(1, 1), "ta-n2": host(1, 2), "ta-bad": host(1, 3, bmc_driver="no-such-driver")},
             "tb": {"tb-n1": host(2, 1), "tb-n2": host(2, 2, node_role="storage")}}
    loose = {"norack-n1": host(3, 1)}
    rc, stats, doc = play(lab, ["enroll", "tag", "summary"], site(racks, loose, budget=1))
    assert rc != 0
    assert "rack ta: 2 done, 1 failed, 0 skipped; failed: ta-bad: " in doc, doc[-4000:]
    assert "rack tb: 2 done, 0 failed, 0 skipped" in doc
    assert "rack (no rack): 0 done, 1 failed, 0 skipped; failed: norack-n1: norack-n1: no 'rack' variable" in doc
    # exactly the failing hosts failed; every enrolled and tagged host changed, credited to itself
    failed = sorted(h for h, s in stats.items() if s["failed"])
    assert failed == ["norack-n1", "ta-bad"], stats
    for h in ["ta-n1", "ta-n2", "tb-n1", "tb-n2"]:
        assert stats[h]["changed"] == 2, (h, stats[h])  # enrolled, then tagged
    assert host_says(doc, "[ta-bad]", "no-such-driver"), doc[-4000:]
    assert host_says(doc, "[norack-n1]", "norack-n1: no 'rack' variable"), doc[-4000:]
    assert "truth-secret" not in doc
    assert set(conn.baremetal.find_node("tb-n2").traits) >= {"CUSTOM_RACK_TB", "CUSTOM_ROLE_STORAGE", "CUSTOM_TRUTH"}
    assert conn.baremetal.find_node("ta-bad") is None

    # again: nothing changes anywhere; the failing hosts fail again, on their own
    rc, stats, doc = play(lab, ["enroll", "tag"], site(racks, loose, budget=1))
    assert sorted(h for h, s in stats.items() if s["failed"]) == ["norack-n1", "ta-bad"], stats
    assert all(s["changed"] == 0 for s in stats.values()), stats

    # a budget of 0 stops rack ta (its other hosts fail with the stop message) and not rack tb
    rc, stats, doc = play(lab, ["enroll", "tag", "summary"], site(racks, budget=0))
    assert sorted(h for h, s in stats.items() if s["failed"]) == ["ta-bad", "ta-n1", "ta-n2"], stats
    assert host_says(doc, "[ta-n1]", "rack ta stopped: 1 of 3 nodes failed (budget 0)"), doc[-4000:]
    assert not stats["tb-n1"]["failed"] and not stats["tb-n2"]["failed"]
    assert "rack ta:" not in doc[doc.find("PLAY [tag]"):doc.find("PLAY [summary]")]  # the stopped rack is not tagged
    assert "rack ta: 0 done, 1 failed, 2 skipped; failed: ta-bad: " in doc, doc[-4000:]
    assert "skipped: ta-n1, ta-n2 (rack ta stopped: 1 of 3 nodes failed (budget 0))" in doc
    assert "rack tb: 2 done, 0 failed, 0 skipped" in doc


def test_tag_failure_of_one_rack_leaves_the_other(lab, conn):
    """A rack whose tagging call fails (a rule that cannot be evaluated on its node) fails its own
    hosts only; the single run_once task of old failed every host of every rack."""
    racks = {"tc": {"tc-n1": host(4, 1)}, "td": {"td-n1": host(5, 1)}}
    rc, stats, doc = play(lab, ["enroll"], site(racks, budget=0))
    assert rc == 0, stats
    inventory = site(racks, budget=0)
    # td's node reads a fact only it lacks: the rule fails there, before any write of that rack
    inventory["all"]["vars"]["tag_rules"] = [{"name": "pick", "when": "max(facts.weight) > `1`", "traits_add": ["CUSTOM_HEAVY"]}]
    inventory["all"]["vars"]["tag_facts_vars"] = ["weight"]
    inventory["all"]["children"]["baremetal"]["children"]["rack_tc"]["hosts"]["tc-n1"]["weight"] = [5]
    inventory["all"]["children"]["baremetal"]["children"]["rack_td"]["hosts"]["td-n1"]["weight"] = "heavy"  # max() of a string: an evaluation error
    rc, stats, doc = play(lab, ["tag"], inventory)
    assert stats["td-n1"]["failed"] == 1 and not stats["tc-n1"]["failed"], stats
    assert stats["tc-n1"]["changed"] == 1 and stats["td-n1"]["changed"] == 0, stats
    assert "CUSTOM_HEAVY" in conn.baremetal.find_node("tc-n1").traits
    assert "CUSTOM_HEAVY" not in conn.baremetal.find_node("td-n1").traits
