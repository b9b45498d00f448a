from setuptools import find_packages, setup

setup(name="demo-algorithms", version="0.1", packages=find_packages(exclude=["tests"]))
