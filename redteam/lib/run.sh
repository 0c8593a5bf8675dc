#!/bin/bash
# Usage (root): redteam/lib/run.sh FIXTURE_DIR [PIP_ARGS...]
# Packs FIXTURE_DIR/pkg into an sdist (plain tar), makes a fresh venv owned by
# the test user, serves the sdist from a PEP 503 index on 127.0.0.1, and runs
#   pipjail --trace --report -- venv/bin/pip install --index-url ... PKG
# from /tmp/rt1-<fixture>.  Then runs FIXTURE_DIR/post.sh (if any) with W set.
set -u
LIB=$(cd "$(dirname "$0")" && pwd)
FIX=$(cd "$1" && pwd); shift
NAME=$(basename "$FIX")
ROOT=$(cd "$LIB/../.." && pwd)
TU=${PJ_USER:-pjtestrt1}
W=/tmp/rt1-$NAME
rm -rf "$W"; mkdir -p "$W/src"; chown "$TU:$TU" "$W"
runuser -u "$TU" -- /usr/bin/python3 -m venv --system-site-packages "$W/venv" || exit 1
[ -x "$FIX/pre.sh" ] && W=$W "$FIX/pre.sh"
cp -r "$FIX/pkg" "$W/src/pkg"; cp "$LIB/wheelkit.py" "$W/src/pkg/"
SD=$(/usr/bin/python3 "$LIB/mksdist.py" "$W/src/pkg" "$W/dist")
PKG=$(sed -n 's/^Name: //p' "$W/src/pkg/PKG-INFO")
PORT=$(/usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
/usr/bin/python3 "$LIB/index.py" "$W/dist" "$W/index.log" "$PORT" & IDX=$!
sleep 0.5
cd "$W"
echo "== $(date +%T) pipjail ${PJ_OPTS:-} -- venv/bin/pip install --index-url http://127.0.0.1:$PORT/simple ${*:-$PKG}"
SUDO_UID=$(id -u $TU) SUDO_GID=$(id -g $TU) timeout 300 "$ROOT/pipjail" ${PJ_OPTS:-} --trace "$W/trace.jsonl" --report "$W/report.json" -- \
  venv/bin/pip install --index-url "http://127.0.0.1:$PORT/simple" ${*:-$PKG} >"$W/out.txt" 2>"$W/err.txt" </dev/null
RC=$?
kill $IDX 2>/dev/null; wait $IDX 2>/dev/null
echo "== exit $RC"
echo "== stderr (last 40 lines)"; tail -40 "$W/err.txt"
echo "== index log"; cat "$W/index.log" 2>/dev/null
echo "== decoy tokens of the run (trace header)"
head -1 "$W/trace.jsonl" | /usr/bin/python3 -c 'import json,sys
h=json.loads(sys.stdin.read())
def walk(o):
    if isinstance(o,dict):
        for k,v in o.items():
            if k in("decoys","tokens"): print(json.dumps(v)[:3000])
            else: walk(v)
    elif isinstance(o,list):
        for v in o: walk(v)
walk(h)' 2>/dev/null
[ -x "$FIX/post.sh" ] && { echo "== post"; W=$W PORT=$PORT "$FIX/post.sh"; }
exit 0
