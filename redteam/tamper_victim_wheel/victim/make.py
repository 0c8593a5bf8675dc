# The honest dependency: rt1-victim 1.0, a wheel served by the index.
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../../lib"))
import wheelkit
wheelkit.write_wheel(sys.argv[1], "rt1-victim", "1.0", {"rt1_victim.py": b"def hello():\n    return 'honest'\n"})
