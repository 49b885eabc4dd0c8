#!/usr/bin/env bash
# Smoke test of the lab's dockerd: the images run, and a swarm service serves HTTP.
# Usage: lab/dockerd/smoke.sh   (after `lab.py up dockerd`; leaves nothing behind)
# Swarm notes for later work: there is no IPVS/iptables here, so the ingress routing mesh
# (-p 8080:80) does NOT answer; use `--network host` or `-p mode=host,...` instead.
set -euo pipefail
STATE="${S2P_LAB_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/.lab}"
export DOCKER_HOST
DOCKER_HOST="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dockerd"]["docker_host"])' "$STATE/endpoints.json")"
docker() { /usr/bin/docker "$@"; }
PORT="${SMOKE_PORT:-18099}"
NAME="s2p-smoke-$$"
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}s')" "$1" "$(now)"; }

t=$(now); docker run --rm --network none s2p/debian:bookworm python3 --version
echo "  debian container: $(since "$t")"
t=$(now); docker run --rm --network none s2p/debian-molecule:bookworm sh -c 'systemctl --version | head -1; docker --version'
echo "  debian-molecule container: $(since "$t")"
t=$(now); docker run --rm --network none s2p/busybox:latest sh -c 'echo busybox $(busybox | head -1 | cut -d" " -f2)'
echo "  busybox container: $(since "$t")"

trap 'docker service rm "$NAME" >/dev/null 2>&1 || true' EXIT
t=$(now)
docker service create --quiet --detach --no-resolve-image --name "$NAME" --network host \
  s2p/busybox:latest httpd -f -p "127.0.0.1:$PORT" -h /var/www >/dev/null
for _ in $(seq 1 150); do
  if body=$(python3 -c "import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1], timeout=1).read().decode().strip())" "http://127.0.0.1:$PORT/" 2>/dev/null); then
    echo "swarm service answered '$body' after $(since "$t")"
    exit 0
  fi
  sleep 0.2
done
echo "swarm service did not answer on 127.0.0.1:$PORT" >&2
docker service ps --no-trunc "$NAME" >&2
exit 1
