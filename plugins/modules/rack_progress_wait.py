#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: rack_progress_wait
short_description: Wait for per-rack asynchronous jobs, printing a progress line per rack
version_added: 0.1.0
description:
  - Waits for the asynchronous jobs (C(async) + C(poll 0)) of per-rack tasks such as
    M(spineleaf.baremetal.ironic_rollout), M(spineleaf.baremetal.ironic_provision) or
    M(spineleaf.baremetal.ironic_inspect) with their C(progress_file) option, and returns each job's result.
  - "Every O(interval) seconds, for each rack still running, prints a line read from the job's
    progress file, for example C(rack r01: 12/40 upgraded, 1 failed, 4 in progress) (with
    C(, 2 in maintenance) when the counts name nodes left alone in maintenance)."
  - When a rack's job finishes, its last counts are printed once with C((done)), so every rack's
    outcome shows even when it finished within the first interval.
  - An action plugin (runs on the controller); delegate it to where the jobs run. On a local
    connection it reads the job and progress files directly instead of starting a process per poll.
extends_documentation_fragment:
  - spineleaf.baremetal.attributes.INFO_MODULE
  - spineleaf.baremetal.rack_progress
options:
  jobs:
    description:
      - The registered results of the asynchronous task's loop (C(results)), one per rack - each
        needs C(ansible_job_id); the rack is its C(rack), else its loop item (a rack name, whatever the loop variable).
    type: list
    elements: dict
    required: true
  progress_dir:
    description:
      - The directory where the jobs write their progress, C(<rack>.json) each (the modules'
        C(progress_file)); a job's own C(progress_file) key wins. Without either, lines show the
        rack without counts.
    type: path
  timeout:
    description: Fail when jobs are still running after this many seconds.
    type: float
    default: 86400
author:
  - Spineleaf Baremetal Team (@spineleaf)
'''

EXAMPLES = r'''
- name: Start the rollout of each rack
  spineleaf.baremetal.ironic_rollout:
    cloud: spineleaf-lab
    rack: "{{ item }}"
    nodes: "{{ groups['rack_' ~ item] }}"
    rollout_id: base-1.1
    image: {source: http://images.lab.invalid/spineleaf-base-1.1.qcow2}
    progress_file: "/tmp/rollout-base-1.1/{{ item }}.json"
  loop: [r01, r02]
  async: 7200
  poll: 0
  register: jobs

- name: Wait, a line per rack every 30 s
  spineleaf.baremetal.rack_progress_wait:
    jobs: "{{ jobs.results }}"
    progress_dir: /tmp/rollout-base-1.1
    verb: upgraded
    interval: 30
'''

RETURN = r'''
results:
  description: The result of each job, in the order of O(jobs), with C(rack) and C(ansible_job_id) added.
  returned: always
  type: list
  elements: dict
'''
