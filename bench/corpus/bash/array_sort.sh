#!/bin/bash
set -eu
seed=42
rnd() { seed=$(( (seed * 1103515245 + 12345) % 2147483648 )); }
a=()
for ((i = 0; i < 300; i++)); do rnd; a+=($((seed % 1000))); done
# insertion sort in bash
b=("${a[@]}")
for ((i = 1; i < ${#b[@]}; i++)); do
  x=${b[i]}; j=$((i - 1))
  while ((j >= 0 && b[j] > x)); do b[j + 1]=${b[j]}; ((j -= 1)) || true; done
  b[j + 1]=$x
done
expected=$(printf '%s\n' "${a[@]}" | sort -n | tr '\n' ' ')
got="${b[*]} "
[[ $got == "$expected" ]] || { echo "sort mismatch" >&2; exit 1; }
sum=0; for x in "${a[@]}"; do sum=$((sum + x)); done
[[ $sum -eq $(printf '%s\n' "${a[@]}" | awk '{s += $1} END {print s}') ]] || exit 1
echo "OK array_sort"
