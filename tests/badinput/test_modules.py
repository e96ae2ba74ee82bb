"""Every bad input in cases.py fails before its first write, with a message naming object and field.

All cases run in one ansible-playbook (a block/rescue per case records its result), then Ironic and
Neutron are read back: nothing may differ from the snapshot taken before."""
import json
import os
import re
import tempfile

import pytest

from lab.harness import VENV_BIN, run_playbook
from .cases import CASES
from .conftest import snapshot


def _plays(out):
    tasks = []
    for case_id, module, args, _patterns in CASES:
        tasks.append({"name": case_id, "block": [
            {"name": "run " + case_id, module: args, "register": "case_result"},
            {"name": "record success of " + case_id, "ansible.builtin.set_fact": {
                "results": "{{ results | combine({%r: case_result}) }}" % case_id}},
        ], "rescue": [
            {"name": "record failure of " + case_id, "ansible.builtin.set_fact": {
                "results": "{{ results | combine({%r: ansible_failed_result}) }}" % case_id}},
        ]})
    tasks.append({"name": "save", "ansible.builtin.copy": {"content": "{{ results | to_json }}", "dest": out}})
    return [{"name": "bad inputs", "hosts": "localhost", "gather_facts": False,
             "vars": {"ansible_python_interpreter": os.path.join(VENV_BIN, "python"),
                      "ansible_connection": "local", "results": {}},
             "tasks": tasks}]


@pytest.fixture(scope="module")
def outcome(lab, conn):
    before = snapshot(conn)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "results.json")
        res = run_playbook(lab, _plays(out))
        assert os.path.exists(out), res.output[-4000:]
        with open(out) as f:
            results = json.load(f)
    return before, snapshot(conn), results


def test_nothing_written(outcome):
    before, after = outcome[:2]
    assert after == before


@pytest.mark.parametrize("case_id,module,args,patterns", CASES, ids=[c[0] for c in CASES])
def test_case(outcome, case_id, module, args, patterns):
    result = outcome[2][case_id]
    assert result.get("failed"), "%s was accepted: %s" % (case_id, json.dumps(result)[:2000])
    msg = result.get("msg", "")
    for pattern in patterns:
        assert re.search(pattern, msg), "%s: %r not in message: %s" % (case_id, pattern, msg[:2000])
    assert not result.get("changed")
    assert result.get("api_writes", 0) == 0
