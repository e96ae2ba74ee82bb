"""Shared helpers for benchmarks: a private lab per benchmark, the peer (openstack.cloud) venv,
timing and result files. Benchmarks print ratios against alternatives run in the same process."""
import contextlib
import os
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "tests"))

from lab.harness import Lab, run_module, run_playbook  # noqa: E402,F401 pylint: disable=unused-import

RESULTS = os.path.join(BENCH, "results")
PEER_VENV = os.path.join(BENCH, ".venv-peer")
# openstack.cloud 2.5.0 (bundled with ansible 12.3.0) fails with openstacksdk >= 4.15.
PEER_PACKAGES = ["ansible==12.3.0", "openstacksdk<4.15"]
BENCH_IRONIC_PORT = int(os.environ.get("BENCH_IRONIC_PORT", "16485"))
BENCH_NEUTRON_PORT = int(os.environ.get("BENCH_NEUTRON_PORT", "19796"))


def retry(fn, *args, **kwargs):
    """Set-up writes of a benchmark (not timed against anything): the lab's sqlite answers
    concurrent writers with 500 "database is locked", and nodes are locked briefly: try again."""
    for attempt in range(30):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            if getattr(exc, 'status_code', None) not in (409, 500, 503) or attempt == 29:
                raise
            time.sleep(0.05 * (attempt + 1))
    return None


@contextlib.contextmanager
def fresh_lab():
    """A clean lab instance (empty databases) for one benchmark, stopped afterwards."""
    state = os.path.join(REPO, ".lab", "bench-run-%d" % BENCH_IRONIC_PORT)  # one per instance
    with Lab(BENCH_IRONIC_PORT, BENCH_NEUTRON_PORT, state).fresh() as lab:
        yield lab


def bench_venv(path, packages):
    """bin/ of a venv of its own at ``path`` with ``packages``, installed on first use (not timed)."""
    marker = os.path.join(path, ".installed")
    if not os.path.exists(marker):
        if not os.path.exists(os.path.join(path, "bin", "python")):
            subprocess.run([sys.executable, "-m", "venv", path], check=True)
        subprocess.run([os.path.join(path, "bin", "pip"), "install", "-q"] + list(packages), check=True)
        with open(marker, "w") as f:
            f.write("\n".join(packages))
    return os.path.join(path, "bin")


def peer_bin():
    """bin/ of the peer venv (ansible 12.3.0 with openstack.cloud 2.5.0), installed on first use."""
    return bench_venv(PEER_VENV, PEER_PACKAGES)


def peer_env(lab):
    """Environment for running the peer's ansible-playbook against the lab."""
    env = lab.ansible_env()
    env["PATH"] = peer_bin() + os.pathsep + env["PATH"]
    env.pop("ANSIBLE_CONFIG", None)
    env["ANSIBLE_COLLECTIONS_PATH"] = os.path.join(PEER_VENV, "nonexistent")  # use the bundled collections
    env["ANSIBLE_PYTHON_INTERPRETER"] = os.path.join(PEER_VENV, "bin", "python")
    env["ANSIBLE_LOCALHOST_WARNING"] = "false"
    return env


def run_peer_playbook(lab, playbook_path, extra_args=()):
    proc = subprocess.run([os.path.join(peer_bin(), "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           playbook_path] + list(extra_args), env=peer_env(lab), capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError("peer playbook failed:\n" + proc.stdout[-3000:] + proc.stderr[-2000:])
    return proc


def timed(fn, *args, **kwargs):
    """Run fn; return (seconds, result)."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def ratio(slow, fast):
    return "%.1fx" % (slow / fast) if fast > 0 else "n/a"


def write_result(name, markdown):
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, name + ".md"), "w") as f:
        f.write(markdown.rstrip() + "\n")
    print(markdown, flush=True)
