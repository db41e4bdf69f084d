"""Builds the compiled program search (arcttt.programs._core); everything else is in pyproject.toml."""

from pybind11.setup_helpers import Pybind11Extension, build_ext
from setuptools import setup

setup(
    ext_modules=[
        Pybind11Extension(
            "arcttt.programs._core",
            ["arcttt/programs/csrc/search.cpp", "arcttt/programs/csrc/primitives.cpp"],
            depends=["arcttt/programs/csrc/image.hpp", "arcttt/programs/csrc/primitives.hpp"],
            cxx_std=17,
            extra_compile_args=["-O3"],
        ),
    ],
    cmdclass={"build_ext": build_ext},
)
