"""The `attnlab` command line.

Each subcommand is a function that adds its parser to the subparsers and sets
`handler`; add new ones to `SUBCOMMANDS`. Handlers import heavy modules
(TensorFlow) themselves, so `attnlab --help` stays fast.
"""

import argparse
import numbers
import sys

import numpy as np


def add_models_command(subparsers):
    """`attnlab models`: every registered block and variant with parameter counts."""
    parser = subparsers.add_parser(
        "models",
        help="list every attention block and model variant with parameter counts",
        description="Build every registered block and variant on its family's default "
        "input shape: blocks with their options, defaults, maps and the parameters they "
        "add; variants with their blocks, parameter counts and the study's reported count.",
    )
    parser.add_argument("--format", choices=["markdown", "csv"], default="markdown")
    parser.add_argument(
        "--only", choices=["blocks", "variants"], help="one of the two tables (default both)"
    )
    parser.add_argument("--output", help="write to this file instead of standard output")
    parser.set_defaults(handler=run_models)


def run_models(args):
    from attnlab.models import block_table, param_table

    tables = {}
    if args.only in (None, "blocks"):
        tables["Blocks"] = block_table()
    if args.only in (None, "variants"):
        tables["Variants"] = param_table()
    if args.format == "csv":
        text = "\n".join(table.to_csv(index=False) for table in tables.values())
    else:
        text = "\n".join(f"## {name}\n\n{markdown(table)}" for name, table in tables.items())
    write_text(text, args.output)
    return 0


def markdown(table):
    """A Markdown table: counts with thousands separators, booleans as yes/no, "" as -."""
    header = list(table.columns)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(value) for value in row) + " |")
    return "\n".join(lines) + "\n"


def _cell(value):
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return f"{value:,}"
    return str(value) if value != "" else "-"


def write_text(text, output=None):
    """Write `text` to the file `output`, or to standard output when it is None."""
    if output is None:
        sys.stdout.write(text)
        return
    with open(output, "w", encoding="utf-8") as handle:
        handle.write(text)


def add_predict_command(subparsers):
    """`attnlab predict`: classify new images or recordings with a trained run."""
    parser = subparsers.add_parser(
        "predict",
        help="classify new PNG images or WAV recordings with a trained run",
        description="Apply exactly the preprocessing the run's dataset used (recorded in "
        "its metrics.json) to each file, and print or write class probabilities.",
    )
    parser.add_argument(
        "run", help="a run folder results/{dataset}/{variant}/seed{seed} or its model.keras"
    )
    parser.add_argument("inputs", nargs="+", help="image or WAV files, or folders of them")
    parser.add_argument("--output", help="write the probabilities as CSV here")
    parser.add_argument("--explain", metavar="DIR", help="write an overlay PNG per input here")
    parser.set_defaults(handler=run_predict)


def run_predict(args):
    from attnlab import predict
    from attnlab.errors import DataError

    try:
        paths = predict.input_files(args.inputs)
        model, pre = predict.load(args.run)
        x = predict.prepare_all(paths, pre)
    except (DataError, FileNotFoundError, ValueError) as error:
        sys.stderr.write(f"attnlab predict: {error}\n")
        return 2
    table = predict.classify(model, x, paths, pre["classes"])
    if args.output:
        table.to_csv(args.output, index=False)
    else:
        sys.stdout.write(table.to_string(index=False, float_format="{:.4f}".format) + "\n")
    if args.explain:
        for path in predict.explain(model, x, paths, table, args.explain):
            sys.stderr.write(f"wrote {path}\n")
    return 0


def add_plan_command(subparsers):
    """`attnlab plan`: the runs a config plans, their count and relative cost."""
    parser = subparsers.add_parser(
        "plan",
        help="print the runs a config plans (no training, no Snakemake)",
        description="Merge the config files in order, fill in the schema's defaults, run "
        "every config check and print each dataset's variants, seeds and trainings with "
        "a relative cost (image area x epochs).",
    )
    parser.add_argument(
        "--configfile", nargs="+", required=True, help="config files, later ones on top"
    )
    parser.set_defaults(handler=run_plan)


def run_plan(args):
    from attnlab import config_files, plan

    try:
        planned = plan.Plan(config_files.load_config(args.configfile))
    except (ValueError, OSError) as error:
        print(f"attnlab plan: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # jsonschema's ValidationError and the registry's errors
        print(f"attnlab plan: {getattr(error, 'message', error)}", file=sys.stderr)
        return 2
    print(planned.summary())
    return 0


SUBCOMMANDS = [add_models_command, add_predict_command, add_plan_command]


def make_parser():
    parser = argparse.ArgumentParser(
        prog="attnlab", description="Attention blocks in small CNNs: the study's tools."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_command in SUBCOMMANDS:
        add_command(subparsers)
    return parser


def main(argv=None):
    """Entry point of the `attnlab` script; returns the exit status."""
    args = make_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
