#!/usr/bin/env python3
"""Fails if a function in src/ is longer than the limit (default 120 lines, signature to closing
brace), the bound docs/architecture.md and the engine-shape issue set. Outermost function bodies
only: lambdas and local classes count toward the function that holds them.

  scripts/check-function-length.py [--max 120] [paths...]   (default: src/)
"""
import argparse
import pathlib
import re
import sys

CONTROL = re.compile(r"\b(if|for|while|switch|catch|return|sizeof|decltype|alignof)\s*$")


def strip(text):
    """Comments, string/char literals and preprocessor lines blanked out (newlines kept)."""
    out, i, n = [], 0, len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start and c == "#":
            j = i
            while j < n and (text[j] != "\n" or text[j - 1] == "\\"):
                j += 1
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
            continue
        if c == "\n":
            at_line_start = True
            out.append(c)
            i += 1
            continue
        if not c.isspace():
            at_line_start = False
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            k = text.find("(", i)
            delim = ")" + text[i + 2:k] + '"'
            j = text.find(delim, k)
            j = n if j < 0 else j + len(delim)
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif c in "\"'":
            if c == "'" and i > 0 and text[i - 1].isalnum() and i + 1 < n and text[i + 1].isalnum():
                out.append(" ")  # digit separator (1'000)
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(" " * (j + 1 - i))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def opens_function(code, brace):
    """True if the '{' at `brace` opens a function body (its head ends with a parameter list)."""
    head = code[:brace].rstrip()
    # Trailing qualifiers and annotations: const, override, noexcept, REQUIRES(mu_), -> T, ...
    for _ in range(8):
        m = re.search(r"(\bconst|\boverride|\bfinal|\bnoexcept|\bmutable|->\s*[\w:<>,\s*&]+)$", head)
        if m and not head.endswith(")"):
            head = head[:m.start()].rstrip()
            continue
        break
    if not head.endswith(")"):
        return False
    # Find the matching '(' and look at what precedes it.
    depth, j = 0, len(head) - 1
    while j >= 0:
        if head[j] == ")":
            depth += 1
        elif head[j] == "(":
            depth -= 1
            if depth == 0:
                break
        j -= 1
    before = head[:j].rstrip()
    if CONTROL.search(before) or before.endswith("]") or before.endswith("="):
        return False
    # An annotation macro after the parameter list (REQUIRES(mu_)): look once more.
    if re.search(r"\b[A-Z_]{4,}$", before):
        return opens_function(code, len(before) - len(re.search(r"\b[A-Z_]{4,}$", before).group(0)) + 0) \
            if before.rstrip().endswith(")") else True
    return bool(re.search(r"[\w>~:\]]$", before)) or before.endswith("operator()")


def scan(path, limit):
    code = strip(path.read_text(errors="replace"))
    found, depth, i = [], 0, 0
    stack = []  # for each open brace: is it an outermost function body
    in_function = 0
    for i, c in enumerate(code):
        if c == "{":
            is_fn = in_function == 0 and opens_function(code, i)
            stack.append((is_fn, i))
            if is_fn or in_function:
                in_function += 1
        elif c == "}" and stack:
            is_fn, start = stack.pop()
            if in_function:
                in_function -= 1
            if is_fn:
                head_start = code.rfind(";", 0, start)
                head_start = max(head_start, code.rfind("}", 0, start), code.rfind("{", 0, start))
                k = head_start + 1
                while True:  # the signature's first character (past access specifiers)
                    m = re.match(r"\s*(public|private|protected)\s*:(?!:)", code[k:start])
                    if not m:
                        break
                    k += m.end()
                while k < start and code[k].isspace():
                    k += 1
                first = code.count("\n", 0, k) + 1
                last = code.count("\n", 0, i) + 1
                if last - first + 1 > limit:
                    found.append((last - first + 1, first))
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max", type=int, default=120)
    ap.add_argument("paths", nargs="*", default=["src"])
    args = ap.parse_args()
    files = []
    for p in map(pathlib.Path, args.paths):
        files += [p] if p.is_file() else sorted(q for q in p.rglob("*") if q.suffix in (".cc", ".h", ".cpp"))
    bad = []
    for f in files:
        if "/gen/" in str(f):
            continue
        for n, line in scan(f, args.max):
            bad.append(f"{f}:{line}: function of {n} lines (max {args.max})")
    for b in bad:
        print(b)
    print(f"check-function-length: {len(files)} files, {len(bad)} functions over {args.max} lines")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
