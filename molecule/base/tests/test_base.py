"""Verify esa.s2p.base in the container: names, chrony, the sshd drop-in (with real SSH
logins over loopback), the lab CA in the trust store, and directory users through sssd
against the lab's slapd (NSS lookups and the PAM access decision)."""

import json
import os
from pathlib import Path

import pytest

HOSTNAME = "esoc-molecule-ire-app01"
FQDN = HOSTNAME + ".s2p.esa.int"
DIRECTORY = json.loads((Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "directory.json").read_text())
PORT = DIRECTORY["sshd_port"]
SSH = ("ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
       "-o ConnectTimeout=20 -p %d" % PORT)


def test_host_name_and_fqdn(host):
    assert host.file("/etc/hostname").content_string == HOSTNAME + "\n"
    assert host.check_output("hostname") == HOSTNAME
    assert host.check_output("hostname -f") == FQDN
    assert "127.0.1.1\t%s %s" % (FQDN, HOSTNAME) in host.file("/etc/hosts").content_string.splitlines()


def test_chrony_runs_with_the_site_servers_and_without_clock_control(host):
    assert host.service("chrony").is_enabled and host.service("chrony").is_running
    assert host.run("chronyd -p -f /etc/chrony/chrony.conf").rc == 0
    sources = host.check_output("chronyc -n sources")
    assert "10.11.0.123" in sources and "10.11.0.124" in sources
    # -x: chronyd never touches the machine's clock (the container shares it).
    assert " -x" in host.check_output("cat /proc/$(pidof -s chronyd)/cmdline | tr '\\0' ' '")


def test_sshd_dropin_is_valid_and_effective(host):
    dropin = host.file("/etc/ssh/sshd_config.d/50-s2p-hardening.conf")
    assert dropin.is_file and dropin.user == "root" and dropin.mode == 0o600
    assert host.run("/usr/sbin/sshd -t").rc == 0
    effective = dict(line.split(" ", 1) for line in host.check_output("/usr/sbin/sshd -T").splitlines())
    assert effective["passwordauthentication"] == "no"
    assert effective["kbdinteractiveauthentication"] == "no"
    assert effective["permitrootlogin"] == "without-password"  # sshd -T's name of prohibit-password
    assert effective["ciphers"] == ("chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,"
                                    "aes256-ctr,aes192-ctr,aes128-ctr")
    assert "cbc" not in effective["ciphers"] and "sha1" not in effective["macs"]
    assert effective["kexalgorithms"].startswith("sntrup761x25519-sha512@openssh.com,curve25519-sha256")
    assert host.service("ssh").is_enabled and host.service("ssh").is_running
    assert host.socket("tcp://127.0.0.1:%d" % PORT).is_listening


def test_sshd_refuses_weak_ciphers_and_offers_no_password(host):
    weak = host.run(SSH + " -c aes128-cbc nobody@127.0.0.1 true")
    assert weak.rc != 0 and "no matching cipher" in weak.stderr
    password = host.run(SSH + " -o PreferredAuthentications=password root@127.0.0.1 true")
    assert password.rc != 0 and "Permission denied (publickey)" in password.stderr


def test_lab_ca_is_trusted(host):
    assert host.file("/usr/local/share/ca-certificates/s2p-lab-ca.crt").is_file
    result = host.run("openssl s_client -connect 127.0.0.1:10636 -verify_return_error </dev/null")
    assert result.rc == 0 and "Verify return code: 0 (ok)" in result.stdout


def test_sssd_config_is_private_and_valid(host):
    conf = host.file("/etc/sssd/sssd.conf")
    assert conf.user == "root" and conf.mode == 0o600
    assert host.run("sssctl config-check").rc == 0
    assert "ldap_tls_reqcert = demand" in conf.content_string
    assert host.service("sssd").is_enabled and host.service("sssd").is_running


def test_directory_users_resolve_through_nss(host):
    engineer = host.check_output("getent passwd %s", DIRECTORY["engineer"]).split(":")
    assert engineer[0] == DIRECTORY["engineer"] and engineer[2] == str(DIRECTORY["uid_number"])
    assert engineer[5] == "/home/" + DIRECTORY["engineer"]
    assert host.run("getent passwd %s-nobody", DIRECTORY["prefix"]).rc == 2


@pytest.mark.parametrize("who, verdict", [("engineer", "Success"), ("outsider", "Permission denied")])
def test_access_is_limited_to_the_dc_engineers_group(host, who, verdict):
    result = host.run("sssctl user-checks %s -a acct -s sshd", DIRECTORY[who])
    assert "pam_acct_mgmt: %s" % verdict in result.stdout + result.stderr


@pytest.fixture(scope="module")
def client_key(host):
    host.run_expect([0], "rm -f /root/molecule_key /root/molecule_key.pub")
    host.run_expect([0], "ssh-keygen -q -t ed25519 -N '' -f /root/molecule_key")
    return host.file("/root/molecule_key.pub").content_string


def _authorize(host, user, key):
    home = "/home/" + user
    host.run_expect([0], "install -d -m 0700 -o %s %s/.ssh" % (user, home))
    host.run_expect([0], "printf '%%s' '%s' > %s/.ssh/authorized_keys && chown %s %s/.ssh/authorized_keys"
                    % (key.strip(), home, user, home))


@pytest.mark.parametrize("who, allowed", [("engineer", True), ("outsider", False)])
def test_ssh_login_of_directory_users(host, client_key, who, allowed):
    user = DIRECTORY[who]
    _authorize(host, user, client_key)
    result = host.run(SSH + " -i /root/molecule_key %s@127.0.0.1 id -un", user)
    if allowed:
        assert result.rc == 0 and result.stdout.strip() == user, result.stderr
    else:
        assert result.rc != 0 and result.stdout.strip() == "", result.stdout
