"""The plan of a config: datasets, variants, runs, their recipes, paths and inputs.

Everything the workflow decides from the config alone lives here, so that it can be
tested and used without Snakemake (and without TensorFlow): `workflow/rules/common.smk`
wraps it in thin input functions, and `attnlab plan --configfile ...` prints it. The
config is the one Snakemake validated (schema defaults filled in);
`attnlab.config_files.load_config` does the same for the CLI. Building a `Plan` runs
every check the schema cannot express (`attnlab.config_checks`), so a bad config stops
at start-up with the key that is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import jsonschema

from attnlab import audio, config_checks, registry, sequential, sweeps
from attnlab.block_records import GRADCAM, MAP_FIGURES
from attnlab.config_files import read_schema
from attnlab.plan_paths import (  # noqa: F401  (the workflow reads them from here)
    FIGURES,
    FOLD_TABLES,
    PAGE,
    PAGE_COPIES,
    RANKING_TABLES,
    RECORDING_SOURCES,
    STUDY_TABLES,
    PlanPaths,
    summary_figures,
)
from attnlab.splits import SPLITS

ATTENTION_FIGURES = (*MAP_FIGURES.values(), GRADCAM)
NEVER = "(?!x)x"  # a pattern no value matches


def one_of(values: Iterable[str]) -> str:
    """A wildcard constraint matching exactly these values (nothing when there are none)."""
    escaped = [re.escape(value) for value in sorted(values, key=len, reverse=True)]
    return "|".join(escaped) or NEVER


class Plan(PlanPaths):
    """What a validated config asks for (module doc). `notes` collects what was ignored."""

    def __init__(self, config: Mapping, schema: Mapping | None = None):
        self.config = config
        self.schema = schema or read_schema()
        self.notes: list[str] = []
        self.datasets = self._selected_datasets()
        self.variants = self._resolve_variants()
        self.sweeps = self._expand_sweeps()
        self.sweep_settings = {
            (config["sweeps"][name]["dataset"], s.variant.name): s
            for name, settings in self.sweeps.items()
            for s in settings
            if s.variant.name != s.base
        }
        self.sequential = self._sequential_settings()
        self.seeds = [int(seed) for seed in config["seeds"]]
        self.data_seed = int(config["data_seed"])
        self.seed_sequence = (
            sequential.seed_sequence(self.seeds, self.sequential["max_seeds"])
            if self.sequential
            else self.seeds
        )
        self.data_seeds = bool(config["data_seeds"])
        self.draws = [
            str(seed) for seed in self.seed_sequence if self.data_seeds and seed != self.data_seed
        ]
        self.fold_datasets = [d for d in self.datasets if self.folds_of(d) != [None]]
        self.plain_datasets = [d for d in self.datasets if d not in self.fold_datasets]
        folds = {k for d in self.fold_datasets for k in self.folds_of(d)}
        self.fold_numbers = [str(k) for k in sorted(folds)]
        self.cross_dataset = self._selected_pairs()
        self.cross_pairs = [f"{p['train']}_on_{p['test']}" for p in self.cross_dataset]
        self.seed_packs = self._seed_packs()
        packed = {seed for pack in self.seed_packs for seed in pack}
        self.single_seeds = [str(s) for s in self.seed_sequence if s not in packed]
        self.check()

    # ------------------------------------------------------------- datasets
    def _selected_datasets(self) -> list[str]:
        """`run_datasets` (checked against `datasets`), or every dataset."""
        chosen = self.config.get("run_datasets")
        if chosen is None:
            return list(self.config["datasets"])
        unknown = [name for name in chosen if name not in self.config["datasets"]]
        if unknown:
            raise ValueError(
                f"config run_datasets: {unknown} not in datasets {list(self.config['datasets'])}"
            )
        left_out = [name for name in self.config["datasets"] if name not in chosen]
        self.notes.append(f"run_datasets: building {list(chosen)}, leaving out {left_out}")
        return list(chosen)

    def _selected_pairs(self) -> list[dict]:
        """The cross-dataset pairs whose datasets are both built (a note for the others)."""
        kept = []
        for pair in self.config["cross_dataset"]:
            named = {pair["train"], pair["test"]}
            if named <= set(self.config["datasets"]) and not named <= set(self.datasets):
                self.notes.append(
                    f"run_datasets: cross_dataset {pair['train']} -> {pair['test']} left out"
                )
                continue
            kept.append(pair)
        return kept

    def dataset(self, name: str) -> dict:
        return self.config["datasets"][name]

    def datasets_from(self, *sources: str) -> list[str]:
        return [d for d in self.datasets if self.dataset(d)["source"] in sources]

    def audio_settings(self, dataset: str) -> dict:
        """Where a recordings dataset's WAVs are and how to read them (`fsdd` is a preset
        of `audio_folder`), and how many of each class it draws."""
        cfg = self.dataset(dataset)
        return audio.settings_of(cfg) | {"per_class": cfg["recordings_per_class"]}

    def drawn_stages(self, dataset: str) -> list[str]:
        """The data stages whose output depends on the data seed: "images" (Reduced
        MNIST's subsample, a per-class draw of recordings) and "split" (a random split)."""
        cfg, stages = self.dataset(dataset), []
        if cfg["source"] == "mnist":
            drawn = {cfg["train_per_class"], cfg["test_per_class"]} != {"all"}
        elif cfg["source"] in RECORDING_SOURCES:
            drawn = cfg["recordings_per_class"] != "all"
        else:
            drawn = False
        stages += ["images"] * drawn
        stages += ["split"] * (cfg["split"]["method"] == "random")
        return stages

    def draw_of(self, seed) -> int | None:
        """The data seed a training seed redraws its data with (`data_seeds`), or None
        where it reads the shared cache (no `data_seeds`, or the seed is `data_seed`)."""
        if not self.data_seeds or seed is None or int(seed) == self.data_seed:
            return None
        return int(seed)

    def data_seed_of(self, seed) -> int:
        """The data seed behind a training seed's data."""
        draw = self.draw_of(seed)
        return self.data_seed if draw is None else draw

    def folds_of(self, dataset: str) -> list[int | None]:
        """The folds of a group_kfold dataset (1..K); [None] (one run, no fold) otherwise."""
        split = self.dataset(dataset)["split"]
        if split["method"] != "group_kfold":
            return [None]
        return list(range(1, split["folds"] + 1))

    def splits_of(self, dataset: str) -> list[str]:
        split = self.dataset(dataset)["split"]
        if split["method"] == "folders":
            return ["train", "test"]
        return [name for name in SPLITS if split["fractions"][name] > 0]

    def compared_with(self, dataset: str) -> str | None:
        """The random-split dataset a group_kfold dataset is set beside (or None)."""
        return self.dataset(dataset)["split"]["compare_with"]

    def cross_pair(self, pair: str) -> tuple[str, str]:
        chosen = self.cross_dataset[self.cross_pairs.index(pair)]
        return chosen["train"], chosen["test"]

    # ------------------------------------------------------------- variants
    def _resolve_variants(self) -> dict:
        """Every dataset's variants as registry records (checked: blocks, options, values)."""
        resolved = {}
        for dataset in self.datasets:
            cfg = self.dataset(dataset)
            registry.family(cfg["family"])
            found = registry.resolve_dataset_variants(dataset, cfg["family"], cfg["variants"])
            resolved[dataset] = {variant.name: variant for variant in found}
        return resolved

    def variants_of(self, dataset: str) -> list[str]:
        return list(self.variants[dataset])

    def map_figures(self, dataset: str) -> dict[str, list[str]]:
        """A dataset's attention figures and the variants each draws: the figure of a kind
        of map where some variant's blocks expose it, and every variant's Grad-CAM."""
        variants = self.variants[dataset]
        drawn = {
            figure: [name for name, v in variants.items() if kind in v.map_kinds]
            for kind, figure in MAP_FIGURES.items()
        }
        return {figure: names for figure, names in drawn.items() if names} | {
            GRADCAM: list(variants)
        }

    def configured_recipe(self, dataset: str, variant: str) -> dict:
        """The dataset's recipe with the configured variant's overrides on top."""
        cfg = self.dataset(dataset)
        return {**cfg["recipe"], **cfg["variant_recipes"].get(variant, {})}

    def recipe_of(self, dataset: str, variant: str) -> dict:
        """The variant's recipe (a sweep setting: its swept variant's overrides, then the
        setting's swept recipe keys)."""
        setting = self.sweep_settings.get((dataset, variant))
        if setting is None:
            return self.configured_recipe(dataset, variant)
        return {**self.configured_recipe(dataset, setting.base), **setting.recipe}

    def _recipe_schema(self) -> dict:
        return {"$defs": self.schema["$defs"], **self.schema["$defs"]["recipe_keys"]}

    def _expand_sweeps(self) -> dict:
        """Every sweep's settings; their variants join their dataset's variants."""
        expanded, recipe_schema = {}, self._recipe_schema()
        for name, sweep in self.config["sweeps"].items():
            where = f"config sweeps.{name}"
            if (
                sweep["dataset"] in self.config["datasets"]
                and sweep["dataset"] not in self.variants
            ):
                self.notes.append(f"run_datasets: sweep {name} on {sweep['dataset']} left out")
                continue
            if sweep["dataset"] not in self.variants:
                raise ValueError(f"{where}.dataset: {sweep['dataset']!r} is not in datasets")
            variants = self.variants[sweep["dataset"]]
            if sweep["variant"] not in variants:
                raise ValueError(
                    f"{where}.variant: {sweep['variant']!r} is not one of {list(variants)}"
                )
            base_recipe = self.configured_recipe(sweep["dataset"], sweep["variant"])
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

    def sweep_params(self, name: str) -> dict:
        """A sweep's dataset and its settings as plain data (variant, swept values)."""
        return {
            "dataset": self.config["sweeps"][name]["dataset"],
            "settings": [
                {"variant": s.variant.name, "values": dict(s.values)} for s in self.sweeps[name]
            ],
        }

    def sweep_runs(self, name: str) -> list[dict]:
        dataset = self.config["sweeps"][name]["dataset"]
        return [
            {"dataset": dataset, "variant": s.variant.name, "seed": seed}
            for s in self.sweeps[name]
            for seed in self.first_seeds()
        ]

    def _seed_packs(self) -> list[list[int]]:
        """Groups of the first seeds that train in one job each (`pack_seeds`).

        Every variant of a dataset without grouped folds trains its first seeds in groups
        of `pack_seeds`; a group of one, the seeds decision rounds add and the folds of
        grouped datasets train one job per seed. With `data_seeds` each seed reads its own
        draw, so seeds train apart.
        """
        size = int(self.config["pack_seeds"])
        if size < 2 or not self.plain_datasets:
            return []
        if self.data_seeds:
            self.notes.append(
                "pack_seeds: data_seeds gives each seed its own data; one job per seed"
            )
            return []
        seeds = self.first_seeds()
        groups = [seeds[i : i + size] for i in range(0, len(seeds), size)]
        return [group for group in groups if len(group) > 1]

    # ----------------------------------------------------------- sequential
    def _sequential_settings(self) -> dict | None:
        """config sequential with the schema's defaults filled in (None when off)."""
        if self.config["sequential"] is None:
            return None
        fields = self.schema["properties"]["sequential"]["oneOf"][1]["properties"]
        settings = {k: v["default"] for k, v in fields.items() if "default" in v}
        settings |= self.config["sequential"]
        if settings["max_seeds"] < settings["min_seeds"]:
            raise ValueError(
                f"config sequential: max_seeds {settings['max_seeds']} is below min_seeds "
                f"{settings['min_seeds']}"
            )
        return settings

    # ---------------------------------------------------------------- runs
    def first_seeds(self) -> list[int]:
        """The seeds every variant trains: the config's, or with `sequential` the first
        `min_seeds` of the sequence (decision rounds add more to the undecided)."""
        if self.sequential:
            return self.seed_sequence[: self.sequential["min_seeds"]]
        return self.seeds

    def runs(self, dataset: str) -> list[dict]:
        """dataset, variant and seed of every run known before any decision round."""
        return [
            {"dataset": dataset, "variant": variant, "seed": seed}
            for variant in self.variants_of(dataset)
            for seed in self.first_seeds()
        ]

    def training_jobs(self, runs: Iterable[Mapping]) -> list[dict]:
        """Each run once per fold (fold None without folds)."""
        return [
            dict(run) | {"fold": fold} for run in runs for fold in self.folds_of(run["dataset"])
        ]

    # ------------------------------------------------------------ scheduling
    def training_cost(self, dataset: str, variant: str) -> int:
        """Image area x epochs: a relative cost of one training (for order and estimates)."""
        height, width = self.dataset(dataset)["image_size"]
        return height * width * self.recipe_of(dataset, variant)["epochs"]

    def train_priority(self, dataset: str, variant: str) -> int:
        """Longest trainings first; any data job (priority 0) before any training; within a
        dataset the baseline (the cheapest) last. Only the order changes."""

        def order(pair):
            d, v = pair
            return (-self.training_cost(d, v), v == self.dataset(d)["baseline"])

        ranked = sorted(((d, v) for d in self.datasets for v in self.variants_of(d)), key=order)
        return -1 - ranked.index((dataset, variant))

    def train_mem_mb(self, dataset: str, attempt: int) -> int:
        """Memory for SLURM: the cache arrays plus TensorFlow's overhead, more on retries."""
        cfg = self.dataset(dataset)
        height, width = cfg["image_size"]
        return int(2000 + height * width * cfg["channels"] * 4 * 6000 / 1e6) * attempt

    # --------------------------------------------------------------- checks
    def check(self) -> None:
        """Checks the schema cannot express (`attnlab.config_checks`)."""
        config_checks.check(self)

    # ---------------------------------------------------------------- summary
    def summary(self) -> str:
        """The runs a config plans, per dataset, with counts and a relative cost."""
        lines = []
        total_jobs, total_cost = 0, 0
        for dataset in self.datasets:
            runs = self.runs(dataset)
            jobs = self.training_jobs(runs)
            cost = sum(self.training_cost(dataset, job["variant"]) for job in jobs)
            folds = self.folds_of(dataset)
            fold_text = "" if folds == [None] else f" x {len(folds)} folds"
            lines.append(
                f"{dataset}: {len(self.variants_of(dataset))} variants x "
                f"{len(self.first_seeds())} seeds{fold_text} = {len(jobs)} trainings "
                f"(cost {cost / 1e6:.1f} Mpx-epochs)"
            )
            for variant in self.variants_of(dataset):
                seeds = ", ".join(str(r["seed"]) for r in runs if r["variant"] == variant)
                lines.append(f"  {variant}: seeds {seeds}")
            total_jobs, total_cost = total_jobs + len(jobs), total_cost + cost
        if self.sequential:
            s = self.sequential
            lines.append(
                f"sequential: these are the first {s['min_seeds']} seeds; undecided variants "
                f"get more, up to {s['max_seeds']} (at most "
                f"{s['max_seeds'] / s['min_seeds']:.1f}x these trainings)"
            )
        lines.append(f"total: {total_jobs} trainings, cost {total_cost / 1e6:.1f} Mpx-epochs")
        for pack in self.seed_packs:
            seeds = ", ".join(str(seed) for seed in pack)
            lines.append(f"pack_seeds: seeds {seeds} of each variant train in one job")
        return "\n".join(lines + [f"note: {note}" for note in self.notes])
