#!/bin/bash
echo "-- committed module:"; cat $W/venv/lib/python3*/site-packages/rt1_exfil_depnames.py
