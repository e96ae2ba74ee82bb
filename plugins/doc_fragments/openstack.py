# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:

    # Shared authentication options of every spineleaf.baremetal module.
    DOCUMENTATION = r'''
options:
  cloud:
    description:
      - Name of a cloud in C(clouds.yaml), or a dict of connection settings as accepted by
        C(openstack.connect()).
      - Credentials in such a dict (keys with C(pass), C(secret), C(token) or C(credential) in
        their name, at any depth, such as C(auth.password)) are never logged.
      - When omitted, the E(OS_CLOUD) environment variable and the usual E(OS_*) variables apply.
      - The lab writes a C(clouds.yaml) with a cloud named C(spineleaf-lab); point
        E(OS_CLIENT_CONFIG_FILE) at it.
    type: raw
  auth:
    description:
      - Authentication settings (C(auth_url), C(username), C(password), C(project_name), ...)
        overriding those of O(cloud). Never logged.
    type: dict
  auth_type:
    description:
      - The keystoneauth plugin, for example C(password), C(v3applicationcredential) or C(none).
    type: str
  region_name:
    description:
      - Region of the cloud to use.
    type: str
  interface:
    description:
      - Which endpoint type of the service catalog to use.
    type: str
    default: public
    choices: [admin, internal, public]
    aliases: [endpoint_type]
  validate_certs:
    description:
      - Whether to verify TLS certificates. Unset means the cloud's setting, which verifies by default.
    type: bool
    aliases: [verify]
  ca_cert:
    description:
      - Path to a CA bundle used to verify the API endpoints.
    type: path
    aliases: [cacert]
  client_cert:
    description:
      - Path to a client certificate for TLS client authentication.
    type: path
    aliases: [cert]
  client_key:
    description:
      - Path to the key of O(client_cert).
    type: path
    aliases: [key]
  api_timeout:
    description:
      - Timeout in seconds of each API request.
      - When neither this option nor the cloud's configuration (C(api_timeout) in C(clouds.yaml),
        E(OS_API_TIMEOUT)) sets it, each request times out after 60 seconds (a hung API fails the
        task instead of hanging it).
    type: int
requirements:
  - python >= 3.9
  - openstacksdk >= 4.0.0
'''
