"""Measuring helpers for the scale benchmarks: a lab of either profile, ansible-playbook runs
with the peak RSS of the playbook's own processes and of the module processes, and the API
calls a run made (counted in the lab Ironic's API log, the server's own record)."""
import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

import yaml

import common

VENV_PYTHON = os.path.join(common.REPO, ".venv", "bin", "python")
BENCH_JSON_RPC_PORT = int(os.environ.get("BENCH_JSON_RPC_PORT", str(common.BENCH_IRONIC_PORT + 2)))
# The lab ramdisk's calls are not the module's: its poll for nodes in "inspect wait" (the module's
# inspection poller lists that state too, with other fields), its port lookup per node it answers
# and the inspection data it posts.
_RAMDISK_CALLS = ("provision_state=inspect+wait&fields=uuid%2Cname%2Cextra", "&fields=address ",
                  "/v1/continue_inspection")
_REQUEST = re.compile(r" - (GET|POST|PATCH|PUT|DELETE) (/v1/[^ ?]*)")


@contextlib.contextmanager
def profile_lab(profile):
    """A fresh lab of ``profile`` (default / production) on the benchmark ports, stopped afterwards."""
    state = os.path.join(common.REPO, ".lab", "bench-%s-%d" % (profile, common.BENCH_IRONIC_PORT))
    lab = common.Lab(common.BENCH_IRONIC_PORT, common.BENCH_NEUTRON_PORT, state)
    lab.env.update(LAB_PROFILE=profile, LAB_JSON_RPC_PORT=str(BENCH_JSON_RPC_PORT))
    lab.profile = profile
    with lab.fresh():
        yield lab


def api_log(lab):
    return os.path.join(lab.state_dir, "ironic", "ironic.log")


def log_offset(lab):
    try:
        return os.path.getsize(api_log(lab))
    except OSError:
        return 0


def api_calls(lab, offset):
    """``{'reads': n, 'writes': n, 'lists': n}`` of the API requests logged since ``offset``
    (the lab ramdisk's own polling excluded). ``lists``: GETs of whole collections."""
    counts = dict(reads=0, writes=0, lists=0)
    with open(api_log(lab), errors="replace") as f:
        f.seek(offset)
        for line in f:
            match = _REQUEST.search(line)
            if not match or any(marker in line for marker in _RAMDISK_CALLS):
                continue
            method, path = match.groups()
            if method == "GET":
                counts["reads"] += 1
                if path.rstrip("/") in ("/v1/nodes", "/v1/nodes/detail", "/v1/ports", "/v1/ports/detail",
                                        "/v1/portgroups", "/v1/portgroups/detail", "/v1/conductors"):
                    counts["lists"] += 1
            else:
                counts["writes"] += 1
    return counts


def _hwm_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(root):
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _is_module(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return b"AnsiballZ_" in f.read()
    except OSError:
        return False


class RssSampler(threading.Thread):
    """Peak RSS (VmHWM, so peaks between samples count) of a process tree: the ansible-playbook
    processes (the controller and its forks) apart from the module processes (AnsiballZ_*)."""

    def __init__(self, pid, interval=0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.playbook_kb = self.module_kb = 0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            for pid in _descendants(self.pid):
                kb = _hwm_kb(pid)
                if _is_module(pid):
                    self.module_kb = max(self.module_kb, kb)
                elif pid == self.pid or kb:
                    self.playbook_kb = max(self.playbook_kb, kb)
            time.sleep(self.interval)


def run_plays(lab, plays, extra_vars=None, inventory=None):
    """Run plays with ansible-playbook; returns (seconds, registered results by task name,
    {'playbook_mb', 'module_mb'}). Every task that registers ``r_<name>`` is saved."""
    with tempfile.TemporaryDirectory() as tmp:
        pb = os.path.join(tmp, "play.yml")
        out = os.path.join(tmp, "results.json")
        plays = plays + [{"name": "save", "hosts": "localhost", "gather_facts": False, "connection": "local", "tasks": [
            {"ansible.builtin.copy": {"dest": out, "content": "{{ hostvars['localhost'] | dict2items "
                                      "| selectattr('key', 'match', 'r_') | items2dict | to_json }}"}}]}]
        for play in plays:
            play.setdefault("vars", {}).update(ansible_python_interpreter=VENV_PYTHON)
        with open(pb, "w") as f:
            yaml.safe_dump(plays, f, sort_keys=False)
        cmd = [os.path.join(common.REPO, ".venv", "bin", "ansible-playbook"), pb, "-i", inventory or "localhost,"]
        if extra_vars:
            path = os.path.join(tmp, "vars.json")
            with open(path, "w") as f:
                json.dump(extra_vars, f)
            cmd += ["-e", "@" + path]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=lab.ansible_env(), cwd=common.REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        sampler = RssSampler(proc.pid)
        sampler.start()
        output = proc.communicate()[0]
        seconds = time.perf_counter() - start
        sampler.done.set()
        sampler.join()
        if proc.returncode != 0:
            raise RuntimeError("playbook failed:\n" + output[-4000:])
        with open(out) as f:
            results = json.load(f)
    return seconds, results, dict(playbook_mb=sampler.playbook_kb / 1024.0, module_mb=sampler.module_kb / 1024.0)


def localhost_play(tasks):
    return {"name": "bench", "hosts": "localhost", "gather_facts": False, "connection": "local", "tasks": tasks}


def cleanup(path):
    shutil.rmtree(path, ignore_errors=True)
