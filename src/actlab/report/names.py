"""Short display names for long spec strings, and lists that are grouped and counted.

`display(spec)` is what figures, tables and sentences show; the full spec goes on hover (a table
`Cell`'s title) and in each section's legend (`legend(specs)`). Rules, in order: a catalog name with
no arguments is itself; the noisy units read as the paper names them ("noisy tanh, half-normal,
learned p"); `num_parameters` / `channels` are dropped (a per-channel copy is the same function);
`mixed(acts=[...])` is "mixed cos/identity"; other arguments are kept as `name(a=0.5)`; a formula is
`expr:` and its text, cut to `WIDTH`
characters with '…'.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

WIDTH = 28
_DROP = ("num_parameters", "channels")
_NOISY = re.compile(r"^noisy_hard_(tanh|sigmoid)\((.*)\)$")


def _args(text: str) -> list[tuple[str, str]]:
    out = []
    for part in re.split(r",\s*(?![^\[]*\])", text):
        if "=" in part:
            k, v = part.split("=", 1)
            out.append((k.strip(), v.strip().strip("'\"")))
    return out


def _cut(s: str, width: int = WIDTH) -> str:
    return s if len(s) <= width else s[: width - 1] + "…"


def display(spec: str) -> str:
    """The short name of a spec string (see the module's rules)."""
    spec = spec.strip()
    if spec.startswith("expr:"):
        return _cut(spec)
    m = _NOISY.match(spec)
    if m:
        args = dict(_args(m.group(2)))
        words = [f"noisy {m.group(1)}"]
        if args.get("noise"):
            words.append(args["noise"].replace("_", "-"))
        mode = args.get("mode", "")
        if "learned" in mode:
            words.append("learned p")
        if mode.startswith("input"):
            words.append("input noise")
        if args.get("clip") == "False":
            words.append("unclipped")
        return ", ".join(words)
    if "(" not in spec:
        return spec
    mixed = re.match(r"^mixed\(acts=\[(.*)\]\)$", spec)
    if mixed:
        parts = re.split(r",\s*(?![^(]*\))", mixed.group(1))
        return "mixed " + "/".join(display(a.strip().strip("'\"")) for a in parts)
    name, rest = spec.split("(", 1)
    kept = [(k, v) for k, v in _args(rest.rstrip(")")) if k not in _DROP]
    if not kept:
        return name
    return _cut(f"{name}({', '.join(f'{k}={v}' for k, v in kept)})", 2 * WIDTH)


def displays(specs: Iterable[str]) -> dict[str, str]:
    """Spec → display name for many specs; two specs that would share a name keep their full specs."""
    specs = list(dict.fromkeys(specs))
    names = {s: display(s) for s in specs}
    seen: dict[str, int] = {}
    for n in names.values():
        seen[n] = seen.get(n, 0) + 1
    return {s: (n if seen[n] == 1 else s) for s, n in names.items()}


def legend(specs: Iterable[str]) -> str:
    """'short = full spec; …' for the specs whose display name differs from the spec ('' if none)."""
    pairs = [(n, s) for s, n in displays(specs).items() if n != s]
    return "; ".join(f"{n} = {s}" for n, s in pairs)


def counted(items: Sequence[str], total: int, what: str, most: int = 8) -> str:
    """'3 of 20 {what}: a, b, c' — the list shown up to `most` names, then 'and N more'."""
    shown = list(items[:most])
    more = f" and {len(items) - most} more" if len(items) > most else ""
    names = f": {', '.join(shown)}{more}" if shown else ""
    return f"{len(items)} of {total} {what}{names}"
