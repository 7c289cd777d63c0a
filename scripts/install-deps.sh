#!/usr/bin/env bash
# Installs the Debian packages synapsefs needs to build, mount and test, when any is missing.
# Extra package names given as arguments are installed too (bench.sh passes rclone, nginx, fio).
set -euo pipefail

needed=(libfuse3-dev fuse3 libcurl4-openssl-dev pkg-config curl vim-tiny rsync less tmux socat openssl dpkg-dev "$@")
missing=()
for pkg in "${needed[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
# vim (full) satisfies the tests as well as vim-tiny does.
if [[ " ${missing[*]} " == *" vim-tiny "* ]] && command -v vim >/dev/null; then
  missing=("${missing[@]/vim-tiny}")
fi
read -r -a missing <<<"${missing[*]}"

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

command -v swift >/dev/null || { echo "install-deps: swift is not on PATH (install Swift 6.3 first)" >&2; exit 1; }
[[ -e /dev/fuse ]] || echo "install-deps: warning: /dev/fuse is missing; mounting will fail" >&2
