#!/usr/bin/env python3
"""The folders of gateway/ form layers; a file includes only folders of
lower layers (issue #16). Any other edge (a cycle, a back edge, two
siblings leaning on each other) fails with the files that make it.

    python3 tests/architecture/include_graph.py [gateway-dir]
"""
import os
import re
import sys

# Lowest first. Records and ports shared by everyone are in domain/; the
# parts that translate or keep (adapters, store, menu, referral, net,
# server) never include each other; services compose them; channels that
# drive services (smpp) and the application sit on top.
LAYERS = [
    ["common"],
    ["http", "domain"],
    ["menu", "referral", "store", "adapters", "net", "server"],
    ["service"],
    ["smpp"],
    ["app"],
    ["main.cpp"],
]
LAYER_OF = {folder: i for i, layer in enumerate(LAYERS) for folder in layer}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')


def edges(root):
    found = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            if not name.endswith((".hpp", ".cpp")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            src = rel.split(os.sep)[0]
            with open(path, encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if m and m.group(1) != src:
                        found.setdefault((src, m.group(1)), []).append(f"{rel}:{number}")
    return found


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "gateway")
    problems = []
    all_edges = edges(root)
    for (src, dst), where in sorted(all_edges.items()):
        for folder in (src, dst):
            if folder not in LAYER_OF:
                problems.append(f"{folder}/ is in no layer: add it to LAYERS ({where[0]})")
        if src in LAYER_OF and dst in LAYER_OF and LAYER_OF[dst] >= LAYER_OF[src]:
            kind = "a back edge" if LAYER_OF[dst] > LAYER_OF[src] else "an edge between siblings"
            problems.append(f"{src} -> {dst} is {kind}: " + ", ".join(where))
    if not all_edges:
        problems.append(f"no includes found under {root}")
    for p in sorted(set(problems)):
        print(p)
    if problems:
        return 1
    print(f"include graph: {len(all_edges)} folder edges, all downward")
    return 0


if __name__ == "__main__":
    sys.exit(main())
