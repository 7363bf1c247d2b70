#!/usr/bin/env bash
# Build Vitrine for macOS on Apple silicon (run it on a Mac: it cannot be built on Linux):
#
#   bash installer/macos/build.sh      dist/Vitrine-VERSION-arm64.pkg
#
# The same steps as installer/build.sh (build venv from the app lock + build lock, models
# SHA-256 checked, synthetic sample clip, PyInstaller with installer/vitrine.spec), then
# Vitrine.app (BUNDLE), signed when VITRINE_SIGN_APP ("Developer ID Application: ...") is
# set, a component package with the scripts of installer/macos/scripts, signed with
# VITRINE_SIGN_PKG ("Developer ID Installer: ..."), and notarised when VITRINE_NOTARY_PROFILE
# (a `xcrun notarytool store-credentials` profile) is set.
#
# ONNX Runtime's CoreML execution provider is the Neural Engine path at run time (provider
# "coreml" or "auto" in the settings); coremltools is not used: it no longer converts ONNX.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
[ "$(uname -s)" = Darwin ] || { echo "installer/macos/build.sh runs on macOS" >&2; exit 2; }
venv="${VITRINE_BUILD_VENV:-.venv-build}"
python="${PYTHON:-python3}"
build="$root/build/installer-macos"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --require-hashes --no-deps -r requirements/app.txt
  "$venv/bin/python" -m pip install -q --require-hashes --no-deps -r requirements/build.txt
  "$venv/bin/python" -m pip check
fi
version="${VITRINE_PKG_VERSION:-$("$venv/bin/python" -c 'import tomllib;print(tomllib.load(open("pyproject.toml","rb"))["project"]["version"])')}"
rm -rf "$build" && mkdir -p "$build/bundle/models" "$build/bundle/samples" dist
PYTHONPATH="$root" "$venv/bin/python" installer/stage_assets.py \
  --models-out "$build/bundle/models" --sample-out "$build/bundle/samples/sample.avi"
VITRINE_BUNDLE_EXTRA="$build/bundle" VITRINE_VERSION="$version" PYTHONPATH="$root" \
  "$venv/bin/python" -m PyInstaller --noconfirm --distpath "$build/dist" \
  --workpath "$build/work" installer/vitrine.spec
app="$build/dist/Vitrine.app"
if [ -n "${VITRINE_SIGN_APP:-}" ]; then
  codesign --force --deep --options runtime --timestamp --sign "$VITRINE_SIGN_APP" "$app"
fi
# the launchd definitions the postinstall script chooses from
mkdir -p "$build/scripts"
cp installer/macos/scripts/* "$build/scripts/"
PYTHONPATH="$root" "$venv/bin/python" installer/macos/plists.py "$build/scripts"
mkdir -p "$build/root/Applications"
cp -R "$app" "$build/root/Applications/"
pkg="dist/Vitrine-$version-arm64.pkg"
sign=()
[ -n "${VITRINE_SIGN_PKG:-}" ] && sign=(--sign "$VITRINE_SIGN_PKG")
pkgbuild --root "$build/root" --scripts "$build/scripts" --identifier com.vitrine.app \
  --version "$version" --install-location / "${sign[@]}" "$pkg"
if [ -n "${VITRINE_NOTARY_PROFILE:-}" ]; then
  xcrun notarytool submit "$pkg" --keychain-profile "$VITRINE_NOTARY_PROFILE" --wait
  xcrun stapler staple "$pkg"
fi
echo "built $pkg"
