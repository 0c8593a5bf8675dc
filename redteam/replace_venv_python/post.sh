#!/bin/bash
rm -f /tmp/rt1-pwned-python3
ls -l $W/venv/bin/python $W/venv/bin/python3
runuser -u pjtestrt1 -- $W/venv/bin/python -c 'import sys; print("prefix", sys.prefix)'
runuser -u pjtestrt1 -- $W/venv/bin/pip --version
cat /tmp/rt1-pwned-python3; rm -f /tmp/rt1-pwned-python3
