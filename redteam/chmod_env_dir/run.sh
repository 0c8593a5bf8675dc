#!/bin/bash
exec "$(dirname "$0")/../lib/run.sh" "$(dirname "$0")" "$@"
