"""Parameter counts of every dataset's variants: thin adapter to attnlab.models.

Expects from the rule:
  params.architectures  dict dataset -> its variants' registry records (Variant.to_dict())
  threads               TensorFlow threads
  output.csv, output.md the table (attnlab.models.dataset_param_table)
  log[0]                the job's log
"""

from attnlab import runtime, tables
from attnlab.logs import job_log

with job_log(snakemake.log[0]) as log:
    runtime.configure(threads=snakemake.threads, device="cpu")
    from attnlab.models import dataset_param_table

    table = dataset_param_table(dict(snakemake.params.architectures))
    tables.write_table(table, snakemake.output.csv, snakemake.output.md)
    log.info("parameter counts of %d variants", len(table))
