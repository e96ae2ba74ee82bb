#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: ironic_deploy_template
short_description: Declarative Ironic deploy templates (deploy-time steps bound to a trait)
version_added: 0.1.0
description:
  - Creates, updates and deletes Ironic deploy templates (Bare Metal API 1.55), several in one task.
  - A deploy template is named after a custom trait (C(CUSTOM_ROLE_STORAGE)) and holds deploy steps
    (C(interface), C(step), C(args), C(priority)). Ironic runs them during a deployment (and a
    rebuild) of a node whose instance traits (C(instance_info.traits), set at deploy) include the
    template's name; the trait must also be one of the node's own traits. See
    M(spineleaf.baremetal.ironic_provision)'s O(spineleaf.baremetal.ironic_provision#module:instance_traits)
    and the C(deploy_templates) site variable of the collection's roles.
  - Every template is validated before anything is read or written (the name a C(CUSTOM_*) trait,
    each step with an interface Ironic knows, a step name, C(args) a dict and an integer priority,
    no step twice); any problem fails the task naming the template and step, and nothing changes.
  - Only what is given is compared; steps are compared in Ironic's order (by priority), so the
    order of the list does not matter. An update is one C(PATCH) per template; a second identical
    run makes no write call.
  - Whether Ironic can run a step is checked by Ironic at deploy time (the node's driver must
    offer it as a deploy step), not when the template is created.
extends_documentation_fragment:
  - spineleaf.baremetal.openstack
  - spineleaf.baremetal.attributes
options:
  deploy_templates:
    description:
      - The deploy templates to manage. Mutually exclusive with O(name).
      - Each item has C(name), C(steps) and optionally C(extra) (as the top-level options of the
        same names) and C(state) (defaults to O(state)).
    type: list
    elements: dict
  name:
    description:
      - Name of one deploy template, a custom trait such as C(CUSTOM_ROLE_STORAGE).
    type: str
  steps:
    description:
      - Deploy steps of the template named O(name), required when it is V(present).
      - Each step is a dict with C(interface) (one of C(bios), C(deploy), C(firmware),
        C(management), C(power), C(raid), C(vendor)), C(step) (the method, for example
        C(apply_configuration)), C(args) (a dict, default C({})) and C(priority) (an integer;
        C(0) disables the step).
    type: list
    elements: dict
  extra:
    description: Free-form metadata of the template named O(name); replaces Ironic's when given.
    type: dict
  state:
    description:
      - V(present) creates or updates, V(absent) deletes. The default of every item of
        O(deploy_templates).
    type: str
    choices: [present, absent]
    default: present
requirements:
  - openstacksdk >= 1.0
author:
  - Spineleaf Baremetal Team (@spineleaf)
'''

EXAMPLES = r'''
- name: RAID and BIOS at deploy time for storage nodes
  spineleaf.baremetal.ironic_deploy_template:
    cloud: spineleaf-lab
    deploy_templates:
      - name: CUSTOM_ROLE_STORAGE
        steps:
          - interface: raid
            step: apply_configuration
            args:
              raid_config:
                logical_disks:
                  - {size_gb: MAX, raid_level: "1", is_root_volume: true}
            priority: 150
          - interface: bios
            step: apply_configuration
            args:
              settings:
                - {name: LogicalProc, value: Disabled}
            priority: 140
        extra: {owner: storage-team}

- name: One template, removed
  spineleaf.baremetal.ironic_deploy_template:
    name: CUSTOM_ROLE_OLD
    state: absent
'''

RETURN = r'''
deploy_templates:
  description: One entry per template asked for, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Template name.
      type: str
    uuid:
      description: Template UUID (null for one that does not exist, or would be created in check mode).
      type: str
    action:
      description: C(created), C(updated), C(deleted), C(unchanged) or C(failed) (what would happen, in check mode).
      type: str
    changed:
      description: Whether the template was (or in check mode would be) changed.
      type: bool
    failed:
      description: Whether writing the template failed.
      type: bool
    msg:
      description: What changed, or why it failed; null when there is nothing to say.
      type: str
    changes:
      description: The fields that change (C(steps), C(extra)), or C(created) / C(deleted).
      type: list
      elements: str
summary:
  description: Number of templates per RV(deploy_templates[].action).
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
  description: Before and after of the templates that change (name, steps, extra), per template name.
  returned: when diff mode is on
  type: dict
'''

from ..module_utils import _templates
from ..module_utils._step_resource_module import StepResourceModule


class IronicDeployTemplateModule(StepResourceModule):
    argument_spec = dict(
        deploy_templates=dict(type='list', elements='dict'),
        name=dict(type='str'),
        steps=dict(type='list', elements='dict'),
        extra=dict(type='dict'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
    )
    module_kwargs = dict(mutually_exclusive=[('deploy_templates', 'name')],
                         required_one_of=[('deploy_templates', 'name')])
    kind = _templates.DEPLOY_TEMPLATE
    list_key = 'deploy_templates'


def main():
    IronicDeployTemplateModule()()


if __name__ == '__main__':
    main()
