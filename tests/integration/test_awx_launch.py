"""Every template playbooks/awx_configure.yml defines, launched the way AWX launches it, on the lab.

The templates, surveys, credentials, inventory sources and the workflow are read from
awx_configure.yml itself: the test runs its play with every awx.awx task turned into a set_fact of
the task's arguments (no AWX needed), so what is launched is exactly what AWX would be given. Each
job is then run as AWX runs it, through ansible-runner with a private data dir:

- inventory/hosts: AWX's inventory script, from an inventory update of the racks-file source
  (ansible-inventory --list --export of the source path, in the project);
- env/extravars: the template's extra vars, the survey answers of the survey's types (text a
  string, integer an int, multiselect a list) and AWX's meta vars, written !unsafe as AWX writes them
  (the template's own top-level extra vars stay templatable);
- env/cmdline: the limit asked on launch, and the BMC credential's injected extra vars file;
- env/envvars: OS_CLIENT_CONFIG_FILE to a clouds.yaml as AWX's built-in OpenStack credential writes it
  (the cloud named devstack, no OS_CLOUD).

The workflow is walked node by node with AWX's variable precedence (node extra_data < ancestors'
set_stats < the workflow's survey answers). No template may be left out.
"""
import json
import os
import shutil
import subprocess

import jinja2.sandbox
import pytest
import yaml

from lab.harness import REPO, VENV_BIN
# collection: the installed-tarball fixture of test_awx_runner, used by name
from .test_awx_runner import collection, run_direct, stats  # noqa: F401 pylint: disable=unused-import

ansible_runner = pytest.importorskip("ansible_runner")

BMC_SECRET = "planted-bmc-Secret-22"
CLOUD_SECRET = "planted-cloud-Secret-22"
IMAGE = "http://images.lab.invalid/spineleaf-base-%s.qcow2"
RACKS = ("r01", "r02", "r03")


# ---------------------------------------------------------------- what awx_configure.yml gives AWX

def capture_awx_objects(tmp, collection_path):
    """Run awx_configure.yml's play with each awx.awx task replaced by a set_fact of its arguments;
    returns [(module, task name, [args per loop item])]."""
    with open(os.path.join(REPO, "playbooks", "awx_configure.yml")) as f:
        play = yaml.safe_load(f)[0]
    captured = []
    tasks = []
    for i, task in enumerate(play["tasks"]):
        module = next(k for k in task if k.startswith("awx.awx."))
        new = {k: v for k, v in task.items() if k not in (module, "no_log")}
        new["ansible.builtin.set_fact"] = {"awx_args": task[module]}
        new["register"] = "awx_task_%d" % i
        tasks.append(new)
        captured.append((module.split(".")[-1], task["name"]))
    out = os.path.join(tmp, "awx_objects.json")
    tasks.append({"name": "Write what AWX would be given", "ansible.builtin.copy": {
        "dest": out, "mode": "0600",
        "content": "{{ [%s] | to_json }}" % ", ".join("awx_task_%d" % i for i in range(len(captured)))}})
    play = dict(play, tasks=tasks)
    pbdir = os.path.join(tmp, "playbooks")
    os.makedirs(pbdir)
    for sub in ("vars", "files"):
        os.symlink(os.path.join(REPO, "playbooks", sub), os.path.join(pbdir, sub))
    with open(os.path.join(pbdir, "capture.yml"), "w") as f:
        yaml.safe_dump([play], f)
    extra = {"awx_configure_cloud_auth": {"host": "https://keystone.invalid:5000/v3", "username": "baremetal-admin",
                                          "password": CLOUD_SECRET, "project": "admin"},
             "awx_configure_bmc_auth": {"bmc_username": "awx-bmc", "bmc_password": BMC_SECRET}}
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=collection_path)
    proc = subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), "-i", os.path.join(REPO, "inventory", "lab"),
                           os.path.join(pbdir, "capture.yml"), "-e", json.dumps(extra)],
                          env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    with open(out) as f:
        registered = json.load(f)
    objects = []
    for (module, name), reg in zip(captured, registered):
        results = reg.get("results", [reg])
        objects.append((module, name, [strip_omit(r["ansible_facts"]["awx_args"]) for r in results
                                       if not r.get("skipped")]))
    return objects


def strip_omit(value):
    if isinstance(value, dict):
        return {k: strip_omit(v) for k, v in value.items()
                if not (isinstance(v, str) and v.startswith("__omit_place_holder__"))}
    if isinstance(value, list):
        return [strip_omit(v) for v in value]
    return value


def by_name(objects, module):
    return {args["name"]: args for mod, _task, items in objects if mod == module for args in items}


# ---------------------------------------------------------------- AWX's side of a launch

def survey_answer(question, answer=None):
    """The extra var AWX passes for a question (the default when no answer), type-checked as AWX's
    launch checks it. (False, None) when AWX passes nothing."""
    value = question.get("default") if answer is None else answer
    if value is None:
        return False, None
    qtype, var = question["type"], question["variable"]
    choices = question.get("choices")
    if isinstance(choices, str):
        choices = [c for c in choices.splitlines() if c.strip()]
    if qtype in ("text", "textarea", "password"):
        assert isinstance(value, str), (var, value)
    elif qtype == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), (var, value)
        assert question.get("min") is None or value >= question["min"], (var, value)
        assert question.get("max") is None or value <= question["max"], (var, value)
    elif qtype == "multiselect":
        if not isinstance(value, list) and answer is None:
            return False, None  # AWX drops a default it cannot validate
        assert isinstance(value, list) and all(v in choices for v in value), (var, value, choices)
    elif qtype == "multiplechoice":
        assert value in choices, (var, value, choices)
    else:
        raise AssertionError("survey type %s not handled by this test" % qtype)
    return True, value


def survey_vars(spec, answers):
    """Answers for every question: the given one, else the default, else a sensible answer of the
    question's type (a URL for a URL question)."""
    out = {}
    for q in (spec or {}).get("spec", []):
        answer = answers.get(q["variable"])
        if answer is None and q.get("default") is None and q["required"]:
            assert q["type"] == "text" and "URL" in q.get("question_description", ""), q
            answer = IMAGE % "1.0"
        present, value = survey_answer(q, answer)
        if present:
            out[q["variable"]] = value
    return out


class _UnsafeDumper(yaml.SafeDumper):
    """Strings tagged !unsafe, as AWX writes extra vars a user gave (survey answers, launch vars)."""


_UnsafeDumper.add_representer(str, lambda dumper, value: dumper.represent_scalar("!unsafe", value))


def awx_extravars_yaml(extra_vars, template_vars):
    """AWX's extravars file: each top-level key plain when the template itself defines it with that
    value, !unsafe otherwise."""
    parts = []
    for key, value in extra_vars.items():
        dumper = yaml.SafeDumper if template_vars.get(key, object()) == value else _UnsafeDumper
        parts.append(yaml.dump({key: value}, Dumper=dumper, default_flow_style=False))
    return "".join(parts)


def render_injectors(credential_type, inputs):
    """A custom credential type's injectors rendered the way AWX renders them (a Jinja sandbox, the
    credential's inputs as the namespace); returns (files, env, extra_vars)."""
    sandbox = jinja2.sandbox.ImmutableSandboxedEnvironment()
    namespace = {k: v for k, v in inputs.items() if v not in ("", None)}
    for field in credential_type["inputs"].get("fields", []):
        if field["type"] == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
    injectors = credential_type["injectors"]

    class Tower:
        pass

    tower = namespace["tower"] = Tower()
    files = {}
    for label, tmpl in injectors.get("file", {}).items():
        files[label] = sandbox.from_string(tmpl).render(**namespace)
        if not hasattr(tower, "filename"):
            tower.filename = Tower()
        setattr(tower.filename, label.split(".", 1)[1], "/runner/env/" + label)
    env = {k: sandbox.from_string(v).render(**namespace) for k, v in injectors.get("env", {}).items()}
    extra = {k: sandbox.from_string(v).render(**namespace) for k, v in injectors.get("extra_vars", {}).items()}
    return files, env, extra


def awx_inventory_script(export):
    """AWX's inventory script data (Inventory.get_script_data) from an imported `ansible-inventory
    --list --export`: the `all` group's vars become the inventory's variables, every group is flat
    with its hosts, children and vars, hosts carry AWX's remote_tower_* vars."""
    data = {"all": {"vars": export.get("all", {}).get("vars", {}), "hosts": []}}
    names = []
    for group, body in export.items():
        if group in ("_meta", "all", "ungrouped"):
            continue
        info = {k: body[k] for k in ("hosts", "children", "vars") if body.get(k)}
        if info:
            data[group] = info
        names.append(group)
    data["all"]["children"] = names
    hostvars = export.get("_meta", {}).get("hostvars", {})
    data["_meta"] = {"hostvars": {h: dict(v, remote_tower_enabled="true", remote_tower_id=i + 1)
                                  for i, (h, v) in enumerate(sorted(hostvars.items()))}}
    return data


@pytest.fixture(scope="module")
def awx(tmp_path_factory, collection):  # noqa: F811
    tmp = str(tmp_path_factory.mktemp("awx"))
    objects = capture_awx_objects(tmp, collection)
    # The project (the repository as AWX checks it out) and an update of the racks-file source.
    project = os.path.join(tmp, "project")
    os.makedirs(project)
    for sub in ("playbooks", "inventory"):
        shutil.copytree(os.path.join(REPO, sub), os.path.join(project, sub))
    shutil.copy(os.path.join(REPO, "ansible.cfg"), os.path.join(project, "ansible.cfg"))
    sources = by_name(objects, "inventory_source")
    racks_source = sources["racks file"]
    source_path = os.path.join(project, racks_source["source_path"])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "OS_"))}
    env.update(racks_source.get("source_vars") or {})
    env.update(ANSIBLE_COLLECTIONS_PATH=collection, ANSIBLE_INVENTORY_UNPARSED_FAILED="True",
               ANSIBLE_INVENTORY_EXPORT="True", ANSIBLE_VERBOSE_TO_STDERR="True", PATH=VENV_BIN + os.pathsep + env["PATH"])
    proc = subprocess.run([os.path.join(VENV_BIN, "ansible-inventory"), "--list", "--export", "-i", source_path,
                           "--playbook-dir", os.path.dirname(source_path)],
                          cwd=project, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {"objects": objects, "project": project, "collection": collection, "tmp": tmp,
            "inventory": awx_inventory_script(json.loads(proc.stdout))}


def launch(awx, lab, template, ident, limit=None, answers=None, extra=None):
    """One job of `template` (its captured awx.awx.job_template arguments) as AWX runs it; returns
    (status, rc, events, artifact dir, extra vars given)."""
    pdd = os.path.join(awx["tmp"], ident)
    os.makedirs(os.path.join(pdd, "env"))
    os.makedirs(os.path.join(pdd, "inventory"))
    shutil.copytree(awx["project"], os.path.join(pdd, "project"))
    script = os.path.join(pdd, "inventory", "hosts")
    with open(script, "w") as f:
        f.write("#! /usr/bin/env python3\nprint(%r)\n" % json.dumps(awx["inventory"]))
    os.chmod(script, 0o700)

    template_vars = template.get("extra_vars") or {}
    if isinstance(template_vars, str):
        template_vars = yaml.safe_load(template_vars) or {}
    # AWX: template extra vars < survey defaults < runtime extra vars (answers; in a workflow the
    # node's extra_data, the ancestors' artifacts and the workflow's survey answers).
    extra_vars = dict(template_vars)
    runtime = dict(extra or {})
    if template.get("survey_enabled"):
        answered = survey_vars(template.get("survey_spec"), answers or {})
        runtime.update({k: v for k, v in answered.items() if k not in runtime or k in (answers or {})})
    extra_vars.update(runtime)
    extra_vars.update(awx_job_id=len(os.listdir(awx["tmp"])), awx_job_template_name=template["name"],
                      awx_user_name="operator", tower_job_id=len(os.listdir(awx["tmp"])))
    with open(os.path.join(pdd, "env", "extravars"), "w") as f:
        f.write(awx_extravars_yaml(extra_vars, template_vars))

    args = []
    if limit:
        assert template.get("ask_limit_on_launch") is True, template["name"]
        args += ["-l", limit]
    # Credentials: AWX's built-in OpenStack type writes clouds.yaml (cloud devstack) and sets only
    # OS_CLIENT_CONFIG_FILE; here it holds the lab's endpoints. The BMC type injects extra vars.
    credentials = by_name(awx["objects"], "credential")
    credential_types = by_name(awx["objects"], "credential_type")
    envvars = {"ANSIBLE_COLLECTIONS_PATH": awx["collection"], "ANSIBLE_NOCOLOR": "1",
               "PATH": VENV_BIN + os.pathsep + os.environ.get("PATH", "")}
    for cred_name in template.get("credentials") or []:
        cred = credentials[cred_name]
        if cred["credential_type"] == "OpenStack":
            with open(lab.clouds_yaml) as f:
                lab_cloud = yaml.safe_load(f)["clouds"]["spineleaf-lab"]
            path = os.path.join(pdd, "env", "tmp_openstack")
            with open(path, "w") as f:
                yaml.safe_dump({"clouds": {"devstack": lab_cloud}}, f)
            envvars["OS_CLIENT_CONFIG_FILE"] = path
            continue
        files, env, cred_extra = render_injectors(credential_types[cred["credential_type"]], cred["inputs"])
        assert not files and not env, cred_name
        path = os.path.join(pdd, "env", "tmp_" + cred_name)
        with open(path, "w") as f:
            f.write(awx_extravars_yaml(cred_extra, {}))
        args += ["-e", "@" + path]
    with open(os.path.join(pdd, "env", "envvars"), "w") as f:
        yaml.safe_dump(envvars, f)
    with open(os.path.join(pdd, "env", "cmdline"), "w") as f:
        f.write(" ".join(args))
    status, rc, events, art = run_direct(pdd, template["playbook"], ident)
    return status, rc, events, art, extra_vars


def stdout(art):
    with open(os.path.join(art, "stdout")) as f:
        return f.read()


def assert_no_secret(art, events):
    for secret in (BMC_SECRET, CLOUD_SECRET):
        assert secret not in json.dumps(events), secret
        for root, _dirs, files in os.walk(art):
            for name in files:
                with open(os.path.join(root, name), errors="replace") as f:
                    assert secret not in f.read(), (secret, name)


def images(conn, racks):
    return {n.name: (n.instance_info or {}).get("image_source") for n in conn.baremetal.nodes(details=True)
            if n.name and n.name.split("-")[0] in racks}


# ---------------------------------------------------------------- the test

def test_awx_objects_agree_on_the_cloud_and_hand_over_the_secrets(awx):
    objects = awx["objects"]
    templates = by_name(objects, "job_template")
    credentials = by_name(objects, "credential")
    types = by_name(objects, "credential_type")
    sources = by_name(objects, "inventory_source")
    # The password credential is AWX's own OpenStack type, not a copy; it writes the cloud devstack.
    cloud = next(c for c in credentials.values() if c["credential_type"] == "OpenStack")
    assert cloud["inputs"]["password"] == CLOUD_SECRET
    assert not any("username" in str(t["inputs"]) and "password" in str(t["inputs"]) and t["kind"] == "cloud"
                   and "clouds_yaml" in str(t["injectors"]) and "application_credential" not in str(t["injectors"])
                   for t in types.values())
    # Jobs (extra var `cloud`), the Ironic source (OS_CLOUD) and the application-credential type
    # all name the cloud the built-in credential writes.
    for t in templates.values():
        assert t["extra_vars"]["cloud"] == "devstack", t["name"]
        assert set(t["credentials"]) == {cloud["name"], "spineleaf-bmc"}, t["name"]
        assert t["ask_limit_on_launch"] is True and t["ask_variables_on_launch"] is True
    assert sources["ironic"]["source_vars"] == {"OS_CLOUD": "devstack"} and sources["ironic"]["credential"] == cloud["name"]
    appcred = next(t for t in types.values() if "application_credential" in str(t["injectors"]))
    assert next(f for f in appcred["inputs"]["fields"] if f["id"] == "cloud")["default"] == "devstack"
    with open(os.path.join(REPO, "inventory", "lab.ironic.yml")) as f:
        assert "cloud" not in yaml.safe_load(f)  # OS_CLOUD names it
    # The BMC password reaches the jobs as the extra vars the enroll role reads.
    bmc = credentials["spineleaf-bmc"]
    _files, _env, injected = render_injectors(types[bmc["credential_type"]], bmc["inputs"])
    assert injected == {"bmc_username": "awx-bmc", "bmc_password": BMC_SECRET}
    # Surveys: a required question with no default has no empty default (AWX would pass "").
    for t in templates.values():
        for q in (t.get("survey_spec") or {}).get("spec", []):
            assert not (q["required"] and q.get("default") in ("", None) and "default" in q), (t["name"], q)


def test_every_template_launched_as_awx_launches_it(lab, conn, awx, monkeypatch):
    monkeypatch.delenv("OS_CLOUD", raising=False)
    monkeypatch.delenv("OS_CLIENT_CONFIG_FILE", raising=False)
    templates = by_name(awx["objects"], "job_template")
    workflow = next(iter(by_name(awx["objects"], "workflow_job_template").values()))
    launched = set()

    def job(name, ident, limit, answers=None, extra=None, expect="successful"):
        t = templates[name]
        status, rc, events, art, given = launch(awx, lab, t, ident, limit=limit, answers=answers, extra=extra)
        assert status == expect, (name, rc, stdout(art)[-5000:])
        assert_no_secret(art, events)
        launched.add(name)
        return stats(events), given, art

    # A rack first (limit rack_r01), then the rest of the site (an AWX limit pattern of two racks);
    # the survey's "Image URL to deploy" is answered with a URL.
    site_templates = [t for t in templates.values() if t["playbook"] == "playbooks/site.yml"]
    assert len(site_templates) == 2
    one, rest = sorted(site_templates, key=lambda t: "rack" not in t["name"])
    art_stats, given, _art = job(one["name"], "deploy-rack", "rack_r01")
    assert given["deploy_image"] == IMAGE % "1.0" and isinstance(given["deploy_image"], str)
    assert art_stats["site_rack_r01"]["ok"] is True and not any(k.startswith("site_rack_r0") and k != "site_rack_r01"
                                                                for k in art_stats)
    assert set(art_stats["spineleaf_racks"]) == {"r01"}
    assert set(art_stats["spineleaf_findings"]) == {"r01"}
    art_stats, _given, _art = job(rest["name"], "site", "rack_r02:rack_r03")
    assert {k for k in art_stats if k.startswith("site_rack_")} == {"site_rack_r02", "site_rack_r03"}
    assert all(art_stats["site_rack_" + r]["ok"] for r in ("r02", "r03"))
    assert set(art_stats["spineleaf_findings"]) == {"r02", "r03"}
    for findings in art_stats["spineleaf_findings"].values():
        assert all(set(f) <= {"node", "nic", "finding", "blocking", "msg"} and f["finding"] for f in findings)
    assert set(images(conn, RACKS).values()) == {IMAGE % "1.0"}

    inspect = next(t for t in templates.values() if t["playbook"] == "playbooks/inspect.yml")
    art_stats, _given, _art = job(inspect["name"], "inspect", "rack_r01")
    assert art_stats["inspect_rack_r01"]["ok"] is True and set(art_stats["spineleaf_findings"]) == {"r01"}

    # The rolling upgrade template: text racks, an int max_unavailable, a percentage budget as text.
    upgrade = next(t for t in templates.values() if t["playbook"] == "playbooks/rolling_upgrade.yml")
    types = {q["variable"]: q["type"] for q in upgrade["survey_spec"]["spec"]}
    assert types == {"rollout_racks": "text", "rollout_image": "text", "rolling_upgrade_max_unavailable": "integer",
                     "rolling_upgrade_failure_budget": "text"}
    art_stats, given, _art = job(upgrade["name"], "upgrade", "rack_r01", answers={
        "rollout_racks": "r01", "rollout_image": IMAGE % "1.1", "rolling_upgrade_max_unavailable": 2,
        "rolling_upgrade_failure_budget": "25%"})
    assert given["rolling_upgrade_max_unavailable"] == 2 and given["rolling_upgrade_failure_budget"] == "25%"
    assert art_stats["rollout_rack_r01"]["ok"] is True and set(art_stats["rollout_summary"]) == {"r01"}
    assert set(images(conn, ("r01",)).values()) == {IMAGE % "1.1"}

    # The workflow: its survey (racks a multiple choice of the inventory's racks), then node by node.
    wf_spec = {q["variable"]: q for q in workflow["survey_spec"]["spec"]}
    assert wf_spec["rollout_workflow_racks"]["type"] == "multiselect"
    assert wf_spec["rollout_workflow_racks"]["choices"] == list(RACKS)
    assert {wf_spec[v]["type"] for v in ("rolling_upgrade_max_unavailable",)} == {"integer"}
    assert wf_spec["rollout_image"]["type"] == "text" and wf_spec["rolling_upgrade_failure_budget"]["type"] == "text"
    wf_vars = survey_vars(workflow["survey_spec"], {"rollout_workflow_racks": ["r01", "r03"], "rollout_image": IMAGE % "1.2",
                                                    "rolling_upgrade_max_unavailable": 2, "rolling_upgrade_failure_budget": "1"})
    nodes = {n["identifier"]: n for n in workflow["workflow_nodes"]}
    targets = {s["identifier"] for n in nodes.values() for kind in ("success_nodes", "failure_nodes")
               for s in n["related"][kind]}
    root = [i for i in nodes if i not in targets]
    assert root == ["rack_r01"], root
    artifacts, current, ran = {}, root[0], []
    while current:
        node = nodes[current]
        name = node["unified_job_template"]["name"]
        # AWX: node extra_data < ancestors' set_stats < the workflow's extra vars (its survey)
        runtime = dict(node.get("extra_data") or {}, **artifacts)
        runtime.update(wf_vars)
        node_stats, given, _art = job(name, "wf-" + current, node.get("limit"), extra=runtime)
        assert given["rollout_racks"] == current[len("rack_"):] and given["rollout_workflow_racks"] == ["r01", "r03"]
        artifacts.update(node_stats)
        ran.append(current)
        nxt = node["related"]["success_nodes"]
        current = nxt[0]["identifier"] if nxt else None
    assert ran == ["rack_r01", "rack_r02", "rack_r03"]
    assert {k for k in artifacts if k.startswith("rollout_rack_")} == {"rollout_rack_r01", "rollout_rack_r03"}
    assert set(images(conn, ("r01", "r03")).values()) == {IMAGE % "1.2"}
    assert set(images(conn, ("r02",)).values()) == {IMAGE % "1.0"}  # not chosen: left as it was

    # The failure path: the stop node sees the racks' artifacts and fails the documented way.
    stop = nodes["rollout_stopped"]
    runtime = dict(stop.get("extra_data") or {}, **artifacts)
    runtime.update(wf_vars)
    _stats, _given, art = job(stop["unified_job_template"]["name"], "wf-stopped", None, extra=runtime, expect="failed")
    out = " ".join(stdout(art).split())
    done = out[out.index("Rollout stopped. Racks done: "):].split(";", maxsplit=1)[0]
    assert sorted(done.split(": ", 1)[1].split(", ")) == ["rollout_rack_r01", "rollout_rack_r03"], out[-3000:]
    assert "relaunch the workflow" in out

    assert launched == set(templates), set(templates) - launched
