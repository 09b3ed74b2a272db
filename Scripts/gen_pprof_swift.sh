#!/usr/bin/env bash
# Regenerates Sources/ProfileModel/Formats/Generated/profile.pb.swift from profile.proto beside it.
#
# Needs protoc (Debian: apt-get install -y protobuf-compiler) and protoc-gen-swift built from the
# same apple/swift-protobuf version the package resolves (Package.resolved), e.g.:
#   git clone --branch 1.39.0 https://github.com/apple/swift-protobuf /tmp/swift-protobuf-src
#   (cd /tmp/swift-protobuf-src && swift build -c release --product protoc-gen-swift)
# Set PROTOC_GEN_SWIFT to the plugin's path, or put it on PATH.
# The generated file is committed: building perftop never runs protoc.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dir="$here/Sources/ProfileModel/Formats/Generated"
plugin="${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || echo /tmp/swift-protobuf-src/.build/release/protoc-gen-swift)}"
[ -x "$plugin" ] || { echo "protoc-gen-swift not found (set PROTOC_GEN_SWIFT)" >&2; exit 1; }
command -v protoc >/dev/null || { echo "protoc not found (apt-get install -y protobuf-compiler)" >&2; exit 1; }
protoc --plugin=protoc-gen-swift="$plugin" \
       --proto_path="$dir" \
       --swift_out="$dir" \
       --swift_opt=Visibility=Internal \
       "$dir/profile.proto"
echo "wrote $dir/profile.pb.swift"
