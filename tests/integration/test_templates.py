"""Deploy templates, runbooks and role profiles (#26) against the real lab Ironic (39.0): create /
update / delete, check mode and re-runs that make no write (counted in Ironic's own request log),
errors before any write, and the role path - the tag role creates the site's templates and gives
each node the names serving its role, the deploy role deploys with them as instance traits, Ironic
runs their steps (the lab BIOS / RAID interfaces' deploy steps: settings stored, raid_config set),
and after a role change a rebuild runs the new role's template."""
import os
import re
import tempfile
import uuid

import yaml

from lab.harness import REPO, run_module, run_playbook

TEMPLATE = "spineleaf.baremetal.ironic_deploy_template"
RUNBOOK = "spineleaf.baremetal.ironic_runbook"
WRITE = re.compile(r' - (POST|PATCH|PUT|DELETE) (/v1/[^ ?]*)')
IMG = {"source": "http://images.lab/templates.qcow2", "checksum": "c" * 32}


def _suffix():
    return uuid.uuid4().hex[:6].upper()


def _log_offset(lab):
    path = os.path.join(lab.state_dir, "ironic", "ironic.log")
    return os.path.getsize(path) if os.path.exists(path) else 0


def _writes(lab, offset, collection):
    """The write requests Ironic logged since ``offset`` to ``/v1/<collection>``."""
    with open(os.path.join(lab.state_dir, "ironic", "ironic.log"), errors="replace") as f:
        f.seek(offset)
        return ["%s %s" % m.groups() for m in (WRITE.search(line) for line in f)
                if m and m.group(2).startswith("/v1/%s" % collection)]


def _get(conn, collection, name, microversion):
    response = conn.baremetal.get("/%s/%s" % (collection, name), microversion=microversion)
    return response.json() if response.status_code == 200 else None


def raid_step(level="1", priority=150):
    return {"interface": "raid", "step": "apply_configuration", "priority": priority,
            "args": {"raid_config": {"logical_disks": [{"size_gb": "MAX", "raid_level": level, "is_root_volume": True}]}}}


def bios_step(value="Disabled", priority=140):
    return {"interface": "bios", "step": "apply_configuration", "priority": priority,
            "args": {"settings": [{"name": "LogicalProc", "value": value}]}}


# ---------------------------------------------------------------- deploy templates
def test_deploy_template_lifecycle(lab, conn):
    name = "CUSTOM_TPL_%s" % _suffix()
    want = {"deploy_templates": [{"name": name, "steps": [raid_step(), bios_step()], "extra": {"team": "storage"}}]}

    offset = _log_offset(lab)
    res, r = run_module(lab, TEMPLATE, want, check=True, diff=True)
    assert not r.get("failed"), r
    assert r["changed"] and r["deploy_templates"][0]["action"] == "created" and r["api_writes"] == 0
    assert r["diff"]["before"] == {name: None} and r["diff"]["after"][name]["extra"] == {"team": "storage"}
    assert _get(conn, "deploy_templates", name, "1.55") is None
    assert _writes(lab, offset, "deploy_templates") == []

    res, r = run_module(lab, TEMPLATE, want)
    assert not r.get("failed"), r
    assert r["deploy_templates"][0]["action"] == "created" and r["api_writes"] == 1
    stored = _get(conn, "deploy_templates", name, "1.55")
    assert sorted((s["interface"], s["priority"]) for s in stored["steps"]) == [("bios", 140), ("raid", 150)]
    assert stored["extra"] == {"team": "storage"} and r["deploy_templates"][0]["uuid"] == stored["uuid"]

    # again, the steps listed in another order: nothing to do, no write reaches Ironic
    offset = _log_offset(lab)
    again = {"deploy_templates": [{"name": name, "steps": [bios_step(), raid_step()], "extra": {"team": "storage"}}]}
    res, r = run_module(lab, TEMPLATE, again, diff=True)
    assert r["changed"] is False and r["api_writes"] == 0, r
    assert r["deploy_templates"][0]["action"] == "unchanged" and r["diff"] == {"before": {}, "after": {}}
    assert _writes(lab, offset, "deploy_templates") == []

    # update: RAID 10 instead of 1; check mode first
    update = {"name": name, "steps": [raid_step("10"), bios_step()]}
    offset = _log_offset(lab)
    res, r = run_module(lab, TEMPLATE, update, check=True)
    assert r["changed"] and r["deploy_templates"][0]["action"] == "updated" and r["api_writes"] == 0
    assert _writes(lab, offset, "deploy_templates") == []
    res, r = run_module(lab, TEMPLATE, update, diff=True)
    assert r["deploy_templates"][0]["action"] == "updated" and r["deploy_templates"][0]["changes"] == ["steps"], r
    assert _writes(lab, offset, "deploy_templates") == ["PATCH /v1/deploy_templates/%s" % stored["uuid"]]
    before = [s for s in r["diff"]["before"][name]["steps"] if s["interface"] == "raid"][0]
    after = [s for s in r["diff"]["after"][name]["steps"] if s["interface"] == "raid"][0]
    assert before["args"]["raid_config"]["logical_disks"][0]["raid_level"] == "1"
    assert after["args"]["raid_config"]["logical_disks"][0]["raid_level"] == "10"
    stored = _get(conn, "deploy_templates", name, "1.55")
    assert [s for s in stored["steps"] if s["interface"] == "raid"][0]["args"] == after["args"]
    assert stored["extra"] == {"team": "storage"}  # not given: left alone

    # delete: check mode, then for real, then nothing left to do
    offset = _log_offset(lab)
    res, r = run_module(lab, TEMPLATE, {"name": name, "state": "absent"}, check=True)
    assert r["deploy_templates"][0]["action"] == "deleted" and _get(conn, "deploy_templates", name, "1.55")
    res, r = run_module(lab, TEMPLATE, {"name": name, "state": "absent"})
    assert r["deploy_templates"][0]["action"] == "deleted" and _get(conn, "deploy_templates", name, "1.55") is None
    res, r = run_module(lab, TEMPLATE, {"name": name, "state": "absent"})
    assert r["changed"] is False and r["api_writes"] == 0
    assert _writes(lab, offset, "deploy_templates") == ["DELETE /v1/deploy_templates/%s" % stored["uuid"]]


def test_deploy_template_errors_before_any_write(lab, conn):
    good = "CUSTOM_TPL_%s" % _suffix()
    offset = _log_offset(lab)
    res, r = run_module(lab, TEMPLATE, {"deploy_templates": [
        {"name": good, "steps": [raid_step()]},
        {"name": "ROLE_STORAGE", "steps": [{"interface": "raid", "args": {}, "priority": 1}]},
        {"name": "CUSTOM_TPL_NOPRIO", "steps": [{"interface": "bios", "step": "apply_configuration", "args": {}}]}]})
    assert r["failed"] and "nothing changed" in r["msg"], r
    for words in ("deploy template ROLE_STORAGE: name 'ROLE_STORAGE' is not a custom trait",
                  "deploy template ROLE_STORAGE: steps[0]: step (the method name",
                  "deploy template CUSTOM_TPL_NOPRIO: steps[0]: priority must be an integer"):
        assert words in r["msg"], r["msg"]
    assert _writes(lab, offset, "deploy_templates") == [] and _get(conn, "deploy_templates", good, "1.55") is None


# ---------------------------------------------------------------- runbooks
def test_runbook_lifecycle(lab, conn):
    name = "CUSTOM_RB_%s" % _suffix()
    steps = [{"interface": "vendor", "step": "log_passthrough", "args": {"message": "hello"}},
             {"interface": "power", "step": "reboot"}]
    want = {"runbooks": [{"name": name, "steps": steps, "public": True}]}

    offset = _log_offset(lab)
    res, r = run_module(lab, RUNBOOK, want, check=True)
    assert r["changed"] and r["runbooks"][0]["action"] == "created" and r["api_writes"] == 0, r
    assert _get(conn, "runbooks", name, "1.92") is None and _writes(lab, offset, "runbooks") == []

    res, r = run_module(lab, RUNBOOK, want)
    assert r["runbooks"][0]["action"] == "created", r
    stored = _get(conn, "runbooks", name, "1.92")
    assert [(s["order"], s["step"]) for s in sorted(stored["steps"], key=lambda s: s["order"])] == \
        [(0, "log_passthrough"), (1, "reboot")]
    assert stored["public"] is True and stored["owner"] is None

    offset = _log_offset(lab)
    res, r = run_module(lab, RUNBOOK, want)
    assert r["changed"] is False and r["api_writes"] == 0 and r["runbooks"][0]["action"] == "unchanged", r
    assert _writes(lab, offset, "runbooks") == []

    # owned by a project: public goes off in the same patch (Ironic refuses an owner on a public runbook)
    res, r = run_module(lab, RUNBOOK, {"name": name, "steps": steps, "public": False, "owner": "project-a",
                                       "extra": {"ticket": "OPS-1"}}, diff=True)
    assert r["runbooks"][0]["action"] == "updated", r
    assert sorted(r["runbooks"][0]["changes"]) == ["extra", "owner", "public"]
    assert r["diff"]["before"][name]["public"] is True and r["diff"]["after"][name]["owner"] == "project-a"
    stored = _get(conn, "runbooks", name, "1.92")
    assert (stored["public"], stored["owner"], stored["extra"]) == (False, "project-a", {"ticket": "OPS-1"})

    res, r = run_module(lab, RUNBOOK, {"name": name, "steps": steps, "public": True, "owner": "project-a"})
    assert r["failed"] and "a public runbook has no owner" in r["msg"], r

    res, r = run_module(lab, RUNBOOK, {"runbooks": [{"name": name, "state": "absent"}]})
    assert r["runbooks"][0]["action"] == "deleted" and _get(conn, "runbooks", name, "1.92") is None


# ---------------------------------------------------------------- role profiles through the roles
def _node(conn, name):
    """A lab-hardware node (the lab BIOS / RAID interfaces offer apply_configuration as deploy
    steps) with the fake deploy interface: the session lab runs Ironic's neutron network code, and
    the lab deploy interface would need a VIF; Ironic adds template steps the same way for both."""
    node = conn.baremetal.create_node(name=name, driver="lab-hardware", deploy_interface="fake",
                                      network_interface="noop")
    conn.baremetal.set_node_provision_state(node, "manage", wait=True, timeout=120)
    conn.baremetal.set_node_provision_state(node, "provide", wait=True, timeout=120)
    return conn.baremetal.get_node(node.id)


def _bios(conn, node_id):
    return dict((s["name"], s["value"])
                for s in conn.baremetal.get("/nodes/%s/bios" % node_id, microversion="1.40").json()["bios"])


def _inventory(tmp, hosts, templates):
    inventory = {"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": os.path.join(REPO, ".venv", "bin", "python"),
                 "deploy_templates": templates, "deploy_image": IMG, "deploy_poll_interval": 0.5,
                 "deploy_progress_interval": 2, "tag_mode": "exact"},
        "children": {"baremetal": {"children": {
            "rack_r09": {"vars": {"rack": "r09", "rack_index": 9}, "hosts": hosts}}}}}}
    path = os.path.join(tmp, "hosts.yml")
    with open(path, "w") as f:
        yaml.safe_dump(inventory, f)
    return path


def test_role_profiles_deploy_and_rebuild(lab, conn):
    sfx = _suffix()
    storage, compute = _node(conn, "tpl-st-%s" % sfx.lower()), _node(conn, "tpl-co-%s" % sfx.lower())
    perf = "CUSTOM_BIOS_PERF_%s" % sfx
    templates = [{"name": "CUSTOM_ROLE_STORAGE", "steps": [raid_step("1"), bios_step("Disabled")]},
                 {"name": perf, "roles": ["compute"], "steps": [bios_step("Enabled")]}]
    plays = [{"name": "tag and deploy", "hosts": "baremetal", "gather_facts": False,
              "roles": [{"role": "spineleaf.baremetal.tag"}, {"role": "spineleaf.baremetal.deploy"}]}]
    with tempfile.TemporaryDirectory() as tmp:
        hosts = {storage.name: {"node_role": "storage"}, compute.name: {"node_role": "compute"}}
        res = run_playbook(lab, plays, inventory=_inventory(tmp, hosts, templates))
        assert res.rc == 0, res.output[-5000:]
        assert _get(conn, "deploy_templates", perf, "1.55")["steps"][0]["interface"] == "bios"
        st, co = conn.baremetal.get_node(storage.id), conn.baremetal.get_node(compute.id)
        assert st.provision_state == "active" and co.provision_state == "active"
        # the nodes carry their templates' names as traits, and were deployed with them
        assert {"CUSTOM_ROLE_STORAGE"} <= set(st.traits) and perf not in st.traits
        assert {"CUSTOM_ROLE_COMPUTE", perf} <= set(co.traits)
        assert st.instance_info["traits"] == ["CUSTOM_ROLE_STORAGE"] and co.instance_info["traits"] == [perf]
        # Ironic ran the templates' steps: RAID and BIOS on the storage node, BIOS only on compute
        assert st.raid_config["logical_disks"][0]["raid_level"] == "1" and _bios(conn, st.id).get("LogicalProc") == "Disabled"
        assert not co.raid_config and _bios(conn, co.id).get("LogicalProc") == "Enabled"

        # a re-run of the same site: no write to templates, nodes unchanged
        offset = _log_offset(lab)
        res = run_playbook(lab, plays, inventory=_inventory(tmp, hosts, templates))
        assert res.rc == 0, res.output[-5000:]
        assert _writes(lab, offset, "deploy_templates") == []
        assert [w for w in _writes(lab, offset, "nodes") if storage.id in w or compute.id in w] == []

        # the compute node becomes a storage node: tagging moves its traits, the next re-image
        # (a rebuild) deploys it with the storage template
        hosts[compute.name] = {"node_role": "storage"}
        res = run_playbook(lab, plays, inventory=_inventory(tmp, hosts, templates),
                           extra_vars={"deploy_rebuild": "always", "deploy_hosts": [compute.name]})
        assert res.rc == 0, res.output[-5000:]
        co = conn.baremetal.get_node(compute.id)
        assert co.provision_state == "active" and co.instance_info["traits"] == ["CUSTOM_ROLE_STORAGE"]
        assert "CUSTOM_ROLE_STORAGE" in co.traits and perf not in co.traits
        assert co.raid_config["logical_disks"][0]["raid_level"] == "1" and _bios(conn, co.id).get("LogicalProc") == "Disabled"
    for node in (storage, compute):
        conn.baremetal.set_node_provision_state(node, "deleted", wait=True, timeout=300)


def test_instance_traits_must_be_node_traits(lab, conn):
    """Ironic's own rule, reported on the node: an instance trait the node does not have fails its deploy."""
    node = _node(conn, "tpl-miss-%s" % _suffix().lower())
    res, r = run_module(lab, "spineleaf.baremetal.ironic_provision",
                        {"nodes": [{"name": node.name, "instance_traits": ["CUSTOM_NOT_ON_NODE"]}], "image": IMG,
                         "retries": 0, "poll_interval": 0.5})
    assert r["failed"] and r["nodes"][0]["action"] == "failed", r
    assert "CUSTOM_NOT_ON_NODE" in r["nodes"][0]["msg"], r["nodes"][0]
    res, r = run_module(lab, "spineleaf.baremetal.ironic_provision",
                        {"nodes": [node.name], "instance_traits": ["custom_bad"], "image": IMG})
    assert r["failed"] and "node %s: instance_traits: trait 'custom_bad'" % node.name in r["msg"], r
