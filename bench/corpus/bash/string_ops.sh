#!/bin/bash
set -eu
# Sets REVERSED (no subshell: a fork per call would cost more than the work).
reverse_into() { local s=$1 i; REVERSED=""; for ((i = ${#s} - 1; i >= 0; i--)); do REVERSED+=${s:i:1}; done; }
reverse() { reverse_into "$1"; echo "$REVERSED"; }
[[ $(reverse "hello world") == "dlrow olleh" ]] || exit 1
text="the quick brown fox jumps over the lazy dog"
declare -A count
for w in $text $text $text; do count[$w]=$(( ${count[$w]:-0} + 1 )); done
[[ ${count[the]} -eq 6 && ${count[fox]} -eq 3 && ${#count[@]} -eq 8 ]] || exit 1
upper=${text^^}
[[ $upper == "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG" ]] || exit 1
replaced=${text//o/0}
[[ $replaced == "the quick br0wn f0x jumps 0ver the lazy d0g" ]] || exit 1
pal=0
for ((n = 0; n < 3000; n++)); do reverse_into "$n"; [[ $n == "$REVERSED" ]] && ((pal += 1)); done
[[ $pal -eq 129 ]] || { echo "palindromes $pal" >&2; exit 1; }
echo "OK string_ops"
