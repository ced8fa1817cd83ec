#!/usr/bin/env bash
# The Debian packages the tests start real counterparts from: sshd for ssh.run,
# podman with runc (serving the Docker API) and busybox for container.exec,
# and chromium, which Playwright drives for the UI tests (its own browser download cannot work here).
# Installs what is missing, as root, with apt-get; does nothing when all are there.
set -euo pipefail
PACKAGES=(openssh-server podman runc busybox-static chromium)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "the tests need these Debian packages: ${missing[*]} — install them as root (apt-get install -y ${missing[*]}) and run the tests again" >&2
  exit 1
fi
echo "installing what the tests need: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq "${missing[@]}" >/dev/null
