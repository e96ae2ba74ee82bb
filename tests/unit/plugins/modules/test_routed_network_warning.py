"""The leftover segments and subnets are named in the warning, not only counted (#11)."""
from ansible_collections.spineleaf.baremetal.plugins.modules.routed_network import describe_unmanaged


def test_leftovers_are_named_with_their_physnet_vlan_and_cidr():
    entries = [dict(kind="segment", name="ctlplane-r09", physical_network="leaf9", segmentation_id=109),
               dict(kind="subnet", name="ctlplane-r09", id="s1", cidr="10.0.9.0/24"),
               dict(kind="subnet", name=None, id="s2", cidr=None)]
    assert describe_unmanaged(entries) == ("segment ctlplane-r09 (leaf9, VLAN 109), subnet ctlplane-r09 (10.0.9.0/24), "
                                           "subnet s2")


def test_long_lists_are_cut_with_a_count():
    entries = [dict(kind="subnet", name="s%d" % i, cidr="10.%d.0.0/24" % i) for i in range(13)]
    text = describe_unmanaged(entries)
    assert text.endswith("subnet s9 (10.9.0.0/24) and 3 more") and "s10" not in text
