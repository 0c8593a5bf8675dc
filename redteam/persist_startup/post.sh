#!/bin/bash
# After a clean, committed run: start the venv's python (and pip) on the host
# and see which start-up payloads ran.
rm -f /tmp/rt1-pwned-*
echo "-- venv site-packages:"; ls $W/venv/lib/python3*/site-packages | grep -i -e rt1 -e distutils
echo "-- bin/activate head:"; head -2 $W/venv/bin/activate
runuser -u pjtestrt1 -- $W/venv/bin/python -c 'print("hello")'
runuser -u pjtestrt1 -- $W/venv/bin/pip --version
runuser -u pjtestrt1 -- bash -c ". $W/venv/bin/activate"
for f in /tmp/rt1-pwned-*; do echo "-- $f:"; cat $f; done
rm -f /tmp/rt1-pwned-*
