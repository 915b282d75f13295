"""Reports import circles between the top-level modules of a crate (rill-runtime by
default): which module's code names which other module, and every strongly connected
group of two or more modules.

    python3 tools/module_cycles.py [--graph] [--all-levels] [SRC_DIR]  # default: runtime/src

A reference is any `crate::<name>` path in code (comments and string literals are
skipped), `use crate::{a, b::c}` groups included, and `super::` paths that climb out of
a top-level module. A name the crate root re-exports (`pub use exec::Batch;` in lib.rs)
counts as a reference to the module it comes from, so `crate::Batch` is an edge to
`exec`. Test code counts as well: a circle only tests close is still a circle. A module
that `include!`s its child declarations from the build (`ops/mod.rs`) has every file of
its directory as a child, as its build script declares them.

`--all-levels` checks the child modules of every module as well (the files of
`scheduler/` among themselves, and so on), where a child's use of its parent's own items
is not an edge. Exits 1 and lists the circles if there are any, 0 otherwise; `--graph`
also prints every module's dependencies. Needs nothing but python3.
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


def read_sources(src_dir):
    files = {}
    for root, _, names in os.walk(src_dir):
        for name in names:
            if name.endswith(".rs"):
                full = os.path.join(root, name)
                rel = os.path.relpath(full, src_dir)
                with open(full, encoding="utf-8") as f:
                    files[rel] = strip(f.read())
    return files


# `include!(concat!(env!("OUT_DIR"), ...))` (string literals blanked): a module whose
# children a build script declares, one per file of its directory (the `ops` modules;
# see tools/declare_modules.rs).
GENERATED_MODULES = re.compile(r"\binclude!\s*\(\s*concat!\s*\(\s*env!\s*\(")


def files_in(files, parent):
    """The modules of the files directly in `parent`'s directory, as a build script
    declares them: every `*.rs` file but mod.rs, lib.rs and main.rs."""
    out = set()
    for rel in files:
        path = module_path(rel)
        if rel.count(os.sep) == len(parent) and path[:-1] == list(parent) and len(path) > len(parent):
            out.add(path[-1])
    return out


def module_file(files, parent):
    """The text of the file that declares the children of module `parent`."""
    if not parent:
        return files.get("lib.rs", "")
    base = os.sep.join(parent)
    return files.get(base + os.sep + "mod.rs", files.get(base + ".rs", ""))


def analyse(files, parent=()):
    """The modules declared in `parent` (the crate root by default) and, for each, the
    sibling modules its code refers to, with the files that do."""
    parent = list(parent)
    text = module_file(files, parent)
    modules = set(re.findall(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", text, re.M))
    if GENERATED_MODULES.search(text):
        modules |= files_in(files, parent)
    # Names the parent re-exports, and the child module each comes from.
    exported = {}
    for m in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+(\w+)\s*::\s*([^;]*);", text):
        if m.group(1) not in modules:
            continue
        for item in re.split(r"[{},]", m.group(2)):
            item = item.strip()
            if item:
                exported[item.split(" as ")[-1].strip().split("::")[-1].strip()] = m.group(1)
    deps = {m: {} for m in modules}
    unknown = set()
    depth = len(parent)
    for rel, code in files.items():
        path = module_path(rel)
        if len(path) <= depth or path[:depth] != parent:
            continue  # outside `parent`, or its own file (which declares the children)
        here = path[depth]
        for target in references(code, path):
            if target[:depth] != parent or len(target) <= depth:
                continue  # a path out of `parent`: the level above checks it
            name = target[depth]
            if len(target) > depth + 1 and name not in modules:
                if depth == 0:
                    unknown.add((rel, "::".join(target)))
                continue  # an item of `parent` itself (or an extern crate's path)
            if name in modules:
                dst = name
            elif name in exported:
                dst = exported[name]
            elif name in ("self", "*"):
                continue
            else:
                if depth == 0:
                    unknown.add((rel, name))
                continue
            if dst != here:
                deps[here].setdefault(dst, set()).add(rel)
    return deps, unknown


def module_dirs(files):
    """Every module that declares child modules, as a path ([] for the crate root)."""
    out = {()}
    for rel in files:
        path = module_path(rel)
        for k in range(1, len(path)):
            out.add(tuple(path[:k]))
    return sorted(out)


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
    all_levels = "--all-levels" in argv
    args = [a for a in argv if not a.startswith("--")]
    here = os.path.dirname(os.path.abspath(__file__))
    src = args[0] if args else os.path.join(here, "..", "runtime", "src")
    files = read_sources(src)
    levels = module_dirs(files) if all_levels else [()]
    found_any = False
    for parent in levels:
        deps, unknown = analyse(files, parent)
        if not deps:
            continue
        where = "::".join(("crate",) + parent)
        if graph:
            print(f"[{where}]")
            for m in sorted(deps):
                print(f"{m} -> {', '.join(sorted(deps[m])) or '(nothing)'}")
        for rel, name in sorted(unknown):
            print(f"note: {rel}: crate::{name} is not a module or a root re-export", file=sys.stderr)
        found = cycles(deps)
        found_any = found_any or bool(found)
        for group in found:
            print(f"import circle in {where}: " + " <-> ".join(group))
            for a in group:
                for b in group:
                    if b in deps[a]:
                        print(f"  {a} -> {b} in {', '.join(sorted(deps[a][b]))}")
        if not found:
            print(f"no import circles between the {len(deps)} modules of {where}")
    return 1 if found_any else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
