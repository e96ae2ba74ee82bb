"""The collection as a user has it: built into its tarball, installed into a fresh collections path
and run by its FQCN (`ansible-playbook spineleaf.baremetal.site -i <site>`, then
`spineleaf.baremetal.rolling_upgrade`) against the lab, from a directory that is not the checkout and
with no ansible.cfg. Nothing of the checkout is found, nothing is written inside the installed
collection (as in an execution environment, where it is read-only), and the topology report lands in
the operator's data directory. The site's tags (--tags / --skip-tags) are checked on the same run."""
import glob
import hashlib
import os
import re
import shutil
import subprocess

import pytest
import yaml

from lab.harness import REPO, VENV_BIN

IMAGE = "http://images.lab.invalid/spineleaf-base-1.7.qcow2"
STEP_TAGS = ("preflight", "networks", "discover", "enroll", "introspect", "tag", "deploy", "summary")
ROLES = ("preflight", "routed_networks", "discover", "enroll", "introspect", "tag", "deploy")


def _galaxy_version():
    with open(os.path.join(REPO, "galaxy.yml")) as f:
        return yaml.safe_load(f)["version"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """ansible-galaxy collection build, then install of that tarball into a fresh path (from a
    directory outside the checkout, without the checkout's ansible.cfg)."""
    base = tmp_path_factory.mktemp("installed")
    env = _clean_env()
    galaxy = os.path.join(VENV_BIN, "ansible-galaxy")
    subprocess.run([galaxy, "collection", "build", "--output-path", str(base / "dist"), REPO],
                   cwd=str(base), env=env, check=True, capture_output=True, timeout=600)
    tarball = base / "dist" / ("spineleaf-baremetal-%s.tar.gz" % _galaxy_version())
    subprocess.run([galaxy, "collection", "install", "-p", str(base / "collections"), str(tarball)],
                   cwd=str(base), env=env, check=True, capture_output=True, timeout=600)
    root = base / "collections" / "ansible_collections" / "spineleaf" / "baremetal"
    assert (root / "playbooks" / "site.yml").is_file()
    return str(base / "collections"), str(root)


def _clean_env():
    """The environment with nothing that points at the checkout: no ANSIBLE_* (the Makefile exports
    ANSIBLE_CONFIG), the venv's tools on PATH."""
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "OS_")))
    env["PATH"] = VENV_BIN + os.pathsep + env.get("PATH", "")
    return env


def _tree(root):
    """Every file and directory under root with its size, mtime and content digest."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            path = os.path.join(dirpath, name)
            state[os.path.relpath(path, root) + "/"] = os.stat(path).st_mtime_ns
        for name in filenames:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            st = os.stat(path)
            state[os.path.relpath(path, root)] = (st.st_size, st.st_mtime_ns, digest)
    return state


@pytest.fixture(scope="module")
def operator(installed, lab, tmp_path_factory):
    """An operator's working directory: the site inventory (the lab site as hosts.yml + group_vars/),
    a home of its own, the cloud from clouds.yaml; ANSIBLE_COLLECTIONS_PATH names only the fresh path."""
    collections, _root = installed
    work = tmp_path_factory.mktemp("operator")
    site = work / "site"
    site.mkdir()
    shutil.copy(os.path.join(REPO, "inventory", "lab", "hosts.yml"), str(site / "hosts.yml"))
    shutil.copytree(os.path.join(REPO, "inventory", "lab", "group_vars"), str(site / "group_vars"))
    home = work / "home"
    home.mkdir()
    env = _clean_env()
    env.pop("XDG_DATA_HOME", None)
    env.update(HOME=str(home), ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               OS_CLIENT_CONFIG_FILE=lab.clouds_yaml, OS_CLOUD="spineleaf-lab")
    return {"cwd": str(work), "site": str(site), "home": str(home), "env": env}


def _playbook(operator, *args, timeout=2400, env=None):
    proc = subprocess.run([os.path.join(VENV_BIN, "ansible-playbook")] + list(args), cwd=operator["cwd"],
                          env=dict(operator["env"], **(env or {})), capture_output=True, text=True, timeout=timeout,
                          check=False)
    return proc.returncode, proc.stdout + proc.stderr


def _role_tasks(output, role, prefix=""):
    """Lines of a role's tasks in the output, leaving out the argument validation Ansible adds to
    every role (tagged always: it runs under any --tags and only reads the role's arguments)."""
    return [line for line in output.splitlines() if (prefix + "spineleaf.baremetal.%s : " % role) in line
            and "Validating arguments against arg spec" not in line]


def _recap(output):
    return dict((m.group(1), dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))))
                for m in re.finditer(r"^(\S+)\s+:\s+(ok=.*)$", output, re.M))


def _play(output, title):
    """The part of the output of the play whose name starts with title."""
    start = output.index("PLAY [" + title)
    end = output.find("\nPLAY ", start + 1)
    return output[start:] if end < 0 else output[start:end]


def test_installed_collection_finds_nothing_of_the_checkout(installed, operator):
    collections, root = installed
    proc = subprocess.run([os.path.join(VENV_BIN, "ansible-config"), "dump", "--only-changed", "--format", "json"],
                          cwd=operator["cwd"], env=operator["env"], capture_output=True, text=True, check=True)
    assert REPO not in proc.stdout, proc.stdout
    assert collections in proc.stdout
    proc = subprocess.run([os.path.join(VENV_BIN, "ansible-galaxy"), "collection", "list", "spineleaf.baremetal"],
                          cwd=operator["cwd"], env=operator["env"], capture_output=True, text=True, check=True)
    assert collections in proc.stdout and REPO not in proc.stdout, proc.stdout
    assert not os.path.exists(os.path.join(root, "tests")) and not os.path.exists(os.path.join(root, "lab"))


def test_site_tags_list_and_select(operator):
    rc, out = _playbook(operator, "spineleaf.baremetal.site", "-i", operator["site"], "--list-tags")
    assert rc == 0, out[-3000:]
    tags = set()
    for found in re.findall(r"TASK TAGS: \[([^\]]*)\]", out):
        tags.update(t.strip() for t in found.split(",") if t.strip())
    assert set(STEP_TAGS) <= tags, tags
    # every play carries one of the step tags (or always)
    play_tags = re.findall(r"play #\d+ \([^)]*\): .*\tTAGS: \[([^\]]*)\]", out)
    assert play_tags and all(set(t.split(",")) & (set(STEP_TAGS) | {"always"}) for t in play_tags), play_tags

    rc, out = _playbook(operator, "spineleaf.baremetal.site", "-i", operator["site"], "--list-tasks",
                        "--tags", "preflight")
    assert rc == 0, out[-3000:]
    assert _role_tasks(out, "preflight")
    for role in ROLES[1:]:
        assert not _role_tasks(out, role), role

    rc, out = _playbook(operator, "spineleaf.baremetal.site", "-i", operator["site"], "--list-tasks",
                        "--skip-tags", "preflight,discover")
    assert rc == 0, out[-3000:]
    assert not _role_tasks(out, "preflight") and not _role_tasks(out, "discover")
    for role in ("routed_networks", "enroll", "introspect", "tag", "deploy"):
        assert _role_tasks(out, role), role


def test_installed_site_and_rolling_upgrade_by_fqcn(installed, operator, lab, conn):
    _collections, root = installed
    before = _tree(root)

    # --tags preflight runs the preflight and nothing that writes
    rc, out = _playbook(operator, "spineleaf.baremetal.site", "-i", operator["site"], "--tags", "preflight")
    assert rc == 0, out[-4000:]
    assert _role_tasks(out, "preflight", "TASK [")
    for role in ROLES[1:]:
        assert not _role_tasks(out, role, "TASK ["), role

    # the whole site, by its FQCN
    rc, out = _playbook(operator, "spineleaf.baremetal.site", "-i", operator["site"],
                        env={"ANSIBLE_SHOW_CUSTOM_STATS": "1"})
    assert rc == 0, out[-6000:]
    recap = _recap(out)
    assert len([h for h in recap if re.match(r"r0\d-n0\d$", h)]) == 12, recap
    assert all(v["failed"] == 0 and v["unreachable"] == 0 for v in recap.values()), recap
    # the interpreter's own packages may warn with their path (the venv lives in the checkout here)
    assert [line for line in out.splitlines() if REPO in line and os.path.dirname(VENV_BIN) not in line] == []
    nodes = dict((n.name, n) for n in conn.baremetal.nodes(details=True) if re.match(r"r0\d-n0\d$", n.name or ""))
    assert len(nodes) == 12 and all(n.provision_state == "active" for n in nodes.values()), \
        dict((k, n.provision_state) for k, n in nodes.items())

    # the report: in the operator's data directory, not beside the playbooks or in the cwd
    reports = os.path.join(operator["home"], ".local", "share", "spineleaf", "reports", "lab")
    assert os.path.isfile(os.path.join(reports, "topology.html"))
    assert sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(reports, "*", "topology.json"))) \
        == ["r01", "r02", "r03"]
    assert not os.path.exists(os.path.join(operator["cwd"], "reports"))
    # ... and what an AWX job keeps of them: the per-rack summary and each rack's findings as stats
    custom = out[out.index("CUSTOM STATS"):]
    for rack in ("r01", "r02", "r03"):
        assert "introspect_findings_%s" % rack in custom and "site_rack_%s" % rack in custom, custom[:3000]

    # --tags deploy: no enrollment or introspection; the nodes whose recorded cabling check still holds
    # go on, a node moved in the inventory since its check (r01-n01) does not
    host_vars = os.path.join(operator["site"], "host_vars")
    os.makedirs(host_vars)
    with open(os.path.join(REPO, "inventory", "lab", "hosts.yml")) as f:
        nics = yaml.safe_load(f)["all"]["children"]["baremetal"]["children"]["rack_r01"]["hosts"]["r01-n01"]["nics"]
    nics[1]["port"] = "Ethernet1/31"
    with open(os.path.join(host_vars, "r01-n01.yml"), "w") as f:
        yaml.safe_dump({"nics": nics}, f)
    try:
        rc, out = _playbook(operator, "spineleaf.baremetal.site", "-i", operator["site"], "--tags", "deploy")
    finally:
        shutil.rmtree(host_vars)
    assert rc == 0, out[-6000:]
    for role in ("discover", "enroll", "introspect", "tag", "routed_networks"):
        assert not _role_tasks(out, role, "TASK ["), role
    deploy_play = _play(out, "Deploy - ")
    assert _role_tasks(deploy_play, "deploy", "TASK [")
    assert "[r01-n01]" not in deploy_play
    # each node's one result at the end of site.yml says which steps took it
    results = _play(out, "Results - ")
    msgs = dict((m.group(1), m.group(2)) for m in re.finditer(r'\[(r0\d-n0\d)\] => \{\n\s+"msg": "([^"]*)"', results))
    assert "deploy: " in msgs["r01-n02"] and "deploy: " in msgs["r03-n04"], msgs
    assert "deploy: " not in msgs["r01-n01"] and "cabling check not passed" in msgs["r01-n01"], msgs
    assert all(v["failed"] == 0 for v in _recap(out).values()), _recap(out)
    # the summary names the node left out (it was once counted as done)
    summary = [line for line in out.splitlines() if "rack r01:" in line and " done, " in line]
    assert summary and "3 done" in summary[-1] and "1 skipped" in summary[-1] and "r01-n01" in summary[-1], summary

    # the rolling upgrade, by its FQCN
    rc, out = _playbook(operator, "spineleaf.baremetal.rolling_upgrade", "-i", operator["site"],
                        "-e", "rollout_image=" + IMAGE)
    assert rc == 0, out[-6000:]
    assert all(v["failed"] == 0 for v in _recap(out).values()), _recap(out)
    for node in conn.baremetal.nodes(details=True):
        if node.name in nodes:
            assert node.provision_state == "active" and node.instance_info.get("image_source") == IMAGE, node.name

    # nothing was written inside the installed collection (no report, no retry file, no cache)
    assert _tree(root) == before
