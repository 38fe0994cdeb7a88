"""The `attnlab` command line.

Each subcommand is a function that adds its parser to the subparsers and sets
`handler`; add new ones to `SUBCOMMANDS`. Handlers import heavy modules
(TensorFlow) themselves, so `attnlab --help` stays fast.
"""

import argparse
import sys


def add_models_command(subparsers):
    """`attnlab models`: the parameter count of every variant."""
    parser = subparsers.add_parser(
        "models",
        help="print or write every variant's parameter count",
        description="Build every model variant on its default input shape and "
        "tabulate its parameter count next to the count the study reported.",
    )
    parser.add_argument("--format", choices=["markdown", "csv"], default="markdown")
    parser.add_argument("--output", help="write to this file instead of standard output")
    parser.set_defaults(handler=run_models)


def run_models(args):
    from attnlab.models import param_table

    table = param_table()
    text = table.to_csv(index=False) if args.format == "csv" else param_markdown(table)
    write_text(text, args.output)
    return 0


def param_markdown(table):
    """The parameter table as a Markdown table, counts with thousands separators."""
    header = ["family", "variant", "params", "reported", "study_variant"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in table.itertuples(index=False):
        cells = [
            row.family,
            row.variant,
            f"{row.params:,}",
            row.reported or "-",
            "yes" if row.study_variant else "no",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_text(text, output=None):
    """Write `text` to the file `output`, or to standard output when it is None."""
    if output is None:
        sys.stdout.write(text)
        return
    with open(output, "w", encoding="utf-8") as handle:
        handle.write(text)


SUBCOMMANDS = [add_models_command]


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
