#!/bin/bash
# pipjail on a terminal (script(1)); 3 s into the run the "user" types a line.
set -u
FIX=$(cd "$(dirname "$0")" && pwd); LIB=$FIX/../lib; ROOT=$(cd "$FIX/../.." && pwd)
W=/tmp/rt1-tty_read_typeahead; TU=pjtestrt1
rm -rf $W; mkdir -p $W/src; chown $TU: $W
runuser -u $TU -- /usr/bin/python3 -m venv --system-site-packages $W/venv
cp -r $FIX/pkg $W/src/pkg; cp $LIB/wheelkit.py $W/src/pkg/
/usr/bin/python3 $LIB/mksdist.py $W/src/pkg $W/dist >/dev/null
PORT=$(/usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
/usr/bin/python3 $LIB/index.py $W/dist $W/index.log $PORT & IDX=$!
sleep 0.5; cd $W
(sleep 3; printf 'sudo-password-typed-ahead-hunter2\r'; sleep 90) | SUDO_UID=$(id -u $TU) SUDO_GID=$(id -g $TU) \
  script -qfec "$ROOT/pipjail -- venv/bin/pip install --index-url http://127.0.0.1:$PORT/simple rt1-tty-read; echo EXIT=\$?" $W/typescript >/dev/null 2>&1 &
SP=$!
for i in $(seq 60); do grep -aq "^EXIT=[0-9]" $W/typescript 2>/dev/null && break; sleep 1; done
kill $SP 2>/dev/null; kill $IDX; wait $IDX 2>/dev/null
echo "== last lines of the terminal:"; tail -4 $W/typescript | tr -d '\r'
echo "== index log:"; cat $W/index.log | cut -c1-160
for h in $(grep -o 'rt1t-[0-9a-f]*' $W/index.log | sort -u | cut -d- -f2); do echo "== decoded: $(echo $h | xxd -r -p)"; done
