import random

class Node:
    __slots__ = ("key", "left", "right")

    def __init__(self, key):
        self.key, self.left, self.right = key, None, None

def insert(root, key):
    if root is None:
        return Node(key)
    node = root
    while True:
        side = "left" if key < node.key else "right"
        child = getattr(node, side)
        if child is None:
            setattr(node, side, Node(key))
            return root
        node = child

def delete(root, key):
    if root is None:
        return None
    if key < root.key:
        root.left = delete(root.left, key)
    elif key > root.key:
        root.right = delete(root.right, key)
    else:
        if root.left is None:
            return root.right
        if root.right is None:
            return root.left
        succ = root.right
        while succ.left:
            succ = succ.left
        root.key = succ.key
        root.right = delete(root.right, succ.key)
    return root

def inorder(root):
    out, stack, node = [], [], root
    while stack or node:
        while node:
            stack.append(node); node = node.left
        node = stack.pop(); out.append(node.key); node = node.right
    return out

rng = random.Random(42)
keys = rng.sample(range(100000), 5000)
root = None
for k in keys:
    root = insert(root, k)
assert inorder(root) == sorted(keys)
gone = set(rng.sample(keys, 2000))
for k in gone:
    root = delete(root, k)
assert inorder(root) == sorted(set(keys) - gone)
print("OK binary_search_tree")
