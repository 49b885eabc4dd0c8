#!/usr/bin/env bash
# Build the lab's vcsim offline: Debian's govmomi 0.24.2 source (golang-github-vmware-govmomi-dev),
# copied into a private GOPATH, with lab/vcsim/*.patch applied, plus lab/vcsim/main.go.
# Usage: build.sh BUILD_DIR OUTPUT_BINARY   (lab/services/vcsim.py calls it when an input changed)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1
out=$2
src=${GOVMOMI_SRC:-/usr/share/gocode/src/github.com/vmware/govmomi}
gopath=$build/gopath
tree=$gopath/src/github.com/vmware/govmomi

rm -rf "$gopath"
mkdir -p "$(dirname "$tree")" "$gopath/src/s2p/vcsim" "$(dirname "$out")"
cp -a "$src" "$tree"
for patch in "$here"/*.patch; do
    patch --quiet --forward -p1 -d "$tree" < "$patch"
done
cp "$here/main.go" "$gopath/src/s2p/vcsim/"
cd "$gopath/src/s2p/vcsim"
# Our copy of govmomi comes first; everything else (google/uuid) from Debian's GOPATH.
GOPATH="$gopath:/usr/share/gocode" GO111MODULE=off CGO_ENABLED=0 GOFLAGS='' \
    GOCACHE="$build/gocache" go build -trimpath -o "$out.tmp" .
mv -f "$out.tmp" "$out"
