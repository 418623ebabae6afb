#!/usr/bin/env bash
# The main job: a 3-node cluster in the lab (docs/LAB.md), each node a
# separate host in its own namespaces running the full stack (heartbeat
# with `crm respawn`: ccm, cib, lrmd, attrd, pengine, crmd), a floating
# address (ocf:heartbeat:IPaddr2, Debian's resource-agents) grouped with
# the demo HTTP service (ocf:heartbeat-rs:Httpd, answering with the
# node's name). A client outside the nodes fetches the page through the
# floating address; the active node is powered off; the client polls
# every 50 ms until another node answers, and the time is printed.
#
# Needs root (namespaces), Debian's apt-get for what is missing, and the
# Rust toolchain. Everything it builds is in target/release; everything it
# creates on the machine (namespaces hl-demo-*) is removed at the end, on
# error and on Ctrl-C. Node logs stay in /tmp/ha-lab/demo for reading.
#
# Settings (environment): DEMO_KEEPALIVE_MS (200), DEMO_DEADTIME_MS (1000),
# DEMO_VIP (10.213.0.100), DEMO_NO_BUILD=1 uses target/release as it is,
# DEMO_KEEP=1 leaves the lab running at the end
# (`target/release/ha-lab --name demo destroy` removes it).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

keepalive=${DEMO_KEEPALIVE_MS:-200}
deadtime=${DEMO_DEADTIME_MS:-1000}
vip=${DEMO_VIP:-10.213.0.100}
name=demo
root=/tmp/ha-lab/$name
bin=${CARGO_TARGET_DIR:-$repo/target}/release

step() { printf '\n== %s\n' "$*"; }
die() { echo "cluster-demo: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (network, PID and mount namespaces); try: sudo $0"

# What the lab and the agents need, as .ci/run installs it.
need=()
command -v ip >/dev/null || need+=(iproute2)
command -v nft >/dev/null || need+=(nftables)
command -v nsenter >/dev/null || need+=(util-linux)
test -x /usr/lib/ocf/resource.d/heartbeat/IPaddr2 || need+=(resource-agents)
if ((${#need[@]})); then
    step "apt-get install ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Packages must not start daemons on this host: only the lab's nodes
    # run cluster software.
    added_policy=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        added_policy=1
    fi
    apt-get update -qq || true
    apt-get install -y -qq "${need[@]}" >/dev/null
    [ -z "$added_policy" ] || rm -f /usr/sbin/policy-rc.d
fi

if [ "${DEMO_NO_BUILD:-}" = 1 ]; then
    [ -x "$bin/ha-lab" ] || die "DEMO_NO_BUILD=1 but $bin/ha-lab is not built"
else
    step "cargo build --release (every daemon, tool and agent helper)"
    cargo build --release -q -j"${CARGO_BUILD_JOBS:-2}" --workspace --bins
fi

lab() { "$bin/ha-lab" --name "$name" "$@"; }

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ "${DEMO_KEEP:-}" = 1 ] && [ $rc = 0 ]; then
        echo "lab $name left running (DEMO_KEEP=1): $bin/ha-lab --name $name destroy"
        exit 0
    fi
    if [ -e "$root/lab.json" ]; then
        step "destroy the lab (logs stay in $root/n*/ha-log)"
        lab destroy || true
    fi
    exit $rc
}
trap cleanup EXIT
trap 'echo; echo "interrupted"; exit 130' INT TERM

# A previous run killed hard may have left its namespaces.
lab cleanup --only >/dev/null
rm -rf "$root"

step "create 3 nodes (keepalive ${keepalive} ms, deadtime ${deadtime} ms, crm respawn) and start heartbeat"
lab create --nodes 3 --crm respawn --ocf-overlay "$repo/agents/ocf/resource.d" \
    --keepalive-ms "$keepalive" --deadtime-ms "$deadtime" \
    --warntime-ms $((deadtime / 2)) --initdead-ms $((deadtime * 4 > 2000 ? deadtime * 4 : 2000))
lab start

# Bounded wait: a command (run on the lab) until it succeeds.
wait_until() { # seconds what command...
    local limit=$1 what=$2; shift 2
    local end=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < end)) || die "timed out after ${limit} s waiting for $what"
        sleep 0.2
    done
}
step "wait for the nodes to elect a DC"
dc_elected() { lab exec n1 crm_mon -1 | grep -q 'Current DC: n[0-9]'; }
wait_until 60 "a DC" dc_elected

step "load the configuration (examples/cluster/*.xml) through n1's cib"
witness=$root/witness.log
: > "$witness"
sed -e "s|@VIP@|$vip|g" -e "s|@WITNESS@|$witness|g" examples/cluster/web.xml > "$root/web.xml"
cp examples/cluster/crm_config.xml "$root/crm_config.xml"
lab exec n1 cibadmin -M -o crm_config -x "$root/crm_config.xml" 2>/dev/null ||
    lab exec n1 cibadmin -C -o crm_config -x "$root/crm_config.xml"
lab exec n1 cibadmin -C -o resources -x "$root/web.xml"

# The client: the bridge namespace, outside every node (10.213.0.254).
get() { lab client ha-lab probe --ip "$vip" --port 80 -q "$@"; }
step "wait until http://$vip/ answers"
active=$(get --limit-s 60) || die "the service never answered"

# The page answers as soon as the server listens; the status section
# records the start a moment later.
both_started() {
    local mon; mon=$(lab exec n2 crm_mon -1)
    [ "$(grep -c "Started $active" <<<"$mon")" -ge 2 ]
}
wait_until 30 "crm_mon to show the group started" both_started
step "crm_mon -1 (on n2)"
lab exec n2 crm_mon -1 || true

step "the client fetches http://$vip/"
lab client ha-lab probe --ip "$vip" --port 80 -q --limit-s 5

dc=$(lab exec n1 crm_mon -1 | sed -n 's/.*Current DC: \(n[0-9]*\).*/\1/p')
step "power off $active (the active node$([ "$active" = "$dc" ] && echo ", and the DC")): ha-lab kill"
t0=$(date +%s%N)
lab kill "$active" --drop-floating
# Every process of the node is gone: the witness log says so, as the lab
# fence agent would (the check then knows its service ended here).
"$bin/ha-witness" --file "$witness" --node "$active" fenced -
new=$(get --until-not "$active" --interval-ms 50 --limit-s 120) || die "no other node answered within 120 s"
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
echo "answered by: $new"
printf 'failover: %s -> %s in %d.%03d s (power-off to the first answer, polled every 50 ms)\n' \
    "$active" "$new" $((ms / 1000)) $((ms % 1000))

survivor=$new
step "crm_mon -1 (on $survivor)"
started_on_survivor() {
    local mon; mon=$(lab exec "$survivor" crm_mon -1)
    [ "$(grep -c "Started $survivor" <<<"$mon")" -ge 2 ]
}
wait_until 30 "crm_mon to show the group on $survivor" started_on_survivor
lab exec "$survivor" crm_mon -1 || true

step "witness log: no two nodes ever ran the service at once"
cat "$witness"
"$bin/ha-witness-check" "$witness"
