"""WSGI entry point for the lab's Neutron API under gunicorn.

Neutron parses sys.argv with oslo.config at import time; gunicorn's own
arguments would confuse it, so they are hidden before the import. The lab's
patches (sqlite BEGIN IMMEDIATE, the fake switches' record, kombu) come from
lab/neutron_run.py.
"""
import sys

sys.argv = sys.argv[:1]

import neutron_run  # noqa: E402  pylint: disable=wrong-import-position

neutron_run.patch_kombu()
neutron_run.begin_immediate()

from neutron.wsgi.api import application  # noqa: E402,F401 pylint: disable=unused-import,wrong-import-position

neutron_run.record_switches()
