"""The decisions of seeds on demand: thin adapter to attnlab.sequential.

Expects from the rule:
  input.state                 the last decision round's state (JSON)
  output.csv, output.md       per variant: decision, seeds used, why it stopped
"""

import json

from attnlab import sequential, tables
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    state = json.loads(open(snakemake.input.state).read())
    table = sequential.decisions_table(state)
    tables.write_table(
        table, snakemake.output.csv, snakemake.output.md, sequential.format_decisions(table)
    )
    log.info("%s", table["decision"].value_counts().to_dict())
