<?php
function sieve(int $n): array {
    $composite = array_fill(0, $n + 1, false);
    $primes = [];
    for ($i = 2; $i <= $n; $i++) {
        if ($composite[$i]) continue;
        $primes[] = $i;
        for ($m = $i * $i; $m <= $n; $m += $i) $composite[$m] = true;
    }
    return $primes;
}
function is_prime(int $n): bool {
    if ($n < 2) return false;
    for ($d = 2; $d * $d <= $n; $d++) if ($n % $d === 0) return false;
    return true;
}
$p = sieve(300000);
if (count($p) !== 25997) { fwrite(STDERR, "count\n"); exit(1); }
$small = array_values(array_filter(range(0, 5000), 'is_prime'));
if ($small !== array_values(array_filter($p, fn($x) => $x <= 5000))) { fwrite(STDERR, "trial\n"); exit(1); }
echo "OK primes\n";
