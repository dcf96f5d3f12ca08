# Network-namespace harness: a private 10.200.0.0/24 LAN of "hosts" on one machine.
# Source it from bash (needs root and iproute2). The machine's own network is never touched: the bridge lives
# in its own namespace, every host in another, joined by veth pairs.
#
#   source cluster/netns/lib.sh
#   lum_net_init              # bridge namespace; sets LUM_NET_PREFIX (unique per run, so runs can overlap)
#   lum_net_add_host head 1   # namespace "${LUM_NET_PREFIX}head", address 10.200.0.1/24 on its eth0
#   lum_net_exec head CMD...  # run CMD inside that host
#   lum_net_cut head / lum_net_heal head   # pull / plug the host's cable (fault injection, issue 8)
#   lum_net_teardown          # kill what still runs in the namespaces, delete them (call it from a trap)

LUM_NET_SUBNET="${LUM_NET_SUBNET:-10.200.0}"
LUM_NET_HOSTS=()

lum_net_init() {
    # Short: interface names are limited to 15 characters and carry the prefix too.
    LUM_NET_PREFIX="${LUM_NET_PREFIX:-lm$(( $$ % 100000 ))}"
    LUM_NET_BRIDGE_NS="${LUM_NET_PREFIX}br"
    ip netns add "$LUM_NET_BRIDGE_NS"
    ip -n "$LUM_NET_BRIDGE_NS" link set lo up
    ip -n "$LUM_NET_BRIDGE_NS" link add br0 type bridge
    ip -n "$LUM_NET_BRIDGE_NS" link set br0 up
}

lum_net_ns() { printf '%s%s' "$LUM_NET_PREFIX" "$1"; }

# lum_net_add_host NAME N: a namespace with eth0 = ${LUM_NET_SUBNET}.N/24, cabled to the bridge.
lum_net_add_host() {
    local name="$1" n="$2" ns cable
    ns="$(lum_net_ns "$name")"
    cable="${LUM_NET_PREFIX}v${n}"
    ip netns add "$ns"
    LUM_NET_HOSTS+=("$name")
    # Both ends are created in the bridge namespace, then one end moves into the host and is renamed eth0.
    ip -n "$LUM_NET_BRIDGE_NS" link add "$cable" type veth peer name "${cable}h"
    ip -n "$LUM_NET_BRIDGE_NS" link set "${cable}h" netns "$ns"
    ip -n "$ns" link set "${cable}h" name eth0
    ip -n "$LUM_NET_BRIDGE_NS" link set "$cable" master br0 up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "${LUM_NET_SUBNET}.${n}/24" dev eth0
    ip -n "$ns" link set eth0 up
}

lum_net_addr() {
    ip -n "$(lum_net_ns "$1")" -4 -o addr show dev eth0 | awk '{split($4, a, "/"); print a[1]}'
}

lum_net_exec() {
    local name="$1"; shift
    ip netns exec "$(lum_net_ns "$name")" "$@"
}

# The host's end of its cable on the bridge goes down / up: the peer sees NO-CARRIER, packets are dropped.
lum_net_cut() { ip -n "$(lum_net_ns "$1")" link set eth0 down; }
lum_net_heal() { ip -n "$(lum_net_ns "$1")" link set eth0 up; }

# lum_net_wait_tcp HOST ADDR PORT SECONDS: from inside HOST, wait until ADDR:PORT accepts connections.
lum_net_wait_tcp() {
    local name="$1" addr="$2" port="$3" limit="$4" i
    for ((i = 0; i < limit * 10; i++)); do
        if lum_net_exec "$name" bash -c "exec 3<>/dev/tcp/$addr/$port" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}

lum_net_teardown() {
    local name ns pids
    for name in "${LUM_NET_HOSTS[@]}"; do
        ns="$(lum_net_ns "$name")"
        # Only processes that live in our own namespaces: what this run started there.
        pids="$(ip netns pids "$ns" 2>/dev/null)"
        if [ -n "$pids" ]; then kill -TERM $pids 2>/dev/null; fi
    done
    sleep 0.5
    for name in "${LUM_NET_HOSTS[@]}"; do
        ns="$(lum_net_ns "$name")"
        pids="$(ip netns pids "$ns" 2>/dev/null)"
        if [ -n "$pids" ]; then kill -KILL $pids 2>/dev/null; fi
        ip netns del "$ns" 2>/dev/null
    done
    [ -n "${LUM_NET_BRIDGE_NS:-}" ] && ip netns del "$LUM_NET_BRIDGE_NS" 2>/dev/null
    LUM_NET_HOSTS=()
    return 0
}
