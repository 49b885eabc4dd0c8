#!/usr/bin/env bash
# Publish a checkout to the lab's git server (lab/services/git_server.py) for the lab AWX's git
# project: the tracked files as they are in its working tree (uncommitted edits included) become a
# commit on BRANCH of the bare repository REPO. The checkout's branch, index and object store are
# never written: the tree is built in a temporary index and object folder that borrow the
# checkout's objects (alternates), and pushed from there. A tree equal to the branch's is not
# published again. Prints "changed <commit>" or "unchanged <commit>".
#   lab/awx/publish_checkout.sh CHECKOUT REPO BRANCH
set -euo pipefail
if [ $# -ne 3 ]; then
    echo "usage: $0 CHECKOUT REPO BRANCH" >&2
    exit 2
fi
checkout=$1 repo=$2 branch=$3
if ! git --git-dir="$repo" rev-parse --is-bare-repository >/dev/null 2>&1; then
    echo "publish_checkout: $repo is not a git repository; start the lab's git server: python3 lab/lab.py up git_server" >&2
    exit 1
fi
git check-ref-format "refs/heads/$branch" || { echo "publish_checkout: bad branch name '$branch'" >&2; exit 1; }
cd "$checkout"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/objects"
cp "$(git rev-parse --path-format=absolute --git-path index)" "$tmp/index"
alternates="$(git rev-parse --path-format=absolute --git-path objects):$(cd "$repo" && pwd)/objects"
export GIT_INDEX_FILE="$tmp/index" GIT_OBJECT_DIRECTORY="$tmp/objects" GIT_ALTERNATE_OBJECT_DIRECTORIES="$alternates"
git add --update -- :/
tree=$(git write-tree)
published=$(git --git-dir="$repo" rev-parse --verify --quiet "refs/heads/$branch" || true)
if [ -n "$published" ] && [ "$(git rev-parse "$published^{tree}")" = "$tree" ]; then
    echo "unchanged $published"
    exit 0
fi
head=$(git rev-parse --verify --quiet HEAD || echo none)
state=$([ "$head" != none ] && [ "$(git rev-parse "HEAD^{tree}")" = "$tree" ] && echo "clean" \
        || echo "with uncommitted changes")
export GIT_AUTHOR_NAME=awx_configure.yml GIT_AUTHOR_EMAIL=awx-configure@s2p.lab
export GIT_COMMITTER_NAME=awx_configure.yml GIT_COMMITTER_EMAIL=awx-configure@s2p.lab
commit=$(git commit-tree "$tree" ${published:+-p "$published"} \
         -m "The checkout at ${head:0:12} ($state), published for the lab AWX")
git push --quiet "$repo" "$commit:refs/heads/$branch"
echo "changed $commit"
# x
