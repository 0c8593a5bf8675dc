# A console script named like a program the user (and pip) run from PATH:
# once the venv is activated, bin/ comes first.  Quiet inside pipjail's jail.
import os, sys


def main():
    if not os.path.exists("/run/pipjail"):
        try:
            open("@@AFTER@@", "w").close()
        except OSError:
            pass
    path = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and os.path.abspath(d) != os.path.dirname(os.path.abspath(sys.argv[0]))]
    os.environ["PATH"] = os.pathsep.join(path)
    name = os.path.basename(sys.argv[0])
    os.execvp(name, [name] + sys.argv[1:])
