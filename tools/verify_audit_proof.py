#!/usr/bin/env python3
"""Checks a hokan audit-log Merkle proof (RFC 9162 section 2.1, SHA-256).

Usage:
  verify_audit_proof.py inclusion --index I --size N --leaf-hash HEX --root HEX --proof HEX,...
  verify_audit_proof.py consistency --old-size A --new-size B --old-root HEX --new-root HEX \\
      --proof HEX,...

Hashes are 64 lower-case hex characters; --proof is a comma-separated list, possibly empty.
Prints "OK" and exits 0 when the proof is valid; otherwise prints one line saying why and
exits 1. Specification: docs/formats/audit-log.md. Standard library only.
"""

import argparse
import hashlib
import re
import sys

# --- reference verifier: the same code as in docs/formats/audit-log.md ---


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def _walk(fn, sn, fr, sr, path):
    """The bit walk of RFC 9162 2.1.3.2 step 4 and 2.1.4.2 step 6; None: wrong length."""
    for c in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return (fr, sr) if sn == 0 else None


def verify_inclusion(index, size, leaf_hash, proof, root):
    """RFC 9162 section 2.1.3.2. Returns None if valid, else the reason."""
    if index >= size:
        return "index is not below the tree size"
    result = _walk(index, size - 1, leaf_hash, leaf_hash, proof)  # r is sr; fr is unused.
    if result is None:
        return "proof has the wrong length"
    return None if result[1] == root else "inclusion proof does not lead to the root"


def verify_consistency(old_size, new_size, old_root, new_root, proof):
    """RFC 9162 section 2.1.4.2. Returns None if valid, else the reason."""
    if old_size == 0 or old_size > new_size:
        return "need 0 < old size <= new size"
    if old_size == new_size:  # PROOF(m, D[m]) is empty.
        if proof or old_root != new_root:
            return "equal sizes need an empty proof and equal roots"
        return None
    if not proof:
        return "proof has the wrong length"
    if old_size & (old_size - 1) == 0:  # A power of two: the old tree is a whole subtree.
        proof = [old_root] + list(proof)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    result = _walk(fn, sn, proof[0], proof[0], proof[1:])
    if result is None:
        return "proof has the wrong length"
    if result[0] != old_root:
        return "consistency proof does not lead to the old root"
    return None if result[1] == new_root else "consistency proof does not lead to the new root"


# --- command line ---

_HEX64 = re.compile(r"[0-9a-f]{64}")


class _Fail(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _Fail(message)


def _hash(text, what):
    if not _HEX64.fullmatch(text):
        raise _Fail(f"{what} is not 64 lower-case hex characters")
    return bytes.fromhex(text)


def _hashes(text):
    if text == "":
        return []
    return [_hash(item, f"proof element {i}") for i, item in enumerate(text.split(","))]


def _size(text, what):
    if not re.fullmatch(r"[0-9]+", text) or int(text) >= 1 << 64:
        raise _Fail(f"{what} is not an integer in [0, 2^64)")
    return int(text)


def _run(argv):
    parser = _Parser(prog="verify_audit_proof.py", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    inclusion = commands.add_parser("inclusion", help="leaf at --index is in the tree")
    inclusion.add_argument("--index", required=True)
    inclusion.add_argument("--size", required=True)
    inclusion.add_argument("--leaf-hash", required=True)
    inclusion.add_argument("--root", required=True)
    inclusion.add_argument("--proof", default="")
    consistency = commands.add_parser("consistency", help="new tree extends the old tree")
    consistency.add_argument("--old-size", required=True)
    consistency.add_argument("--new-size", required=True)
    consistency.add_argument("--old-root", required=True)
    consistency.add_argument("--new-root", required=True)
    consistency.add_argument("--proof", default="")
    args = parser.parse_args(argv)
    if args.command == "inclusion":
        return verify_inclusion(_size(args.index, "--index"), _size(args.size, "--size"),
                                _hash(args.leaf_hash, "--leaf-hash"),
                                _hashes(args.proof), _hash(args.root, "--root"))
    return verify_consistency(_size(args.old_size, "--old-size"),
                              _size(args.new_size, "--new-size"),
                              _hash(args.old_root, "--old-root"),
                              _hash(args.new_root, "--new-root"), _hashes(args.proof))


def main(argv):
    try:
        reason = _run(argv)
    except _Fail as e:
        reason = str(e)
    if reason is not None:
        print(f"FAIL: {reason}")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
