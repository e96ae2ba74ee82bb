import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils._traits import trait_error, trait_name


@pytest.mark.parametrize("value,prefix,expected", [
    ("r01", "CUSTOM_RACK_", "CUSTOM_RACK_R01"),
    ("compute-gpu", "CUSTOM_ROLE_", "CUSTOM_ROLE_COMPUTE_GPU"),
    (" rack 7 / b ", "RACK", "CUSTOM_RACK_RACK_7_B"),
    ("CUSTOM_RACK_R01", "CUSTOM_RACK_", "CUSTOM_RACK_R01"),
    ("gold", "CUSTOM_", "CUSTOM_GOLD"),
])
def test_trait_name(value, prefix, expected):
    assert trait_name(value, prefix) == expected


@pytest.mark.parametrize("bad", ["", "---", None])
def test_trait_name_rejects_empty(bad):
    with pytest.raises(ValueError):
        trait_name(bad)


def test_trait_name_rejects_too_long():
    with pytest.raises(ValueError, match="longer than 255"):
        trait_name("x" * 260)


@pytest.mark.parametrize("name,ok", [
    ("CUSTOM_RACK_R01", True), ("HW_CPU_X86_AVX2", True), ("CUSTOM_rack", False),
    ("custom_x", False), ("CUSTOM_", False), ("NOPE", False), ("CUSTOM_" + "A" * 250, False),
])
def test_trait_error(name, ok):
    assert (trait_error(name) is None) == ok
