#!/bin/sh
# One node of a Redis Cluster (docker-compose.cluster.yml; e2e/compose-cluster.int.test.ts runs
# it too): start-redis.sh's ACL plus the `cluster` user (REDIS_CLUSTER_PASSWORD), the arguments
# given (cluster mode, AOF, …), and what this node says about itself:
# - it announces its hostname (the container's, which compose sets to the service's name and
#   resolves on its network; REDIS_ANNOUNCE_HOSTNAME overrides it). With
#   `--cluster-preferred-endpoint-type hostname`, CLUSTER SLOTS and MOVED send clients to that
#   name, not to an address;
# - as a replica it logs in to its master as `cluster`. Passed here, not in the compose file, so
#   the password comes from the environment like REDIS_PASSWORD (Redis replaces its command line
#   with its process title at start).
set -eu
: "${REDIS_CLUSTER_PASSWORD:?set REDIS_CLUSTER_PASSWORD}"
hostname="${REDIS_ANNOUNCE_HOSTNAME:-$(hostname)}"
exec sh "$(dirname "$0")/start-redis.sh" \
  --cluster-announce-hostname "$hostname" \
  --masteruser cluster \
  --masterauth "$REDIS_CLUSTER_PASSWORD" \
  "$@"
