"""The lab's message broker (kombu's filesystem transport, lab/neutron_run.py) never shows a
consumer a message file before its content is complete.

Run with the lab's Neutron interpreter and its real kombu: while a message is being serialised
and written, the queue directory is listed, as a consumer polling it would. kombu's own ``_put``
creates the final ``<time>_<uuid>.<queue>.msg`` first and writes into it, so this listing finds an
empty message (ironic-neutron-agent read such a file, hit a JSONDecodeError and stopped consuming
for good); the lab's channel writes under a name no queue reads and renames.
"""
import json
import os
import subprocess
import textwrap

import pytest

from lab.harness import REPO

NEUTRON_PYTHON = os.path.join(os.environ.get("LAB_CACHE_DIR", os.path.join(REPO, ".lab")),
                              "venv-neutron", "bin", "python")

SCRIPT = textwrap.dedent("""
    import json, os, sys
    sys.path.insert(0, os.path.join(sys.argv[1], "lab"))
    import kombu.utils.json as kjson
    from kombu import Connection
    from kombu.transport import filesystem
    if sys.argv[3] == "lab":
        import neutron_run
        neutron_run.patch_kombu()
    folder = sys.argv[2]
    os.makedirs(os.path.join(folder, "out"))
    seen = []
    original = kjson.dumps

    def dumps_and_look(obj, *args, **kwargs):
        text = original(obj, *args, **kwargs)
        for name in os.listdir(os.path.join(folder, "out")):
            if name.partition(".")[2] == "q.msg":  # what a consumer of queue q would read
                seen.append((name, os.path.getsize(os.path.join(folder, "out", name))))
        return text
    kjson.dumps = filesystem.dumps = dumps_and_look
    conn = Connection("filesystem://", transport_options={
        "data_folder_in": os.path.join(folder, "out"), "data_folder_out": os.path.join(folder, "out")})
    channel = conn.channel()
    for i in range(3):
        channel._put("q", {"body": "x" * 1000, "n": i})
    got = [channel._get("q")["n"] for _ in range(3)]
    print(json.dumps({"incomplete": [s for s in seen if s[1] < 1000], "got": sorted(got)}))
""")


def _run(tmp_path, which):
    if not os.path.exists(NEUTRON_PYTHON):
        pytest.fail("the lab's Neutron venv is missing (%s): python3 lab/labctl.py install" % NEUTRON_PYTHON)
    proc = subprocess.run([NEUTRON_PYTHON, "-c", SCRIPT, REPO, str(tmp_path / which), which],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_message_appears_whole_or_not_at_all(tmp_path):
    lab = _run(tmp_path, "lab")
    assert lab == {"incomplete": [], "got": [0, 1, 2]}
    # The control: kombu's own channel shows the consumer each message before its content.
    plain = _run(tmp_path, "plain")
    assert len(plain["incomplete"]) == 3 and plain["got"] == [0, 1, 2], plain
