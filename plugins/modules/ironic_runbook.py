#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: ironic_runbook
short_description: Declarative Ironic runbooks (named, trait-gated step lists for cleaning and servicing)
version_added: 0.1.0
description:
  - Creates, updates and deletes Ironic runbooks (Bare Metal API 1.92), several in one task.
  - A runbook is named after a custom trait (C(CUSTOM_FIRMWARE_2025_11)) and holds ordered steps
    (C(interface), C(step), C(args), C(order)). Ironic runs a runbook in manual cleaning or
    servicing (C(runbook) instead of C(clean_steps) / C(service_steps)) only on a node that has
    the runbook's name among its traits.
  - Every runbook is validated before anything is read or written (the name a C(CUSTOM_*) trait,
    each step with an interface Ironic knows and a step name, C(args) a dict, C(order) an integer,
    not public with an owner); any problem fails the task naming the runbook and step, and
    nothing changes.
  - Only what is given is compared; steps are compared by their C(order), so the order of the
    list does not matter when every step gives one. An update is one C(PATCH) per runbook; a
    second identical run makes no write call.
  - Runbooks are read and written at API 1.92, where a runbook's name is its trait (from 1.112
    Ironic also has a separate trait list and a description, which this module leaves alone).
extends_documentation_fragment:
  - spineleaf.baremetal.openstack
  - spineleaf.baremetal.attributes
options:
  runbooks:
    description:
      - The runbooks to manage. Mutually exclusive with O(name).
      - Each item has C(name), C(steps) and optionally C(extra), C(public), C(owner),
        C(disable_ramdisk) (as the top-level options of the same names) and C(state) (defaults
        to O(state)).
    type: list
    elements: dict
  name:
    description:
      - Name of one runbook, a custom trait such as C(CUSTOM_FIRMWARE_2025_11).
    type: str
  steps:
    description:
      - Steps of the runbook named O(name), required when it is V(present).
      - Each step is a dict with C(interface) (one of C(bios), C(deploy), C(firmware),
        C(management), C(power), C(raid), C(vendor)), C(step) (the method, for example
        C(update)), C(args) (a dict, default C({})) and C(order) (an integer; default the step's
        position in the list, from 0).
    type: list
    elements: dict
  extra:
    description: Free-form metadata of the runbook named O(name); replaces Ironic's when given.
    type: dict
  public:
    description: Whether every project may use the runbook named O(name). A public runbook has no owner.
    type: bool
  owner:
    description: The project that owns the runbook named O(name) (not with O(public=true)).
    type: str
  disable_ramdisk:
    description: Run the steps of the runbook named O(name) without booting the agent ramdisk.
    type: bool
  state:
    description:
      - V(present) creates or updates, V(absent) deletes. The default of every item of O(runbooks).
    type: str
    choices: [present, absent]
    default: present
requirements:
  - openstacksdk >= 1.0
author:
  - Spineleaf Baremetal Team (@spineleaf)
'''

EXAMPLES = r'''
- name: A firmware runbook and a vendor log runbook for servicing
  spineleaf.baremetal.ironic_runbook:
    cloud: spineleaf-lab
    runbooks:
      - name: CUSTOM_FIRMWARE_2025_11
        steps:
          - interface: firmware
            step: update
            args:
              settings:
                - {component: bmc, url: "http://repo.example/bmc-2025.11.bin"}
        public: true
      - name: CUSTOM_SERVICE_LOG
        steps:
          - {interface: vendor, step: log_passthrough, args: {}, order: 0}
          - {interface: power, step: reboot, order: 1}
        extra: {ticket: OPS-1234}

- name: One runbook, removed
  spineleaf.baremetal.ironic_runbook:
    name: CUSTOM_SERVICE_LOG
    state: absent
'''

RETURN = r'''
runbooks:
  description: One entry per runbook asked for, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Runbook name.
      type: str
    uuid:
      description: Runbook UUID (null for one that does not exist, or would be created in check mode).
      type: str
    action:
      description: C(created), C(updated), C(deleted), C(unchanged) or C(failed) (what would happen, in check mode).
      type: str
    changed:
      description: Whether the runbook was (or in check mode would be) changed.
      type: bool
    failed:
      description: Whether writing the runbook failed.
      type: bool
    msg:
      description: What changed, or why it failed; null when there is nothing to say.
      type: str
    changes:
      description: The fields that change (C(steps), C(extra), C(public), C(owner), C(disable_ramdisk)), or C(created) / C(deleted).
      type: list
      elements: str
summary:
  description: Number of runbooks per RV(runbooks[].action).
  returned: always
  type: dict
  sample: {created: 1, unchanged: 2}
api_writes:
  description: Write calls made (0 in check mode and when nothing changes).
  returned: always
  type: int
api_reads:
  description: Read calls made.
  returned: always
  type: int
diff:
  description: Before and after of the runbooks that change, per runbook name.
  returned: when diff mode is on
  type: dict
'''

from ..module_utils import _templates
from ..module_utils._step_resource_module import StepResourceModule


class IronicRunbookModule(StepResourceModule):
    argument_spec = dict(
        runbooks=dict(type='list', elements='dict'),
        name=dict(type='str'),
        steps=dict(type='list', elements='dict'),
        extra=dict(type='dict'),
        public=dict(type='bool'),
        owner=dict(type='str'),
        disable_ramdisk=dict(type='bool'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
    )
    module_kwargs = dict(mutually_exclusive=[('runbooks', 'name')],
                         required_one_of=[('runbooks', 'name')])
    kind = _templates.RUNBOOK
    list_key = 'runbooks'


def main():
    IronicRunbookModule()()


if __name__ == '__main__':
    main()
