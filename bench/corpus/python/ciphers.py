import string

def caesar(text, shift):
    out = []
    for ch in text:
        if ch.isupper():
            out.append(chr((ord(ch) - 65 + shift) % 26 + 65))
        elif ch.islower():
            out.append(chr((ord(ch) - 97 + shift) % 26 + 97))
        else:
            out.append(ch)
    return "".join(out)

def vigenere(text, key, sign=1):
    out, k = [], 0
    for ch in text:
        if ch.isalpha():
            shift = sign * (ord(key[k % len(key)].lower()) - 97)
            out.append(caesar(ch, shift))
            k += 1
        else:
            out.append(ch)
    return "".join(out)

assert caesar("Hello, World!", 3) == "Khoor, Zruog!"
assert vigenere("ATTACKATDAWN", "LEMON") == "LXFOPVEFRNHR"
plain = "The quick brown fox jumps over the lazy dog. " * 400
for s in range(26):
    assert caesar(caesar(plain, s), -s) == plain
assert vigenere(vigenere(plain, "secret"), "secret", -1) == plain
table = str.maketrans(string.ascii_lowercase, string.ascii_lowercase[13:] + string.ascii_lowercase[:13])
assert caesar("abcxyz", 13) == "abcxyz".translate(table)
print("OK ciphers")
