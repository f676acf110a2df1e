"""Builds wattprint._native with the repository's CMake build (the library
is C++20, built with the same flags as the CLI), then packages it with the
pure-Python layer. Configuration is in pyproject.toml.

WATTPRINT_BUILD_DIR picks the CMake build directory (default:
<repo>/build-python, configured here as Release without tests). A build
directory that is already configured (scripts/setup.sh passes its own) is
only built, with its settings left as they are. The installed module is
stripped of debug information."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent.parent


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        if not (ROOT / "CMakeLists.txt").exists():
            sys.exit(f"wattprint: {ROOT} is not the wattprint repository; install from a checkout "
                     "(pip builds ./python in place)")
        build_dir = Path(os.environ.get("WATTPRINT_BUILD_DIR", ROOT / "build-python"))
        if not (build_dir / "CMakeCache.txt").exists():
            subprocess.check_call([
                "cmake", "-S", str(ROOT), "-B", str(build_dir), "-G", "Ninja",
                "-DCMAKE_BUILD_TYPE=Release", f"-DWATTPRINT_PYTHON={sys.executable}",
                "-DWATTPRINT_BUILD_TESTS=OFF", "-DWATTPRINT_BUILD_BENCH=OFF"])
        subprocess.check_call(["cmake", "--build", str(build_dir), "--target", "wattprint_native"])
        built = sorted((build_dir / "python" / "wattprint").glob("_native*.so"))
        if not built:
            sys.exit(f"wattprint: the build produced no _native module in {build_dir}")
        dest = Path(self.get_ext_fullpath(ext.name))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[0], dest)
        if shutil.which("strip"):
            subprocess.call(["strip", "--strip-debug", str(dest)])


setup(ext_modules=[Extension("wattprint._native", sources=[])], cmdclass={"build_ext": CMakeBuild})
