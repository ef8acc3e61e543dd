#!/bin/bash
set -eu
gcd() { local a=$1 b=$2 t; while ((b)); do t=$((a % b)); a=$b; b=$t; done; echo "$a"; }
is_prime() { local n=$1 d; ((n < 2)) && return 1; for ((d = 2; d * d <= n; d++)); do ((n % d == 0)) && return 1; done; return 0; }
[[ $(gcd 1071 462) -eq 21 && $(gcd 17 5) -eq 1 ]] || exit 1
count=0
for ((n = 0; n < 2000; n++)); do is_prime "$n" && ((count += 1)); done
[[ $count -eq 303 ]] || { echo "prime count $count" >&2; exit 1; }
lcm=1
for ((k = 1; k <= 20; k++)); do g=$(gcd $lcm $k); lcm=$((lcm / g * k)); done
[[ $lcm -eq 232792560 ]] || exit 1
echo "OK gcd_primes"
