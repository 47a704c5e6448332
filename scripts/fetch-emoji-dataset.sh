#!/usr/bin/env bash
# Downloads the Noto-emoji training set, the npm package emoji-datasource-google 16.0.0 (74 MB), checks it against
# the registry's published sha512 integrity and puts it at DEST/emoji-datasource-google-16.0.0.tgz atomically (the
# file appears only once verified). glide reads the .tgz directly; there is nothing to unpack.
#   usage: scripts/fetch-emoji-dataset.sh [DEST]     (DEST defaults to ./data)
set -euo pipefail

PACKAGE=emoji-datasource-google
VERSION=16.0.0
INTEGRITY='sha512-ZRexfzs7MVoLnmzZmNsO4TKhnAJp5D++Vm6PpUpH/jEQQlemp3l88CjZ+DoZ2faM9R4QxZkOPJCoT8DlPhfQ3A=='
DEST=${1:-data}
FILE="$PACKAGE-$VERSION.tgz"
TARGET="$DEST/$FILE"

integrity() {
    echo "sha512-$(openssl dgst -sha512 -binary "$1" | base64 -w0)"
}

for tool in npm openssl base64; do
    command -v "$tool" >/dev/null || { echo "error: $tool is needed (npm from Node.js, openssl, coreutils)" >&2; exit 1; }
done
mkdir -p "$DEST"
if [[ -f "$TARGET" ]]; then
    if [[ "$(integrity "$TARGET")" == "$INTEGRITY" ]]; then
        echo "$TARGET is already there and verified"
        exit 0
    fi
    echo "$TARGET exists but does not match $INTEGRITY; downloading it again" >&2
fi

# the temporary folder is beside the target so that the final rename stays on one file system
TMP=$(mktemp -d "$DEST/.fetch-emoji.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null)
GOT=$(integrity "$TMP/$FILE")
if [[ "$GOT" != "$INTEGRITY" ]]; then
    echo "error: $FILE from npm has integrity $GOT, expected $INTEGRITY; not keeping it" >&2
    exit 1
fi
sync "$TMP/$FILE" 2>/dev/null || true
mv -f "$TMP/$FILE" "$TARGET"
echo "$TARGET verified ($INTEGRITY)"
