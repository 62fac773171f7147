#!/usr/bin/env python3
"""Independent verifier of ColdProof wire protocol v1 readings.

Written from docs/PROTOCOL.md alone, in Python 3 with the standard library
only, so that the TypeScript codec and this program check each other. The
Ed25519 verification is implemented here from the mathematics of RFC 8032
(section 5.1), strictly: S must be below L, the key and R must be canonical
encodings, and small-order keys are refused (docs/PROTOCOL.md, "Keys").

Input on stdin (JSON):
    {"publicKeys": {"<deviceId>": "<64 hex>", ...}, "payloads": ["<hex>", ...],
     "signatures": [{"publicKey": hex, "message": hex, "signature": hex}, ...]}   (optional)
Output on stdout (JSON):
    {"keys": {"<deviceId>": {"ok": bool, "error": code|null}},
     "results": [{"index", "payloadHash", "error", "fields", "signatureValid", "chain", "ok"}],
     "signatures": [bool, ...]}   (plain Ed25519 checks, for the RFC 8032 and edge-case vectors)

"chain" checks each payload against the previous payload of the same device
in the input list: seq is one more and prevHash is SHA-256 of that payload;
a seq 1 reading must carry 32 zero bytes. Its status is "ok", "broken", or
"unknown" when the list holds no earlier reading of that device.
"""
import hashlib
import json
import re
import sys

# ---------------------------------------------------------------- Ed25519

P = 2**255 - 19                      # the field prime
L = 2**252 + 27742317777372353535851937790883648493   # order of the base point
D = (-121665 * pow(121666, P - 2, P)) % P              # curve constant d
SQRT_M1 = pow(2, (P - 1) // 4, P)                      # a square root of -1 mod p
IDENTITY = (0, 1, 1, 0)              # extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, xy = T/Z


class KeyError_(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


def point_add(p1, p2):
    """Sum of two points on -x^2 + y^2 = 1 + d x^2 y^2 (complete formula, valid for doubling too)."""
    x1, y1, z1, t1 = p1
    x2, y2, z2, t2 = p2
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = 2 * D * t1 * t2 % P
    dd = 2 * z1 * z2 % P
    e, f, g, h = b - a, dd - c, dd + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def scalar_mult(n, point):
    result = IDENTITY
    addend = point
    while n > 0:
        if n & 1:
            result = point_add(result, addend)
        addend = point_add(addend, addend)
        n >>= 1
    return result


def negate(point):
    x, y, z, t = point
    return ((-x) % P, y, z, (-t) % P)


def is_identity(point):
    x, y, z, _ = point
    return x % P == 0 and (y - z) % P == 0


def decode_point(b):
    """RFC 8032 5.1.3, strict: y < p, and x = 0 may not carry the sign bit."""
    if len(b) != 32:
        raise KeyError_("ERR_KEY_BAD_LENGTH")
    y = int.from_bytes(b, "little") & ((1 << 255) - 1)
    sign = b[31] >> 7
    if y >= P:
        raise KeyError_("ERR_KEY_NON_CANONICAL")
    u = (y * y - 1) % P
    v = (D * y * y + 1) % P
    # candidate root of u/v: (u v^3) (u v^7)^((p-5)/8)
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    if (v * x * x - u) % P != 0:
        if (v * x * x + u) % P != 0:
            raise KeyError_("ERR_KEY_NOT_ON_CURVE")
        x = x * SQRT_M1 % P
    if x == 0 and sign == 1:
        raise KeyError_("ERR_KEY_NON_CANONICAL")
    if x & 1 != sign:
        x = P - x
    return (x, y, 1, x * y % P)


BASE = decode_point(((4 * pow(5, P - 2, P)) % P).to_bytes(32, "little"))  # y = 4/5, x even


def is_small_order(point):
    return is_identity(scalar_mult(8, point))


def check_public_key(b):
    """The registration checks of docs/PROTOCOL.md "Keys"; returns the point or raises KeyError_."""
    point = decode_point(b)
    if is_small_order(point):
        raise KeyError_("ERR_KEY_SMALL_ORDER")
    return point


def ed25519_verify(public_key, message, signature):
    """RFC 8032 5.1.7 with the cofactored equation [8][S]B = [8]R + [8][k]A."""
    if len(signature) != 64 or len(public_key) != 32:
        return False
    try:
        a = check_public_key(public_key)
        r = decode_point(signature[:32])
    except KeyError_:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little") % L
    diff = point_add(scalar_mult(s, BASE), negate(point_add(r, scalar_mult(k, a))))
    return is_identity(scalar_mult(8, diff))


# ---------------------------------------------------------------- reading

TAG = b"coldproof reading v1\x00"
MAX_PAYLOAD = 153
DEVICE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
OPTIONAL = [  # (presence bit, name, size, maximum or None, reserved mask or 0)
    (0x01, "humidityCentiPct", 2, 10000, 0),
    (0x02, "events", 1, None, 0xFC),
    (0x04, "shockCentiG", 2, None, 0),
    (0x08, "batteryPct", 1, 100, 0),
    (0x10, "status", 2, None, 0xFFE0),
]


class DecodeError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def decode(payload):
    """Decodes a payload front to back (docs/PROTOCOL.md "Decoding rules"); returns (fields, record, signature)."""
    if len(payload) > MAX_PAYLOAD:
        raise DecodeError("ERR_READING_TOO_LARGE", "payload is %d bytes" % len(payload))
    pos = 0

    def take(n, what):
        nonlocal pos
        if pos + n > len(payload):
            raise DecodeError("ERR_READING_TRUNCATED", "payload ends inside %s" % what)
        chunk = payload[pos:pos + n]
        pos += n
        return chunk

    version = take(1, "version")[0]
    if version != 1:
        raise DecodeError("ERR_READING_UNKNOWN_VERSION", "version %d" % version)
    n = take(1, "device id length")[0]
    if n < 1 or n > 32:
        raise DecodeError("ERR_READING_BAD_DEVICE_ID", "device id length %d" % n)
    raw_id = take(n, "device id")
    device_id = raw_id.decode("latin-1")
    if not DEVICE_ID.fullmatch(device_id):
        raise DecodeError("ERR_READING_BAD_DEVICE_ID", "device id %r" % device_id)
    seq = int.from_bytes(take(4, "seq"), "big")
    time_ms = int.from_bytes(take(8, "deviceTimeMs"), "big")
    temp = int.from_bytes(take(2, "tempCentiC"), "big", signed=True)
    if seq < 1:
        raise DecodeError("ERR_READING_FIELD_RANGE", "seq 0")
    if time_ms > 8640000000000000:
        raise DecodeError("ERR_READING_FIELD_RANGE", "deviceTimeMs above 8640000000000000 (+275760-09-13)")
    if temp < -27315:
        raise DecodeError("ERR_READING_FIELD_RANGE", "temperature below absolute zero")
    prev_hash = take(32, "prevHash")
    presence = take(1, "presence")[0]
    if presence & 0xE0:
        raise DecodeError("ERR_READING_UNKNOWN_FIELD", "presence 0x%02x" % presence)
    fields = {"deviceId": device_id, "seq": seq, "deviceTimeMs": time_ms, "tempCentiC": temp, "prevHash": prev_hash.hex()}
    for bit, name, size, maximum, reserved in OPTIONAL:
        if presence & bit:
            value = int.from_bytes(take(size, name), "big")
            if (maximum is not None and value > maximum) or (value & reserved):
                raise DecodeError("ERR_READING_FIELD_RANGE", "%s = %d" % (name, value))
            fields[name] = value
    record = payload[:pos]
    signature = take(64, "signature")
    if pos != len(payload):
        raise DecodeError("ERR_READING_TRAILING_BYTES", "%d bytes after the signature" % (len(payload) - pos))
    return fields, record, signature


# ---------------------------------------------------------------- main

def main():
    request = json.load(sys.stdin)
    keys = {}
    key_report = {}
    for device_id, hex_key in request.get("publicKeys", {}).items():
        try:
            raw = bytes.fromhex(hex_key)
            check_public_key(raw)
            keys[device_id] = raw
            key_report[device_id] = {"ok": True, "error": None}
        except KeyError_ as e:
            key_report[device_id] = {"ok": False, "error": e.code}
        except ValueError:
            key_report[device_id] = {"ok": False, "error": "ERR_KEY_BAD_LENGTH"}
    last = {}  # deviceId -> (seq, payload) of its previous decoded payload in this list
    results = []
    for index, hex_payload in enumerate(request.get("payloads", [])):
        payload = bytes.fromhex(hex_payload)
        out = {"index": index, "payloadHash": hashlib.sha256(payload).hexdigest(), "error": None,
               "fields": None, "signatureValid": None, "chain": None, "ok": False}
        try:
            fields, record, signature = decode(payload)
        except DecodeError as e:
            out["error"] = e.code
            out["message"] = str(e)
            results.append(out)
            continue
        out["fields"] = fields
        device_id = fields["deviceId"]
        if device_id in keys:
            out["signatureValid"] = ed25519_verify(keys[device_id], TAG + record, signature)
            if not out["signatureValid"]:
                out["error"] = "ERR_READING_BAD_SIGNATURE"
        if fields["seq"] == 1:
            good = fields["prevHash"] == "00" * 32
            out["chain"] = {"status": "ok" if good else "broken", "expectedPrevHash": "00" * 32}
        elif device_id in last:
            prev_seq, prev_payload = last[device_id]
            expected = hashlib.sha256(prev_payload).hexdigest()
            good = prev_seq + 1 == fields["seq"] and fields["prevHash"] == expected
            out["chain"] = {"status": "ok" if good else "broken", "expectedPrevHash": expected, "previousSeq": prev_seq}
        else:
            out["chain"] = {"status": "unknown", "expectedPrevHash": None}
        last[device_id] = (fields["seq"], payload)
        out["ok"] = out["signatureValid"] is True and out["chain"]["status"] != "broken"
        results.append(out)
    signatures = [ed25519_verify(bytes.fromhex(c["publicKey"]), bytes.fromhex(c["message"]), bytes.fromhex(c["signature"]))
                  for c in request.get("signatures", [])]
    json.dump({"keys": key_report, "results": results, "signatures": signatures}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
