// A 30 MB typed array: node's memory limit is 128 MiB.
const assert = require("assert");

function countPrimes(n) {
  const composite = new Uint8Array(n);
  let count = 0;
  for (let i = 2; i < n; i++) {
    if (composite[i]) continue;
    count++;
    for (let m = i * i; m < n; m += i) composite[m] = 1;
  }
  return count;
}

assert.strictEqual(countPrimes(100), 25);
assert.strictEqual(countPrimes(30_000_000), 1_857_859);
console.log("OK sieve_typed");
