#!/usr/bin/env bash
# check-links.sh — every relative link in the project's Markdown files points
# at a file or directory that exists (anchors and external URLs are not
# followed).  Prints TAP lines, one per Markdown file.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1

n=0
while IFS= read -r md; do
    n=$((n + 1))
    dir=$(dirname "$md")
    bad=()
    # [text](target) and [text](target#anchor); skip URLs, mailto: and pure anchors
    while IFS= read -r target; do
        case "$target" in
            ''|'#'*|http://*|https://*|mailto:*) continue ;;
        esac
        path=${target%%#*}
        path=${path%% *}
        [ -e "$dir/$path" ] || bad+=("$target")
    done < <(grep -oE '\]\([^)]*\)' "$md" | sed -e 's/^](//' -e 's/)$//')
    if [ "${#bad[@]}" -eq 0 ]; then
        echo "ok $n - $md: links resolve"
    else
        echo "not ok $n - $md: missing ${bad[*]}"
    fi
done < <(git ls-files -co --exclude-standard -- '*.md' | grep -v '^build/' | sort)
