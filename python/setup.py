"""The one part of heatpy that is built: its Cython module, compiled as `%%cython` would.

Set-up installs heatpy with it. Without a C compiler or Cython, set-up installs heatpy
without it (HEATPY_NO_CYTHON=1), and the Cython rows are left out with the reason.
Flags: -O3 and -march=native (HEAT_TARGET_CPU instead, for an image built for a CPU
family), as heatlib is built for this machine's CPU (`target-cpu=native`).
"""

import os

from setuptools import Extension, setup


def cython_modules():
    if os.environ.get("HEATPY_NO_CYTHON"):
        return []
    from Cython.Build import cythonize

    # No fused multiply-add (GCC contracts a * b + c by default): round as the Rust stages and Numba do.
    flags = ["-O3", f"-march={os.environ.get('HEAT_TARGET_CPU') or 'native'}", "-ffp-contract=off"]
    loops = Extension("heatpy.cython_loops", ["heatpy/cython_loops.pyx"], extra_compile_args=flags)
    return cythonize([loops], compiler_directives={"language_level": 3})


setup(ext_modules=cython_modules())
