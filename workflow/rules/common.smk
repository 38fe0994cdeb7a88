import json
import re
from pathlib import Path

import jsonschema
import yaml

from attnlab import codehash, registry, sequential, spec, sweeps
from snakemake.logging import logger

MNIST_NAMES = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
]
NEVER = "(?!x)x"
DATASETS = list(config["datasets"])
SEEDS = [str(seed) for seed in config["seeds"]]


def dataset_config(dataset):
    return config["datasets"][dataset]


def datasets_from(source):
    return [name for name in DATASETS if dataset_config(name)["source"] == source]


def folds_of(dataset):
    """The folds of a group_kfold dataset (1..K); [None] (one run, no fold) otherwise."""
    split = dataset_config(dataset)["split"]
    if split["method"] != "group_kfold":
        return [None]
    return list(range(1, split["folds"] + 1))


FOLD_DATASETS = [d for d in DATASETS if folds_of(d) != [None]]
PLAIN_DATASETS = [d for d in DATASETS if d not in FOLD_DATASETS]
FOLDS = sorted({str(k) for d in FOLD_DATASETS for k in folds_of(d)})


def one_of(values):
    """A wildcard constraint matching exactly these values (or nothing when empty)."""
    escaped = [re.escape(value) for value in sorted(values, key=len, reverse=True)]
    return "|".join(escaped) or NEVER


def resolve_variants():
    """Every dataset's variants as registry records (checked: blocks, options, values)."""
    resolved = {}
    for dataset in DATASETS:
        cfg = dataset_config(dataset)
        registry.family(cfg["family"])
        variants = registry.resolve_dataset_variants(
            dataset, cfg["family"], cfg["variants"]
        )
        resolved[dataset] = {variant.name: variant for variant in variants}
    return resolved


VARIANTS = resolve_variants()


def configured_recipe(dataset, variant):
    """The dataset's recipe with the configured variant's overrides on top."""
    cfg = dataset_config(dataset)
    return {**cfg["recipe"], **cfg["variant_recipes"].get(variant, {})}


def config_schema():
    return yaml.safe_load(
        (Path(workflow.basedir) / "workflow/schemas/config.schema.yaml").read_text()
    )


def recipe_keys_schema():
    schema = config_schema()
    return {"$defs": schema["$defs"], **schema["$defs"]["recipe_keys"]}


def sequential_settings():
    """config sequential with the schema's defaults filled in (None when off)."""
    if config["sequential"] is None:
        return None
    fields = config_schema()["properties"]["sequential"]["oneOf"][1]["properties"]
    defaults = {k: v["default"] for k, v in fields.items() if "default" in v}
    settings = defaults | config["sequential"]
    if settings["max_seeds"] < settings["min_seeds"]:
        raise ValueError(
            f"config sequential: max_seeds {settings['max_seeds']} is below min_seeds "
            f"{settings['min_seeds']}"
        )
    return settings


SEQUENTIAL = sequential_settings()
SEED_SEQUENCE = (
    sequential.seed_sequence(config["seeds"], SEQUENTIAL["max_seeds"])
    if SEQUENTIAL
    else [int(seed) for seed in config["seeds"]]
)


def expand_sweeps():
    """Every sweep's settings; their variants join their dataset's VARIANTS."""
    expanded, recipe_schema = {}, recipe_keys_schema()
    for name, sweep in config["sweeps"].items():
        where = f"config sweeps.{name}"
        if sweep["dataset"] not in VARIANTS:
            raise ValueError(
                f"{where}.dataset: {sweep['dataset']!r} is not in datasets"
            )
        variants = VARIANTS[sweep["dataset"]]
        if sweep["variant"] not in variants:
            raise ValueError(
                f"{where}.variant: {sweep['variant']!r} is not one of {list(variants)}"
            )
        base_recipe = configured_recipe(sweep["dataset"], sweep["variant"])
        settings = sweeps.expand(name, sweep, variants[sweep["variant"]], base_recipe)
        for setting in settings:
            if setting.variant.name == setting.base:
                continue
            try:
                jsonschema.validate(dict(setting.recipe), recipe_schema)
            except jsonschema.ValidationError as error:
                raise ValueError(f"{where}.recipe: {error.message}") from None
            if setting.variant.name in variants:
                raise ValueError(f"{where}: {setting.variant.name!r} exists already")
            variants[setting.variant.name] = setting.variant
        expanded[name] = settings
    return expanded


SWEEPS = expand_sweeps()
SWEEP_SETTINGS = {
    (config["sweeps"][name]["dataset"], setting.variant.name): setting
    for name, settings in SWEEPS.items()
    for setting in settings
    if setting.variant.name != setting.base
}


def sweep_params(name):
    """A sweep's dataset and its settings as plain data (variant, swept values)."""
    return {
        "dataset": config["sweeps"][name]["dataset"],
        "settings": [
            {"variant": s.variant.name, "values": dict(s.values)} for s in SWEEPS[name]
        ],
    }


def sweep_files(name, file):
    """One file per (setting, seed) of a sweep."""
    dataset = config["sweeps"][name]["dataset"]
    return [
        f"results/{dataset}/{s.variant.name}/seed{seed}/{file}"
        for s in SWEEPS[name]
        for seed in SEEDS
    ]


def sweep_runs(name):
    dataset = config["sweeps"][name]["dataset"]
    return [
        {"dataset": dataset, "variant": s.variant.name, "seed": int(seed)}
        for s in SWEEPS[name]
        for seed in SEEDS
    ]


def variants_of(dataset):
    return list(VARIANTS[dataset])


def variant_record(wildcards):
    """The variant's registry record as plain data (a train param: edits rerun it)."""
    return VARIANTS[wildcards.dataset][wildcards.variant].to_dict()


def splits_of(dataset):
    split = dataset_config(dataset)["split"]
    if split["method"] == "folders":
        return ["train", "test"]
    return [name for name in ("train", "val", "test") if split["fractions"][name] > 0]


def check_cross_dataset():
    """Each pair: known datasets with the same classes, image size and channels."""
    for i, pair in enumerate(config["cross_dataset"]):
        where = f"config cross_dataset[{i}]"
        for role in ("train", "test"):
            if pair[role] not in DATASETS:
                raise ValueError(f"{where}.{role}: {pair[role]!r} is not in datasets")
            if pair[role] in FOLD_DATASETS:
                raise ValueError(
                    f"{where}.{role}: {pair[role]!r} is split in grouped folds (one model "
                    "and one test set per fold); cross-dataset scores need a single split"
                )
        a, b = dataset_config(pair["train"]), dataset_config(pair["test"])
        for key in ("classes", "image_size", "channels"):
            if a[key] != b[key]:
                raise ValueError(
                    f"{where}: {pair['train']} and {pair['test']} differ in {key} "
                    f"({a[key]} vs {b[key]}); a model can only be scored on the same inputs"
                )


CROSS_PAIRS = [f"{p['train']}_on_{p['test']}" for p in config["cross_dataset"]]


def cross_pair(wildcards):
    pair = config["cross_dataset"][CROSS_PAIRS.index(wildcards.pair)]
    return pair["train"], pair["test"]


def cross_files(wildcards):
    """Every cross-dataset score of a pair, one per (variant, seed) of the train dataset."""
    train, _ = cross_pair(wildcards)
    return [
        f"results/cross/{wildcards.pair}/{run['variant']}/seed{run['seed']}.json"
        for run in run_ids(train)
    ]


def compared_with(dataset):
    """The random-split dataset a group_kfold dataset is set beside (or None)."""
    return dataset_config(dataset)["split"]["compare_with"]


def compared_files(dataset, name):
    """The compare_with dataset's run files of the variants both datasets train."""
    other = compared_with(dataset)
    return [
        path
        for run, path in zip(run_ids(other), run_files(other, name))
        if run["variant"] in VARIANTS[dataset]
    ]


def check_split_comparison(dataset):
    """A group_kfold dataset's compare_with: a single-split dataset of the same classes."""
    other = compared_with(dataset)
    where = f"config datasets.{dataset}.split.compare_with"
    if other is None:
        return
    if other not in PLAIN_DATASETS:
        raise ValueError(
            f"{where}: {other!r} is not a dataset with a single split "
            f"(one of {PLAIN_DATASETS})"
        )
    if dataset_config(other)["classes"] != dataset_config(dataset)["classes"]:
        raise ValueError(f"{where}: {other!r} has other classes than {dataset!r}")
    if not set(VARIANTS[other]) & set(VARIANTS[dataset]):
        raise ValueError(f"{where}: {other!r} and {dataset!r} share no variant")


def check_config():
    """Checks the schema cannot express: baselines, recipe targets, splits, paths."""
    for dataset in DATASETS:
        cfg = dataset_config(dataset)
        check_split_comparison(dataset)
        registry.family(cfg["family"]).check_size(
            cfg["image_size"], f"config datasets.{dataset}.image_size"
        )
        if cfg["baseline"] not in VARIANTS[dataset]:
            raise ValueError(
                f"config datasets.{dataset}.baseline: {cfg['baseline']!r} is not in its variants"
            )
        check_variant_recipes(dataset)
        validations = {recipe_of(dataset, v)["validation"] for v in VARIANTS[dataset]}
        if "val" in validations and "val" not in splits_of(dataset):
            raise ValueError(
                f"config datasets.{dataset}: a recipe validates on 'val' but the dataset "
                f"has no val split (split method {cfg['split']['method']!r})"
            )
        if (
            cfg["source"] in ("folder", "audio_folder")
            and not Path(cfg["path"]).is_dir()
        ):
            raise ValueError(
                f"config datasets.{dataset}.path: {cfg['path']} is not a folder"
            )


def check_variant_recipes(dataset):
    """Recipes of unselected variants are ignored (an overlay may narrow `variants`);
    a name no variant of the family has is an error. Early stopping must not select its
    epoch on the test set."""
    cfg = dataset_config(dataset)
    for variant in cfg["variant_recipes"]:
        where = f"config datasets.{dataset}.variant_recipes.{variant}"
        if variant in VARIANTS[dataset]:
            continue
        if variant not in registry.names(cfg["family"]):
            raise ValueError(f"{where}: not one of its variants")
        logger.info(f"{where}: ignored ({variant} is not in the dataset's variants)")
    for variant in VARIANTS[dataset]:
        recipe = recipe_of(dataset, variant)
        if recipe["early_stopping"] and recipe["validation"] == "test":
            raise ValueError(
                f"config datasets.{dataset} ({variant}): early_stopping with validation: "
                "test would choose the epoch on the test set; use validation: split or val"
            )


def recipe_of(dataset, variant):
    """The dataset's recipe with the variant's overrides on top (a sweep setting: its
    swept variant's overrides, then the setting's swept recipe keys)."""
    setting = SWEEP_SETTINGS.get((dataset, variant))
    if setting is None:
        return configured_recipe(dataset, variant)
    return {**configured_recipe(dataset, setting.base), **setting.recipe}


def manifest_inputs(wildcards):
    """The dataset's image folder (and, for audio, the table of its recordings)."""
    cfg = dataset_config(wildcards.dataset)
    if cfg["source"] == "folder":
        return {"images": cfg["path"]}
    images = f"resources/images/{wildcards.dataset}"
    if cfg["source"] == "audio_folder":
        return {"images": images, "recordings": f"{images}.recordings.csv"}
    return {"images": images}


def fold_folder(fold):
    """The sub-folder of one fold's files ("" without folds)."""
    return "" if fold is None else f"fold{fold}/"


def cache_file(dataset, name, fold=None):
    """A cache file of a dataset, or of one fold of a group_kfold dataset."""
    return f"results/{dataset}/cache/{fold_folder(fold)}{name}"


def dataset_cache(dataset):
    """The manifest and every split's arrays of one dataset (of each of its folds)."""
    files = [cache_file(dataset, "manifest.parquet")]
    for fold in folds_of(dataset):
        for split in splits_of(dataset):
            files += [
                cache_file(dataset, f"{split}_x.npy", fold),
                cache_file(dataset, f"{split}_y.npy", fold),
            ]
    return files


def source_hash(*modules):
    """Hash of package modules and every package module they import, passed as a param
    so that a change to code the job runs reruns it."""
    package = Path(workflow.basedir) / "src" / "attnlab"
    return codehash.code_hash(codehash.imported_files(package, modules))


def train_inputs(wildcards):
    """The manifest and the cache arrays the job's recipe reads, by role."""
    recipe = recipe_of(wildcards.dataset, wildcards.variant)
    fold = wildcards.get("fold")
    arrays = {
        role: cache_file(wildcards.dataset, f"{stem}.npy", fold)
        for role, stem in spec.recipe_arrays(recipe).items()
    }
    records = {f"{role}_sha256": f"{path}.sha256" for role, path in arrays.items()}
    manifest = cache_file(wildcards.dataset, "manifest.parquet")
    return {"manifest": manifest, **arrays, **records}


def train_priority(wildcards):
    """Schedule the longest trainings first; any data job before any training.

    Negative, so that the data jobs (priority 0) that feed the long trainings are never
    queued behind short ones. Trainings are ranked by image area x epochs (the
    spectrogram models take ~5-10x the digit models), and within a dataset the
    baseline (no attention block, the cheapest) goes last. Only the order changes.
    """

    def cost(dataset, variant):
        height, width = dataset_config(dataset)["image_size"]
        area_epochs = height * width * recipe_of(dataset, variant)["epochs"]
        return (-area_epochs, variant == dataset_config(dataset)["baseline"])

    ranked = sorted(
        (
            (dataset, variant)
            for dataset in DATASETS
            for variant in variants_of(dataset)
        ),
        key=lambda pair: cost(*pair),
    )
    return -1 - ranked.index((wildcards.dataset, wildcards.variant))


def train_mem_mb(wildcards, attempt):
    """Memory for SLURM: the cache arrays plus TensorFlow's overhead, more on retries."""
    cfg = dataset_config(wildcards.dataset)
    height, width = cfg["image_size"]
    return int(2000 + height * width * cfg["channels"] * 4 * 6000 / 1e6) * attempt


def run_ids(dataset):
    """dataset, variant and seed of every run of a dataset, in `run_files` order.

    With `sequential`, the seeds each variant ends with (the last decision round's)."""
    seeds = final_seeds(dataset) if SEQUENTIAL else None
    return [
        {"dataset": dataset, "variant": variant, "seed": int(seed)}
        for variant in variants_of(dataset)
        for seed in (seeds[variant] if seeds else SEEDS)
    ]


def round_file(dataset, round_):
    """The state of one decision round (a checkpoint: reading it waits for it)."""
    job = checkpoints.decide_seeds.get(dataset=dataset, round=str(round_))
    return job.output[0]


def round_seeds(dataset, round_):
    """Seeds per variant that decision round `round_` judges."""
    if round_ == 0:
        return sequential.first_round(variants_of(dataset), SEED_SEQUENCE, SEQUENTIAL)
    return json.loads(Path(round_file(dataset, round_ - 1)).read_text())["seeds"]


def last_round(dataset):
    """The number of the round that decided every variant (or reached max_seeds)."""
    round_ = 0
    while not json.loads(Path(round_file(dataset, round_)).read_text())["done"]:
        round_ += 1
    return round_


def final_seeds(dataset):
    return json.loads(Path(round_file(dataset, last_round(dataset))).read_text())[
        "seeds"
    ]


def round_runs(wildcards, name):
    """One file per run that decision round `wildcards.round` judges."""
    seeds = round_seeds(wildcards.dataset, int(wildcards.round))
    runs = [
        {"dataset": wildcards.dataset, "variant": v, "seed": s, "fold": None}
        for v, of in seeds.items()
        for s in of
    ]
    return [training_file(run, name) for run in runs]


def run_files(dataset, name):
    """One file per (variant, seed) of a dataset, e.g. every metrics.json (pooled over
    the folds of a group_kfold dataset)."""
    return [training_file(run | {"fold": None}, name) for run in run_ids(dataset)]


def fold_run_ids(dataset):
    """dataset, variant, seed and fold of every training job (fold None without folds)."""
    return [
        run | {"fold": fold} for run in run_ids(dataset) for fold in folds_of(dataset)
    ]


def fold_run_files(dataset, name):
    """One file per training job, e.g. every history.csv (each fold's of a grouped set)."""
    return [training_file(run, name) for run in fold_run_ids(dataset)]


def every_training_file(name):
    """One file per training job of every dataset."""
    return [f for dataset in DATASETS for f in fold_run_files(dataset, name)]


def training_file(run, name):
    """A file of one run (dataset, variant, seed, fold), in its fold's folder if any."""
    run_dir = f"results/{run['dataset']}/{run['variant']}/seed{run['seed']}"
    return f"{run_dir}/{fold_folder(run['fold'])}{name}"


def wildcard_run(wildcards):
    return {key: wildcards[key] for key in ("dataset", "variant", "seed")}


def fold_files(wildcards, name):
    """The files of every fold of one (dataset, variant, seed), e.g. to pool them."""
    run = wildcard_run(wildcards)
    return [training_file(run | {"fold": k}, name) for k in folds_of(wildcards.dataset)]


def shown_model(wildcards):
    """The model and test arrays the figures explain: fold 1's on a grouped dataset."""
    fold = folds_of(wildcards.dataset)[0]
    run = wildcard_run(wildcards)
    test = [cache_file(wildcards.dataset, f"test_{kind}.npy", fold) for kind in "xy"]
    return {
        "model": training_file(run | {"fold": fold}, "model.keras"),
        "images": test[0],
        "labels": test[1],
        "records": [f"{path}.sha256" for path in test],
    }


FIGURES = [
    "accuracy_curves",
    "loss_curves",
    "confusion",
    "cost_benefit",
    "attention_spatial",
    "attention_self",
    "channel_weights",
    "gradcam",
]
STUDY_TABLES = ["cross_domain", "verdicts", "params"]
RANKING_TABLES = ["ranks", "posthoc", "bayes", "power"]
FOLD_TABLES = ["folds", "speakers"]


def dataset_outputs(dataset):
    """Caches, runs, tables and figures of one dataset."""
    tables = [
        f"results/tables/{dataset}/{name}.csv"
        for name in ("study", "compare", "mcnemar", "verdicts", *RANKING_TABLES)
    ]
    figures = [
        f"results/figures/{dataset}/{name}.png"
        for name in (*FIGURES, "critical_difference")
    ]
    if SEQUENTIAL:
        tables.append(f"results/tables/{dataset}/decisions.csv")
    if dataset in FOLD_DATASETS:
        tables += [f"results/tables/{dataset}/{name}.csv" for name in FOLD_TABLES]
        if compared_with(dataset):
            tables.append(f"results/tables/{dataset}/random_vs_grouped.csv")
    return (
        dataset_cache(dataset) + run_files(dataset, "metrics.json") + tables + figures
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
    return report(
        path,
        caption=f"../report/{caption}.rst",
        category=category,
        labels={"table": name},
    )


def study_targets():
    targets = [f"results/tables/{name}.csv" for name in STUDY_TABLES] + [
        "results/summary.md"
    ]
    for name in SWEEPS:
        targets += [
            f"results/tables/sweeps/{name}.csv",
            f"results/figures/sweeps/{name}.png",
        ]
    return targets


def dataset_targets(dataset):
    """`dataset_outputs` as an input function (it may wait on decision rounds)."""
    return lambda wildcards: dataset_outputs(dataset)


check_config()
check_cross_dataset()


wildcard_constraints:
    dataset=one_of(DATASETS),
    split="train|val|test",
    seed=one_of([str(seed) for seed in SEED_SEQUENCE]),
    round="[0-9]+",
    variant=one_of({v for dataset in DATASETS for v in variants_of(dataset)}),
    sweep=one_of(SWEEPS),
    pair=one_of(CROSS_PAIRS),
    fold=one_of(FOLDS),
