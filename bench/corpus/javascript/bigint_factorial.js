const assert = require("assert");

function factorial(n) {
  let r = 1n;
  for (let k = 2n; k <= n; k++) r *= k;
  return r;
}

function fib(n) {
  let a = 0n, b = 1n;
  for (let i = 0; i < n; i++) [a, b] = [b, a + b];
  return a;
}

const digitSum = (x) => [...x.toString()].reduce((s, d) => s + Number(d), 0);
assert.strictEqual(digitSum(factorial(100n)), 648);
assert.strictEqual(digitSum(2n ** 1000n), 1366);
assert.strictEqual(fib(100), 354224848179261915075n);
assert.strictEqual(fib(5000).toString().length, 1045);
assert.strictEqual(factorial(1000n) % 1000000007n, factorial(1000n) - (factorial(1000n) / 1000000007n) * 1000000007n);
console.log("OK bigint_factorial");
