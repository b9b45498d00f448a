"""``python -I <this folder> [options]``: start a warm worker (see ``serve.py``).

The folder runs as it is inside any image: it imports nothing from kodcode. Python puts
the folder itself first on ``sys.path``; it is taken off again at once, so that the
worker's module names are never import roots for attempts, and the folder is loaded as
the private package ``_kodcode_worker`` instead, whose modules import one another
relatively (the host imports the same files as ``kodcode.executor.worker``).
"""

import importlib
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = "_kodcode_worker"


def _load_package():
    if sys.path and os.path.abspath(sys.path[0] or ".") == HERE:
        sys.path.pop(0)
    spec = importlib.util.spec_from_file_location(PACKAGE, os.path.join(HERE, "__init__.py"),
                                                  submodule_search_locations=[HERE])
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package
    spec.loader.exec_module(package)
    return package


def _fixed_hash_seed(argv, clean_env) -> None:
    """Start over with string hashing seeded by PYTHONHASHSEED=0, so that a test that depends
    on the order of a set or dict of strings gets the same verdict in every worker.

    Engines start the worker with ``python -I``, which ignores every PYTHON* variable, the
    hash seed included; the interpreter is therefore started again, before anything else
    happens, with the clean environment and the parts of -I that do not read it: no user
    site-packages (-s) and no script folder on sys.path (-P; a folder to run is put there
    regardless, and taken off by ``_load_package``).
    """
    if not sys.flags.hash_randomization or "--hash-seeded" in argv:
        return
    flags = ["-s", "-B"] + (["-P"] if sys.version_info >= (3, 11) else [])
    # the engine's environment, whose PYTHON* variables -I ignored: only ours are read now
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update({k: v for k, v in clean_env.items() if k.startswith("PYTHON")})
    os.execve(sys.executable, [sys.executable, *flags, HERE, "--hash-seeded", *argv], env)


if __name__ == "__main__":
    _load_package()
    _fixed_hash_seed(sys.argv[1:], importlib.import_module(PACKAGE + ".environment").CLEAN_ENV)
    serve = importlib.import_module(PACKAGE + ".serve")
    sys.exit(serve.main([a for a in sys.argv[1:] if a != "--hash-seeded"]))
