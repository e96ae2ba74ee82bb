#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: rack_jobs
short_description: Run a bulk module once per rack in the background, with a progress line per rack
version_added: 0.1.0
description:
  - "The rack-job pattern of the roles in one task: a scratch directory for the racks' progress files,
    one background call of O(module) per rack (as C(async) + C(poll: 0) would start it, all racks at
    once), a line per unfinished rack every O(interval) seconds (for example C(rack r01: 12/40 deployed,
    1 failed, 4 in progress)), each rack's result, and the scratch directory removed, also when the
    wait fails."
  - The deploy, introspect, rolling_upgrade and clean roles run their racks through it.
  - "One time limit for every rack's job: O(timeout) (the roles compute it with the
    C(spineleaf.baremetal.rack_job_timeout) filter from the rack size, concurrency, retries and the
    per-node timeout); the wait gives up 120 s later (each job ends itself first)."
  - "The racks' jobs poll Ironic as one: each gets the rack modules' C(shared_poll_dir) in the scratch
    directory (unless O(args) sets it), so the lists of the nodes in transit are read once per round for
    every rack rather than by each rack's job (50 racks in inspection listed ~800 nodes 50 times per
    round)."
  - In check mode each rack's call runs in the foreground, one after the other, and nothing waits.
  - An action plugin (runs on the controller); delegate it to where the modules run.
extends_documentation_fragment:
  - spineleaf.baremetal.attributes.INFO_MODULE
  - spineleaf.baremetal.rack_progress
options:
  module:
    description:
      - The rack module to run, by its name (C(spineleaf.baremetal.ironic_provision),
        C(spineleaf.baremetal.ironic_inspect), C(spineleaf.baremetal.ironic_rollout),
        C(spineleaf.baremetal.ironic_clean)).
    type: str
    required: true
  args:
    description: The module options that are the same for every rack.
    type: dict
    default: {}
  racks:
    description:
      - Rack -> that rack's own module options (merged over O(args)), one job per key, in this order.
        The C(spineleaf.baremetal.rack_job_args) filter builds it from the play's nodes.
    type: dict
    required: true
  progress_option:
    description: The module option that takes the rack's progress file (in the scratch directory).
    type: str
    default: progress_file
  timeout:
    description: Seconds each rack's job may run (its C(async) limit).
    type: int
    required: true
author:
  - Spineleaf Baremetal Team (@spineleaf)
'''

EXAMPLES = r'''
- name: Deploy the racks, a background job each, a line per rack every 30 s
  spineleaf.baremetal.rack_jobs:
    module: spineleaf.baremetal.ironic_provision
    args:
      cloud: spineleaf-lab
      image: {source: http://images.lab.invalid/spineleaf-base-1.0.qcow2}
    racks: "{{ ansible_play_hosts | map('extract', hostvars) | list | spineleaf.baremetal.rack_job_args(failure_budget=1, label=true) }}"
    verb: deployed
    interval: 30
    timeout: "{{ ansible_play_hosts | map('extract', hostvars) | map(attribute='rack', default='') | spineleaf.baremetal.rack_job_timeout(8, 3600) }}"
  run_once: true
  delegate_to: localhost
  register: deploy_racks
'''

RETURN = r'''
results:
  description:
    - Each rack's module result (as the module returns it) with C(rack), in the order of O(racks).
      A rack whose job did not start has C(failed) and a C(msg) saying why.
  returned: always
  type: list
  elements: dict
'''
