"""Reports import circles between the top-level modules of a crate (rill-runtime by
default): which module's code names which other module, and every strongly connected
group of two or more modules.

    python3 tools/module_cycles.py [--graph] [SRC_DIR]      # SRC_DIR: runtime/src

A reference is any `crate::<name>` path in code (comments and string literals are
skipped), `use crate::{a, b::c}` groups included, and `super::` paths that climb out of
a top-level module. A name the crate root re-exports (`pub use exec::Batch;` in lib.rs)
counts as a reference to the module it comes from, so `crate::Batch` is an edge to
`exec`. Test code counts as well: a circle only tests close is still a circle.

Exits 1 and lists the circles if there are any, 0 otherwise; `--graph` also prints
every module's dependencies. Needs nothing but python3.
"""

import os
import re
import sys

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def strip(src):
    """The source with comments, string and character literals blanked out."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if src.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif src.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            out.append(" ")
        elif c == "r" and re.match(r'r#*"', src[i:]) and not (i and IDENT.match(src[i - 1])):
            hashes = re.match(r"r(#*)\"", src[i:]).group(1)
            end = src.find('"' + hashes, i + len(hashes) + 2)
            i = n if end < 0 else end + 1 + len(hashes)
            out.append('""')
        elif c == '"':
            i += 1
            while i < n and src[i] != '"':
                i += 2 if src[i] == "\\" else 1
            i += 1
            out.append('""')
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", src[i:])
            if m:
                i += len(m.group(0))
                out.append("' '")
            else:
                out.append(c)  # a lifetime
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def module_path(rel):
    """`sources/receiver.rs` -> ['sources', 'receiver']; `lib.rs` -> []."""
    parts = rel[:-3].split(os.sep)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts


def use_tree_heads(text, i):
    """The first path segments a use tree starting at text[i] names (after `crate::`)."""
    while i < len(text) and text[i].isspace():
        i += 1
    if i < len(text) and text[i] == "{":
        heads, depth, start = [], 0, i + 1
        j = i
        while j < len(text):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            elif text[j] == "," and depth == 1:
                heads += use_tree_heads(text[start:j], 0)
                start = j + 1
            j += 1
        heads += use_tree_heads(text[start:j], 0)
        return heads
    m = IDENT.match(text, i)
    return [m.group(0)] if m else []


def references(text, path):
    """(module path of the reference's target, first segment) for every crate path."""
    refs = []
    # Inline modules (`mod tests { ... }`) deepen what `super::` climbs from.
    stack, depth = [], 0
    tokens = re.finditer(r"\bmod\s+([A-Za-z_]\w*)\s*\{|\{|\}|\b(crate|super)\s*::", text)
    for t in tokens:
        s = t.group(0)
        if t.group(1):
            depth += 1
            stack.append((depth, t.group(1)))
        elif s == "{":
            depth += 1
        elif s == "}":
            if stack and stack[-1][0] == depth:
                stack.pop()
            depth -= 1
        else:
            here = path + [name for _, name in stack]
            if t.group(2) == "crate":
                base, rest = [], t.end()
            else:
                base, rest = here[:-1], t.end()
                while True:
                    m = re.match(r"\s*super\s*::", text[rest:])
                    if not m:
                        break
                    base, rest = base[:-1], rest + m.end()
            for head in use_tree_heads(text, rest):
                refs.append(base + [head])
    return refs


def analyse(src_dir):
    files = {}
    for root, _, names in os.walk(src_dir):
        for name in names:
            if name.endswith(".rs"):
                full = os.path.join(root, name)
                rel = os.path.relpath(full, src_dir)
                with open(full, encoding="utf-8") as f:
                    files[rel] = strip(f.read())
    lib = files.get("lib.rs", "")
    modules = set(re.findall(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", lib, re.M))
    # Names the root re-exports, and the module each comes from.
    exported = {}
    for m in re.finditer(r"\bpub\s+use\s+(\w+)\s*::\s*([^;]*);", lib):
        if m.group(1) not in modules:
            continue
        body = m.group(2)
        for item in re.split(r"[{},]", body):
            item = item.strip()
            if not item:
                continue
            name = item.split(" as ")[-1].strip().split("::")[-1].strip()
            exported[name] = m.group(1)
    deps = {m: {} for m in modules}
    unknown = set()
    for rel, text in files.items():
        path = module_path(rel)
        if not path:
            continue  # lib.rs: the re-exports themselves
        top = path[0]
        for target in references(text, path):
            if len(target) == 1 or target[0] not in modules:
                name = target[-1] if len(target) == 1 else target[0]
                if len(target) > 1 and target[0] not in modules:
                    unknown.add((rel, "::".join(target)))
                    continue
                if name in modules:
                    dst = name
                elif name in exported:
                    dst = exported[name]
                elif name in ("self", "*"):
                    continue
                else:
                    unknown.add((rel, name))
                    continue
            else:
                dst = target[0]
            if dst != top:
                deps[top].setdefault(dst, set()).add(rel)
    return deps, unknown


def cycles(deps):
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(deps[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(deps):
        if v not in index:
            visit(v)
    return out


def main(argv):
    graph = "--graph" in argv
    args = [a for a in argv if not a.startswith("--")]
    here = os.path.dirname(os.path.abspath(__file__))
    src = args[0] if args else os.path.join(here, "..", "runtime", "src")
    deps, unknown = analyse(src)
    if graph:
        for m in sorted(deps):
            print(f"{m} -> {', '.join(sorted(deps[m])) or '(nothing)'}")
    for rel, name in sorted(unknown):
        print(f"note: {rel}: crate::{name} is not a module or a root re-export", file=sys.stderr)
    found = cycles(deps)
    for group in found:
        print("import circle: " + " <-> ".join(group))
        for a in group:
            for b in group:
                if b in deps[a]:
                    print(f"  {a} -> {b} in {', '.join(sorted(deps[a][b]))}")
    if not found:
        print(f"no import circles between the {len(deps)} top-level modules of {os.path.normpath(src)}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
