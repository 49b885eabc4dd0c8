"""Offline stand-in for pip's get-pip.py bootstrap, used by `ansible-test sanity`.

ansible-test bootstraps pip into each test virtualenv by running get-pip.py, which it
downloads from an external host unless ~/.ansible/test/cache/get_pip_<version>.py exists.
Only the package registries are reachable here, so tests/sanity/run.sh installs this file
under that name.  It takes the same arguments as get-pip.py (pip options and packages,
e.g. ``--disable-pip-version-check pip==24.2 --no-setuptools --no-wheel``):

1. ``ensurepip.bootstrap()`` installs the pip wheel bundled with the interpreter;
2. os.environ is restored: ensurepip points PIP_CONFIG_FILE at /dev/null, which would hide
   the machine's pip configuration (index URLs, certificate bundle) from the next step;
3. ``pip install`` runs in-process with the remaining arguments, which upgrades pip to the
   version ansible-test asked for.  ``--no-setuptools``/``--no-wheel`` are get-pip options,
   not pip ones, so they are dropped (pip then installs only what was named).

ansible-test gives pip only HOME and PATH, so tests/sanity/run.sh snapshots the caller's
PIP_* settings into s2p-pip.conf beside this file; it is copied into the virtualenv's site
config (<venv>/pip.conf), where every later pip run in that virtualenv finds it.
"""

import importlib
import os
import sys

GET_PIP_ONLY_OPTIONS = {"--no-setuptools", "--no-wheel", "--no-pip"}
ENV_SNAPSHOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "s2p-pip.conf")


def install_pip_settings():
    """Give this virtualenv the caller's PIP_* settings as its site pip.conf."""
    if sys.prefix == sys.base_prefix or not os.path.isfile(ENV_SNAPSHOT):
        return
    target = os.path.join(sys.prefix, "pip.conf")
    if not os.path.exists(target):
        with open(ENV_SNAPSHOT) as source, open(target, "w") as handle:
            handle.write(source.read())


def main(argv):
    import ensurepip

    install_pip_settings()

    saved_environ = dict(os.environ)
    try:
        ensurepip.bootstrap(upgrade=True, default_pip=True)
    finally:
        os.environ.clear()
        os.environ.update(saved_environ)

    importlib.invalidate_caches()
    for name in [n for n in sys.modules if n == "pip" or n.startswith("pip.")]:
        del sys.modules[name]
    from pip._internal.cli.main import main as pip_main

    args = [arg for arg in argv if arg not in GET_PIP_ONLY_OPTIONS]
    if not any(not arg.startswith("-") for arg in args):
        return 0  # nothing to install beyond the bundled pip
    return pip_main(["install", "--upgrade"] + args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
