#!/usr/bin/env python3
"""Checks the engine crate's layers (docs/architecture.md): which part may import which, and
that the parts import each other without a cycle.

A "part" is a top-level module of crates/pispas-modules/src (protocol, router, server, ...),
except that each module folder under modules/ is a part of its own (modules/print, ...) and
modules/mod.rs, the registry, is the part "modules". References are read from `use crate::...`
and inline `crate::...` paths, comments removed. Exits 1 naming every forbidden import and every
cycle, so CI fails on them.

Usage: scripts/check-layers.py [--graph]   (--graph prints the part graph)
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "pispas-modules", "src")

# What sits at the bottom: may be imported by anyone above, imports only among itself.
CORE = {"protocol", "events", "store", "config", "transport", "clock", "router", "devices",
        "context", "status", "commandlog", "control", "logging", "signals", "platform", "pan",
        "pairing"}
# What a device module (modules/<name>) may import besides its own folder.
MODULE_MAY_USE = {"protocol", "events", "store", "config", "transport", "clock", "router",
                  "devices", "context", "pan", "pairing"}
# BASE answers for the engine: it is handed the status, the command log and the host's control.
EXTRA = {"modules/base": {"status", "commandlog", "control", "platform"}}
# Names that appear after `crate::` but are not parts (exported macros).
MACROS = {"actions": "router"}


def part_of(path):
    rel = os.path.relpath(path, ROOT).replace(os.sep, "/")
    if rel in ("lib.rs", "main.rs"):
        return None
    # `x_windows.rs` is the Windows half of `x` (included with #[path]).
    first = rel.split("/")[0].removesuffix(".rs").removesuffix("_windows")
    if first != "modules":
        return first
    rest = rel.split("/")[1:]
    if rest == ["mod.rs"]:
        return "modules"
    return "modules/" + rest[0].removesuffix(".rs")


def strip_comments(text):
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def references(text):
    """Every part a file's code names through `crate::`."""
    found = set()
    for m in re.finditer(r"\bcrate::\{([^}]*)\}", text):
        for item in m.group(1).split(","):
            name = item.strip().split("::")[0].strip()
            if name:
                found.add((name, item.strip().split("::")[1] if "::" in item else None))
    for m in re.finditer(r"\bcrate::([a-z_][a-z0-9_]*)(?:::([a-z_][a-z0-9_]*|\{))?", text):
        found.add((m.group(1), m.group(2)))
    parts = set()
    for first, second in found:
        if first in MACROS:
            parts.add(MACROS[first])
        elif first == "modules":
            if second and second != "{" and os.path.exists(os.path.join(ROOT, "modules", second)) \
                    or second and os.path.exists(os.path.join(ROOT, "modules", f"{second}.rs")):
                parts.add("modules/" + second)
            else:
                parts.add("modules")
        else:
            parts.add(first)
    return parts


def allowed(src, dst):
    if src == dst:
        return True
    if src in CORE:
        return dst in CORE
    if src.startswith("modules/"):
        return dst in MODULE_MAY_USE or dst in EXTRA.get(src, set())
    if src == "modules":
        return dst in CORE or dst.startswith("modules/")
    if src == "server":
        return dst in CORE
    # The remote gateway is a client of the router like the server: core only.
    if src == "remote":
        return dst in CORE
    if src == "engine":
        return dst != "host"
    # What a program is started as sits on top, like main.rs: it may use any part.
    if src == "process":
        return True
    if src == "host":
        return dst in CORE or dst == "engine"
    return dst in CORE


def cycles(graph):
    """Strongly connected components with more than one part (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
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
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main():
    graph, where, problems = {}, {}, []
    for dirpath, _, files in os.walk(ROOT):
        for f in sorted(files):
            if not f.endswith(".rs"):
                continue
            path = os.path.join(dirpath, f)
            src = part_of(path)
            if src is None:
                continue
            text = strip_comments(open(path, encoding="utf-8").read())
            for dst in references(text):
                if dst == src:
                    continue
                graph.setdefault(src, set()).add(dst)
                where.setdefault((src, dst), os.path.relpath(path, os.path.join(ROOT, "..")))
                if not allowed(src, dst):
                    problems.append(f"{where[(src, dst)]}: {src} may not import {dst}")
            graph.setdefault(src, set())
    for comp in cycles(graph):
        problems.append("import cycle between: " + ", ".join(comp))
    if "--graph" in sys.argv:
        for src in sorted(graph):
            print(f"{src} -> {', '.join(sorted(graph[src]))}")
    if problems:
        print("layer check failed (see docs/architecture.md):", file=sys.stderr)
        for p in sorted(set(problems)):
            print("  " + p, file=sys.stderr)
        return 1
    print(f"layers ok: {len(graph)} parts, no forbidden import, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
