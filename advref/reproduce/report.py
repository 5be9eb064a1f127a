"""results.json and results.md of a reproduce run."""

from __future__ import annotations

import math

from advref import _json as strict_json
from advref.data_loaders.files import atomic_write_bytes


def fmt(value, unit):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{100 * value:.2f}%" if unit == "%" else f"{value:.3g}"


def params_text(params):
    return ", ".join(f"{k}={strict_json.dumps(v, default=str)}" for k, v in params.items()
                     if k != "settings")


SAMPLE_CAVEAT = ("These numbers are not a reproduction: the sample profile trains on the "
                 "bundled 2,000 images for a few epochs, to check an installation and to "
                 "teach. It shows the paper's qualitative findings, but several rows "
                 "contradict the paper's values (for example the sigmoid rubbish rate, and "
                 "adversarial training's cost in clean error); the paper column is there for "
                 "orientation only. Fetch MNIST (`advref data fetch`) for the quick and paper "
                 "profiles.")


def caveat(result):
    """What a reader must know before reading the rows, or None."""
    return SAMPLE_CAVEAT if result["profile"] == "sample" else None


def markdown(result):
    note = caveat(result)
    lines = [f"# advref reproduce: profile `{result['profile']}`", "",
             *([f"**{note}**", ""] if note else []),
             f"Run on {result['date']} in {result['wall_seconds']:.0f} s on "
             f"{result['machine']['cpus']} cores / {result['machine']['memory_gb']} GB "
             f"(seed {result['seed']}, data {result['data']['name']}, "
             f"{result['data']['n_train']} training / {result['data']['n_test']} test images).",
             "", "| experiment | quantity | paper | measured | parameters |",
             "|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['experiment']} | {r['quantity']} | {fmt(r['paper'], r['unit'])} | "
                     f"{fmt(r['measured'], r['unit'])} | {params_text(r['params'])} |")
    for name, reason in result.get("skipped", {}).items():
        lines.append(f"| {name} | skipped | - | - | {reason} |")
    lines += ["", "## Models", "",
              "| model | epochs (best) | seconds | BLAS threads | BLAS kernel | sha256 |",
              "|---|---|---|---|---|---|"]
    for name, info in result["models"].items():
        threads = info.get("blas_threads")
        lines.append(f"| {name} | {info['epochs']} ({info['best_epoch']}) | "
                     f"{info['seconds']:.0f} | {'-' if threads is None else threads} | "
                     f"{blas_text(info.get('blas'))} | `{info['sha256'][:16]}` |")
    lines += ["", "## Figures", ""]
    if result["figures"]:
        lines += [f"![{name}]({file})" for name, file in result["figures"].items()]
    else:
        lines.append(result["figures_note"])
    return "\n".join(lines) + "\n"


def blas_text(blas):
    """"Haswell (scipy-openblas 0.3.31)" from a model's recorded `blas`; "-" for a file
    from before it was recorded, "?" for parts that could not be read."""
    if not blas:
        return "-"
    library = " ".join(str(blas[k]) for k in ("library", "version") if blas.get(k))
    return f"{blas.get('kernel') or '?'} ({library or '?'})"


def write(result, folder):
    atomic_write_bytes(folder / "results.json",
                       (strict_json.dumps(result, indent=2) + "\n").encode())
    atomic_write_bytes(folder / "results.md", markdown(result).encode())
