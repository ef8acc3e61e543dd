MORSE = {
    "A": ".-", "B": "-...", "C": "-.-.", "D": "-..", "E": ".", "F": "..-.", "G": "--.", "H": "....",
    "I": "..", "J": ".---", "K": "-.-", "L": ".-..", "M": "--", "N": "-.", "O": "---", "P": ".--.",
    "Q": "--.-", "R": ".-.", "S": "...", "T": "-", "U": "..-", "V": "...-", "W": ".--", "X": "-..-",
    "Y": "-.--", "Z": "--..", "0": "-----", "1": ".----", "2": "..---", "3": "...--", "4": "....-",
    "5": ".....", "6": "-....", "7": "--...", "8": "---..", "9": "----.",
}
BACK = {v: k for k, v in MORSE.items()}

def encode(text):
    return " / ".join(" ".join(MORSE[c] for c in word) for word in text.upper().split())

def decode(code):
    return " ".join("".join(BACK[s] for s in word.split()) for word in code.split(" / "))

assert encode("SOS") == "... --- ..."
assert encode("hello world") == ".... . .-.. .-.. --- / .-- --- .-. .-.. -.."
assert len(set(MORSE.values())) == len(MORSE)
text = "THE QUICK BROWN FOX JUMPS OVER 13 LAZY DOGS " * 300
assert decode(encode(text)) == " ".join(text.split())
print("OK morse_code")
