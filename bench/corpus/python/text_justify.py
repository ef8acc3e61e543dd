import textwrap

def justify(words, width):
    lines, cur = [], []
    for w in words:
        if cur and len(" ".join(cur + [w])) > width:
            lines.append(cur)
            cur = []
        cur.append(w)
    out = []
    for line in lines:
        gaps = len(line) - 1
        if gaps == 0:
            out.append(line[0].ljust(width))
            continue
        spaces = width - sum(map(len, line))
        s = ""
        for i, w in enumerate(line[:-1]):
            s += w + " " * (spaces // gaps + (i < spaces % gaps))
        out.append(s + line[-1])
    out.append(" ".join(cur).ljust(width))
    return out

words = "This is an example of text justification where every line has exactly the same width".split()
j = justify(words, 16)
assert j[0] == "This    is    an"
assert all(len(line) == 16 for line in j)
text = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor " * 200).split()
for width in (20, 33, 50, 80):
    lines = justify(text, width)
    assert all(len(l) == width for l in lines)
    assert " ".join(" ".join(l.split()) for l in lines).split() == text
    assert len(lines) == len(textwrap.wrap(" ".join(text), width))
print("OK text_justify")
