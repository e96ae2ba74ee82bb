"""Release metadata: every module and plugin says in which version it came (a released one, or the
collection's version in galaxy.yml), and every filter, role and playbook is announced in the
changelog (antsibull-changelog finds modules and documented plugins itself, not roles or playbooks)."""
import ast
import glob
import os

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _yaml(path):
    with open(os.path.join(REPO, path)) as f:
        return yaml.safe_load(f)


def _known_versions():
    releases = (_yaml("changelogs/changelog.yaml") or {}).get("releases") or {}
    return set(releases) | {_yaml("galaxy.yml")["version"]}


def _python_doc(path):
    with open(path) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["DOCUMENTATION"]:
            return yaml.safe_load(node.value.value)
    return None


def test_every_plugin_has_version_added_of_this_or_a_released_version():
    known = _known_versions()
    docs = {}
    for path in glob.glob(os.path.join(REPO, "plugins", "modules", "*.py")) + \
            glob.glob(os.path.join(REPO, "plugins", "inventory", "*.py")):
        docs[os.path.relpath(path, REPO)] = _python_doc(path)
    for path in glob.glob(os.path.join(REPO, "plugins", "filter", "*.yml")):
        docs[os.path.relpath(path, REPO)] = _yaml(os.path.relpath(path, REPO))["DOCUMENTATION"]
    assert len(docs) > 20
    for path, doc in docs.items():
        assert doc, path
        assert str(doc.get("version_added")) in known, (path, doc.get("version_added"), known)


def _announced(section):
    names = set()
    for path in glob.glob(os.path.join(REPO, "changelogs", "fragments", "*.y*ml")):
        for entry in (_yaml(os.path.relpath(path, REPO)) or {}).get(section) or []:
            names.add(entry["name"])
    for release in ((_yaml("changelogs/changelog.yaml") or {}).get("releases") or {}).values():
        kind, sub = section.split(".", 1)
        group = release.get("plugins" if kind == "add plugin" else "objects") or {}
        names.update(e["name"] for e in group.get(sub) or [])
    return names


def test_filters_roles_and_playbooks_are_announced_in_the_changelog():
    filters = set()
    for path in glob.glob(os.path.join(REPO, "plugins", "filter", "*.yml")):
        filters.add(_yaml(os.path.relpath(path, REPO))["DOCUMENTATION"]["name"])
    roles = set(os.path.basename(os.path.dirname(os.path.dirname(p)))
                for p in glob.glob(os.path.join(REPO, "roles", "*", "meta", "argument_specs.yml")))
    playbooks = set(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(REPO, "playbooks", "*.yml")))
    assert filters - _announced("add plugin.filter") == set()
    assert roles - _announced("add object.role") == set()
    assert playbooks - _announced("add object.playbook") == set()
    assert set(os.listdir(os.path.join(REPO, "roles"))) == roles  # every role has an argument spec


def test_every_filter_is_documented():
    documented = set()
    for path in glob.glob(os.path.join(REPO, "plugins", "filter", "*.yml")):
        documented.add(_yaml(os.path.relpath(path, REPO))["DOCUMENTATION"]["name"])
    defined = set()
    for path in glob.glob(os.path.join(REPO, "plugins", "filter", "*.py")):
        with open(path) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == "filters":
                for ret in ast.walk(node):
                    if isinstance(ret, ast.Dict):
                        defined.update(k.value for k in ret.keys if isinstance(k, ast.Constant))
    assert defined and defined == documented
