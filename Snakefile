# attnlab: does attention help a small CNN, and at what cost? (../shared/docs/STUDY.md)
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/tracking.smk"
include: "workflow/rules/sequential.smk"


rule all:
    default_target: True
    input:
        **{dataset: dataset_targets(dataset) for dataset in DATASETS},
        # One input function per dataset: with `sequential`, each waits on its own
        # decision rounds, so the datasets' rounds are found (and run) side by side.
        study=PLAN.study_outputs(),
