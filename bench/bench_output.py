"""Lines of output per node of site.yml (issue #22, "Output at 2,000 nodes"), on a generated site.

    python bench/bench_output.py --per-rack 18          # racks r01, r02 of 18 nodes + r03 (4 bonded)

Generates a copy of the lab site (inventory/lab) with racks r01 and r02 grown to --per-rack nodes
each (same cabling styles; r03 keeps its 4 bonded nodes), starts a lab of its own on
BENCH_IRONIC_PORT / BENCH_NEUTRON_PORT answering for that site (LAB_SITE) with instant deploys,
and runs site.yml on it:

1. the first run (converge), ansible-core's default callback;
2. a re-run with the default callback, with -v;
3. the same re-run with the collection's spineleaf.baremetal.rack callback, and with -v.

Prints lines of stdout per node for each (the figure in the README, section "Output").
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

from common import BENCH_IRONIC_PORT, REPO, Lab, write_result  # pylint: disable=import-error

PLAYBOOK = os.path.join(REPO, ".venv", "bin", "ansible-playbook")


def generate_site(path, per_rack):
    """inventory/lab with racks r01 and r02 of ``per_rack`` nodes each; returns the node count."""
    shutil.copytree(os.path.join(REPO, "inventory", "lab"), path)
    os.remove(os.path.join(path, "lab.racks.yml"))  # the racks-file form of the small site
    hosts_file = os.path.join(path, "hosts.yml")
    with open(hosts_file) as f:
        doc = yaml.safe_load(f)
    racks = doc["all"]["children"]["baremetal"]["children"]
    for number in (1, 2):
        hosts = racks["rack_r%02d" % number]["hosts"]
        for i in range(len(hosts) + 1, per_rack + 1):
            hosts["r%02d-n%02d" % (number, i)] = {
                "bmc_address": "127.0.%d.%d" % (number, i), "node_role": "compute",
                "nics": [{"name": "eno1", "mac": "52:54:00:%02x:%02x:01" % (number, i), "pxe": True,
                          "leaf": "leaf-r%02d-a" % number, "port": "Ethernet1/%d" % i},
                         {"name": "eno2", "mac": "52:54:00:%02x:%02x:02" % (number, i), "pxe": False,
                          "leaf": "leaf-r%02d-b" % number, "port": "Ethernet1/%d" % i}]}
    with open(hosts_file, "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False)
    return sum(len(rack["hosts"]) for rack in racks.values())


def site(lab, inventory, callback, *args):
    env = lab.ansible_env()
    env["ANSIBLE_STDOUT_CALLBACK"] = callback
    proc = subprocess.run([PLAYBOOK, "playbooks/site.yml", "-i", inventory] + list(args), cwd=REPO, env=env,
                          capture_output=True, text=True, check=False, timeout=7200)
    return proc


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-rack", type=int, default=18)
    opts = parser.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="spineleaf-output-")
    inventory = os.path.join(tmp, "site")
    nodes = generate_site(inventory, opts.per_rack)
    state = os.path.join(REPO, ".lab", "bench-output-%d" % BENCH_IRONIC_PORT)
    lab = Lab(BENCH_IRONIC_PORT, int(os.environ.get("BENCH_NEUTRON_PORT", "19796")), state)
    lab.env.update(LAB_SITE=inventory, LAB_DEPLOY_DELAY="0")
    rows = []
    try:
        with lab.fresh():
            runs = [("first run", "default", ()), ("re-run", "default", ()), ("re-run", "default", ("-v",)),
                    ("re-run", "spineleaf.baremetal.rack", ()), ("re-run", "spineleaf.baremetal.rack", ("-v",))]
            for what, callback, args in runs:
                proc = site(lab, inventory, callback, *args)
                lines = len(proc.stdout.splitlines())
                rows.append((what, callback, " ".join(args) or "-", proc.returncode, lines, lines / nodes))
                print(rows[-1], flush=True)
                if proc.returncode != 0 and what == "first run":
                    print(proc.stdout[-5000:], proc.stderr[-2000:])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    table = ["### Output of site.yml, %d nodes (`python bench/bench_output.py --per-rack %d`)" % (nodes, opts.per_rack), "",
             "| run | stdout callback | flags | rc | lines | lines per node |", "|---|---|---|---|---|---|"]
    table += ["| %s | %s | %s | %d | %d | %.1f |" % row for row in rows]
    write_result("output", "\n".join(table))


if __name__ == "__main__":
    main(sys.argv[1:])
