"""Observer process for rolling-upgrade tests: polls Ironic every 0.2 s (one list call) and
appends, per poll, the nodes of each rack out of service (maintenance or not active) as a JSON
line to the output file, until it is terminated. Usage: observer.py IRONIC_URL OUT_FILE"""
import json
import sys
import time
import urllib.request


def main(url, out):
    req = urllib.request.Request(url + "/v1/nodes?fields=name,provision_state,maintenance&limit=1000",
                                 headers={"X-OpenStack-Ironic-API-Version": "1.81"})
    with open(out, "a") as f:
        while True:
            started = time.monotonic()
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    nodes = json.loads(resp.read())["nodes"]
            except OSError:
                nodes = None
            if nodes is not None:
                down = {}
                for n in nodes:
                    name = n.get("name") or ""
                    if n["maintenance"] or n["provision_state"] != "active":
                        down.setdefault(name.split("-")[0], []).append(name)
                f.write(json.dumps({"t": time.time(), "down": down}) + "\n")
                f.flush()
            time.sleep(max(0.0, 0.2 - (time.monotonic() - started)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
