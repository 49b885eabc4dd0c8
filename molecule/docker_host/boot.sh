#!/bin/sh
# PID 1 of the docker_host scenario's containers: install systemd (and iproute2, which
# Ansible's network facts need, as on a VM), then become systemd.
# The containers have their own network namespace on the lab's bridge (no NAT), so apt
# goes through apt_proxy.py on the bridge address, which prepare.yml starts: until then
# apt-get update fails and is retried. policy-rc.d keeps package scripts from starting
# services before the role has configured them.
set -u
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod 0755 /usr/sbin/policy-rc.d
printf 'Acquire::http::Proxy "%s";\n' "$S2P_APT_PROXY" > /etc/apt/apt.conf.d/01s2p-molecule-proxy
until apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    systemd systemd-sysv iproute2; do
  sleep 3
done
exec /lib/systemd/systemd
