#!/bin/bash
LIB=$(cd "$(dirname "$0")/../lib" && pwd)
rm -rf $W/src/trigger; mkdir -p $W/src; cp -r "$(dirname "$0")/trigger" $W/src/trigger; cp $LIB/wheelkit.py $W/src/trigger/
/usr/bin/python3 $LIB/mksdist.py $W/src/trigger $W/dist
