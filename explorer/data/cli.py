"""`python -m explorer data list|info|prepare`: see and prepare datasets from the command line."""

from __future__ import annotations

import argparse
import time


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Add the `data` command and its list / info / prepare sub-commands."""
    data = subparsers.add_parser("data", help="datasets: list, info, prepare")
    sub = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    sub.required = True

    p_list = sub.add_parser("list", help="list datasets and whether they are on this machine")
    p_list.add_argument("--root", help="data root (default: $EXPLORER_DATA or ./data)")
    p_list.set_defaults(func=cmd_list)

    p_info = sub.add_parser("info", help="describe one dataset")
    p_info.add_argument("name")
    p_info.add_argument("--root", help="data root (default: $EXPLORER_DATA or ./data)")
    p_info.set_defaults(func=cmd_info)

    p_prep = sub.add_parser("prepare", help="generate, extract or download a dataset into the data root")
    p_prep.add_argument("name")
    p_prep.add_argument("--root", help="data root (default: $EXPLORER_DATA or ./data)")
    p_prep.add_argument("--path", help="EMNIST: the official gzip.zip, or a folder with its .gz or idx files")
    p_prep.add_argument("--size", type=int, help="letters-builtin: training images per class (default 1000)")
    p_prep.add_argument("--seed", type=int, default=0, help="letters-builtin: generation seed (default 0)")
    p_prep.add_argument("--no-download", action="store_true", help="never use the network")
    p_prep.set_defaults(func=cmd_prepare)


def cmd_list(args: argparse.Namespace) -> int:
    """Print a table of datasets."""
    from explorer.data import data_root, list_datasets

    print(f"data root: {data_root(args.root)}")
    print(f"{'name':<16} {'classes':>7} {'train':>9} {'test':>8}  {'here':<5} title")
    for info in list_datasets(args.root):
        here = "yes" if info.available else ("net" if info.network_only else "no")
        print(
            f"{info.name:<16} {info.num_classes:>7} {info.train_size or 0:>9,} {info.test_size or 0:>8,}  "
            f"{here:<5} {info.title}"
        )
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    """Print everything known about one dataset."""
    from explorer.data import get_dataset_info

    info = get_dataset_info(args.name, args.root)
    print(f"{info.name}: {info.title}")
    print(f"  classes ({info.num_classes}): {' '.join(info.classes)}")
    print(f"  images: {info.image_size}x{info.image_size} grayscale; train {info.train_size or 0:,}, test {info.test_size or 0:,}")
    print(f"  source: {info.source}")
    print(f"  available here: {'yes' if info.available else 'no'}")
    print(f"  {info.description}")
    if not info.available:
        print(f"  how to get it: {info.how_to_get}")
    return 0


class _Bar:
    """A tqdm progress bar fed with (done, total) or status strings."""

    def __init__(self, desc: str) -> None:
        from tqdm import tqdm

        self.bar = tqdm(desc=desc, unit="img", dynamic_ncols=True)

    def count(self, done: int, total: int) -> None:
        self.bar.total = total
        self.bar.n = done
        self.bar.refresh()

    def status(self, text: str) -> None:
        self.bar.set_postfix_str(text)

    def close(self) -> None:
        self.bar.close()


def cmd_prepare(args: argparse.Namespace) -> int:
    """Generate (built-in), extract (EMNIST from a zip/folder) or download a dataset, then summarise it."""
    from explorer.data import data_root, get_dataset_info, load_dataset

    info = get_dataset_info(args.name, args.root)
    root = data_root(args.root)
    bar = _Bar(f"prepare {info.name}")
    t0 = time.perf_counter()
    try:
        if info.name == "letters-builtin":
            opts = {"size": args.size, "seed": args.seed, "progress": bar.count}
        elif info.name == "digits":
            opts = {}
        elif info.name.startswith("emnist"):
            opts = {"path": args.path, "download": not args.no_download, "progress": bar.status}
        else:
            opts = {"download": not args.no_download}
        train = load_dataset(info.name, "train", root, **opts)
        opts.pop("progress", None)
        test = load_dataset(info.name, "test", root, **opts)
    finally:
        bar.close()
    print(
        f"{info.name}: {len(train):,} train + {len(test):,} test images, {len(train.classes)} classes, "
        f"ready in {time.perf_counter() - t0:.1f} s (source: {train.source})"
    )
    return 0
