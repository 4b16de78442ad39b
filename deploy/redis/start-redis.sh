#!/bin/sh
# redis-server with imsync's ACL (compose runs this; so does e2e/least-privilege.int.test.ts).
# The default user is off, so nothing works without a password. imsync's processes share one
# user that reaches only keys under QUEUE_PREFIX (and its hash-tagged queues, {PREFIX-…}: shards,
# and every queue on a cluster), has no pub/sub channels, and is denied every
# command Redis classes as dangerous (FLUSHALL, CONFIG, KEYS, DEBUG, ACL, SHUTDOWN, …) except
# the two that BullMQ and ioredis need: INFO (version and readiness checks) and CLIENT LIST (the
# dashboard's worker list). The password is written as its SHA-256, never in clear.
set -eu
: "${REDIS_PASSWORD:?set REDIS_PASSWORD}"
acl_file="${REDIS_ACL_FILE:-/tmp/imsync-users.acl}"
prefix="${QUEUE_PREFIX:-imsync}"
hash=$(printf '%s' "$REDIS_PASSWORD" | sha256sum | cut -d ' ' -f 1)
umask 077
printf 'user default off\nuser imsync on #%s resetkeys ~%s:* ~{%s-*}:* resetchannels +@all -@dangerous +info +client|list\n' \
  "$hash" "$prefix" "$prefix" > "$acl_file"
exec redis-server --aclfile "$acl_file" "$@"
