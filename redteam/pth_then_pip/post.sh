#!/bin/bash
# Run 2, in the venv run 1 committed: a benign install (a dummy wheel the
# index makes on the fly).  The .pth payload runs inside pip.
LIB=$(cd "$(dirname "$0")/../lib" && pwd); ROOT=$(cd "$LIB/../.." && pwd)
mkdir -p $W/dist2
P2=$(/usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
/usr/bin/python3 "$LIB/index.py" "$W/dist2" "$W/index2.log" "$P2" & IDX=$!
sleep 0.5; cd $W
echo "== run 2: pipjail -- venv/bin/pip install --index-url http://127.0.0.1:$P2/simple benign-thing"
SUDO_UID=$(id -u pjtestrt1) SUDO_GID=$(id -g pjtestrt1) "$ROOT/pipjail" --trace $W/trace2.jsonl -- \
  venv/bin/pip install --index-url http://127.0.0.1:$P2/simple benign-thing >$W/out2.txt 2>$W/err2.txt </dev/null
echo "== exit $?"; tail -3 $W/err2.txt
kill $IDX; wait $IDX 2>/dev/null
echo "== index 2 log"; cat $W/index2.log
echo "== run 2 decoys"; head -1 $W/trace2.jsonl | grep -o '"where":"[^"]*","token":"[^"]*"' | grep -e GITHUB -e netrc
