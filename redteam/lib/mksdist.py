#!/usr/bin/python3
"""Pack SRC (a fixture directory) into OUT/NAME-VERSION.tar.gz: a plain tar,
nothing of the fixture is run.  NAME and VERSION come from SRC/PKG-INFO."""
import io, os, re, sys, tarfile

src, out = sys.argv[1], sys.argv[2]
info = open(os.path.join(src, "PKG-INFO")).read()
name = re.search(r"^Name: (.+)$", info, re.M).group(1).strip()
ver = re.search(r"^Version: (.+)$", info, re.M).group(1).strip()
base = f"{name.replace('-', '_')}-{ver}"
os.makedirs(out, exist_ok=True)
dst = os.path.join(out, base + ".tar.gz")
with tarfile.open(dst, "w:gz") as t:
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(root, f)
            if f == "run.sh" and root == src:
                continue
            t.add(p, arcname=os.path.join(base, os.path.relpath(p, src)))
print(dst)
