#!/usr/bin/env bash
# check-version.sh — fraiseql_wire.control's default_version is the one source
# of the version; everything that repeats it must agree.  Prints TAP lines.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1

version=$(sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" fraiseql_wire.control)
n=0
check() {   # check DESCRIPTION ACTUAL
    n=$((n + 1))
    if [ "$2" = "$version" ]; then
        echo "ok $n - $1 is $version"
    else
        echo "not ok $n - $1 is '$2', fraiseql_wire.control says '$version'"
    fi
}

if [ -z "$version" ]; then
    echo "not ok 1 - default_version missing from fraiseql_wire.control"
    exit 1
fi

meta_version=$(sed -n 's/^   "version": "\([^"]*\)".*/\1/p' META.json | head -n 1)
check "META.json version" "$meta_version"
provides_version=$(sed -n 's/^         "version": "\([^"]*\)".*/\1/p' META.json | head -n 1)
check "META.json provides.fraiseql_wire.version" "$provides_version"

hdr=client/include/fraiseql_wire.h
major=$(sed -n 's/^#define FW_VERSION_MAJOR \([0-9]*\).*/\1/p' "$hdr")
minor=$(sed -n 's/^#define FW_VERSION_MINOR \([0-9]*\).*/\1/p' "$hdr")
patch=$(sed -n 's/^#define FW_VERSION_PATCH \([0-9]*\).*/\1/p' "$hdr")
check "client/include/fraiseql_wire.h FW_VERSION_MAJOR.MINOR.PATCH" "$major.$minor.$patch"
str=$(sed -n 's/^#define FW_VERSION_STRING "\([^"]*\)".*/\1/p' "$hdr")
check "client/include/fraiseql_wire.h FW_VERSION_STRING" "$str"

# Released SQL scripts never change (docs/versioning.md): each is listed in
# extension/sql/released.sha256 with the checksum it was released with.
n=$((n + 1))
sums=extension/sql/released.sha256
if [ ! -s "$sums" ]; then
    echo "not ok $n - $sums lists the released SQL scripts"
elif bad=$(sha256sum --quiet -c "$sums" 2>&1); then
    echo "ok $n - the released SQL scripts in $sums are unchanged"
else
    echo "not ok $n - a released SQL script changed (they are immutable; add a new upgrade script instead)"
    while IFS= read -r line; do echo "# $line"; done <<<"$bad"
fi

# Every frozen install script (fraiseql_wire--A.sql) is a released one, none
# is for the current version (the build makes that one from the fragments),
# and ALTER EXTENSION ... UPDATE can reach the current version from each
# through the upgrade scripts (fraiseql_wire--A--B.sql).
installs=""
upgrades=""
for f in extension/sql/fraiseql_wire--*.sql; do
    [ -e "$f" ] || continue
    b=${f##*/fraiseql_wire--}
    b=${b%.sql}
    case "$b" in
        *--*) upgrades="$upgrades${b%%--*} ${b#*--}"$'\n' ;;
        *) installs="$installs $b" ;;
    esac
done
for v in $installs; do
    n=$((n + 1))
    if [ "$v" = "$version" ]; then
        echo "not ok $n - extension/sql/fraiseql_wire--$v.sql is for the current version (made by the build from extension/sql/install/)"
        continue
    fi
    if ! grep -q "  extension/sql/fraiseql_wire--$v.sql\$" "$sums" 2>/dev/null; then
        echo "not ok $n - extension/sql/fraiseql_wire--$v.sql is not listed in $sums"
        continue
    fi
    reached=" $v "
    frontier=$v
    while [ -n "$frontier" ]; do
        next=""
        for f in $frontier; do
            while read -r a to; do
                [ "$a" = "$f" ] || continue
                case "$reached" in *" $to "*) ;; *) reached="$reached$to "; next="$next $to" ;; esac
            done <<<"$upgrades"
        done
        frontier=$next
    done
    case "$reached" in
        *" $version "*) echo "ok $n - released $v updates to $version through extension/sql/fraiseql_wire--*--*.sql" ;;
        *) echo "not ok $n - no chain of upgrade scripts from released $v to $version in extension/sql/" ;;
    esac
done

# META.json must at least be well-formed JSON with the keys PGXN requires.
n=$((n + 1))
if command -v python3 >/dev/null 2>&1; then
    if python3 -c '
import json, sys
m = json.load(open("META.json"))
need = ["name", "abstract", "version", "maintainer", "license", "provides", "meta-spec"]
missing = [k for k in need if k not in m]
assert not missing, missing
assert m["meta-spec"]["version"] == "1.0.0"
' 2>/dev/null; then
        echo "ok $n - META.json is valid meta-spec 1.0.0 JSON"
    else
        echo "not ok $n - META.json is not valid meta-spec 1.0.0 JSON"
    fi
else
    echo "ok $n - META.json validity # SKIP no python3"
fi
