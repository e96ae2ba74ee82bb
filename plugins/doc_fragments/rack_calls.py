# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:

    # One call for every rack of a site (module_utils/_base.py BaremetalModule.rack_calls).
    DOCUMENTATION = r'''
options:
  racks:
    description:
      - One call for several racks, a dict of rack name to that rack's options. The module runs once per
        rack, rack after rack, in one process with one connection (a loop over the racks pays a module start-up and an
        authentication per rack, about 1 s each, 50 s per step at 50 racks).
      - Each rack's options are merged over the call's own (which are every rack's defaults, so an
        option the module requires may be given per rack only). Every rack's options are validated
        before the first rack runs; a wrong one fails the call naming the rack and the option.
      - Each rack keeps its own result, failure and budget; the call returns them in RV(results) and
        fails when a rack failed.
    type: dict
'''
