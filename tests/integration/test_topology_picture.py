"""The topology picture, checked in a real headless browser (Chromium): every NIC line ends at the
leaf port the data says, mis-cabled links are red, the swapped pair and the foreign leaf are drawn.
The lab site's picture is kept as docs/topology-lab.png (shown in the README).

The data is the lab site's own: inspection bodies built by the lab ramdisk (lab/ramdisk.py) from
inventory/lab, one node deliberately mis-cabled into another rack and two nodes' cables swapped,
decoded and mapped by the collection's code. Needs the Debian package `chromium` (`make test`
installs it when missing)."""
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from lab.harness import REPO

sys.path.insert(0, os.path.join(REPO, "lab"))
import ramdisk  # noqa: E402  (lab/ramdisk.py)

from ansible_collections.spineleaf.baremetal.plugins.module_utils._lldp import neighbours  # noqa: E402
from ansible_collections.spineleaf.baremetal.plugins.module_utils._topology import analyse  # noqa: E402
from ansible_collections.spineleaf.baremetal.plugins.module_utils._topology_report import render_report  # noqa: E402

DOCS_PNG = os.path.join(REPO, "docs", "topology-lab.png")
CHECK = r"""
<script>
window.addEventListener('load', function () {
  var out = {links: [], problems: []};
  document.querySelectorAll('svg.rack').forEach(function (svg) {
    svg.querySelectorAll('line.link').forEach(function (line) {
      var d = line.dataset, m = line.getScreenCTM();
      var p = svg.createSVGPoint(); p.x = line.x2.baseVal.value; p.y = line.y2.baseVal.value;
      var end = p.matrixTransform(m);
      var port = null;
      svg.querySelectorAll('rect.port').forEach(function (r) {
        if (r.dataset.switch === d.switch && r.dataset.port === d.port) { port = r; }
      });
      var box = port ? port.getBoundingClientRect() : null;
      var atPort = box !== null && Math.abs(end.x - (box.left + box.width / 2)) < 1.5 &&
                   Math.abs(end.y - box.bottom) < 1.5;
      out.links.push({node: d.node, nic: d.nic, switch: d.switch, port: d.port, state: d.state,
                      at_port: atPort, stroke: getComputedStyle(line).stroke});
    });
    out.dashed = (out.dashed || 0) + svg.querySelectorAll('path.miscabled').length;
    out.foreign = (out.foreign || []).concat(Array.prototype.map.call(
      svg.querySelectorAll('g.leaf[data-kind=foreign]'), function (g) { return g.dataset.switch; }));
  });
  var pre = document.createElement('pre'); pre.id = 'check'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def lab_topologies():
    """The lab site as lldp_topology sees it after inspection, with three cabling faults."""
    site = ramdisk.load_site()
    hosts = yaml.safe_load(open(os.path.join(REPO, "inventory", "lab", "hosts.yml")))
    group_vars = yaml.safe_load(open(os.path.join(REPO, "inventory", "lab", "group_vars", "all.yml")))
    switches = dict((k, dict(v, provisioning_vlan=100 + int(v["rack"][1:]))) for k, v in group_vars["leaf_switches"].items())
    cabling = site.source[0]
    # r01-n01 / r01-n02: eno1 cables swapped on leaf-r01-a
    cabling = dict(cabling, links=dict(cabling["links"], **{
        "r01-n01": {"eno1": {"switch": "leaf-r01-a", "port": "Ethernet1/2"}, "eno2": {"switch": "leaf-r01-b", "port": "Ethernet1/1"}},
        "r01-n02": {"eno1": {"switch": "leaf-r01-a", "port": "Ethernet1/1"}, "eno2": {"switch": "leaf-r01-b", "port": "Ethernet1/2"}}}))
    site = ramdisk.build_site(cabling, site.source[1], miscabled=["r02-n03"])
    inputs = []
    for rack, group in hosts["all"]["children"]["baremetal"]["children"].items():
        for name, hv in group["hosts"].items():
            inventory = site.inventory(name)
            _source, nbrs = neighbours({"inventory": inventory})
            inputs.append(dict(name=name, neighbours=nbrs, interfaces=inventory["interfaces"],
                               expected=dict(rack=rack[len("rack_"):], nics=hv["nics"], bonds=hv.get("bonds", []))))
    topologies, _findings = analyse(inputs, switches)
    return topologies, switches


def chromium():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Chromium is needed for this test: apt-get install -y chromium (make test installs it)")
    return path


def run_chromium(*args):
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--mute-audio"] + list(args)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_picture_matches_the_data_in_a_real_browser(tmp_path):
    topologies, switches = lab_topologies()
    html = render_report(topologies, switches, site="lab", generated="(docs picture)")
    page = tmp_path / "topology.html"
    page.write_text(html.replace("</body>", CHECK + "</body>"))
    dom = run_chromium("--virtual-time-budget=10000", "--dump-dom", page.as_uri())
    start = dom.index('<pre id="check">') + len('<pre id="check">')
    check = json.loads(dom[start:dom.index("</pre>", start)].replace("&quot;", '"').replace("&amp;", "&"))

    drawn = dict(((l["node"], l["nic"]), l) for l in check["links"])
    expected = dict(((t["name"], n["nic"]), n) for t in topologies for n in t["nics"] if n["port"] is not None)
    assert sorted(drawn) == sorted(expected) and len(drawn) == 24
    for key, nic in expected.items():
        line = drawn[key]
        assert (line["switch"], line["port"]) == (nic["switch"], str(nic["port"])), key
        assert line["at_port"], ("line does not end at its port", key, line)
    red = sorted(k for k, l in drawn.items() if l["stroke"] == "rgb(211, 47, 47)")
    assert red == [("r01-n01", "eno1"), ("r01-n02", "eno1"), ("r02-n03", "eno1")], red
    assert all(l["state"] == "miscabled" for k, l in drawn.items() if k in red)
    assert all(l["state"] == "ok" and l["stroke"] == "rgb(46, 125, 50)" for k, l in drawn.items() if k not in red)
    assert check["dashed"] == 3  # intended -> observed port: the swapped pair, and r02-n03 (both leaves drawn in rack r02)
    assert check["foreign"] == ["leaf-r01-a"]  # r02-n03's eno1 lands on a leaf of rack r01

    # the lab site's picture for the README
    shot = tmp_path / "topology.png"
    page.write_text(html)
    run_chromium("--window-size=1400,2300", "--screenshot=%s" % shot, page.as_uri())
    assert shot.stat().st_size > 10000
    os.makedirs(os.path.dirname(DOCS_PNG), exist_ok=True)
    shutil.copy(str(shot), DOCS_PNG)
