import hashlib
from pathlib import Path

from attnlab.variants import names as variant_names

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


def one_of(values):
    """A wildcard constraint matching exactly these values (or nothing when empty)."""
    return "|".join(sorted(values, key=len, reverse=True)) or NEVER


def variants_of(dataset):
    return dataset_config(dataset)["variants"]


def splits_of(dataset):
    split = dataset_config(dataset)["split"]
    if split["method"] == "folders":
        return ["train", "test"]
    fractions = split.get("fractions") or {"train": 0.8, "val": 0.1, "test": 0.1}
    return [name for name in ("train", "val", "test") if fractions[name] > 0]


def check_config():
    """Checks the schema cannot express: variant names, baselines, recipe targets, splits."""
    for dataset in DATASETS:
        cfg = dataset_config(dataset)
        known = variant_names(cfg["family"])
        unknown = [v for v in cfg["variants"] if v not in known]
        if unknown:
            raise ValueError(
                f"config datasets.{dataset}.variants: unknown {unknown} for family "
                f"{cfg['family']!r}; known: {list(known)}"
            )
        if cfg["baseline"] not in cfg["variants"]:
            raise ValueError(
                f"config datasets.{dataset}.baseline: {cfg['baseline']!r} is not in its variants"
            )
        for variant in cfg.get("variant_recipes", {}):
            if variant not in cfg["variants"]:
                raise ValueError(
                    f"config datasets.{dataset}.variant_recipes.{variant}: not one of its variants"
                )
        validations = {recipe_of(dataset, v)["validation"] for v in cfg["variants"]}
        if "val" in validations and "val" not in splits_of(dataset):
            raise ValueError(
                f"config datasets.{dataset}: a recipe validates on 'val' but the dataset "
                f"has no val split (split method {cfg['split']['method']!r})"
            )
        if cfg["source"] == "folder" and not Path(cfg["path"]).is_dir():
            raise ValueError(
                f"config datasets.{dataset}.path: {cfg['path']} is not a folder"
            )


def recipe_of(dataset, variant):
    """The dataset's recipe with the variant's overrides on top."""
    cfg = dataset_config(dataset)
    return {**cfg["recipe"], **cfg.get("variant_recipes", {}).get(variant, {})}


def image_folder(wildcards):
    cfg = dataset_config(wildcards.dataset)
    if cfg["source"] == "folder":
        return cfg["path"]
    return f"resources/images/{wildcards.dataset}"


def cache_file(dataset, name):
    return f"results/{dataset}/cache/{name}"


def dataset_cache(dataset):
    """The manifest and every split's arrays of one dataset."""
    files = [cache_file(dataset, "manifest.parquet")]
    for split in splits_of(dataset):
        files += [
            cache_file(dataset, f"{split}_x.npy"),
            cache_file(dataset, f"{split}_y.npy"),
        ]
    return files


def source_hash(*modules):
    """Hash of package modules, passed as a param so that model-code changes rerun jobs."""
    digest = hashlib.sha256()
    package = Path(workflow.basedir) / "src" / "attnlab"
    for module in modules:
        digest.update((package / f"{module}.py").read_bytes())
    return digest.hexdigest()[:16]


def train_inputs(wildcards):
    """The cache arrays a training job reads: its recipe picks noisy train and validation."""
    recipe = recipe_of(wildcards.dataset, wildcards.variant)
    names = ["train_x", "train_y", "test_x", "test_y"]
    if recipe["noisy_train"]:
        names[0] = "train_noisy_x"
    if recipe["validation"] == "val":
        names += ["val_x", "val_y"]
    files = {name: cache_file(wildcards.dataset, f"{name}.npy") for name in names}
    return {"manifest": cache_file(wildcards.dataset, "manifest.parquet"), **files}


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


def run_files(dataset, name):
    """One file per (variant, seed) of a dataset, e.g. every metrics.json."""
    return expand(
        "results/{dataset}/{variant}/seed{seed}/{name}",
        dataset=dataset,
        variant=variants_of(dataset),
        seed=SEEDS,
        name=name,
    )


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


def dataset_outputs(dataset):
    """Caches, runs, tables and figures of one dataset."""
    tables = [
        f"results/tables/{dataset}/{name}.csv"
        for name in ("study", "compare", "mcnemar")
    ]
    figures = [f"results/figures/{dataset}/{name}.png" for name in FIGURES]
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


def all_targets():
    targets = [f"results/tables/{name}.csv" for name in STUDY_TABLES] + [
        "results/summary.md"
    ]
    for dataset in DATASETS:
        targets += dataset_outputs(dataset)
    return targets


check_config()


wildcard_constraints:
    dataset=one_of(DATASETS),
    split="train|val|test",
    seed=one_of(SEEDS),
    variant=one_of({v for dataset in DATASETS for v in variants_of(dataset)}),
