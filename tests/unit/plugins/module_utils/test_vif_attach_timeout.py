"""A VIF attach that outlasts the request's timeout (Ironic binds the port through Neutron and the
switch driver while the client waits) may still be carried out: the adapter then watches the node's
VIFs instead of failing the node, and takes Ironic's 409 "already attached" as done. A timeout
after which the VIF never shows up still fails, with the timeout's message."""
import types

import pytest
from keystoneauth1 import exceptions as ksa_exc
from openstack import exceptions as sdk_exc

from ansible_collections.spineleaf.baremetal.plugins.module_utils._ironic import IronicWrites


class Api:
    """attach_vif_to_node answers as scripted; list_node_vifs shows the VIFs after `shows_after` reads."""

    def __init__(self, answers, shows_after=None):
        self.answers = list(answers)
        self.shows_after = shows_after
        self.attaches = 0
        self.lists = 0

    def attach_vif_to_node(self, node, vif, **kwargs):
        self.attaches += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer

    def list_node_vifs(self, node):
        self.lists += 1
        return ['vif-1'] if self.shows_after is not None and self.lists > self.shows_after else []

    def detach_vif_from_node(self, node, vif, ignore_missing=True):
        return None


def adapter(api):
    ironic = IronicWrites(types.SimpleNamespace(baremetal=api), sleep=lambda s: None)
    ironic.VIF_ATTACH_WAIT = 0.05
    return ironic


def timeout():
    return ksa_exc.ConnectTimeout('Request to http://ironic/v1/nodes/n1/vifs timed out')


def test_a_timed_out_attach_that_ironic_carried_out_is_done():
    api = Api([timeout()], shows_after=2)
    ironic = adapter(api)
    ironic.VIF_ATTACH_WAIT = 5
    ironic.attach_vif('n1', 'vif-1', port_uuid='p1')
    assert api.attaches == 1 and api.lists == 3  # not attached again: watched until it showed up


def test_already_attached_is_done():
    conflict = sdk_exc.ConflictException(message='Unable to attach VIF because VIF vif-1 is already attached to Ironic port p1',
                                         http_status=409)
    api = Api([conflict])
    adapter(api).attach_vif('n1', 'vif-1')
    assert api.attaches == 1


def test_a_timeout_after_which_the_vif_never_shows_fails_with_it():
    api = Api([timeout()])
    with pytest.raises(ksa_exc.ConnectTimeout, match='timed out'):
        adapter(api).attach_vif('n1', 'vif-1')
    assert api.attaches == 1 and api.lists >= 1
