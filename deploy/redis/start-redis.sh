#!/bin/sh
# redis-server with imsync's ACL (compose runs this; so does e2e/least-privilege.int.test.ts).
# The default user is off, so nothing works without a password. imsync's processes share one
# user that reaches only keys under QUEUE_PREFIX (and its hash-tagged queues, {PREFIX-…}: shards,
# and every queue on a cluster), has no pub/sub channels, and is denied every
# command Redis classes as dangerous (FLUSHALL, CONFIG, KEYS, DEBUG, ACL, SHUTDOWN, …) except
# the two that BullMQ and ioredis need: INFO (version and readiness checks) and CLIENT LIST (the
# dashboard's worker list). The password is written as its SHA-256, never in clear.
# On a cluster node (start-redis-cluster-node.sh sets REDIS_CLUSTER_PASSWORD) there is one more
# user, `cluster`, which imsync's processes never get: replicas log in to their master as it
# (replication needs PSYNC, REPLCONF and PING, dangerous commands imsync's user is denied), and so
# does redis-cli --cluster (create-cluster.sh). It reaches no key and no channel.
set -eu
: "${REDIS_PASSWORD:?set REDIS_PASSWORD}"
acl_file="${REDIS_ACL_FILE:-/tmp/imsync-users.acl}"
prefix="${QUEUE_PREFIX:-imsync}"
hash=$(printf '%s' "$REDIS_PASSWORD" | sha256sum | cut -d ' ' -f 1)
umask 077
printf 'user default off\nuser imsync on #%s resetkeys ~%s:* ~{%s-*}:* resetchannels +@all -@dangerous +info +client|list\n' \
  "$hash" "$prefix" "$prefix" > "$acl_file"
if [ -n "${REDIS_CLUSTER_PASSWORD:-}" ]; then
  cluster_hash=$(printf '%s' "$REDIS_CLUSTER_PASSWORD" | sha256sum | cut -d ' ' -f 1)
  printf 'user cluster on #%s resetkeys resetchannels -@all +psync +replconf +ping +cluster +info\n' \
    "$cluster_hash" >> "$acl_file"
fi
exec redis-server --aclfile "$acl_file" "$@"
