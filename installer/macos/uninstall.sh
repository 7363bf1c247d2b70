#!/bin/sh
# Uninstall Vitrine from a Mac (packages have no uninstaller):
#   sudo sh uninstall.sh            remove the app and its autostart, keep the data
#   sudo sh uninstall.sh --purge    also wipe the service's data and secrets
set -e
SUPPORT="/Library/Application Support/Vitrine"
launchctl bootout system/com.vitrine.serve 2>/dev/null || true
rm -f /Library/LaunchAgents/com.vitrine.desktop.plist /Library/LaunchDaemons/com.vitrine.serve.plist
rm -rf /Applications/Vitrine.app
pkgutil --forget com.vitrine.app >/dev/null 2>&1 || true
if [ "${1:-}" = --purge ]; then
  rm -rf "$SUPPORT"
  dscl . -delete /Users/_vitrine 2>/dev/null || true
  dscl . -delete /Groups/_vitrine 2>/dev/null || true
  echo "Vitrine removed with the service's data; each user's ~/Library/Application Support/Vitrine is theirs"
else
  echo "Vitrine removed; data kept in $SUPPORT (again with --purge to wipe it)"
fi
