#!/usr/bin/env bash
# Debian packages Vitrine's tests need: ffmpeg, GStreamer's RTSP server (test camera),
# PostgreSQL (HQ receiver), Chromium (tablet app), Xvfb and Qt's X11 libraries.
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  ffmpeg python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-tools \
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
  postgresql chromium xvfb xauth \
  libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 \
  libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 \
  libxcb-image0 libfontconfig1 libdbus-1-3 fonts-dejavu-core >/dev/null
