"""Make the checkout importable as ansible_collections.spineleaf.baremetal for every test."""
import atexit
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, ".collections")
link = os.path.join(COLLECTIONS, "ansible_collections", "spineleaf", "baremetal")
if not os.path.exists(link):
    os.makedirs(os.path.dirname(link), exist_ok=True)
    os.symlink("../../..", link)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)

# The topology reports default to $XDG_DATA_HOME/spineleaf/reports/<site> (else ~/.local/share/...):
# the suite's runs write theirs into a directory of this test process, not into the operator's home,
# where test sessions running side by side would also merge into each other's reports.
_DATA_HOME = tempfile.mkdtemp(prefix="spineleaf-test-data-")
os.environ["XDG_DATA_HOME"] = _DATA_HOME
atexit.register(shutil.rmtree, _DATA_HOME, True)


# ------------------------------------------------------------------ modules through pytest-ansible
@contextlib.contextmanager
def _environ(env):
    """os.environ replaced by ``env`` for the block: pytest-ansible runs the module from this
    process, so the module sees this process's environment (OS_CLIENT_CONFIG_FILE, OS_CLOUD)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def lab_module(request, tmp_path_factory):
    """``lab_module(target, name, args)``: one module task on localhost through pytest-ansible, in
    this process (no ansible-playbook), against ``target`` (a lab, or anything with
    ``ansible_env()``: a proxy's view of one, another clouds.yaml). Returns the module's result as
    a dict; a failed module's result is returned, not raised.

    The host manager is pytest-ansible's, made as its ``ansible_adhoc`` / ``localhost`` fixtures
    make it (``initialize`` of its plugin), once per session: those fixtures are function-scoped
    and module-scoped fixtures (a converged rack) run modules too.

    pytest-ansible 26.10 runs neither check mode (its ``check`` option is not passed on to the
    ad-hoc run: the module writes) nor diff, and prints nothing: cases that need --check, --diff or
    the -vvv console output use ``run_module`` (ansible-playbook) of lab/harness.py."""
    inventory = tmp_path_factory.mktemp("pytest-ansible") / "localhost.yml"
    inventory.write_text(json.dumps({"all": {"hosts": {"localhost": {
        "ansible_connection": "local",
        "ansible_python_interpreter": os.path.join(REPO, ".venv", "bin", "python")}}}}))
    plugin = request.config.pluginmanager.getplugin("ansible")
    hosts = plugin.initialize(request.config, request, inventory=str(inventory), connection="local",
                              host_pattern="localhost")

    def run(target, name, args, timeout=1800):
        with _environ(target.ansible_env()), _bounded(timeout, name):
            result = getattr(hosts.localhost, name)(**args)
        return dict(result["localhost"])
    return run


@contextlib.contextmanager
def _bounded(seconds, what):
    """Fail the test (AssertionError) when the block runs longer than ``seconds``, as the
    ansible-playbook runs' subprocess timeout does."""
    def expired(_signum, _frame):
        raise AssertionError("%s still running %ss after start" % (what, seconds))
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(int(seconds))
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
