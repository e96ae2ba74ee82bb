# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""LLDP decoding: ironic-python-agent ``lldp_raw`` TLV lists -> Ironic's ``parsed_lldp`` dicts.

Pure Python, no I/O, no third-party dependency. Keys and value formats are those of Ironic's
``parse-lldp`` inspection hook (``ironic.drivers.modules.inspector.lldp_parsers``): first TLV
wins for single values, lists accumulate. Malformed input never raises: the offending TLV is
skipped with a warning and the rest is decoded.
"""

from __future__ import annotations

import binascii
import socket

from ._util import is_mac, normalize_mac

MAX_TLV_VALUE_LEN = 511

TLV_END, TLV_CHASSIS_ID, TLV_PORT_ID, TLV_TTL = 0, 1, 2, 3
TLV_PORT_DESC, TLV_SYS_NAME, TLV_SYS_DESC, TLV_SYS_CAP, TLV_MGMT_ADDR = 4, 5, 6, 7, 8
TLV_ORG = 127
OUI_8021 = b'\x00\x80\xc2'
OUI_8023 = b'\x00\x12\x0f'

# Chassis ID / port ID subtypes whose value is a string (the others: MAC, network address).
CHASSIS_STRING_SUBTYPES = frozenset((1, 2, 3, 6, 7))
PORT_STRING_SUBTYPES = frozenset((1, 2, 5, 7))
CHASSIS_MAC, CHASSIS_ADDRESS = 4, 5
PORT_MAC, PORT_ADDRESS = 3, 4

# Bit order as in Ironic (IEEE 802.1AB system capabilities, bit 1 = repeater ... bit 10 = TPMR).
CAPABILITIES = ((1, 'Repeater'), (2, 'Bridge'), (3, 'WLAN'), (4, 'Router'), (5, 'Telephone'),
                (6, 'DOCSIS cable device'), (7, 'Station only'), (8, 'C-Vlan'), (9, 'S-Vlan'), (10, 'TPMR'))

# RFC 4836 IANAifMauAutoNegCapBits, bit 14 (10BASE-T hdx) .. bit 0 (1000BASE-T fdx).
# Ironic reads the 10BASE-T hdx bit for "10BASE-T fdx" too; kept identical on purpose.
AUTONEG_CAPS = ((14, '10BASE-T hdx'), (14, '10BASE-T fdx'), (12, '10BASE-T4'), (11, '100BASE-TX hdx'),
                (10, '100BASE-TX fdx'), (9, '100BASE-T2 hdx'), (8, '100BASE-T2 fdx'), (7, 'PAUSE fdx'),
                (6, 'Asym PAUSE fdx'), (5, 'Sym PAUSE fdx'), (4, 'Asym and Sym PAUSE fdx'),
                (3, '1000BASE-X hdx'), (2, '1000BASE-X fdx'), (1, '1000BASE-T hdx'), (0, '1000BASE-T fdx'))

OPER_MAU_TYPES = (
    "Unknown", "AUI", "10BASE-5", "FOIRL", "10BASE-2", "10BASE-T duplex mode unknown", "10BASE-FP",
    "10BASE-FB", "10BASE-FL duplex mode unknown", "10BROAD36", "10BASE-T half duplex",
    "10BASE-T full duplex", "10BASE-FL half duplex", "10BASE-FL full duplex", "100 BASE-T4",
    "100BASE-TX half duplex", "100BASE-TX full duplex", "100BASE-FX half duplex",
    "100BASE-FX full duplex", "100BASE-T2 half duplex", "100BASE-T2 full duplex",
    "1000BASE-X half duplex", "1000BASE-X full duplex", "1000BASE-LX half duplex",
    "1000BASE-LX full duplex", "1000BASE-SX half duplex", "1000BASE-SX full duplex",
    "1000BASE-CX half duplex", "1000BASE-CX full duplex", "1000BASE-T half duplex",
    "1000BASE-T full duplex", "10GBASE-X", "10GBASE-LX4", "10GBASE-R", "10GBASE-ER", "10GBASE-LR",
    "10GBASE-SR", "10GBASE-W", "10GBASE-EW", "10GBASE-LW", "10GBASE-SW", "10GBASE-CX4", "2BASE-TL",
    "10PASS-TS", "100BASE-BX10D", "100BASE-BX10U", "100BASE-LX10", "1000BASE-BX10D",
    "1000BASE-BX10U", "1000BASE-LX10", "1000BASE-PX10D", "1000BASE-PX10U", "1000BASE-PX20D",
    "1000BASE-PX20U",
)


class _Malformed(Exception):
    """One TLV cannot be decoded (caught per TLV, never escapes this module)."""


def _mac(data):
    if len(data) < 6:
        raise _Malformed('MAC address needs 6 octets, got %d' % len(data))
    return '%02x:%02x:%02x:%02x:%02x:%02x' % tuple(data[:6])


def _text(data):
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise _Malformed('invalid UTF-8 (%s)' % exc.reason)


def _address(family, data):
    """IANA address family 1 (IPv4), 2 (IPv6), 6 (802 MAC); None for other families."""
    if family == 1:
        if len(data) < 4:
            raise _Malformed('IPv4 address needs 4 octets, got %d' % len(data))
        return '%d.%d.%d.%d' % tuple(data[:4])
    if family == 2:
        if len(data) < 16:
            raise _Malformed('IPv6 address needs 16 octets, got %d' % len(data))
        return socket.inet_ntop(socket.AF_INET6, bytes(data[:16]))
    if family == 6:
        return _mac(data)
    return None


def _id_value(data, string_subtypes, mac_subtype, address_subtype, what):
    if not data:
        raise _Malformed('empty %s' % what)
    subtype = data[0]
    body = data[1:]
    if subtype in string_subtypes:
        return _text(body)
    if subtype == mac_subtype:
        return _mac(body)
    if subtype == address_subtype:
        if not body:
            raise _Malformed('%s network address without a family' % what)
        value = _address(body[0], body[1:])
        if value is None:
            raise _Malformed('%s network address family %d is not supported' % (what, body[0]))
        return value
    raise _Malformed('unknown %s subtype %d' % (what, subtype))


def _u16(data, what):
    if len(data) < 2:
        raise _Malformed('%s needs 2 octets, got %d' % (what, len(data)))
    return (data[0] << 8) | data[1]


_TEXT_TLVS = {TLV_PORT_DESC: 'switch_port_description', TLV_SYS_NAME: 'switch_system_name',
              TLV_SYS_DESC: 'switch_system_description'}
_CAPABILITY_LISTS = {}


def _capabilities(mask):
    """Names of the capability bits set in ``mask`` (a fresh list; the 2**16 masks are memoised)."""
    names = _CAPABILITY_LISTS.get(mask)
    if names is None:
        names = _CAPABILITY_LISTS[mask] = tuple(name for bit, name in CAPABILITIES if mask >> bit & 1)
    return list(names)


class _Decoder:
    __slots__ = ('nv', 'warnings', 'where')

    def __init__(self, warnings, where):
        self.nv = {}
        self.warnings = warnings
        self.where = where

    def warn(self, msg):
        if self.warnings is not None:
            self.warnings.append('%s%s' % (self.where, msg))

    def tlv(self, tlv_type, data):
        nv = self.nv
        # Organisationally specific TLVs (VLANs, LAG, MTU, ...) are the most frequent: tested first.
        if tlv_type == TLV_ORG:
            if len(data) < 4:
                raise _Malformed('organizationally specific TLV too short (%d octets)' % len(data))
            oui = data[:3]
            if oui == OUI_8021:
                self.dot1(data[3], data[4:])
            elif oui == OUI_8023:
                self.dot3(data[3], data[4:])
            # Other OUIs (vendor TLVs, LLDP-MED, ...) are valid but carry nothing Ironic keeps.
        elif tlv_type == TLV_CHASSIS_ID:
            if 'switch_chassis_id' not in nv:
                nv['switch_chassis_id'] = _id_value(data, CHASSIS_STRING_SUBTYPES, CHASSIS_MAC, CHASSIS_ADDRESS, 'chassis ID')
        elif tlv_type == TLV_PORT_ID:
            if 'switch_port_id' not in nv:
                nv['switch_port_id'] = _id_value(data, PORT_STRING_SUBTYPES, PORT_MAC, PORT_ADDRESS, 'port ID')
        elif tlv_type in _TEXT_TLVS:
            key = _TEXT_TLVS[tlv_type]
            if key not in nv:
                nv[key] = _text(data)
            else:
                _text(data)  # still validated, as before
        elif tlv_type == TLV_SYS_CAP:
            if len(data) != 4:
                raise _Malformed('system capabilities need 4 octets, got %d' % len(data))
            nv.setdefault('switch_capabilities_support', _capabilities((data[0] << 8) | data[1]))
            nv.setdefault('switch_capabilities_enabled', _capabilities((data[2] << 8) | data[3]))
        elif tlv_type == TLV_MGMT_ADDR:
            if len(data) < 2:
                raise _Malformed('management address too short (%d octets)' % len(data))
            address = _address(data[1], data[2:])
            if address:
                nv.setdefault('switch_mgmt_addresses', []).append(address)

    def dot1(self, subtype, data):
        nv = self.nv
        if subtype == 1:
            nv.setdefault('switch_port_untagged_vlan_id', _u16(data, '802.1 port VLAN ID'))
        elif subtype == 2:
            if len(data) != 3:
                raise _Malformed('802.1 port and protocol VLAN ID needs 3 octets, got %d' % len(data))
            nv.setdefault('switch_port_protocol_vlan_enabled', bool(data[0] & 0x04))
            nv.setdefault('switch_port_protocol_vlan_support', bool(data[0] & 0x02))
            nv.setdefault('switch_port_protocol_vlan_ids', []).append((data[1] << 8) | data[2])
        elif subtype == 3:
            if len(data) < 3:
                raise _Malformed('802.1 VLAN name too short (%d octets)' % len(data))
            length = data[2]
            if len(data) < 3 + length:
                raise _Malformed('802.1 VLAN name truncated: %d of %d octets' % (len(data) - 3, length))
            name = _text(bytes(data[3:3 + length]).rstrip(b'\x00'))
            nv.setdefault('switch_port_vlans', []).append({'name': name, 'id': (data[0] << 8) | data[1]})
        elif subtype == 4:
            if not data or len(data) < 1 + data[0]:
                raise _Malformed('802.1 protocol identity truncated')
            nv.setdefault('switch_protocol_identities', []).append(binascii.hexlify(bytes(data[1:1 + data[0]])).decode())
        elif subtype == 6:
            nv.setdefault('switch_port_management_vlan_id', _u16(data, '802.1 management VLAN ID'))
        elif subtype == 7:
            self.link_aggregation(data)

    def dot3(self, subtype, data):
        nv = self.nv
        if subtype == 1:
            if len(data) != 5:
                raise _Malformed('802.3 MAC/PHY configuration needs 5 octets, got %d' % len(data))
            mau = (data[3] << 8) | data[4]
            if mau >= len(OPER_MAU_TYPES):
                raise _Malformed('802.3 MAC/PHY configuration: unknown MAU type %d' % mau)
            pmd = (data[1] << 8) | data[2]
            nv.setdefault('switch_port_autonegotiation_enabled', bool(data[0] & 0x02))
            nv.setdefault('switch_port_autonegotiation_support', bool(data[0] & 0x01))
            nv.setdefault('switch_port_physical_capabilities', sorted({name for bit, name in AUTONEG_CAPS if pmd >> bit & 1}))
            nv.setdefault('switch_port_mau_type', OPER_MAU_TYPES[mau])
        elif subtype == 3:
            self.link_aggregation(data)
        elif subtype == 4:
            nv.setdefault('switch_port_mtu', _u16(data, '802.3 maximum frame size'))

    def link_aggregation(self, data):
        if len(data) != 5:
            raise _Malformed('link aggregation needs 5 octets, got %d' % len(data))
        nv = self.nv
        nv.setdefault('switch_port_link_aggregation_enabled', bool(data[0] & 0x02))
        nv.setdefault('switch_port_link_aggregation_support', bool(data[0] & 0x01))
        nv.setdefault('switch_port_link_aggregation_id', int.from_bytes(bytes(data[1:5]), 'big'))


def parse_lldp(tlvs, warnings=None, where=''):
    """Decode one NIC's TLV list (``[[type, "hex"], ...]``) into Ironic's ``parsed_lldp`` dict.

    ``warnings``: an optional list that receives one message per skipped TLV (prefixed with
    ``where``, e.g. ``"node1 eth0: "``). Never raises on malformed input.
    """
    decoder = _Decoder(warnings, where)
    if not isinstance(tlvs, (list, tuple)):
        decoder.warn('expected a list of [type, hex] TLVs, got %s' % type(tlvs).__name__)
        return decoder.nv
    for index, item in enumerate(tlvs):
        try:
            tlv_type, value = item
            tlv_type = int(tlv_type)
            data = binascii.unhexlify(value)
        except (TypeError, ValueError, OverflowError) as exc:  # binascii.Error is a ValueError; int(Infinity) overflows
            decoder.warn('TLV #%d skipped: not a [type, "hex"] pair (%s)' % (index, exc))
            continue
        if len(data) > MAX_TLV_VALUE_LEN:
            decoder.warn('TLV #%d (type %d) skipped: %d octets exceed the LLDP maximum of %d'
                         % (index, tlv_type, len(data), MAX_TLV_VALUE_LEN))
            continue
        try:
            decoder.tlv(tlv_type, data)
        except _Malformed as exc:
            decoder.warn('TLV #%d (type %d) skipped: %s' % (index, tlv_type, exc))
    return decoder.nv


def tlvs_from_frame(frame, warnings=None):
    """Split a raw LLDP Ethernet frame (hex string or bytes) into an IPA-style TLV list.

    Skips the 14-octet Ethernet header (18 with an 802.1Q tag) when the frame starts with one
    (ethertype 0x88cc), then reads 7-bit type / 9-bit length headers as ironic-python-agent does
    (every TLV, End included). A truncated last TLV is dropped with a warning.
    """
    try:
        data = bytes(frame) if isinstance(frame, (bytes, bytearray)) else binascii.unhexlify(frame)
    except (TypeError, ValueError) as exc:
        if warnings is not None:
            warnings.append('frame skipped: not hex (%s)' % exc)
        return []
    if len(data) >= 14 and data[12:14] == b'\x88\xcc':
        data = data[14:]
    elif len(data) >= 18 and data[12:14] == b'\x81\x00' and data[16:18] == b'\x88\xcc':
        data = data[18:]
    tlvs = []
    while len(data) >= 2:
        header = (data[0] << 8) | data[1]
        tlv_type, length = header >> 9, header & 0x1FF
        if len(data) < 2 + length:
            if warnings is not None:
                warnings.append('frame: TLV type %d truncated (%d of %d octets)' % (tlv_type, len(data) - 2, length))
            break
        tlvs.append([tlv_type, binascii.hexlify(data[2:2 + length]).decode()])
        data = data[2 + length:]
    return tlvs


# ---------------------------------------------------------------- reading the neighbours of a node
MAX_INTERFACES = 64  # Ironic's parse-lldp hook decodes at most this many interfaces per node


def _interface_tlvs(plugin, inventory):
    """``[(name, tlvs, source)]``: per interface, its ``lldp_raw`` entry when it has a non-empty one,
    else its inventory ``lldp`` (ironic-python-agent records ``[]`` for a NIC whose capture timed
    out; that NIC falls back, the others keep theirs), as Ironic's parse-lldp hook chooses."""
    raw = plugin.get('lldp_raw')
    raw = raw if isinstance(raw, dict) else {}
    interfaces = inventory.get('interfaces')
    out, seen = [], set()
    for iface in interfaces if isinstance(interfaces, list) else []:
        if not isinstance(iface, dict) or not isinstance(iface.get('name'), str) or iface['name'] in seen:
            continue
        name = iface['name']
        seen.add(name)
        if raw.get(name):
            out.append((name, raw[name], 'lldp_raw'))
        elif iface.get('lldp'):
            out.append((name, iface['lldp'], 'inventory'))
    for name, tlvs in sorted((k, v) for k, v in raw.items() if isinstance(k, str)):
        if name not in seen and tlvs:
            out.append((name, tlvs, 'lldp_raw'))
    return out


def neighbours(inspection, warnings=None, where=''):
    """Per-interface ``parsed_lldp`` dicts from a node's inspection data.

    ``inspection`` is the answer of ``GET /v1/nodes/{node}/inventory`` (``{"inventory": ...,
    "plugin_data": ...}``) or a legacy ironic-inspector data dict. Sources, in order: Ironic's
    ``plugin_data.parsed_lldp``; else, per interface, ``plugin_data.lldp_raw[<name>]`` or that
    interface's ``inventory.interfaces[].lldp`` (see _interface_tlvs; at most MAX_INTERFACES, a
    warning for the rest); else ironic-inspector's ``all_interfaces[].lldp_processed``.
    Returns ``(source, {interface name: parsed dict})``; source is None when there is no LLDP.
    Never raises, whatever JSON it is given.
    """
    inspection = inspection if isinstance(inspection, dict) else {}
    plugin = inspection.get('plugin_data') if isinstance(inspection.get('plugin_data'), dict) else {}
    inventory = inspection.get('inventory') if isinstance(inspection.get('inventory'), dict) else {}
    parsed = plugin.get('parsed_lldp')
    if isinstance(parsed, dict) and parsed:
        return 'parsed_lldp', dict((k, v) for k, v in parsed.items() if isinstance(v, dict))
    chosen = _interface_tlvs(plugin, inventory)
    if len(chosen) > MAX_INTERFACES and warnings is not None:
        warnings.append('%s%d interfaces carry LLDP data; only the first %d are decoded (as Ironic does): %s skipped'
                        % (where, len(chosen), MAX_INTERFACES, ', '.join(n for n, _t, _s in chosen[MAX_INTERFACES:])))
    result = {}
    for name, tlvs, _source in chosen[:MAX_INTERFACES]:
        result[name] = parse_lldp(tlvs, warnings, '%s%s: ' % (where, name))
    if result:
        sources = sorted(set(s for _n, _t, s in chosen[:MAX_INTERFACES]))
        return '+'.join(sources), result
    legacy = plugin.get('all_interfaces') or inspection.get('all_interfaces') or {}
    if isinstance(legacy, dict):
        for name, iface in legacy.items():
            if isinstance(iface, dict) and isinstance(iface.get('lldp_processed'), dict) and iface['lldp_processed']:
                result[name] = dict(iface['lldp_processed'])
    if result:
        return 'lldp_processed', result
    return None, {}


def switch_mac(parsed):
    """The switch's MAC for ``local_link_connection.switch_id``: the chassis ID when it is a MAC,
    else the first MAC management address; None when the switch gives neither."""
    chassis = normalize_mac(parsed.get('switch_chassis_id'))
    if chassis:
        return chassis
    for address in parsed.get('switch_mgmt_addresses') or []:
        if is_mac(address):
            return normalize_mac(address)
    return None


def readable_port(parsed):
    """The port name an operator reads on the switch: the port ID, or the port description when
    the port ID is a MAC or a bare number (a locally assigned ifIndex)."""
    port_id = parsed.get('switch_port_id')
    description = parsed.get('switch_port_description')
    if description and (port_id is None or is_mac(port_id) or str(port_id).isdigit()):
        return description
    return port_id
