#!/bin/sh
# Write PgBouncer's auth file from the database password secret, then become PgBouncer.
#
# The auth file holds the one user the app logs in as, with the password PgBouncer also
# uses towards PostgreSQL (SCRAM on both sides). It lives on a tmpfs, readable only by
# this user, and is never baked into the image. Arguments go to pgbouncer (the image's CMD
# is the ini file).
#   PGBOUNCER_USER           the database user            picus
#   PGBOUNCER_PASSWORD_FILE  its password (a secret file) /run/secrets/db_password
#   PGBOUNCER_AUTH_FILE      where to write the auth file /run/pgbouncer/userlist.txt
#                            (must match auth_file in the ini)
#   PGBOUNCER_BINARY         the pgbouncer executable     pgbouncer
set -eu

user=${PGBOUNCER_USER:-picus}
password_file=${PGBOUNCER_PASSWORD_FILE:-/run/secrets/db_password}
auth_file=${PGBOUNCER_AUTH_FILE:-/run/pgbouncer/userlist.txt}

if [ ! -r "$password_file" ]; then
  echo "picus-pgbouncer: cannot read the password file $password_file" >&2
  exit 1
fi
# Trailing newlines dropped (as the postgres image and Picus read the same secret).
password=$(cat "$password_file")
if [ -z "$password" ]; then
  echo "picus-pgbouncer: $password_file is empty" >&2
  exit 1
fi

umask 077
mkdir -p "$(dirname "$auth_file")"
# userlist.txt: "user" "password", a double quote inside a field written twice.
quote() { printf '"%s"' "$(printf '%s' "$1" | sed 's/"/""/g')"; }
printf '%s %s\n' "$(quote "$user")" "$(quote "$password")" > "$auth_file"

exec "${PGBOUNCER_BINARY:-pgbouncer}" "$@"
