"""A custom build hook: code from the project runs inside hatchling and
generates a module into the wheel."""
import os
import shutil
import tempfile

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version, build_data):
        if self.target_name != "wheel":
            return
        self._tmp = tempfile.mkdtemp(prefix="pjb-hook-")
        path = os.path.join(self._tmp, "_generated.py")
        tables = [i * i for i in range(16)]
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"SQUARES = {tables!r}\n")
        build_data["force_include"][path] = "pjb_hatch_hook/_generated.py"

    def finalize(self, version, build_data, artifact_path):
        if self.target_name == "wheel":
            shutil.rmtree(self._tmp, ignore_errors=True)
