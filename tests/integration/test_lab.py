"""The lab's own contract: up answers on both ports, status reports it, down leaves nothing behind."""
import json
import os
import shutil
import socket
import subprocess

from lab.harness import REPO, Lab


def listening(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open("/proc/%d/stat" % pid) as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def test_lab_up_status_down_leaves_no_listener():
    state = os.path.join(REPO, ".lab", "test-run-labctl")
    shutil.rmtree(state, ignore_errors=True)
    lab = Lab(16585, 19895, state)
    try:
        lab.ctl("up")
        assert listening(16585) and listening(19895)
        status = subprocess.run(["python3", os.path.join(REPO, "lab", "labctl.py"), "status"], env=lab.env,
                                capture_output=True, text=True, check=True)
        info = json.loads(status.stdout)
        assert info["ironic"]["answers"] and info["neutron"]["answers"]
        pids = [info["ironic"]["pid"], info["neutron"]["pid"]]
        lab.ctl("up")  # idempotent: already running, nothing started twice
        assert json.loads(subprocess.run(["python3", os.path.join(REPO, "lab", "labctl.py"), "status"], env=lab.env,
                                         capture_output=True, text=True, check=True).stdout)["ironic"]["pid"] == pids[0]
    finally:
        lab.ctl("down")
    assert not listening(16585) and not listening(19895)
    assert not any(alive(pid) for pid in pids)
    assert not [f for f in os.listdir(state) if f.endswith(".pid")]
    shutil.rmtree(state, ignore_errors=True)
