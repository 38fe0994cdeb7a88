# Thin input functions over attnlab.plan (which knows what the config asks for), and the
# ones only Snakemake can answer: the seeds that decision rounds (checkpoints) add.
import json
from pathlib import Path

from attnlab import codehash, config_files, plan, raw, sequential, spec
from snakemake.logging import logger

PLAN = plan.Plan(
    config, config_files.read_schema(config_files.find_schema(workflow.basedir))
)
for note in PLAN.notes:
    logger.info(note)
one_of = plan.one_of
DATASETS = PLAN.datasets
FOLD_DATASETS = PLAN.fold_datasets
VARIANTS = PLAN.variants
SWEEPS = PLAN.sweeps
SEQUENTIAL = PLAN.sequential
SEED_SEQUENCE = PLAN.seed_sequence
dataset_config = PLAN.dataset
datasets_from = PLAN.datasets_from
variants_of = PLAN.variants_of
training_file = PLAN.training_file
source_hash = codehash.source_hash


def variant_record(wildcards):
    """The variant's registry record as plain data (a train param: edits rerun it)."""
    return PLAN.variants[wildcards.dataset][wildcards.variant].to_dict()


def sweep_files(name, file):
    """One file per (setting, seed) of a sweep."""
    return [training_file(run, file) for run in PLAN.sweep_runs(name)]


def cross_pair(wildcards):
    return PLAN.cross_pair(wildcards.pair)


def cross_files(wildcards):
    """Every cross-dataset score of a pair, one per (variant, seed) of the train dataset."""
    train, _ = cross_pair(wildcards)
    return [
        f"results/cross/{wildcards.pair}/{run['variant']}/seed{run['seed']}.json"
        for run in run_ids(train)
    ]


def compared_files(dataset, name):
    """The compare_with dataset's run files of the variants both datasets train."""
    other = PLAN.compared_with(dataset)
    return [
        path
        for run, path in zip(run_ids(other), run_files(other, name))
        if run["variant"] in VARIANTS[dataset]
    ]


def plan_inputs(method):
    """An input function: a Plan method called with the job's wildcards by name."""
    return lambda wildcards: method(**wildcards)


def data_seed_of(wildcards):
    """The seed of a data job: its draw's (data_seeds), else config data_seed."""
    return PLAN.data_seed_of(wildcards.get("draw"))


def train_priority(wildcards):
    return PLAN.train_priority(wildcards.dataset, wildcards.variant)


def train_mem_mb(wildcards, attempt):
    return PLAN.train_mem_mb(wildcards.dataset, attempt)


def run_ids(dataset):
    """dataset, variant and seed of every run of a dataset, in `run_files` order; with
    `sequential`, the seeds each variant ends with (the last decision round's)."""
    if not SEQUENTIAL:
        return PLAN.runs(dataset)
    return sequential.planned_runs(
        dataset, read_round(dataset, last_round(dataset))["seeds"]
    )


def round_file(dataset, round_):
    """The state of one decision round (a checkpoint: reading it waits for it)."""
    return checkpoints.decide_seeds.get(dataset=dataset, round=str(round_)).output[0]


def read_round(dataset, round_):
    return json.loads(Path(round_file(dataset, round_)).read_text())


def round_seeds(dataset, round_):
    """Seeds per variant that decision round `round_` judges."""
    if round_ == 0:
        return {variant: PLAN.first_seeds() for variant in variants_of(dataset)}
    return read_round(dataset, round_ - 1)["seeds"]


def last_round(dataset):
    """The number of the round that decided every variant (or reached max_seeds)."""
    return sequential.last_round(lambda round_: read_round(dataset, round_))


def round_runs(wildcards, name):
    """One file per run that decision round `wildcards.round` judges."""
    seeds = round_seeds(wildcards.dataset, int(wildcards.round))
    return [
        training_file(run, name)
        for run in sequential.planned_runs(wildcards.dataset, seeds)
    ]


def run_files(dataset, name):
    """One file per (variant, seed) of a dataset, e.g. every metrics.json (pooled over
    the folds of a group_kfold dataset)."""
    return [training_file(run, name) for run in run_ids(dataset)]


def fold_run_ids(dataset):
    """dataset, variant, seed and fold of every training job (fold None without folds)."""
    return PLAN.training_jobs(run_ids(dataset))


def fold_run_files(dataset, name):
    """One file per training job, e.g. every history.csv (each fold's of a grouped set)."""
    return [training_file(job, name) for job in fold_run_ids(dataset)]


def every_training_file(name):
    """One file per training job of every dataset."""
    return [f for dataset in DATASETS for f in fold_run_files(dataset, name)]


def wildcard_run(wildcards):
    return {key: wildcards[key] for key in ("dataset", "variant", "seed")}


def fold_files(wildcards, name):
    """The files of every fold of one (dataset, variant, seed), e.g. to pool them."""
    return [
        training_file(j, name) for j in PLAN.training_jobs([wildcard_run(wildcards)])
    ]


def shown_model(wildcards):
    return PLAN.shown_model(wildcard_run(wildcards))


def map_archives(wildcards):
    """The attention maps of the variants an attention figure draws (first seed)."""
    run = {"dataset": wildcards.dataset, "seed": PLAN.first_seeds()[0]}
    drawn = PLAN.map_figures(wildcards.dataset)[wildcards.figure]
    return [training_file(run | {"variant": v}, "attention_maps.npz") for v in drawn]


def dataset_targets(dataset):
    """A dataset's cache, runs, tables and figures as an input function (it may wait on
    decision rounds)."""
    return lambda wildcards: PLAN.dataset_outputs(dataset) + run_files(
        dataset, "metrics.json"
    )


def dataset_report(dataset, caption, name):
    """A report entry of one dataset: category per dataset, labelled by what it shows."""
    return report(
        f"results/figures/{dataset}/{name}.png",
        caption=f"../report/{caption}.rst",
        category=dataset,
        labels={"figure": name.replace("_", " ")},
    )


def table_report(path, caption, category, name):
    labels = {"table": name}
    return report(
        path, caption=f"../report/{caption}.rst", category=category, labels=labels
    )


wildcard_constraints:
    dataset=one_of(DATASETS),
    split="train|val|test",
    seed=one_of([str(seed) for seed in SEED_SEQUENCE]),
    round="[0-9]+",
    variant=one_of({v for d in DATASETS for v in variants_of(d)}),
    sweep=one_of(SWEEPS),
    pair=one_of(PLAN.cross_pairs),
    fold=one_of(PLAN.fold_numbers),
    draw=one_of(PLAN.draws),
    figure=one_of(plan.ATTENTION_FIGURES),
