#!/usr/bin/env python3
"""Checks that module dependencies point one way (STYLE.md rule 1, ARCHITECTURE.md order).

Usage: check_layering.py <repo root>
For every file under src/<module>/: an include of another module's header must name a module
in ALLOWED[module]; an include of another module's internal/ is always an error; tests
(*_test.cc) may also include testing/. Only base/posix_env.cc may call the OS file and clock
functions that Env wraps. Exit 0 when clean, 1 with one line per violation otherwise.
"""
import os
import re
import sys

# The table is the architecture: changing it is a design review.
ALLOWED = {
    "base": set(),
    "crypto": {"base"},
    "store": {"base", "crypto"},
    "audit": {"base", "crypto", "store"},
    "identity": {"base", "crypto", "store"},
    "policy": {"base", "identity"},
    "signature": {"base", "crypto"},
    # crypto: the sanitiser's reports carry SHA-256 of every file before and after.
    "sanitize": {"base", "crypto"},
    "detect": {"base", "audit"},
    "backup": {"base", "crypto", "store", "audit"},
    "retention": {"base", "store", "audit"},
    "report": {"base", "store", "audit"},
    "service": {"base", "crypto", "store", "audit", "identity", "policy", "signature",
                "sanitize", "detect", "backup", "retention", "report"},
    "http": {"base", "service"},
    "cli": {"base", "service", "http"},
    "testing": {"base"},
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
# Direct OS access that must go through Env (only base/posix_env.cc may do it).
OS_CALLS = re.compile(r'\b(std::filesystem::|::fsync\(|::fdatasync\(|system_clock::now\(\))')
OS_ALLOWED_FILES = {"src/base/posix_env.cc", "src/testing/temp_dir.cc"}


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    src = os.path.join(root, "src")
    errors = []
    for module in sorted(os.listdir(src)):
        mdir = os.path.join(src, module)
        if not os.path.isdir(mdir):
            continue
        if module not in ALLOWED:
            errors.append(f"src/{module}: module not in the layering table")
            continue
        for dirpath, _, files in os.walk(mdir):
            for name in files:
                if not name.endswith((".h", ".cc")):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)
                is_test = name.endswith("_test.cc")
                allowed = ALLOWED[module] | {module} | ({"testing"} if is_test else set())
                with open(path, encoding="utf-8") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if m:
                            target = m.group(1)
                            parts = target.split("/")
                            if len(parts) < 2:
                                continue
                            dep = parts[0]
                            if dep not in ALLOWED:
                                continue
                            if dep not in allowed:
                                errors.append(f"{rel}:{lineno}: {module} may not include {target}")
                            elif dep != module and "internal" in parts[1:-1]:
                                errors.append(f"{rel}:{lineno}: {target} is internal to {dep}")
                        if (OS_CALLS.search(line) and rel not in OS_ALLOWED_FILES
                                and not is_test):
                            errors.append(f"{rel}:{lineno}: direct OS access; go through Env")
    for e in errors:
        print(e)
    if errors:
        print(f"layering: {len(errors)} violation(s)")
        return 1
    print("layering: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
