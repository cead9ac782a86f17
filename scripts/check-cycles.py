#!/usr/bin/env python3
"""Import cycles between the modules (files) of a Rust crate.

Usage: scripts/check-cycles.py SRC_DIR [SRC_DIR ...]   (e.g. src app/src)

Each file is a module; an edge A -> B is a path in A's code outside its `#[cfg(test)]` items (a `use`,
or an inline `crate::..` / `super::..` / `self::..` path) that names B or an item in B. A path
that stops at a module's item goes to that module's file: `use super::X` from a child is an
edge to its parent (mod.rs) even when X is only re-exported there, which is what makes a front
door that every child imports a cycle. `mod x;` declarations are not edges. Prints each cycle
(a strongly connected component of two files or more) and exits 1; exits 0 when there is none.
"""
import os
import re
import sys


def modules(src):
    """{module path tuple: file} for a crate root folder."""
    out = {}
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(root, f), src)[:-3].split(os.sep)
            if rel[-1] in ("mod", "lib", "main"):
                rel = rel[:-1]
            out[tuple(rel)] = os.path.join(root, f)
    return out


def code(path):
    text = open(path, encoding="utf-8").read()
    token = r'(?s)\br(#*)".*?"\1|"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/|\'(?:\\.|[^\'\\])\''
    text = re.sub(token, lambda m: '""' if m.group(0)[0] in "r\"" else " ", text)
    while (m := re.search(r"#\[cfg\(test\)\]", text)) is not None:
        end, depth = text.find("{", m.end()), 0
        if end < 0:
            break
        for i in range(end, len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                break
        text = text[: m.start()] + text[i + 1 :]
    return text


def use_paths(text):
    """Every path written in `use` trees (groups expanded) and inline."""
    paths = []
    for tree in re.findall(r"\buse\s+([^;]+);", text):
        paths += expand(re.sub(r"\s+", "", tree))
    paths += re.findall(r"(?<![\w:])((?:crate|super|self|[a-z_][a-z0-9_]*)(?:::\w+)+)", text)
    return paths


def expand(tree):
    m = re.match(r"^(.*?)::\{(.*)\}$", tree)
    if not m:
        return [tree.split(" as ")[0]] if tree else []
    prefix, inner = m.groups()
    parts, depth, cur = [], 0, ""
    for c in inner:
        if c == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += c == "{"
        depth -= c == "}"
        cur += c
    parts.append(cur)
    return [p2 for p in parts if p for p2 in expand(prefix + "::" + p if p != "self" else prefix)]


def resolve(path, here, mods):
    parts = path.split("::")
    if parts[0] == "crate":
        base, rest = (), parts[1:]
    elif parts[0] in ("super", "self"):
        base = list(here)
        while parts and parts[0] in ("super", "self"):
            if parts[0] == "super":
                base = base[:-1]
            parts = parts[1:]
        base, rest = tuple(base), parts
    elif here + (parts[0],) in mods:
        base, rest = here, parts
    else:
        return None
    target = base
    for p in rest:
        if target + (p,) in mods:
            target = target + (p,)
        else:
            break
    return target


def sccs(nodes, edges):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    sys.setrecursionlimit(10000)
    for v in nodes:
        if v not in index:
            visit(v)
    return out


def main(dirs):
    found = 0
    for src in dirs:
        mods = modules(src)
        edges, why = {}, {}
        for mod, path in mods.items():
            for p in use_paths(code(path)):
                t = resolve(p, mod, mods)
                if t is not None and t != mod and t in mods:
                    edges.setdefault(mod, set()).add(t)
                    why.setdefault((mod, t), p)
        for comp in sccs(sorted(mods), edges):
            if len(comp) > 1:
                found += 1
                names = sorted(os.path.relpath(mods[m], src) for m in comp)
                print(f"cycle in {src}: " + " <-> ".join(names))
                for a in sorted(comp):
                    for b in sorted(edges.get(a, ())):
                        if b in comp:
                            print(f"  {os.path.relpath(mods[a], src)} -> {os.path.relpath(mods[b], src)}: {why[(a, b)]}")
    if found:
        sys.exit(1)
    print("no import cycle in " + ", ".join(dirs))


if __name__ == "__main__":
    main(sys.argv[1:] or ["src"])
