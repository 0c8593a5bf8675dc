#!/bin/sh
# make demo: install the bundled example packages (examples/) under pipjail
# into a fresh virtual environment and show what happened to each.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
pipjail="$top/pipjail"
work=$(mktemp -d /tmp/pjdemo.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM

# Pack each example as an sdist (tar + PKG-INFO); its setup.py runs only
# inside the jail.
mkdir -p "$work/dist"
for ex in "$top"/examples/*/; do
	name=$(basename "$ex")
	mkdir -p "$work/src/$name-1.0"
	cp -r "$ex"/. "$work/src/$name-1.0/"
	tar -C "$work/src" -czf "$work/dist/$name-1.0.tar.gz" "$name-1.0"
done

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
cd "$work"
say "pipjail -- python3 -m venv venv"
"$pipjail" --write-cwd -- /usr/bin/python3 -m venv venv

for name in clean-demo evil-demo; do
	say "pipjail venv/bin/pip install $name"
	set +e
	"$pipjail" -- venv/bin/pip install --no-index --find-links /usr/share/python-wheels \
		--find-links dist "$name" >"$work/log" 2>&1
	status=$?
	set -e
	# pip's own result, then pipjail's report (everything from its first line).
	grep -e '^Successfully' -e '^error:' "$work/log" || true
	sed -n '/^pipjail:/,$p' "$work/log"
	echo "-> exit status of pipjail: $status"
done

say "What the environment looks like afterwards"
ls /usr/lib/python3/dist-packages/zz-evil.pth 2>/dev/null || echo "no zz-evil.pth planted in /usr"
venv/bin/python -c 'import clean_demo; print("clean-demo was committed:", clean_demo.hello())'
venv/bin/python -c 'import evil_demo' 2>/dev/null && echo "evil-demo was installed!" ||
	echo "evil-demo was not installed: the venv is as it was before"
