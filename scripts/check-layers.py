#!/usr/bin/python3
"""The layer check of `make check`: src/ is one folder per layer, and each
folder's README.md names its door header ("Door: observe/monitor.h") and
the layers it may call ("May call: observe pip base").  This fails when

  - the "May call" lists have a circle (a layer that may call itself back);
  - an object of one layer uses a symbol defined in a layer it may not call
    (read from the built objects with nm: what the code really calls);
  - a file includes a header of a layer it may not call, or a header of
    another layer that is not that layer's door;
  - src/main.c calls anything but cmd/ and base/.

Usage: scripts/check-layers.py BUILD_DIR   (after `make`)
"""
import collections
import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(REPO, "src")
MAIN_MAY_CALL = {"cmd", "base"}


def read_layers():
    layers = {}
    for name in sorted(os.listdir(SRC)):
        readme = os.path.join(SRC, name, "README.md")
        if not os.path.isdir(os.path.join(SRC, name)):
            continue
        if not os.path.exists(readme):
            sys.exit(f"check-layers: src/{name}/ has no README.md (what it owns, Door:, May call:)")
        text = open(readme).read()
        door = re.search(r"^Door: *(\S+)", text, re.M)
        calls = re.search(r"^May call: *(.*)$", text, re.M)
        if not door or not calls:
            sys.exit(f"check-layers: src/{name}/README.md needs a 'Door:' and a 'May call:' line")
        may = set(calls.group(1).replace("(nothing)", "").split())
        layers[name] = {"door": door.group(1), "may": may}
    for name, l in layers.items():
        for m in l["may"]:
            if m not in layers:
                sys.exit(f"check-layers: src/{name}/README.md: 'May call' names {m}, which is not a layer")
    return layers


def circles(layers):
    """Every layer that can reach itself through the May-call lists."""
    bad = []
    for start in layers:
        seen, todo = set(), list(layers[start]["may"])
        while todo:
            n = todo.pop()
            if n == start:
                bad.append(start)
                break
            if n not in seen:
                seen.add(n)
                todo.extend(layers[n]["may"])
    return bad


def layer_of_object(build, path):
    rel = os.path.relpath(path, build)
    return rel.split(os.sep)[0] if os.sep in rel else None   # main.o: None


def symbol_problems(build, layers):
    defs, uses = {}, collections.defaultdict(set)
    objs = []
    for root, _, files in os.walk(build):
        for f in files:
            if f.endswith(".o") and not f.endswith(".bpf.o"):
                p = os.path.join(root, f)
                rel = os.path.relpath(p, build)
                top = rel.split(os.sep)[0]
                if top in layers or rel == "main.o":
                    objs.append(p)
    if not objs:
        return [f"no objects under {build}: run make first"]
    for o in objs:
        out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDBRC":
                defs[parts[2]] = o
            elif len(parts) == 2 and parts[0] == "U":
                uses[o].add(parts[1])
    problems = []
    for o, syms in uses.items():
        a = layer_of_object(build, o)
        allowed = MAIN_MAY_CALL if a is None else layers[a]["may"] | {a}
        for s in sorted(syms):
            if s not in defs:
                continue
            b = layer_of_object(build, defs[s])
            if b is None:
                problems.append(f"{os.path.relpath(o, build)} uses {s} from main.o")
            elif b not in allowed:
                problems.append(f"{os.path.relpath(o, build)} ({a or 'main'}) calls {s} "
                                f"in {b}/, which {a or 'main'} may not call")
    return problems


INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def include_problems(layers):
    problems = []

    def check(path, layer, allowed):
        for inc in INCLUDE.findall(open(path).read()):
            if "/" not in inc or inc.startswith("."):
                continue
            b = inc.split("/")[0]
            if b not in layers or b == layer:
                continue
            rel = os.path.relpath(path, REPO)
            if b not in allowed:
                problems.append(f"{rel} includes {inc}: {layer or 'main'} may not call {b}/")
            elif inc != layers[b]["door"]:
                problems.append(f"{rel} includes {inc}: outside {b}/ only its door "
                                f"{layers[b]['door']} may be included")

    for name, l in layers.items():
        d = os.path.join(SRC, name)
        for f in sorted(os.listdir(d)):
            if f.endswith((".c", ".h")):
                check(os.path.join(d, f), name, l["may"])
    check(os.path.join(SRC, "main.c"), None, MAIN_MAY_CALL)
    for kind in ("unit", "fuzz"):
        base = os.path.join(REPO, "tests", kind)
        for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
            if name in layers:
                for f in sorted(os.listdir(os.path.join(base, name))):
                    if f.endswith(".c"):
                        check(os.path.join(base, name, f), name, layers[name]["may"])
    return problems


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    build = os.path.join(REPO, sys.argv[1]) if not os.path.isabs(sys.argv[1]) else sys.argv[1]
    layers = read_layers()
    problems = [f"src/{n}/README.md: the May-call lists lead back to {n}" for n in circles(layers)]
    problems += symbol_problems(build, layers)
    problems += include_problems(layers)
    for p in problems:
        print(f"check-layers: {p}", file=sys.stderr)
    if problems:
        print(f"check-layers: {len(problems)} problem(s); each layer's README.md says what it "
              "may call", file=sys.stderr)
        return 1
    print(f"check-layers: {len(layers)} layers, no circle, every call and include allowed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
