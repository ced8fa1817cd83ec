#!/usr/bin/env bash
# Builds native-bench/build/hotpath. Installs Debian's liblmdb-dev, libssl-dev,
# pkg-config and lmdb-utils (mdb_dump, which test/native reads the checkpoints
# with) first if they are missing (only when running as root).
# Idempotent: prints nothing when everything is already in place and built.
set -euo pipefail
cd "$(dirname "$0")"

have_deps() {
  command -v pkg-config >/dev/null 2>&1 &&
    command -v mdb_dump >/dev/null 2>&1 &&
    pkg-config --exists lmdb &&
    pkg-config --exists libcrypto &&
    [ -f "$(pkg-config --variable=includedir libcrypto)/openssl/evp.h" ]
}

if ! have_deps; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "native-bench: liblmdb-dev, libssl-dev, pkg-config and lmdb-utils are needed; run as root or install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq liblmdb-dev libssl-dev pkg-config lmdb-utils >/dev/null
fi

make -s --no-print-directory all
