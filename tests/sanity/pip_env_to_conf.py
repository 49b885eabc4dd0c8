"""Write the pip settings that live in the environment to a pip config file.

ansible-test runs pip in its test virtualenvs with only HOME and PATH, so settings given as
PIP_* variables (index URLs, certificate bundle, find-links...) or through PIP_CONFIG_FILE
would be lost.  This snapshot is copied into each test virtualenv's site ``pip.conf`` by
get_pip_offline.py.  Files pip finds by itself (/etc/pip.conf, /etc/xdg/pip/pip.conf,
~/.config/pip/pip.conf) keep working and are not copied.

Usage: python pip_env_to_conf.py OUTPUT
"""

import configparser
import os
import sys

# Set by ansible-test itself or meaningless inside its virtualenvs.
SKIP = {"PIP_CONFIG_FILE", "PIP_BREAK_SYSTEM_PACKAGES", "PIP_REQUIRE_VIRTUALENV", "PIP_PYTHON",
        "PIP_TARGET", "PIP_PREFIX", "PIP_USER", "PIP_ROOT"}


def main(output):
    config = configparser.RawConfigParser()
    source = os.environ.get("PIP_CONFIG_FILE")
    if source and source != os.devnull and os.path.isfile(source):
        config.read(source)
    if not config.has_section("global"):
        config.add_section("global")
    for name, value in sorted(os.environ.items()):
        if name.startswith("PIP_") and name not in SKIP and value:
            config.set("global", name[4:].lower().replace("_", "-"), value)
    tmp = output + ".tmp"
    with open(tmp, "w") as handle:
        handle.write("# Written by tests/sanity/run.sh from the caller's PIP_* environment.\n")
        config.write(handle)
    os.replace(tmp, output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
