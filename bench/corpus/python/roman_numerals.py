PAIRS = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
         (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}

def to_roman(n):
    out = []
    for value, sym in PAIRS:
        while n >= value:
            out.append(sym)
            n -= value
    return "".join(out)

def from_roman(s):
    total = 0
    for i, ch in enumerate(s):
        v = VALUES[ch]
        total += -v if i + 1 < len(s) and VALUES[s[i + 1]] > v else v
    return total

assert to_roman(1994) == "MCMXCIV" and to_roman(3999) == "MMMCMXCIX" and to_roman(4) == "IV"
assert from_roman("MCMXCIV") == 1994 and from_roman("LVIII") == 58
assert all(from_roman(to_roman(n)) == n for n in range(1, 4000))
assert len({to_roman(n) for n in range(1, 4000)}) == 3999
print("OK roman_numerals")
