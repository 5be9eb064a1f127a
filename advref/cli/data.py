"""`advref data info|fetch`: where MNIST is, whether it verifies; fetch it."""

from __future__ import annotations

import os

from advref import _json as strict_json
from advref.data_loaders import DataError, find_mnist, sample_available
from advref.data_loaders.download import DEFAULT_MIRRORS, download_mnist
from advref.data_loaders.mnist import FILES, file_in, verified_bytes
from advref.data_loaders.mnist_files import candidate_sources, present_file_in
from advref.data_loaders.sample import sample_path


def register(sub):
    p = sub.add_parser("data", help="MNIST: where it is, whether it verifies; fetch it",
                       description="Inspect or fetch the MNIST files.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True,
                               help="info: where MNIST is and whether it verifies; fetch: "
                                    "download and verify it")
    info = actions.add_parser("info", help="where MNIST was found and whether each file verifies",
                              description="Say where MNIST was found (argument, ADVREF_DATA, "
                                          "cache, in that order), verify each file's SHA-256, and "
                                          "report the bundled sample.")
    info.add_argument("--data-dir", help="a folder to look in first")
    info.add_argument("--json", action="store_true", help="print JSON instead of text")
    info.set_defaults(run=run_info)
    fetch = actions.add_parser("fetch", help="download and verify MNIST into the user cache",
                               description="Download the missing MNIST files into the user "
                                           "cache (or --dest), verifying each one.")
    fetch.add_argument("--dest", help="folder to fetch into (default: the user cache)")
    fetch.add_argument("--mirror", action="append",
                       help="a mirror URL to try (repeatable; default: the public mirrors)")
    fetch.set_defaults(run=run_fetch)


def mnist_report(data_dir=None) -> dict:
    folder = find_mnist(data_dir)
    sources = candidate_sources(data_dir)
    files: dict[str, dict] = {}
    report = {"looked_in": [str(d) for _, d in sources],
              "looked_in_sources": [where for where, _ in sources],
              "ADVREF_DATA": os.environ.get("ADVREF_DATA"),
              "found": str(folder) if folder else None, "files": files,
              "sample": str(sample_path()) if sample_available() else None}
    if folder:
        for name in FILES:
            path = file_in(folder, name)
            try:
                verified_bytes(present_file_in(folder, name), name)
                files[name] = {"path": str(path), "verified": True}
            except DataError as err:
                files[name] = {"path": str(path), "verified": False, "error": str(err)}
    return report


def run_info(args) -> int:
    report = mnist_report(args.data_dir)
    ok = report["found"] is not None and all(f["verified"] for f in report["files"].values())
    if args.json:
        print(strict_json.dumps(report, indent=2))
        return 0 if ok else 1
    print("looked in (in order):")
    for where, d in zip(report["looked_in_sources"], report["looked_in"], strict=True):
        print(f"  {d}  ({where})")
    if report["ADVREF_DATA"] is None:
        print("ADVREF_DATA is not set (set it to a folder that holds the four MNIST files, "
              "gzipped or raw, to use existing files)")
    if report["found"] is None:
        print("full MNIST: not found (set ADVREF_DATA to a folder that holds the four files, "
              "or run `advref data fetch`)")
    else:
        print(f"full MNIST: {report['found']}")
        for name, f in report["files"].items():
            status = "verified" if f["verified"] else f"FAILED: {f['error']}"
            print(f"  {name:26s} {status}")
    print(f"bundled sample: {report['sample'] or 'MISSING'}")
    return 0 if ok else 1


def run_fetch(args) -> int:
    mirrors = tuple(args.mirror) if args.mirror else DEFAULT_MIRRORS
    folder = download_mnist(args.dest, mirrors=mirrors)
    print(f"MNIST verified in {folder}")
    return 0
