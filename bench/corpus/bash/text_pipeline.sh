#!/bin/bash
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for ((i = 0; i < 2000; i++)); do
  echo "$((i % 4)),user$((i % 50)),$((i * 7 % 100))"
done > "$dir/data.csv"
[[ $(wc -l < "$dir/data.csv") -eq 2000 ]] || exit 1
total=$(awk -F, '{s += $3} END {print s}' "$dir/data.csv")
expected=0
for ((i = 0; i < 2000; i++)); do expected=$((expected + i * 7 % 100)); done
[[ $total -eq $expected ]] || { echo "total $total != $expected" >&2; exit 1; }
users=$(cut -d, -f2 "$dir/data.csv" | sort -u | wc -l)
[[ $users -eq 50 ]] || exit 1
top=$(cut -d, -f1 "$dir/data.csv" | sort | uniq -c | sort -rn | head -1 | awk '{print $1}')
[[ $top -eq 500 ]] || exit 1
[[ $(grep -c ',user7,' "$dir/data.csv") -eq 40 ]] || exit 1
echo "OK text_pipeline"
