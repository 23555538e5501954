"""The one thing pyproject.toml cannot say without an experimental table: dedup's compiled inner
loops (dedup/_kernels.c), built at install. Optional: without a C compiler the install still
succeeds and dedup runs on numpy alone (the same values, slower)."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("dedup._kernels", sources=["dedup/_kernels.c"], optional=True)])
