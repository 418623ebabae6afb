#!/usr/bin/env bash
# Build the tools and walk through
# seed 002's "edit the CIB while it runs" workflow on examples/cib.xml,
# offline (CIB_file), showing what changed as a Pacemaker patchset.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q --bin cibadmin --bin crm_diff
bin=${CARGO_TARGET_DIR:-target}/release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp examples/cib.xml "$work/cib.xml"
export CIB_file="$work/cib.xml"

echo "== cibadmin -Q -o constraints"
"$bin/cibadmin" -Q -o constraints

echo "== seed 002: cibadmin -Q > tmp.xml; edit; cibadmin -R -x tmp.xml"
"$bin/cibadmin" -Q > "$work/tmp.xml"
cp "$work/cib.xml" "$work/before.xml"
# Prefer mysql2 from now on: raise its rule from 150 to 250.
sed -i 's/id="mysql2_group_mysql" score="150"/id="mysql2_group_mysql" score="250"/' "$work/tmp.xml"
"$bin/cibadmin" -R -x "$work/tmp.xml"

echo "== crm_diff: what the replace changed"
"$bin/crm_diff" -o "$work/before.xml" -n "$work/cib.xml" || [ $? -eq 1 ]

echo "== cibadmin -C: add a resource; -D: delete it again"
"$bin/cibadmin" -C -o resources -X '<primitive id="www" class="lsb" type="httpd"/>'
"$bin/cibadmin" -Q --xpath "//primitive[@id='www']"
"$bin/cibadmin" -D -X '<primitive id="www"/>'

echo "== a rejected update leaves the file untouched"
sum=$(md5sum < "$CIB_file")
if "$bin/cibadmin" -C -o resources -X '<primitive id="mysql_db" class="lsb" type="mysql"/>'; then
    echo "unexpected success" >&2; exit 1
else
    echo "(exit $?: already exists)"
fi
[ "$(md5sum < "$CIB_file")" = "$sum" ] && echo "file byte-identical"
