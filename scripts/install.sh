#!/usr/bin/env bash
# Publishes gpumuxd and gpumuxctl and installs them, with the systemd units, the sysusers file and
# the default configuration, as docs/configuration.md ("Installing") describes. Under $DESTDIR
# when it is set (a package's staging root, or a scratch directory), else under /.
#   sudo scripts/install.sh                          NativeAOT binaries, installed under /
#   DESTDIR=/tmp/root scripts/install.sh             the same tree under /tmp/root
#   DESTDIR=/tmp/root scripts/install.sh --single-file
# --single-file publishes self-contained single-file binaries instead of NativeAOT ones, for a
# machine without the clang toolchain that NativeAOT links with.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mode=(-p:PublishAot=true)
if [[ ${1:-} == --single-file ]]; then
  mode=(-p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true --self-contained)
fi
rid=linux-$(uname -m | sed -e 's/x86_64/x64/' -e 's/aarch64/arm64/')
root=${DESTDIR:-}

dotnet publish src/GpuMux.Daemon -c Release -r "$rid" "${mode[@]}" -o artifacts/publish/gpumuxd -nologo -v quiet
dotnet publish src/GpuMux.Cli -c Release -r "$rid" "${mode[@]}" -o artifacts/publish/gpumuxctl -nologo -v quiet

install -D -m 0755 artifacts/publish/gpumuxd/gpumuxd "$root/usr/bin/gpumuxd"
install -D -m 0755 artifacts/publish/gpumuxctl/gpumuxctl "$root/usr/bin/gpumuxctl"
install -D -m 0644 -t "$root/etc/systemd/system" deploy/systemd/gpumuxd.service deploy/systemd/gpumuxd.socket
install -D -m 0644 -t "$root/etc/sysusers.d" deploy/sysusers.d/gpumuxd.conf
if [[ ! -e $root/etc/gpumuxd/gpumuxd.json ]]; then
  # An operator's own configuration is kept.
  install -D -m 0644 deploy/gpumuxd.json "$root/etc/gpumuxd/gpumuxd.json"
fi
