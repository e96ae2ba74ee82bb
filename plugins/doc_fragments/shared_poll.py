# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:

    # The rack modules' share of their polls (rack_jobs sets it to its scratch directory).
    DOCUMENTATION = r'''
options:
  shared_poll_dir:
    description:
      - "A directory (on the host running the module) shared by parallel calls polling the same Ironic, one
        per rack: the lists of nodes in transit are then read once for all of them (the first call whose
        copy is too old lists, under a lock, and writes the list there; the others read it) rather than
        by each call. A node a call itself moved after a shared list was read is read again on its own."
      - M(spineleaf.baremetal.rack_jobs) sets it to its scratch directory, so the rack jobs of one task
        poll Ironic as one job. Without it each call lists on its own.
    type: path
'''
