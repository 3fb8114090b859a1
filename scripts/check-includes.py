#!/usr/bin/env python3
"""check-includes.py - no include circle among the project's headers or modules.

Reads every .h and .c under the library's folders and follows each #include "..." that names
a file of the tree (paths are relative to the top folder, as the build's -I says).  It fails
  - when a header reaches itself again: a.h -> b.h -> a.h (include guards hide such a circle
    from the compiler, but it means two headers that cannot be read apart);
  - when two modules depend on each other: a module is a NAME.c with its NAME.h, and it
    depends on another when its .c or .h includes the other's .h (a folder's internal
    header without a .c, such as coordinator/coord_internal.h, is not a module);
  - when a file includes a header that does not exist in the tree.

    scripts/check-includes.py [TOP]      exit 0: no circle; 1: circles printed
"""
import os
import re
import sys

FOLDERS = ("common", "coordinator", "worker", "parsers", "check", "doctor", "cli", "tests/unit")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def main():
    top = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                          os.path.join(os.path.dirname(__file__), ".."))
    graph, missing = {}, []
    for folder in FOLDERS:
        root = os.path.join(top, folder)
        if not os.path.isdir(root):
            continue
        for dirpath, _, names in os.walk(root):
            for name in names:
                if not name.endswith((".h", ".c")):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, top)
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                deps = []
                for inc in INCLUDE.findall(text):
                    for cand in (inc, os.path.join(os.path.dirname(rel), inc)):
                        if os.path.exists(os.path.join(top, cand)):
                            deps.append(os.path.normpath(cand))
                            break
                    else:
                        # generated headers (common/version.h) live in the build folder
                        if not inc.endswith("version.h"):
                            missing.append("%s: #include \"%s\": no such file" % (rel, inc))
                graph[rel] = deps
    circles = set()
    state = {}

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for dep in graph.get(node, ()):
            if state.get(dep) == 1:
                cyc = stack[stack.index(dep):]
                i = cyc.index(min(cyc))
                circles.add(tuple(cyc[i:] + cyc[:i]))
            elif dep not in state:
                visit(dep, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    # modules: NAME.c (+ NAME.h); an edge when either file includes another module's .h
    mods = {n[:-2] for n in graph if n.endswith(".c")}
    medges = {}
    for n, deps in graph.items():
        stem = n[:-2]
        if stem not in mods:
            continue
        medges.setdefault(stem, set()).update(
            d[:-2] for d in deps if d.endswith(".h") and d[:-2] in mods and d[:-2] != stem)
    mcircles = set()
    mstate = {}

    def mvisit(node, stack):
        mstate[node] = 1
        stack.append(node)
        for dep in sorted(medges.get(node, ())):
            if mstate.get(dep) == 1:
                cyc = stack[stack.index(dep):]
                i = cyc.index(min(cyc))
                mcircles.add(tuple(cyc[i:] + cyc[:i]))
            elif dep not in mstate:
                mvisit(dep, stack)
        stack.pop()
        mstate[node] = 2

    for node in sorted(medges):
        if node not in mstate:
            mvisit(node, [])
    for c in sorted(circles):
        print("include circle: " + " -> ".join(c + (c[0],)))
    for c in sorted(mcircles):
        print("module circle: " + " -> ".join(c + (c[0],)))
    for m in missing:
        print(m)
    headers = sum(1 for n in graph if n.endswith(".h"))
    print("%d files, %d headers, %d modules: %d include circles, %d module circles, "
          "%d missing" % (len(graph), headers, len(mods), len(circles), len(mcircles),
                          len(missing)))
    return 1 if circles or mcircles or missing else 0


if __name__ == "__main__":
    sys.exit(main())
