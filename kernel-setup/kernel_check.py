"""Starts the "Rust (heatlib)" kernel over the Jupyter protocol and checks it works.

    python kernel_check.py --kernel rust-heatlib --warm    build heatlib once, to fill evcxr's cache
    python kernel_check.py --kernel rust-heatlib           check: heatlib loads, a heatmap shows inline
    python kernel_check.py --kernel rust-heatlib --json report.json

Exits non-zero, with the reason, when a check fails. Times each step.
"""
import argparse
import base64
import json
import struct
import sys
import time

from jupyter_client.manager import start_new_kernel

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class CellFailed(Exception):
    pass


def execute(client, code, timeout):
    """Runs one cell; returns (seconds, outputs as MIME bundles, stdout text)."""
    start = time.perf_counter()
    msg_id = client.execute(code)
    bundles, text, error = [], "", None
    while True:
        msg = client.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind in ("display_data", "execute_result"):
            bundles.append(content["data"])
        elif kind == "stream":
            text += content["text"]
        elif kind == "error":
            error = "\n".join([content.get("ename", ""), content.get("evalue", "")] + content.get("traceback", []))
        elif kind == "status" and content["execution_state"] == "idle":
            break
    reply = client.get_shell_msg(timeout=timeout)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = client.get_shell_msg(timeout=timeout)
    if error or reply["content"]["status"] != "ok":
        raise CellFailed(f"cell failed:\n{code}\n---\n{error or reply['content']}")
    return time.perf_counter() - start, bundles, text


def png_size(data):
    if not data.startswith(PNG_SIGNATURE):
        raise CellFailed("image/png output is not a PNG")
    return struct.unpack(">II", data[16:24])


FIRST_HEATMAP = """\
let problem = heatlib::Problem::small();
let field = heatlib::Stage::Typed.solve(&problem, &heatlib::RunOptions::final_field())?.final_field;
heatlib::display::Heatmap::new(field.view()).title("kernel check").limits(0.0, 100.0)"""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kernel", default="rust-heatlib")
    parser.add_argument("--warm", action="store_true", help="only build heatlib once in the kernel")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per cell")
    parser.add_argument("--json", help="write the timings here")
    args = parser.parse_args()

    report = {}
    start = time.perf_counter()
    manager, client = start_new_kernel(kernel_name=args.kernel, startup_timeout=args.timeout)
    try:
        report["kernel_ready_s"] = time.perf_counter() - start
        print(f"kernel '{args.kernel}' ready in {report['kernel_ready_s']:.1f} s (init.evcxr included)", flush=True)
        seconds, _, text = execute(client, "heatlib::Stage::ALL.len()", args.timeout)
        print(f"heatlib loaded; first cell {seconds:.1f} s", flush=True)
        if args.warm:
            seconds, _, _ = execute(client, FIRST_HEATMAP, args.timeout)
            print(f"cache warmed: a heatmap cell built in {seconds:.1f} s", flush=True)
            return 0
        seconds, bundles, _ = execute(client, FIRST_HEATMAP, args.timeout)
        report["first_heatmap_cell_s"] = seconds
        report["fresh_kernel_to_first_heatmap_s"] = time.perf_counter() - start
        pngs = [base64.b64decode(b["image/png"]) for b in bundles if "image/png" in b]
        if not pngs:
            raise CellFailed(f"the heatmap cell showed no image/png; it showed {[list(b) for b in bundles]}")
        width, height = png_size(pngs[0])
        if (width, height) != (520, 440):
            raise CellFailed(f"the heatmap is {width} x {height}, expected 520 x 440")
        print(
            f"heatmap shown inline: {width} x {height} PNG, {len(pngs[0])} bytes; "
            f"fresh kernel to first heatmap {report['fresh_kernel_to_first_heatmap_s']:.1f} s",
            flush=True,
        )
    except CellFailed as failure:
        print(f"kernel check failed: {failure}", file=sys.stderr)
        return 1
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
