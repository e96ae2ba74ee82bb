"""Helpers for integration tests: a private lab instance and ansible-playbook runs against it."""
import contextlib
import json
import os
import shutil
import subprocess
import tempfile

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.join(REPO, ".venv", "bin")


class Lab:
    """A lab instance of its own (ports and state dir apart from the operator's `make lab-up`)."""

    def __init__(self, ironic_port, neutron_port, state_dir):
        self.env = dict(os.environ)
        self.env.update(LAB_IRONIC_PORT=str(ironic_port), LAB_NEUTRON_PORT=str(neutron_port),
                        LAB_STATE_DIR=state_dir)
        self.state_dir = state_dir
        self.clouds_yaml = os.path.join(state_dir, "clouds.yaml")
        self.ironic_url = "http://127.0.0.1:%d" % ironic_port
        self.neutron_url = "http://127.0.0.1:%d" % neutron_port

    def ctl(self, *args):
        subprocess.run(["python3", os.path.join(REPO, "lab", "labctl.py")] + list(args),
                       env=self.env, check=True)

    @contextlib.contextmanager
    def fresh(self):
        """Start this instance with empty databases; stop it afterwards."""
        self.ctl("down")
        shutil.rmtree(self.state_dir, ignore_errors=True)
        self.ctl("up")
        try:
            yield self
        finally:
            self.ctl("down")

    def ansible_env(self):
        env = dict(os.environ)
        env.update(OS_CLIENT_CONFIG_FILE=self.clouds_yaml, OS_CLOUD="spineleaf-lab",
                   ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
                   ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                   PATH=VENV_BIN + os.pathsep + env.get("PATH", ""))
        return env

    def connect(self):
        return _connect(self.clouds_yaml)


class LabEnv:
    """A lab seen with environment variables of its own (another clouds.yaml, another TMPDIR): for
    run_module, run_playbook and the lab_module fixture, which take the environment from the lab."""

    def __init__(self, lab, **env):
        self.lab, self.extra = lab, env
        self.clouds_yaml = env.get("OS_CLIENT_CONFIG_FILE", lab.clouds_yaml)

    def ansible_env(self):
        env = self.lab.ansible_env()
        env.update(self.extra)
        return env


def _connect(clouds_yaml):
    """An SDK connection to exactly this lab instance.

    The endpoints come from the instance's own clouds.yaml, and neither OS_* variables nor other
    clouds.yaml files are read: OS_CLIENT_CONFIG_FILE (exported by the Makefile for the operator's
    lab) would otherwise win and point the connection at another instance."""
    import openstack
    with open(clouds_yaml) as f:
        cloud = dict(yaml.safe_load(f)["clouds"]["spineleaf-lab"])
    return openstack.connect(load_yaml_config=False, load_envvars=False, **cloud)


class PlaybookResult:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    @property
    def output(self):
        return self.stdout + self.stderr

    def explain(self, tail=4000):
        """What a failing assertion should show: every failed task's lines (the host's message
        included, wherever in the run it was), then the end of the output."""
        lines = self.stdout.splitlines()
        failed = []
        for i, line in enumerate(lines):
            if line.startswith(("fatal: [", "failed: [")):
                task = next((lines[j] for j in range(i, -1, -1) if lines[j].startswith("TASK [")), "")
                failed += [task] + lines[i:i + 12] + [""]
        head = ("FAILED TASKS:\n" + "\n".join(failed) + "\n--- end of the output:\n") if failed else ""
        return head + self.output[-tail:]


def run_playbook(lab, plays, inventory=None, check=False, diff=False, verbosity=0,
                 extra_vars=None, extra_args=()):
    """Run plays (python objects) with ansible-playbook; return its rc and output (run_module
    records a module's result)."""
    with tempfile.TemporaryDirectory() as tmp:
        pb = os.path.join(tmp, "play.yml")
        with open(pb, "w") as f:
            yaml.safe_dump(plays, f, sort_keys=False)
        cmd = [os.path.join(VENV_BIN, "ansible-playbook"), pb]
        cmd += ["-i", inventory or "localhost,"]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        cmd += list(extra_args)
        proc = subprocess.run(cmd, env=lab.ansible_env(), capture_output=True, text=True, cwd=REPO, check=False,
                              timeout=1800)
        return PlaybookResult(proc)


def module_play(module, args, out):
    """A play of one module task on localhost that writes the task's result to the file ``out``.

    For what pytest-ansible (the ``lab_module`` fixture, tests/conftest.py) cannot do: check mode,
    diff, the console output, a run in the background to be killed, and the benchmarks."""
    return [{
        "name": "run %s" % module,
        "hosts": "localhost",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": os.path.join(VENV_BIN, "python"),
                 "ansible_connection": "local"},
        "tasks": [
            {"name": "module under test", module: args, "register": "r", "ignore_errors": True},
            {"name": "save result", "ansible.builtin.copy": {
                "content": "{{ r | to_json }}", "dest": out}, "check_mode": False, "diff": False},
        ],
    }]


def run_module(lab, module, args, check=False, diff=False, verbosity=0):
    """Run one module task on localhost with ansible-playbook; return (PlaybookResult, the
    registered result dict)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "module-result.json")
        res = run_playbook(lab, module_play(module, args, out), check=check, diff=diff, verbosity=verbosity)
        result = None
        if os.path.exists(out):
            with open(out) as f:
                result = json.load(f)
        if result is None:
            raise AssertionError("playbook did not record a result:\n" + res.output[-4000:])
        return res, result
