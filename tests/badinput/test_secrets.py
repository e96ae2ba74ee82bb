"""Secret audit (#14): known secrets planted in every place an operator puts one never come out.

Planted: a BMC password (``bmc_password`` -> ``driver_info.ipmi_password``) and a Redfish password
(``bmc_driver_info.redfish_password``), a clouds.yaml token (the cloud every task uses: the lab is
noauth, so ``admin_token`` carries it on every request) and a clouds.yaml password (a second cloud,
used on the failure paths), a config drive secret (``user_data``) and an ``instance_info`` key named
like a password. They go through site.yml (every role of the site) with ``--check --diff -vvv``
through ansible-runner's JSON event callback (what AWX records), for real with ``--diff -vvv`` and
Ansible's JSON result format, the rolling upgrade with ``-vvv --diff``, each module on its failure
paths, and both inventory plugins with ``ansible-inventory --list -vvv`` (with the cache on).
Nothing may contain any of them: stdout, stderr, the callback's events and artifacts, the modules'
returned values, the reports and every file the collection wrote. Reports holding node data are
0600 files in 0700 directories."""
import glob
import json
import os
import shutil
import stat
import subprocess

import pytest
import yaml

from lab.harness import REPO, VENV_BIN

BMC = "planted-Bmc-ipmi-7q1x"
REDFISH = "planted-Bmc-redfish-7q2x"
CLOUDS_TOKEN = "planted-Clouds-token-7q3x"
CLOUDS_PASSWORD = "planted-Clouds-password-7q4x"
DRIVE = "planted-Drive-userdata-7q5x"
INSTANCE = "planted-InstanceInfo-7q6x"
SECRETS = (BMC, REDFISH, CLOUDS_TOKEN, CLOUDS_PASSWORD, DRIVE, INSTANCE)
IMAGE = "http://images.lab.invalid/secaudit-%s.qcow2"
KEEP = {"rack_r01": ("r01-n01", "r01-n02"), "rack_r03": ("r03-n01", "r03-n02")}  # r03 is the bonded rack


def leaks(text, where):
    """The planted secrets found in ``text`` (also each one's JSON-escaped form)."""
    found = [s for s in SECRETS if s in text]
    return ["%s: %s" % (where, s) for s in found]


def _site_dir(tmp):
    """A small copy of the lab site (2 racks x 2 nodes) with the secrets planted in its variables
    and a clouds.yaml holding the clouds ones."""
    inv = os.path.join(tmp, "inventory")
    shutil.copytree(os.path.join(REPO, "inventory", "lab"), inv, ignore=shutil.ignore_patterns("*.racks.yml"))
    hosts_yml = os.path.join(inv, "hosts.yml")
    with open(hosts_yml) as f:
        hosts = yaml.safe_load(f)
    racks = hosts["all"]["children"]["baremetal"]["children"]
    for group in list(racks):
        if group not in KEEP:
            del racks[group]
        else:
            racks[group]["hosts"] = dict((h, v) for h, v in racks[group]["hosts"].items() if h in KEEP[group])
    with open(hosts_yml, "w") as f:
        yaml.safe_dump(hosts, f)
    all_yml = os.path.join(inv, "group_vars", "all.yml")
    with open(all_yml) as f:
        site = yaml.safe_load(f)
    site.update(bmc_password=BMC, bmc_driver_info={"redfish_password": REDFISH},
                introspect_report_dir=os.path.join(tmp, "reports", "secaudit"),
                deploy_config_drive={"user_data": "#cloud-config\npassword: %s\nchpasswd: {expire: false}\n" % DRIVE},
                deploy_instance_info={"image_admin_password": INSTANCE})
    site["rollout"]["rack_order"] = ["r01", "r03"]
    site["deploy_image"] = {"source": IMAGE % "1"}
    with open(all_yml, "w") as f:
        yaml.safe_dump(site, f)
    return inv


def _clouds(lab, tmp):
    with open(lab.clouds_yaml) as f:
        lab_cloud = yaml.safe_load(f)["clouds"]["spineleaf-lab"]
    used = dict(lab_cloud, auth_type="admin_token",
                auth={"token": CLOUDS_TOKEN, "endpoint": lab_cloud["baremetal_endpoint_override"]})
    secure = {"auth_type": "password", "api_timeout": 5,
              "auth": {"auth_url": "http://127.0.0.1:9/v3", "username": "admin", "password": CLOUDS_PASSWORD,
                       "project_name": "admin", "user_domain_name": "Default", "project_domain_name": "Default"}}
    path = os.path.join(tmp, "clouds.yaml")
    with open(path, "w") as f:
        yaml.safe_dump({"clouds": {"spineleaf-lab": used, "secure": secure}}, f)
    return path


class Audit:
    def __init__(self, lab, tmp):
        self.tmp = tmp
        self.inventory = _site_dir(tmp)
        self.clouds_yaml = _clouds(lab, tmp)
        self.outputs = []  # (where, text)
        self.env = lab.ansible_env()
        self.env.update(OS_CLIENT_CONFIG_FILE=self.clouds_yaml, OS_CLOUD="spineleaf-lab")
        self.planted = set([self.clouds_yaml] + [os.path.join(d, f) for d, _dirs, fs in os.walk(self.inventory) for f in fs])

    def run(self, where, cmd, env=None, cwd=REPO):
        proc = subprocess.run(cmd, env=dict(self.env, **(env or {})), cwd=cwd, capture_output=True, text=True,
                              timeout=1200, check=False)
        self.outputs += [(where + " stdout", proc.stdout), (where + " stderr", proc.stderr)]
        return proc

    def playbook(self, where, playbook, *args, env=None):
        return self.run(where, [os.path.join(VENV_BIN, "ansible-playbook"), playbook, "-i", self.inventory] + list(args),
                        env=env)


def _module_play(out, report_dir):
    """Each module on a failure path, every planted secret in its arguments."""
    drive = {"user_data": "#cloud-config\npassword: %s\n" % DRIVE}
    info = {"image_admin_password": INSTANCE}
    dict_cloud = {"auth_type": "password", "api_timeout": 5,
                  "auth": {"auth_url": "http://127.0.0.1:9/v3", "username": "admin", "password": CLOUDS_PASSWORD,
                           "project_name": "admin"}}
    node = {"name": "secaudit-new", "driver": "fake-hardware",
            "driver_info": {"ipmi_address": "10.0.0.9", "ipmi_password": BMC, "redfish_password": REDFISH},
            "ports": [{"address": "52:54:00:5a:00:01", "physical_network": "leaf1"}]}
    image = {"source": IMAGE % "9"}
    calls = [
        # bad input (fails before any write) with secrets in the same call
        ("nodes_bad_mac", "ironic_nodes", {"nodes": [dict(node, ports=[{"address": "zz"}])]}),
        # a creation in check mode: the diff shows the new node's driver_info
        ("nodes_create_check", "ironic_nodes", {"nodes": [node], "_check": True}),
        # Ironic refuses the node (unknown driver): the API's own error message
        ("nodes_api_error", "ironic_nodes", {"nodes": [dict(node, driver="no-such-driver")]}),
        # the existing nodes with update_password=always and --diff (masked before/after)
        ("nodes_update_password", "ironic_nodes", {"update_password": "always", "nodes": [
            dict(node, name="r01-n01", driver_info={"ipmi_password": BMC + "-new", "redfish_password": REDFISH},
                 ports=[])], "ports_mode": "add"}),
        ("nodes_unreachable_cloud", "ironic_nodes", {"cloud": "secure", "nodes": [node]}),
        ("nodes_cloud_dict", "ironic_nodes", {"cloud": dict_cloud, "nodes": [node]}),
        ("nodes_auth_option", "ironic_nodes", {"cloud": "secure", "auth": dict_cloud["auth"], "nodes": [node]}),
        ("provision_missing_node", "ironic_provision", {"nodes": ["no-such-node"], "image": image,
                                                        "config_drive": drive, "instance_info": info}),
        ("provision_rebuild_check", "ironic_provision", {"nodes": ["r01-n01"], "image": image, "rebuild": "always",
                                                         "config_drive": drive, "instance_info": info, "_check": True}),
        ("provision_cloud_dict", "ironic_provision", {"cloud": dict_cloud, "nodes": ["r01-n01"], "image": image,
                                                      "config_drive": drive, "instance_info": info}),
        ("rollout_missing_node", "ironic_rollout", {"nodes": ["no-such-node"], "rollout_id": "sa", "image": image}),
        ("rollout_check", "ironic_rollout", {"nodes": ["r01-n01", "r01-n02"], "rollout_id": "sa", "image": image,
                                             "_check": True}),
        ("rollout_cloud_dict", "ironic_rollout", {"cloud": dict_cloud, "nodes": ["r01-n01"], "rollout_id": "sa",
                                                  "image": image}),
        ("inspect_cloud_dict", "ironic_inspect", {"cloud": dict_cloud, "nodes": ["r01-n01"]}),
        ("traits_cloud_dict", "ironic_traits", {"cloud": dict_cloud, "rules": []}),
        ("traits_all_fields", "ironic_traits", {"rules": [{"name": "probe", "when": "instance_info.image_admin_password",
                                                           "traits_add": ["CUSTOM_PROBE"]}], "_check": True}),
        ("topology_report", "lldp_topology", {"nodes": ["r01-n01"], "report_dir": report_dir, "switches": {
            "leaf-r01-a": {"rack": "r01"}, "leaf-r01-b": {"rack": "r01"}}}),
        ("topology_cloud_dict", "lldp_topology", {"cloud": dict_cloud, "nodes": ["r01-n01"], "switches": {}}),
        ("network_cloud_dict", "routed_network", {"cloud": dict_cloud, "name": "sa-net", "segments": [
            {"name": "sa-seg", "physical_network": "leaf1", "segmentation_id": 777}]}),
        ("check_cloud_dict", "routed_network_check", {"cloud": dict_cloud, "network": "ctlplane", "racks": []}),
        ("preflight_cloud_dict", "preflight", {"cloud": dict_cloud}),
        ("preflight_secure", "preflight", {"cloud": "secure"}),
    ]
    tasks = []
    for case, module, args in calls:
        args = dict(args)
        check = args.pop("_check", False)
        task = {"name": case, "spineleaf.baremetal." + module: args, "register": "r", "ignore_errors": True,
                "check_mode": check}
        tasks += [task, {"name": "record " + case, "ansible.builtin.set_fact": {
            "results": "{{ results | combine({%r: r}) }}" % case}}]
    tasks.append({"name": "save", "ansible.builtin.copy": {"content": "{{ results | to_json }}", "dest": out,
                                                           "mode": "0600"}})
    return [{"name": "secret audit - module failure paths", "hosts": "localhost", "gather_facts": False,
             "vars": {"ansible_python_interpreter": os.path.join(VENV_BIN, "python"),
                      "ansible_connection": "local", "results": {}},
             "tasks": tasks}]


@pytest.fixture(scope="module")
def audit(lab, conn, tmp_path_factory):
    import ansible_runner

    tmp = str(tmp_path_factory.mktemp("secaudit"))
    a = Audit(lab, tmp)
    # 1. site.yml for real, --diff -vvv, results printed as JSON
    a.site = a.playbook("site.yml --diff -vvv", "playbooks/site.yml", "--diff", "-vvv",
                        env={"ANSIBLE_CALLBACK_RESULT_FORMAT": "json"})
    # 2. site.yml --check --diff -vvv through ansible-runner's JSON event callback (a fresh site cannot
    #    be checked past enrollment: the creations' diffs are in the module calls below)
    pdd = os.path.join(tmp, "runner")
    os.makedirs(os.path.join(pdd, "env"))
    envvars = dict((k, v) for k, v in a.env.items() if k.startswith(("ANSIBLE_", "OS_")) or k == "PATH")
    r = ansible_runner.run(private_data_dir=pdd, project_dir=REPO, playbook=os.path.join(REPO, "playbooks", "site.yml"),
                           inventory=a.inventory, envvars=envvars, cmdline="--check --diff", verbosity=3,
                           quiet=True, ident="check")
    a.check_status = r.status
    a.outputs.append(("runner events (check)", "\n".join(json.dumps(e) for e in r.events)))
    # 3. the rolling upgrade, for real, --diff -vvv
    a.rollout = a.playbook("rolling_upgrade.yml --diff -vvv", "playbooks/rolling_upgrade.yml", "--diff", "-vvv",
                           "-e", "rollout_image=" + IMAGE % "2")
    # 4. every module on its failure paths, -vvv --diff
    out = os.path.join(tmp, "module-results.json")
    pb = os.path.join(tmp, "modules.yml")
    with open(pb, "w") as f:
        yaml.safe_dump(_module_play(out, os.path.join(tmp, "reports", "secaudit", "module")), f, sort_keys=False)
    a.planted.add(pb)
    a.modules = a.run("modules -vvv --diff", [os.path.join(VENV_BIN, "ansible-playbook"), pb, "-i", "localhost,",
                                              "-vvv", "--diff"])
    with open(out) as f:
        a.module_results = json.load(f)
    a.outputs.append(("module results", json.dumps(a.module_results)))
    # 5. the inventory plugins: ironic (nodes now carry every planted Ironic-side secret), with the
    #    cache on, and with the password cloud (its failure path)
    for name, cloud, extra in (("ironic", "spineleaf-lab", {"cache": True, "cache_plugin": "ansible.builtin.jsonfile",
                                                            "cache_connection": os.path.join(tmp, "cache")}),
                               ("ironic-secure", "secure", {}),
                               ("ironic-auth", None, {"auth_type": "password", "api_timeout": 5, "auth": {
                                   "auth_url": "http://127.0.0.1:9/v3", "username": "admin",
                                   "password": CLOUDS_PASSWORD, "project_name": "admin"}})):
        path = os.path.join(tmp, "%s.ironic.yml" % name)
        with open(path, "w") as f:
            config = dict({"plugin": "spineleaf.baremetal.ironic"}, **extra)
            if cloud:
                config["cloud"] = cloud
            yaml.safe_dump(config, f)
        a.planted.add(path)
        setattr(a, "inventory_" + name.replace("-", "_"),
                a.run("ansible-inventory %s -vvv" % name,
                      [os.path.join(VENV_BIN, "ansible-inventory"), "-i", path, "--list", "-vvv"]))
    # the racks plugin on its failure path, the BMC password among the site variables
    path = os.path.join(tmp, "broken.racks.yml")
    with open(path, "w") as f:
        broken = [{"range": "r01-n[01:", "bmc_address": "10.0.0.{n}", "nics": []}]
        yaml.safe_dump({"plugin": "spineleaf.baremetal.racks", "vars": {"bmc_password": BMC},
                        "racks": {"r01": {"index": 1, "nodes": broken}}}, f)
    a.planted.add(path)
    a.inventory_racks = a.run("ansible-inventory racks -vvv", [os.path.join(VENV_BIN, "ansible-inventory"), "-i", path,
                                                               "--list", "-vvv"])
    return a


def test_runs_happened(audit):
    """The audit must have exercised the paths it claims: a run that failed early proves nothing."""
    assert audit.check_status == "successful"
    assert audit.site.returncode == 0, audit.site.stdout[-4000:]
    assert audit.rollout.returncode == 0, audit.rollout.stdout[-4000:]
    r = audit.module_results
    assert r["nodes_bad_mac"]["failed"] and "not a MAC" in r["nodes_bad_mac"]["msg"]
    assert r["nodes_api_error"]["failed"]
    assert not r["nodes_update_password"].get("failed"), r["nodes_update_password"]
    assert r["nodes_create_check"]["changed"] and r["nodes_create_check"]["diff"], r["nodes_create_check"]
    for case in ("nodes_unreachable_cloud", "nodes_cloud_dict", "provision_missing_node", "provision_cloud_dict",
                 "rollout_missing_node", "rollout_cloud_dict", "inspect_cloud_dict", "traits_cloud_dict",
                 "topology_cloud_dict", "network_cloud_dict", "check_cloud_dict", "preflight_cloud_dict",
                 "preflight_secure"):
        assert r[case].get("failed"), (case, r[case])
    assert not r["provision_rebuild_check"].get("failed"), r["provision_rebuild_check"]
    assert not r["topology_report"].get("failed"), r["topology_report"]
    assert r["provision_rebuild_check"]["changed"]
    out = audit.inventory_ironic.stdout  # -vvv prints its own lines before the JSON document
    hosts = json.loads(out[out.index("\n{") + 1:] if not out.startswith("{") else out)["_meta"]["hostvars"]
    assert set(hosts) >= {"r01-n01", "r03-n02"}
    assert "127.0.0.1:9" in audit.inventory_ironic_secure.stderr  # it tried the password cloud
    assert "ironic-auth.ironic.yml" in audit.inventory_ironic_auth.stderr  # its failure path ran
    assert "does not expand" in audit.inventory_racks.stderr


def test_the_secrets_reached_ironic(audit, conn):
    """Otherwise the audit would pass for the wrong reason: the secrets went where they were sent."""
    node = conn.baremetal.get_node("r01-n01")
    # Ironic stores them and masks them itself in what it returns (keys named like passwords)
    assert node.instance_info.get("image_admin_password") == "******"
    assert node.driver_info.get("ipmi_password") == "******"
    assert node.driver_info.get("redfish_password") == "******"
    assert node.instance_info.get("image_source") == IMAGE % "2"  # the rolling upgrade ran


def test_no_secret_in_any_output(audit):
    found = []
    for where, text in audit.outputs:
        found += leaks(text, where)
    assert found == []


def test_no_secret_in_any_file_written(audit):
    """Every file under the audit's directory (reports, the inventory cache, the runner's artifacts)
    and the collection's lock files, except the inputs the test wrote itself."""
    found, seen = [], 0
    paths = [os.path.join(d, f) for d, _dirs, fs in os.walk(audit.tmp) for f in fs]
    paths += glob.glob("/tmp/spineleaf-*")
    for path in paths:
        if path in audit.planted or not os.path.isfile(path):
            continue
        seen += 1
        with open(path, "rb") as f:
            found += leaks(f.read().decode("utf-8", "replace"), path)
    assert seen > 5
    assert found == []


def test_reports_are_private(audit):
    """Reports hold node data (MACs, switch ports, cabling): 0700 directories, 0600 files."""
    base = os.path.join(audit.tmp, "reports", "secaudit")
    files = [os.path.join(d, f) for d, _dirs, fs in os.walk(base) for f in fs]
    dirs = [base] + [os.path.join(d, s) for d, ss, _files in os.walk(base) for s in ss]
    assert any(p.endswith("topology.json") for p in files), files
    assert {p: oct(stat.S_IMODE(os.stat(p).st_mode)) for p in files} == {p: "0o600" for p in files}
    assert {p: oct(stat.S_IMODE(os.stat(p).st_mode)) for p in dirs} == {p: "0o700" for p in dirs}
