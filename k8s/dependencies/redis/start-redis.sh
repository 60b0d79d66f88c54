#!/bin/sh
# Starts Redis with the ACL users of users.acl.template (docker compose and the dev overlay): drops
# the template's comments, fills in the key prefix and the SHA-256 of each password, so that no
# password is written anywhere in clear. Extra arguments go to redis-server.
set -eu
template="${ACL_TEMPLATE:-/etc/redis-acl/users.acl.template}"
acl_file="${ACL_FILE:-/run/redis/users.acl}"
: "${REDIS_PASSWORD:?the default (gateway) user password}"
: "${FETCHER_REDIS_PASSWORD:?the cimd-fetcher user password}"
prefix="${CIMD_REDIS_PREFIX:-cimd}"
case "$prefix" in
  '' | *[!A-Za-z0-9_-]*)
    echo "start-redis: CIMD_REDIS_PREFIX must be letters, digits, _ or - (got '$prefix')" >&2
    exit 2
    ;;
esac
sha256() { printf '%s' "$1" | sha256sum | cut -d ' ' -f 1; }
mkdir -p "$(dirname "$acl_file")"
sed -e '/^#/d' -e '/^[[:space:]]*$/d' \
  -e "s/\${CIMD_REDIS_PREFIX}/$prefix/g" \
  -e "s/\${DEFAULT_PASSWORD_SHA256}/$(sha256 "$REDIS_PASSWORD")/g" \
  -e "s/\${FETCHER_PASSWORD_SHA256}/$(sha256 "$FETCHER_REDIS_PASSWORD")/g" \
  "$template" >"$acl_file"
exec redis-server --aclfile "$acl_file" --save '' --appendonly no "$@"
