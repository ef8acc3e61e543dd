<?php
function is_palindrome(string $s): bool {
    $t = preg_replace('/[^a-z0-9]/', '', strtolower($s));
    return $t === strrev($t);
}
function caesar(string $s, int $k): string {
    $out = '';
    foreach (str_split($s) as $c) {
        if (ctype_upper($c)) $out .= chr((ord($c) - 65 + $k + 26) % 26 + 65);
        elseif (ctype_lower($c)) $out .= chr((ord($c) - 97 + $k + 26) % 26 + 97);
        else $out .= $c;
    }
    return $out;
}
$ok = is_palindrome('A man, a plan, a canal: Panama') && !is_palindrome('race a car');
$ok = $ok && caesar('Hello, World!', 3) === 'Khoor, Zruog!';
$text = str_repeat('The quick brown fox jumps over the lazy dog. ', 300);
for ($k = 0; $k < 26; $k++) $ok = $ok && caesar(caesar($text, $k), -$k) === $text;
$ok = $ok && str_rot13($text) === caesar($text, 13);
$ok = $ok && ucwords('hello big world') === 'Hello Big World';
$ok = $ok && count(array_filter(range(0, 20000), fn($n) => is_palindrome((string)$n))) === 299;
if (!$ok) { fwrite(STDERR, "failed\n"); exit(1); }
echo "OK string_functions\n";
