#!/usr/bin/env bash
# Builds a Debian package of synapsefs: dist/synapsefs_VERSION_ARCH.deb, depending on the
# run-time libraries only (the Swift runtime is linked in), with the versions the binary needs.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/build-release.sh
stage=dist/stage
version=$("$stage/bin/synapsefs" --version)
arch=$(dpkg --print-architecture)
root=dist/deb
rm -rf "$root"
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/sbin" "$root/usr/share/man/man1" "$root/usr/share/doc/synapsefs" \
  "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" "$root/usr/share/fish/vendor_completions.d"
install -m 0755 "$stage/bin/synapsefs" "$root/usr/bin/synapsefs"
ln -s /usr/bin/synapsefs "$root/sbin/mount.fuse.synapsefs"
gzip -9n <"$stage/man/synapsefs.1" >"$root/usr/share/man/man1/synapsefs.1.gz"
install -m 0644 "$stage/completions/synapsefs.bash" "$root/usr/share/bash-completion/completions/synapsefs"
install -m 0644 "$stage/completions/_synapsefs" "$root/usr/share/zsh/vendor-completions/_synapsefs"
install -m 0644 "$stage/completions/synapsefs.fish" "$root/usr/share/fish/vendor_completions.d/synapsefs.fish"
install -m 0644 README.md docs/SEMANTICS.md docs/synapsefs@.service "$root/usr/share/doc/synapsefs/"
size=$(du -k -s "$root" | cut -f1)
# The libraries the binary links, with the versions it needs (dpkg-shlibdeps reads them off
# it), and fuse3 for fusermount3, which mounting and unmounting run.
shlibs=$(cd "$(mktemp -d)" && mkdir debian && printf 'Source: synapsefs\n\nPackage: synapsefs\nArchitecture: any\n' >debian/control \
  && dpkg-shlibdeps -O -e "$OLDPWD/$root/usr/bin/synapsefs" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[[ -n "$shlibs" ]] || shlibs="libc6, libcurl4, libfuse3-3, libstdc++6"
cat >"$root/DEBIAN/control" <<CONTROL
Package: synapsefs
Version: $version
Architecture: $arch
Maintainer: synapsefs developers <synapsefs@localhost>
Depends: fuse3, $shlibs
Installed-Size: $size
Section: utils
Priority: optional
Homepage: https://github.com/synapsefs/synapsefs
Description: mount the tasks of an AI agent server as folders
 synapsefs is a FUSE filesystem that mounts the tasks of an InfiniSynapse agent
 server: ls and cat the agent's artifacts, drop documents into a task, talk to
 the agent by writing prompt.txt, and watch it work with tail -f stream.log.
CONTROL
deb="dist/synapsefs_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "package: $deb ($(du -h "$deb" | cut -f1))"
