"""`python -m explorer inside RUN --layer L --out DIR`, `embed RUN --method pca|tsne --out map.png`,
`robustness RUN --out curves.csv`: the inside views from the command line (stored results reused)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from explorer.devices import DEVICE_HELP


def _check_device(name: str | None) -> None:
    """Refuse a bad --device before any work (explorer.devices.resolve_device: one clear line)."""
    from explorer.devices import resolve_device

    resolve_device(name or "auto")


def _progress(label: str) -> object:
    """A progress callback printing one updating line to stderr."""
    def cb(fraction: float, text: str) -> None:
        print(f"\r{label}: {fraction:4.0%} {text}   ", end="", file=sys.stderr, flush=True)
        if fraction >= 1.0:
            print(file=sys.stderr)
    return cb


def cmd_inside(args: argparse.Namespace) -> int:
    """Write one PNG per channel (mean patch and top-k crops) and channels.csv into DIR."""
    import pandas as pd

    from explorer.explain.core import to_png
    from explorer.inside.channels import channel_patches, channel_strip, first_filters, run_channels
    from explorer.inside.common import run_model, test_split, usable_run
    from explorer.runs import check_output

    out = check_output(args.out, args.force, folder=True, writes=("channels.csv", "channel_0000.png"))
    _check_device(args.device)
    run = usable_run(args.run)
    tops, stored = run_channels(run, args.layer, k=args.k, device=args.device, progress=_progress("channels"))
    out.mkdir(parents=True, exist_ok=True)
    images = test_split(run).images
    filters = first_filters(run_model(run), args.layer)
    rows = []
    for c in range(tops.geometry.channels):
        crops, mean = channel_patches(tops, images, c)
        (out / f"channel_{c:04d}.png").write_bytes(to_png(channel_strip(crops, mean, None if filters is None
                                                                        else filters[c])))
        rows.append({"channel": c, "top_value": float(tops.values[c, 0]), "mean_strongest": float(tops.mean[c]),
                     "top_images": " ".join(str(int(n)) for n in tops.index[c])})
    pd.DataFrame(rows).to_csv(out / "channels.csv", index=False)
    g = tops.geometry
    print(f"{g.channels} channels of {args.layer} ({g.height}x{g.width}, receptive field {g.rf[0]:g} px) -> {out}"
          f"{' (stored result)' if stored else ''}")
    return 0


def cmd_embed(args: argparse.Namespace) -> int:
    """Write the embedding map as PNG (or HTML/JSON by the file's suffix)."""
    from explorer.charts.inside import embedding_chart
    from explorer.inside.embedding import run_embedding
    from explorer.runs import check_output

    out = check_output(args.out, args.force)
    _check_device(args.device)

    emb, stored = run_embedding(args.run, args.method, seed=args.seed, device=args.device,
                                progress=_progress(args.method))
    out.parent.mkdir(parents=True, exist_ok=True)
    chart = embedding_chart(emb.frame(), emb.centroids(), selectable=False)
    if out.suffix.lower() == ".png":
        _png(emb, out)
    else:
        chart.save(str(out))
    print(f"{len(emb.xy):,} test images, {int((emb.y_true != emb.y_pred).sum()):,} misclassified, "
          f"{args.method} -> {out}{' (stored result)' if stored else ''}")
    return 0


def _png(emb: object, out: Path) -> None:
    """The map drawn with matplotlib (no browser needed): colour = true class, rings = mistakes, letters."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    f, cents = emb.frame(), emb.centroids()
    fig, ax = plt.subplots(figsize=(8, 8), dpi=100)
    codes = f["true"].astype("category").cat.codes
    ax.scatter(f.x, f.y, c=codes, cmap="tab20", s=6, alpha=0.7)
    wrong = f[f.wrong]
    ax.scatter(wrong.x, wrong.y, facecolors="none", edgecolors="black", s=30, linewidths=0.7)
    for _, r in cents.iterrows():
        ax.text(r.x, r.y, str(r.true), fontsize=14, weight="bold", ha="center", va="center")
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_title(f"Embedding map ({emb.method}); rings: misclassified")
    fig.savefig(out, bbox_inches="tight")
    plt.close(fig)


def cmd_robustness(args: argparse.Namespace) -> int:
    """Write the robustness table (transform, severity, parameter, accuracy) as CSV."""
    from explorer.inside.robustness import run_robustness
    from explorer.runs import check_output

    out = check_output(args.out, args.force)
    _check_device(args.device)

    table, stored = run_robustness(args.run, device=args.device, progress=_progress("robustness"))
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    worst = table[table.severity == 5].sort_values("accuracy").iloc[0]
    print(f"plain test accuracy {table[table.severity == 0].accuracy.iloc[0]:.4f}; hardest at severity 5: "
          f"{worst.label} ({worst.accuracy:.4f}) -> {out}{' (stored result)' if stored else ''}")
    return 0


def _add_output_options(p: argparse.ArgumentParser, out_help: str) -> None:
    """--out (required), --force and --device: the options every inside sub-command ends with."""
    p.add_argument("--out", required=True, help=out_help)
    p.add_argument("--force", action="store_true", help="replace existing output files")
    p.add_argument("--device", default=None, help=f"{DEVICE_HELP} (default auto)")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register the inside, embed and robustness sub-commands."""
    p = sub.add_parser("inside", help="what each channel of a layer looks for (top test images, patches)")
    p.add_argument("run", help="run id or folder")
    p.add_argument("--layer", required=True, help="a layer with spatial extent, e.g. net.features.4")
    p.add_argument("--k", type=int, default=9, help="top images per channel (default 9)")
    _add_output_options(p, "folder for channel_NNNN.png and channels.csv")
    p.set_defaults(func=cmd_inside)
    p = sub.add_parser("embed", help="the embedding map of the test split (PCA or t-SNE)")
    p.add_argument("run", help="run id or folder")
    p.add_argument("--method", choices=["pca", "tsne"], default="pca")
    p.add_argument("--seed", type=int, default=0, help="t-SNE seed (default 0)")
    _add_output_options(p, "map.png (matplotlib) or .html/.json (altair)")
    p.set_defaults(func=cmd_embed)
    p = sub.add_parser("robustness", help="accuracy under growing perturbations, 6 severities each")
    p.add_argument("run", help="run id or folder")
    _add_output_options(p, "curves.csv")
    p.set_defaults(func=cmd_robustness)
