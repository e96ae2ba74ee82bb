# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:

    # The progress options of the waits for rack jobs (rack_jobs, rack_progress_wait).
    DOCUMENTATION = r'''
options:
  verb:
    description: What finished nodes are called in the progress line (C(upgraded), C(deployed), C(inspected), ...).
    type: str
    default: done
  interval:
    description: Seconds between two progress lines of a rack.
    type: float
    default: 30
  poll:
    description: Seconds between two checks of the jobs.
    type: float
    default: 0.5
'''
