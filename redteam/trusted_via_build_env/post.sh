#!/bin/bash
echo "-- committed venv site-packages (rt1*):"; ls -d $W/venv/lib/python3*/site-packages/*rt1* 
echo "-- roles in the trace of the processes that ran the payload's request:"
/usr/bin/python3 - "$W/trace.jsonl" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    try: e = json.loads(l)
    except Exception: continue
    s = json.dumps(e)
    if "rt1-b2-trusted" in s or ("netrc" in s and e.get("kind") == "open"):
        print({k: e.get(k) for k in ("kind", "pid", "role", "comm", "path", "abs", "method", "verdict", "outcome", "url", "host", "target") if k in e}, s[:300])
PY
