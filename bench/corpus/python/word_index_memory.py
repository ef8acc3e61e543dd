# An inverted index of 100,000 documents: a few tens of MiB of dicts and lists.
import random

rng = random.Random(40)
vocab = [f"w{i}" for i in range(5000)]
docs = [[vocab[rng.randrange(5000)] for _ in range(4)] for _ in range(100_000)]
index = {}
for doc_id, words in enumerate(docs):
    for w in words:
        index.setdefault(w, []).append(doc_id)
assert sum(len(v) for v in index.values()) == 400_000
for w in ("w0", "w17", "w4999"):
    assert index.get(w, []) == [i for i, d in enumerate(docs) for x in d if x == w]
print("OK word_index_memory")
