#!/bin/sh
# Creates a Redis Cluster of the nodes given (host:port …), once: docker-compose.cluster.yml's
# redis-cluster-init runs it on every `up`, so a cluster that already exists is left alone. Exits 0
# only once every node says the cluster is ok and every replica has synced with its master (what
# the apps wait for), and fails, saying why, on a cluster it cannot vouch for. It logs in as the
# nodes' `cluster` user (start-redis.sh), never as imsync's.
#   create-cluster.sh redis-1:6379 redis-2:6379 …   (REDIS_CLUSTER_REPLICAS per master, default 1)
set -eu
: "${REDIS_CLUSTER_PASSWORD:?set REDIS_CLUSTER_PASSWORD}"
if [ "$#" -eq 0 ]; then
  echo 'usage: create-cluster.sh host:port …' >&2
  exit 2
fi
nodes="$*"
replicas="${REDIS_CLUSTER_REPLICAS:-1}"
timeout="${REDIS_CLUSTER_WAIT_SECONDS:-60}"
export REDISCLI_AUTH="$REDIS_CLUSTER_PASSWORD"

# One command to one node (host:port), its reply without INFO's carriage returns.
ask() {
  node=$1
  shift
  redis-cli --user cluster -h "${node%:*}" -p "${node##*:}" "$@" 2>/dev/null | tr -d '\r'
}
field() { sed -n "s/^$1:\([^ ]*\)$/\1/p"; }

answers() { [ "$(ask "$1" ping)" = PONG ]; }
cluster_ok() { [ "$(ask "$1" cluster info | field cluster_state)" = ok ]; }
# A master, or a replica whose link to its master is up (one that never synced cannot take over).
synced() {
  replication=$(ask "$1" info replication)
  [ "$(printf '%s\n' "$replication" | field role)" = master ] ||
    [ "$(printf '%s\n' "$replication" | field master_link_status)" = up ]
}

# Waits until CHECK holds on every node; a node still failing after $timeout s fails the script.
# Cluster state has no event to await from outside: poll it.
until_all() {
  check=$1
  what=$2
  deadline=$(($(date +%s) + timeout))
  for node in $nodes; do
    until $check "$node"; do
      if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "create-cluster: $node is not $what after ${timeout}s" >&2
        exit 1
      fi
      sleep 1
    done
  done
}

# Compose starts this once the nodes are healthy; by hand they may still be starting.
until_all answers 'answering (as user cluster)'

# A node that knows other nodes or serves slots is in a cluster already.
members=''
loners=''
for node in $nodes; do
  info=$(ask "$node" cluster info)
  known=$(printf '%s\n' "$info" | field cluster_known_nodes)
  slots=$(printf '%s\n' "$info" | field cluster_slots_assigned)
  if [ "${known:-1}" -gt 1 ] || [ "${slots:-0}" -gt 0 ]; then
    members="${members:+$members }$node"
  else
    loners="${loners:+$loners }$node"
  fi
done

if [ -z "$members" ]; then
  echo "create-cluster: creating the cluster of $nodes ($replicas replica(s) per master)"
  # shellcheck disable=SC2086 # one argument per node
  redis-cli --user cluster --cluster create $nodes --cluster-replicas "$replicas" --cluster-yes
elif [ -n "$loners" ]; then
  # Not ours to repair: a node whose data was lost, or a cluster changed by hand.
  echo "create-cluster: a cluster exists ($members), but not on $loners; check it with" \
    "redis-cli --user cluster --cluster check ${members%% *} (then add-node, or fix)" >&2
  exit 1
else
  echo "create-cluster: the cluster exists; not creating it again"
fi

until_all cluster_ok 'in a healthy cluster (cluster_state:ok)'
until_all synced 'synced with its master'
echo 'create-cluster: the cluster is ok'
