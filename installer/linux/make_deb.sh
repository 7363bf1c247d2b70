#!/usr/bin/env bash
# Pack a frozen Vitrine (PyInstaller onedir) into a .deb: make_deb.sh FROZEN VERSION WORK OUT
set -euo pipefail
frozen="$1"; version="$2"; work="$3"; out="$4"
here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$work"
pkg="$work/vitrine"
mkdir -p "$pkg/DEBIAN" "$pkg/opt" "$pkg/usr/bin" "$pkg/usr/share/applications" \
  "$pkg/lib/systemd/system" "$pkg/usr/share/doc/vitrine"
cp -a "$frozen" "$pkg/opt/vitrine"
install -m 0755 "$here/vitrine-launcher.sh" "$pkg/usr/bin/vitrine"
install -m 0644 "$here/vitrine.desktop" "$pkg/usr/share/applications/vitrine.desktop"
install -m 0644 "$here/vitrine.service" "$pkg/lib/systemd/system/vitrine.service"
install -m 0644 "$here/install.conf.example" "$pkg/usr/share/doc/vitrine/install.conf.example"
for s in postinst prerm postrm preinst; do  # common.sh is inlined where marked
  sed -e "/^# @COMMON@/r $here/common.sh" -e "/^# @COMMON@/d" "$here/$s" > "$pkg/DEBIAN/$s"
  chmod 0755 "$pkg/DEBIAN/$s"
done
installed_kb=$(du -sk "$pkg" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$installed_kb/" "$here/control.in" > "$pkg/DEBIAN/control"
mkdir -p "$out"
# xz: the smallest download for a store's slow link (~5 CPU-minutes here); the tests use
# VITRINE_DEB_COMPRESS=zstd (seconds)
case "${VITRINE_DEB_COMPRESS:-xz}" in
  zstd) comp=(-Zzstd -z3) ;;
  *) comp=(-Zxz -z6) ;;
esac
dpkg-deb --root-owner-group "${comp[@]}" --build "$pkg" "$out/vitrine_${version}_amd64.deb" >/dev/null
