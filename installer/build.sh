#!/usr/bin/env bash
# Build the Linux x86-64 package of Vitrine into dist/ (no network needed once the wheels
# are cached, see VITRINE_WHEELS):
#
#   bash installer/build.sh            dist/vitrine_VERSION_amd64.deb
#   bash installer/build.sh --repack   re-pack the last frozen app (no PyInstaller run):
#                                      with VITRINE_EXTRA_MIGRATIONS and VITRINE_PKG_VERSION,
#                                      how the tests make an upgrade package quickly
#
# Steps: a build venv (.venv-build) from the app lock + the build lock (hashes checked);
# the catalog's models copied from VITRINE_MODELS_DIR (default ../shared/models) with
# their SHA-256 checked against app/vision/models.py; a synthetic sample clip rendered
# for `vitrine selftest`; PyInstaller (onedir) freezes the app; dpkg-deb packs it to
# install into /opt/vitrine with /usr/bin/vitrine, a desktop entry, a systemd unit and
# the maintainer scripts of installer/linux/.
#
# Environment:
#   VITRINE_MODELS_DIR     where the model files are (default ../shared/models)
#   VITRINE_WHEELS         a folder of wheels: install the build venv from it, offline
#   VITRINE_BUILD_VENV     the build venv (default .venv-build)
#   VITRINE_PKG_VERSION    the package version (default: pyproject's version)
#   VITRINE_DEB_COMPRESS   xz (default: smallest) or zstd (fast, what the tests use)
#   VITRINE_EXTRA_MIGRATIONS  with --repack: extra store migrations to add (tests)
set -euo pipefail
repack=0
case "${1:-}" in
  --repack) repack=1 ;;
  "") ;;
  *) echo "usage: bash installer/build.sh [--repack]" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
root="$PWD"
start=$(date +%s)
venv="${VITRINE_BUILD_VENV:-.venv-build}"
python="${PYTHON:-python3}"
build="$root/build/installer"
say() { echo "[build $(( $(date +%s) - start ))s] $*" >&2; }

# 1. the build venv: exactly the app lock, plus PyInstaller from the build lock
stamp="$venv/.vitrine-build-lock"
want="$(cat requirements/app.txt requirements/build.txt | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "creating the build venv in $venv (requirements/app.txt + requirements/build.txt)"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  pip_opts=(-q --disable-pip-version-check --require-hashes --no-deps)
  if [ -n "${VITRINE_WHEELS:-}" ]; then
    pip_opts+=(--no-index --find-links "$VITRINE_WHEELS")
  fi
  "$venv/bin/python" -m pip install "${pip_opts[@]}" -r requirements/app.txt
  "$venv/bin/python" -m pip install "${pip_opts[@]}" -r requirements/build.txt
  "$venv/bin/python" -m pip check
  echo "$want" > "$stamp"
fi
bpy="$root/$venv/bin/python"
[ -x "$bpy" ] || bpy="$venv/bin/python"

version="${VITRINE_PKG_VERSION:-$("$bpy" -c 'import tomllib;print(tomllib.load(open("pyproject.toml","rb"))["project"]["version"])')}"
if [ "$repack" = 1 ]; then
  [ -x "$build/dist/vitrine/vitrine" ] || { echo "nothing to re-pack: run installer/build.sh first" >&2; exit 2; }
  frozen="$build/repack/vitrine"
  rm -rf "$build/repack" && mkdir -p "$build/repack"
  cp -a "$build/dist/vitrine" "$frozen"
  if [ -n "${VITRINE_EXTRA_MIGRATIONS:-}" ]; then
    cp "$VITRINE_EXTRA_MIGRATIONS"/*.py "$frozen/_internal/app/store/migrations/versions/"
  fi
  bash installer/linux/make_deb.sh "$frozen" "$version" "$build/deb" dist
  say "done: dist/vitrine_${version}_amd64.deb (re-packed)"
  exit 0
fi
rm -rf "$build"
mkdir -p "$build/bundle/models" "$build/bundle/samples" dist

# 2. the models, checked against the catalog; 3. the synthetic sample clip
say "copying the models (SHA-256 checked against the catalog)"
PYTHONPATH="$root" "$bpy" installer/stage_assets.py --models-out "$build/bundle/models" \
  --sample-out "$build/bundle/samples/sample.avi"

# 4. freeze
say "freezing the app with PyInstaller (onedir)"
VITRINE_BUNDLE_EXTRA="$build/bundle" PYTHONPATH="$root" "$bpy" -m PyInstaller --noconfirm \
  --log-level WARN --distpath "$build/dist" --workpath "$build/work" installer/vitrine.spec
frozen="$build/dist/vitrine"

# 5. the .deb
say "packing the .deb"
bash installer/linux/make_deb.sh "$frozen" "$version" "$build/deb" dist
size=$(du -sh "$frozen" | cut -f1)
say "done: dist/vitrine_${version}_amd64.deb ($(du -h "dist/vitrine_${version}_amd64.deb" | cut -f1), $size installed)"
