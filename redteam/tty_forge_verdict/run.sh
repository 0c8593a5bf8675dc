#!/bin/bash
# Runs pipjail on a terminal (script(1) gives it a pty, as a user's xterm
# would), keeps the raw bytes the user's terminal got, and renders them with
# pyte (apt-get install python3-pyte) as a terminal would show them.
set -u
FIX=$(cd "$(dirname "$0")" && pwd); LIB=$FIX/../lib; ROOT=$(cd "$FIX/../.." && pwd)
W=/tmp/rt1-tty_forge_verdict; TU=pjtestrt1
rm -rf $W; mkdir -p $W/src; chown $TU: $W
runuser -u $TU -- /usr/bin/python3 -m venv --system-site-packages $W/venv
cp -r $FIX/pkg $W/src/pkg; cp $LIB/wheelkit.py $W/src/pkg/
/usr/bin/python3 $LIB/mksdist.py $W/src/pkg $W/dist >/dev/null
PORT=$(/usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
/usr/bin/python3 $LIB/index.py $W/dist $W/index.log $PORT & IDX=$!
sleep 0.5; cd $W
SUDO_UID=$(id -u $TU) SUDO_GID=$(id -g $TU) script -qfec "stty cols 120 rows 50; $ROOT/pipjail -- venv/bin/pip install --index-url http://127.0.0.1:$PORT/simple rt1-tty-forge; echo EXIT=\$?" $W/typescript </dev/null >/dev/null 2>&1
kill $IDX; wait $IDX 2>/dev/null
echo "== raw bytes around the forged verdict:"; grep -a -o 'pipjail: verdict: clean.\{0,12\}' $W/typescript | od -c | head -5
echo "== the screen as the user's terminal renders it (pyte; ESC % @ first: pyte ignores"
echo "   charset designations in UTF-8 mode, xterm and VTE honour them: terminfo smacs=ESC(0):"
/usr/bin/python3 - $W/typescript <<'PY'
import sys, pyte
s = pyte.Screen(120, 50); st = pyte.ByteStream(s)
data = open(sys.argv[1], "rb").read()
data = data.split(b"\n", 1)[1] if data.startswith(b"Script started") else data
st.feed(b"\x1b%@" + data)
for l in s.display:
    if l.strip(): print(l.rstrip())
PY
