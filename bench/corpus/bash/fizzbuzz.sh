#!/bin/bash
set -eu
fizz=0 buzz=0 fizzbuzz=0 numbers=0
for ((i = 1; i <= 3000; i++)); do
  out=""
  ((i % 3 == 0)) && out+="Fizz"
  ((i % 5 == 0)) && out+="Buzz"
  case "$out" in
    FizzBuzz) ((fizzbuzz += 1)) ;;
    Fizz) ((fizz += 1)) ;;
    Buzz) ((buzz += 1)) ;;
    *) ((numbers += 1)) ;;
  esac
done
[[ $fizzbuzz -eq 200 && $fizz -eq 800 && $buzz -eq 400 && $numbers -eq 1600 ]] || { echo "wrong counts" >&2; exit 1; }
echo "OK fizzbuzz"
