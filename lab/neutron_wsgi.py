"""WSGI entry point for the lab's Neutron API under gunicorn.

Neutron parses sys.argv with oslo.config at import time; gunicorn's own
arguments would confuse it, so they are hidden before the import.
"""
import sys

sys.argv = sys.argv[:1]

from neutron.wsgi.api import application  # noqa: E402,F401 pylint: disable=unused-import
