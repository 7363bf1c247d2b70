# shellcheck shell=sh
# Shared by the maintainer scripts (sourced): read /etc/vitrine/install.conf, with the
# environment given to dpkg taking precedence.
CONF="${DPKG_ROOT:-}/etc/vitrine/install.conf"
conf_get() {  # conf_get KEY DEFAULT
  _v=$(printenv "VITRINE_$1" 2>/dev/null || true)
  if [ -z "$_v" ] && [ -f "$CONF" ]; then
    _v=$(sed -n "s/^[[:space:]]*$1=//p" "$CONF" | tail -n 1 | tr -d '"'"'"' \r')
  fi
  echo "${_v:-$2}"
}
