# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_utils is PRIVATE to the spineleaf.baremetal collection. It may change
# without notice; do not import it from other collections.
"""The one ``run`` of the declarative step-resource modules (ironic_deploy_template,
ironic_runbook): they differ only in their ``kind`` (_templates) and argument spec."""

from __future__ import annotations

from . import _templates
from ._base import BaremetalError, BaremetalModule
from ._ironic import IronicAdapter, describe
from ._util import DifferenceTracker


class StepResourceModule(BaremetalModule):
    """A module over one kind of Ironic step resource: ``kind`` (``_templates.DEPLOY_TEMPLATE`` /
    ``RUNBOOK``) and ``list_key`` (the option listing several) set by the subclass."""

    kind = None
    list_key = None

    def run(self):
        """Validate (no I/O) -> read (one paginated list) -> plan -> write (none in check mode) -> report."""
        specs, errors = _templates.validate(self.kind, _templates.items_from_params(self.params, self.list_key, self.kind),
                                            self.params['state'])
        if errors:
            raise BaremetalError('nothing changed; fix these first: ' + '; '.join(errors))
        adapter = IronicAdapter(self.conn)
        existing = adapter.list_step_resources(self.kind.collection, self.kind.microversion) if specs else []
        actions = _templates.plan(self.kind, specs, existing)
        results = _templates.apply_actions(adapter, self.kind, actions, self.check_mode, describe=describe)
        out, fail_msg = _templates.report(self.kind, self.list_key, actions, results, self.diff_mode, DifferenceTracker())
        out.update(api_writes=adapter.writes, api_reads=adapter.reads)
        if fail_msg:
            self.fail_json(msg=fail_msg, **out)
        self.exit_json(**out)
