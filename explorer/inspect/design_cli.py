"""`explorer design new|show|list|check|delete|export|import`: the user's designs from the command line.
`check` prints the per-layer table with the course's formula filled in (explorer.inspect.design)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the `design` command and its sub-commands."""
    p = sub.add_parser("design", help="your own networks, layer by layer (saved as design:NAME models)")
    dsub = p.add_subparsers(dest="design_command", metavar="ACTION")
    dsub.required = True
    n = dsub.add_parser("new", help="save a new design (empty, or a copy of a starter)")
    n.add_argument("name")
    n.add_argument("--from", dest="starter", help="a starter to copy: course-cnn, lenet5-1998, tiny-vgg")
    n.add_argument("--notes", default=None, help="a note to keep with the design")
    n.add_argument("--force", action="store_true", help="replace a saved design of that name")
    n.set_defaults(func=_new)
    s = dsub.add_parser("show", help="print a design's JSON (a saved name, a starter or a file)")
    s.add_argument("design", help="saved name, starter name or path to a .json file")
    s.set_defaults(func=_show)
    ls = dsub.add_parser("list", help="the saved designs and the starters")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_list)
    c = dsub.add_parser("check", help="the per-layer table: shapes with the formula, params, MACs; exit 1 if invalid")
    c.add_argument("design", help="saved name, starter name or path to a .json file")
    c.add_argument("--classes", type=int, default=26, help="classifier outputs (26 letters, 10 digits; default 26)")
    c.add_argument("--json", action="store_true", help="print the rows as JSON")
    c.set_defaults(func=_check)
    d = dsub.add_parser("delete", help="delete a saved design (runs trained on it keep their own copy)")
    d.add_argument("name")
    d.set_defaults(func=_delete)
    e = dsub.add_parser("export", help="write a saved design to a .json file")
    e.add_argument("name")
    e.add_argument("dest", nargs="?", default=None, help="file or folder (default ./NAME.json)")
    e.add_argument("--force", action="store_true", help="replace an existing file")
    e.set_defaults(func=_export)
    i = dsub.add_parser("import", help="check a design file and save it")
    i.add_argument("file")
    i.add_argument("--name", default=None, help="save it under another name")
    i.add_argument("--replace", action="store_true", help="replace a saved design of that name")
    i.set_defaults(func=_import)


def _resolve(ref: str) -> Any:
    from explorer.design import load_design, read_design_file, starter, starter_names

    if ref.endswith(".json") or "/" in ref or Path(ref).is_file():
        return read_design_file(ref)
    try:
        return load_design(ref)
    except FileNotFoundError:
        if ref in starter_names():
            return starter(ref)
        raise


def _new(args: argparse.Namespace) -> int:
    from explorer.design import empty, save_design, starter

    design = starter(args.starter, args.name) if args.starter else empty(args.name)
    if args.notes is not None:
        design = design.replace(notes=args.notes)
    path = save_design(design, overwrite=args.force)
    print(f"saved design {design.name!r} ({len(design.layers)} layers) to {path}; train it with "
          f"`explorer train --model design:{design.name}`")
    return 0


def _show(args: argparse.Namespace) -> int:
    from explorer.design import design_json

    print(design_json(_resolve(args.design)), end="")
    return 0


def _list(args: argparse.Namespace) -> int:
    from explorer.design import Design, check, designs_root, saved_designs, starter, starter_names

    rows = []
    for d in saved_designs():
        if isinstance(d, Design):
            c = check(d)
            rows.append({"name": d.name, "model": f"design:{d.name}", "layers": len(d.layers), "params": c.params,
                         "created": d.created, "ok": c.ok, "problem": c.error.message if c.error else ""})
        else:
            rows.append({"name": "?", "model": "", "layers": 0, "params": 0, "created": "", "ok": False,
                         "problem": str(d)})
    if args.json:
        print(json.dumps({"folder": str(designs_root()), "designs": rows, "starters": starter_names()}, indent=1))
        return 0
    print(f"designs in {designs_root()}:" if rows else f"no design saved in {designs_root()} yet")
    for r in rows:
        state = f"{r['params']:>10,} params" if r["ok"] else f"not valid: {r['problem']}"
        print(f"  {r['model'] or r['name']:32s} {r['layers']:>3} layers  {state}")
    print("starters (explorer design new NAME --from STARTER): "
          + ", ".join(f"{n} ({len(starter(n).layers)} layers)" for n in starter_names()))
    return 0


def _check(args: argparse.Namespace) -> int:
    from explorer.inspect.design import design_table

    if not 1 <= args.classes <= 100_000:
        raise ValueError("--classes must be between 1 and 100000")
    table = design_table(_resolve(args.design), args.classes)
    if args.json:
        print(json.dumps({"ok": table.ok, "params": table.total_params, "macs": table.total_macs,
                          "layers": table.records()}, indent=1))
    else:
        print(table.to_text())
    return 0 if table.ok else 1


def _delete(args: argparse.Namespace) -> int:
    from explorer.design import delete_design

    delete_design(args.name)
    print(f"deleted design {args.name!r} (runs trained on it keep their own copy)")
    return 0


def _export(args: argparse.Namespace) -> int:
    from explorer.design import export_design

    print(f"wrote {export_design(args.name, args.dest, force=args.force)}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from explorer.design import import_design

    d = import_design(args.file, name=args.name, overwrite=args.replace)
    print(f"imported design {d.name!r} ({len(d.layers)} layers); it is the model design:{d.name}")
    return 0
