"""Surveys as AWX's API takes them, and the credential types awx_configure.yml hands to AWX."""
import os

import jinja2.sandbox
import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.spineleaf.baremetal.plugins.filter.awx import FilterModule

F = FilterModule().filters()["awx_survey_spec"]
FILES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "playbooks", "files")


def q(**kw):
    base = {"question_name": "Q", "variable": "v", "type": "text", "required": False}
    base.update(kw)
    return base


def test_spec_shape_and_choices_as_strings():
    spec = F([q(variable="racks", type="multiselect", choices=["r01", "r02"], default=["r01"]),
              q(variable="n", type="integer", min=1, max=10, default=2)], "Upgrade", "desc")
    assert spec["name"] == "Upgrade" and spec["description"] == "desc"
    assert [s["variable"] for s in spec["spec"]] == ["racks", "n"]
    assert spec["spec"][0]["choices"] == ["r01", "r02"]


def test_required_question_loses_an_empty_default():
    spec = F([q(variable="image", required=True, default=""), q(variable="racks", default="")], "S")
    assert "default" not in spec["spec"][0]          # AWX would otherwise pass "" as the answer
    assert spec["spec"][1]["default"] == ""           # optional: "" is a fine answer


@pytest.mark.parametrize("question, words", [
    (q(type="integer", default="2"), "not of type integer"),
    (q(type="text", default=3), "not of type text"),
    (q(type="integer", min="1"), "min must be an integer"),
    (q(type="multiselect"), "needs choices"),
    (q(type="multiselect", choices=["r01"], default=["r09"]), "r09 not among the choices"),
    (q(type="multiplechoice", choices=["a", "b"], default="a\nb"), "one default"),
    (q(type="checkbox"), "is not one of"),
    (q(required="no"), "required must be true or false"),
    (q(variable=""), "variable must be a non-empty string"),
])
def test_refuses_what_awx_refuses(question, words):
    with pytest.raises(AnsibleFilterError, match=words):
        F([question], "S")


def test_a_variable_asked_twice():
    with pytest.raises(AnsibleFilterError, match="asked twice"):
        F([q(), q()], "S")


def render(path, inputs):
    """AWX's rendering of a custom credential type: a Jinja sandbox over the inputs, files in order."""
    with open(os.path.join(FILES, path)) as f:
        ctype = yaml.safe_load(f)
    env = jinja2.sandbox.ImmutableSandboxedEnvironment()
    ns = dict(inputs)
    for field in ctype["inputs"]["fields"]:
        if field["type"] == "boolean" and field["id"] not in ns:
            ns[field["id"]] = False

    class T:
        pass

    ns["tower"] = T()
    files = {}
    for label, tmpl in ctype["injectors"].get("file", {}).items():
        files[label] = env.from_string(tmpl).render(**ns)
        if not hasattr(ns["tower"], "filename"):
            ns["tower"].filename = T()
        setattr(ns["tower"].filename, label.split(".")[1], "/runner/env/" + label)
    envs = {k: env.from_string(v).render(**ns) for k, v in ctype["injectors"].get("env", {}).items()}
    extra = {k: env.from_string(v).render(**ns) for k, v in ctype["injectors"].get("extra_vars", {}).items()}
    return ctype, files, envs, extra


def test_application_credential_type_writes_a_clouds_yaml_openstacksdk_reads(tmp_path):
    openstack_config = pytest.importorskip("openstack.config.loader")
    ctype, files, envs, _extra = render("awx_openstack_appcred_credential_type.yml", {
        "cloud": "devstack", "auth_url": "https://keystone.example:5000/v3", "application_credential_id": "id-1",
        "application_credential_secret": 's3cr"et', "ca_bundle": "-----BEGIN CERTIFICATE-----\n"})
    assert [f["id"] for f in ctype["inputs"]["fields"] if f.get("secret")] == ["application_credential_secret", "token"]
    assert list(files) == ["template.cacert", "template.clouds_yaml"]  # the CA file's path is known first
    assert envs == {"OS_CLIENT_CONFIG_FILE": "/runner/env/template.clouds_yaml"}
    path = tmp_path / "clouds.yaml"
    path.write_text(files["template.clouds_yaml"])
    cloud = openstack_config.OpenStackConfig(config_files=[str(path)], load_envvars=False).get_one("devstack")
    assert cloud.config["auth_type"] == "v3applicationcredential"
    assert cloud.config["auth"]["application_credential_secret"] == 's3cr"et'
    assert cloud.config["cacert"] == "/runner/env/template.cacert" and cloud.config["verify"] is True


def test_application_credential_type_token_and_no_ca(tmp_path):
    _ctype, files, _envs, _extra = render("awx_openstack_appcred_credential_type.yml", {
        "cloud": "devstack", "auth_url": "https://k:5000/v3", "auth_type": "v3token", "token": "tok", "project_id": "p1"})
    clouds = yaml.safe_load(files["template.clouds_yaml"])["clouds"]["devstack"]
    assert clouds["auth"] == {"auth_url": "https://k:5000/v3", "token": "tok", "project_id": "p1"}
    assert "cacert" not in clouds and clouds["verify"] is True  # a boolean left unset is false: verify stays on


def test_bmc_credential_type_injects_the_extra_vars_the_enroll_role_reads():
    ctype, files, envs, extra = render("awx_bmc_credential_type.yml", {"bmc_username": "admin", "bmc_password": "pw"})
    assert not files and not envs and extra == {"bmc_username": "admin", "bmc_password": "pw"}
    assert [f["id"] for f in ctype["inputs"]["fields"] if f.get("secret")] == ["bmc_password"]
