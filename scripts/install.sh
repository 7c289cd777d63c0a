#!/usr/bin/env bash
# Installs synapsefs like a system tool: a release binary with the Swift runtime linked in
# (it needs only fuse3, libfuse3-3 and libcurl4 at run time), its man page, completions for
# bash, zsh and fish, and mount(8)'s helper (/sbin/mount.fuse.synapsefs, so fstab lines and
# `mount -t fuse.synapsefs` work).
#   PREFIX   where it goes (default /usr/local)
#   DESTDIR  a staging root (packaging); the helper link is made only when it is empty
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX="${PREFIX:-/usr/local}"
DESTDIR="${DESTDIR:-}"
./scripts/install-deps.sh
./scripts/build-release.sh

stage=dist/stage
root="$DESTDIR$PREFIX"
sudo=""
mkdir -p "$root" 2>/dev/null || true
if [[ ! -w "$root" && $(id -u) -ne 0 ]]; then sudo="sudo"; fi
$sudo install -D -m 0755 "$stage/bin/synapsefs" "$root/bin/synapsefs"
$sudo install -D -m 0644 "$stage/man/synapsefs.1" "$root/share/man/man1/synapsefs.1"
$sudo install -D -m 0644 "$stage/completions/synapsefs.bash" "$root/share/bash-completion/completions/synapsefs"
$sudo install -D -m 0644 "$stage/completions/_synapsefs" "$root/share/zsh/site-functions/_synapsefs"
$sudo install -D -m 0644 "$stage/completions/synapsefs.fish" "$root/share/fish/vendor_completions.d/synapsefs.fish"
echo "install: synapsefs $("$root/bin/synapsefs" --version) in $root/bin, man page and completions under $root/share"
if [[ -z "$DESTDIR" ]]; then
  # mount(8) runs filesystem helpers from /sbin, as root: the helper may only point at a
  # binary that root owns and nobody else can replace.
  if [[ $(stat -c %u "$root/bin/synapsefs") -eq 0 && ! -w "$root/bin" || $(id -u) -eq 0 && $(stat -c %u "$root/bin") -eq 0 ]]; then
    sudo_link=""
    [[ $(id -u) -eq 0 ]] || sudo_link="sudo"
    $sudo_link ln -sf "$PREFIX/bin/synapsefs" /sbin/mount.fuse.synapsefs
    echo "install: mount -t fuse.synapsefs and fstab lines work through /sbin/mount.fuse.synapsefs"
  else
    echo "install: $root/bin is not root's: no /sbin/mount.fuse.synapsefs (install to a root-owned PREFIX for fstab)"
  fi
  command -v mandb >/dev/null && $sudo mandb -q 2>/dev/null || true
fi
