#!/usr/bin/env bash
# Builds what a release ships, into dist/stage: the synapsefs binary (release, the Swift
# runtime linked in, stripped), its man page synapsefs(1) generated from the command line
# parser (swift-argument-parser's generate-manual, run on the binary), and completions for
# bash, zsh and fish. install.sh and package.sh use it.
set -euo pipefail
cd "$(dirname "$0")/.."

stage=dist/stage
rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/man" "$stage/completions"

swift build -c release --static-swift-stdlib --product synapsefs
cp .build/release/synapsefs "$stage/bin/synapsefs"
strip "$stage/bin/synapsefs"

swift build --product generate-manual
.build/debug/generate-manual "$stage/bin/synapsefs" --authors "synapsefs developers" --output-directory "$stage/man"
"$stage/bin/synapsefs" --generate-completion-script bash >"$stage/completions/synapsefs.bash"
"$stage/bin/synapsefs" --generate-completion-script zsh >"$stage/completions/_synapsefs"
"$stage/bin/synapsefs" --generate-completion-script fish >"$stage/completions/synapsefs.fish"
echo "build-release: $(du -h "$stage/bin/synapsefs" | cut -f1) $stage/bin/synapsefs ($("$stage/bin/synapsefs" --version))"
