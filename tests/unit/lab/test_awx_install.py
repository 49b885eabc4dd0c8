"""The lab AWX's build inputs: pins from the tag's requirements, the source checks and patch."""

from __future__ import annotations

import hashlib

import pytest
from lab_awx_modules import load

install = load("awx_install")


def test_pins_drop_server_and_venv_tools_and_add_the_git_replacements():
    text = "# comment\ndjango==4.2.10  # via x\nuwsgi==2.0.24\nuwsgitop==0.11\npip==21.2.4\nsetuptools==69.0.2\n" \
           "pyjwt[crypto]==2.8.0\n-r other.txt\n\n"
    pins = install.requirement_pins(text)
    assert pins[:2] == ["django==4.2.10", "pyjwt[crypto]==2.8.0"]
    assert pins[2:] == install.GIT_REPLACEMENTS


def test_missing_sources_say_where_to_get_them(tmp_path):
    with pytest.raises(install.InstallError) as err:
        install.verify_sources(tmp_path)
    message = str(err.value)
    assert "S2P_AWX_SOURCE_DIR" in message
    assert f"tag {install.AWX_VERSION}" in message and f"tag {install.DAB_VERSION}" in message


def test_a_tarball_not_matching_its_checksum_is_refused(tmp_path):
    (tmp_path / install.AWX_TARBALL).write_bytes(b"awx")
    (tmp_path / install.DAB_TARBALL).write_bytes(b"dab")
    good = hashlib.sha256(b"awx").hexdigest()
    (tmp_path / "SHA256SUMS").write_text(f"{good}  {install.AWX_TARBALL}\n{good}  {install.DAB_TARBALL}\n")
    with pytest.raises(install.InstallError, match=f"{install.DAB_TARBALL}: sha256 .* does not match"):
        install.verify_sources(tmp_path)


def test_patch_source_makes_the_three_changes(tmp_path, monkeypatch):
    tasks = tmp_path / "awx" / "main" / "tasks"
    tasks.mkdir(parents=True)
    (tmp_path / "awx" / "devonly.py").write_text("")
    (tasks / "receptor.py").write_text(f"import os\n{install.RECEPTOR_CONF_LINE}\n")
    install.patch_source(tmp_path)
    assert (tmp_path / "VERSION").read_text().strip() == install.AWX_VERSION
    assert not (tmp_path / "awx" / "devonly.py").exists()
    namespace: dict = {}
    exec((tasks / "receptor.py").read_text(), namespace)
    assert namespace["__RECEPTOR_CONF"] == "/etc/receptor/receptor.conf"  # unset: AWX's default
    monkeypatch.setenv(install.RECEPTOR_CONF_ENV, "/lab/awx/receptor.conf")
    exec((tasks / "receptor.py").read_text(), namespace)
    assert namespace["__RECEPTOR_CONF"] == "/lab/awx/receptor.conf"


def test_the_cache_key_follows_pins_and_python_not_the_rest(tmp_path, monkeypatch):
    (tmp_path / "SHA256SUMS").write_text("x  awx.tar.gz\n")
    key = install.cache_key(tmp_path, "3.11.2 /usr")
    assert key.startswith(f"awx-{install.AWX_VERSION}-")
    assert install.cache_key(tmp_path, "3.11.2 /usr") == key
    assert install.cache_key(tmp_path, "3.11.9 /usr") != key
    monkeypatch.setattr(install, "GIT_REPLACEMENTS", [*install.GIT_REPLACEMENTS, "extra==1"])
    assert install.cache_key(tmp_path, "3.11.2 /usr") != key


def test_patch_source_refuses_another_awx(tmp_path):
    tasks = tmp_path / "awx" / "main" / "tasks"
    tasks.mkdir(parents=True)
    (tasks / "receptor.py").write_text("RECEPTOR = 'elsewhere'\n")
    with pytest.raises(install.InstallError, match="another AWX version"):
        install.patch_source(tmp_path)
