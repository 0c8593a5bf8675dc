"""Where a secret got to: the forms a thief gives a token, the run's decoy
tokens (from a trace's header), and a search of byte blobs (requests, the
files of a tree) for them.  tests/test_attacks.py (what reached a listener,
a socket or the index, what a package left in the environment, its "tokens"
after-step) and tests/test_staging.py (secrets copied into a module) share
it."""
import base64
import json
import os
import urllib.parse


def token_forms(token):
    """{encoding: set of bytes}: how a token looks when a thief carries it:
    as is, hex (both cases), percent-encoded (every byte, either case, or
    only what a URL must escape), base64 (standard and URL-safe) at each of
    the three alignments the token can have inside a longer encoded blob
    (the token's whole 3-byte groups; a token shorter than 12 bytes is only
    looked for as a whole, unpadded)."""
    t = token.encode()
    forms = {"as is": {t},
             "hex": {t.hex().encode(), t.hex().upper().encode()},
             "percent-encoded": {"".join(f"%{b:02X}" for b in t).encode(),
                                 "".join(f"%{b:02x}" for b in t).encode(),
                                 urllib.parse.quote(token, safe="").encode()},
             "base64": set()}
    for skip in range(3):
        part = t[skip:]
        part = part[:len(part) // 3 * 3]
        if len(part) >= 12:
            forms["base64"] |= {base64.b64encode(part), base64.urlsafe_b64encode(part)}
    if not forms["base64"]:
        forms["base64"] = {base64.b64encode(t).rstrip(b"="),
                           base64.urlsafe_b64encode(t).rstrip(b"=")}
    return forms


def as_is(value):
    """The forms of a needle looked for only as it is."""
    return {"as is": {value.encode() if isinstance(value, str) else value}}


def decoy_tokens(trace):
    """{where: token}: the run's decoy tokens, from the trace's header."""
    try:
        with open(trace) as f:
            head = json.loads(f.readline())
    except (OSError, ValueError):
        return {}
    return {d["where"]: d["token"] for d in head.get("decoys", []) if d.get("token")}


def find_leaks(blobs, needles):
    """[(where, name, encoding)] for each needle found in a blob.
    blobs: (where, bytes); needles: {name: {encoding: set of bytes}}, as
    token_forms or as_is make them.  One hit per needle and blob."""
    found = []
    for where, data in blobs:
        for name, forms in needles.items():
            for enc, fs in forms.items():
                if any(f and f in data for f in fs):
                    found.append((where, name, enc))
                    break
    return found


def tree_blobs(root):
    """(path relative to root, bytes) for every regular file under root
    (symlinks not followed)."""
    for dirpath, _, filenames in os.walk(root):
        for n in filenames:
            full = os.path.join(dirpath, n)
            if os.path.isfile(full) and not os.path.islink(full):
                with open(full, "rb") as f:
                    yield os.path.relpath(full, root), f.read()
