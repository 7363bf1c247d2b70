#!/bin/sh
# /usr/bin/vitrine: the installed, frozen Vitrine (/opt/vitrine); same commands as main.py.
exec /opt/vitrine/vitrine "$@"
