# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_utils is PRIVATE to the spineleaf.baremetal collection. It may change
# without notice; do not import it from other collections.
"""Which keys hold secrets: the one rule the connection options (``cloud``), driver_info,
instance_info and the node inventory export all follow. Pure, no I/O."""

from __future__ import annotations

import re

# A key naming a password (passwd, passphrase), a secret, a token, a credential or a key
# (private key, ssh key contents), in any case, anywhere in its name.
SECRET_KEY_PATTERN = r'pass|secret|token|cred|key'
SECRET_KEY_RE = re.compile(SECRET_KEY_PATTERN, re.IGNORECASE)


def is_secret_key(key):
    """True when a key name looks like it holds a secret (password, token, private key...)."""
    return bool(SECRET_KEY_RE.search(str(key)))


def secret_values(data):
    """Every string value under a secret-looking key, at any depth of dicts / lists."""
    out = []
    if isinstance(data, dict):
        for key, value in data.items():
            if is_secret_key(key) and isinstance(value, (str, int, float)) and str(value):
                out.append(str(value))
            else:
                out.extend(secret_values(value))
    elif isinstance(data, list):
        for item in data:
            out.extend(secret_values(item))
    return out
