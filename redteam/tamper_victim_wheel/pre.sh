#!/bin/bash
mkdir -p $W/dist && /usr/bin/python3 "$(dirname "$0")/victim/make.py" $W/dist && ls $W/dist
