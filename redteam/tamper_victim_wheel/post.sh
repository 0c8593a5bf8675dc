#!/bin/bash
rm -f /tmp/rt1-pwned-*
echo "-- installed rt1_victim.py:"; cat $W/venv/lib/python3*/site-packages/rt1_victim.py
runuser -u pjtestrt1 -- $W/venv/bin/python -c 'import rt1_victim; print(rt1_victim.hello())'
cat /tmp/rt1-pwned-victim 2>/dev/null; rm -f /tmp/rt1-pwned-*
