#!/bin/sh
# Installs heartbeat-rs on this machine (or under DESTDIR for a package):
#   daemons and helpers  -> $LIBDIR (default /usr/lib/heartbeat-rs), where
#                           heartbeat finds its children (docs/ENVIRONMENT.md,
#                           HA_BINDIR);
#   operator tools       -> $SBINDIR (default /usr/sbin; they replace
#                           Pacemaker's tools of the same names there);
#   our OCF agents       -> $OCF_ROOT/resource.d/heartbeat-rs;
#   alert agents         -> $LIBDIR/alerts (docs/ALERTS.md);
#   init script, unit    -> /etc/init.d/heartbeat, $UNITDIR/heartbeat.service.
# Run from the repository after `cargo build --release`.
set -eu
cd "$(dirname "$0")/.."
DESTDIR=${DESTDIR:-}
LIBDIR=${LIBDIR:-/usr/lib/heartbeat-rs}
SBINDIR=${SBINDIR:-/usr/sbin}
OCF_ROOT=${OCF_ROOT:-/usr/lib/ocf}
UNITDIR=${UNITDIR:-/lib/systemd/system}
BIN=${BIN:-target/release}

daemons="heartbeat ccm cib lrmd crmd pengine attrd stonithd pingd ipfail ha-httpd ha-witness ha-witness-check"
tools="cl_status cibadmin crm_diff crm_attribute crm_standby crm_failcount crm_resource crm_mon crm_verify crm_node
       crm_simulate haresources2cib attrd_updater stonith_admin lrmadmin ccm_tool hb_standby hb_takeover"

for b in $daemons $tools; do
    [ -x "$BIN/$b" ] || { echo "install.sh: $BIN/$b is missing (cargo build --release first)" >&2; exit 1; }
done
install -d "$DESTDIR$LIBDIR" "$DESTDIR$LIBDIR/alerts" "$DESTDIR$SBINDIR" "$DESTDIR$OCF_ROOT/resource.d/heartbeat-rs" \
    "$DESTDIR/etc/init.d" "$DESTDIR$UNITDIR" "$DESTDIR/etc/ha.d/resource.d"
for b in $daemons; do install -m 0755 "$BIN/$b" "$DESTDIR$LIBDIR/$b"; done
for b in $tools; do install -m 0755 "$BIN/$b" "$DESTDIR$SBINDIR/$b"; done
for a in agents/ocf/resource.d/heartbeat-rs/*; do
    install -m 0755 "$a" "$DESTDIR$OCF_ROOT/resource.d/heartbeat-rs/$(basename "$a")"
done
for a in agents/alerts/*; do
    install -m 0755 "$a" "$DESTDIR$LIBDIR/alerts/$(basename "$a")"
done
install -m 0755 packaging/init.d/heartbeat "$DESTDIR/etc/init.d/heartbeat"
install -m 0644 packaging/systemd/heartbeat.service "$DESTDIR$UNITDIR/heartbeat.service"
echo "installed into ${DESTDIR:-/}"
