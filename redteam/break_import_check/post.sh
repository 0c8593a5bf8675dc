#!/bin/bash
ls -l $W/venv/bin/python3; runuser -u pjtestrt1 -- $W/venv/bin/python -c pass
