"""Where a plan's files live: caches (per data draw and fold), runs, their inputs and
each dataset's outputs. `attnlab.plan.Plan` inherits these; they read only what the
plan knows (folds, draws, recipes, sweeps)."""

from __future__ import annotations

from collections.abc import Mapping

from attnlab import spec

# Every dataset's result figures; its attention figures are `Plan.map_figures`.
FIGURES = ("accuracy_curves", "loss_curves", "confusion", "cost_benefit", "critical_difference")
RECORDING_SOURCES = ("fsdd", "audio_folder")  # spectrograms of WAV recordings
STUDY_TABLES = ("cross_domain", "verdicts", "params")
RANKING_TABLES = ("ranks", "posthoc", "bayes", "power")
FOLD_TABLES = ("folds", "speakers")
PAGE = "docs/results.md"  # the results page (rule results_page)
PAGE_COPIES = "results/"  # docs/results.md's copies of the summary's figures, under docs/
PAGE_OUTPUTS = (PAGE, f"docs/{PAGE_COPIES}")  # tracked files the workflow writes


def summary_figures(datasets) -> list[str]:
    """The figures results/summary.md links, relative to results/ (the results page
    copies them to docs/{PAGE_COPIES})."""
    return [f"figures/{dataset}/critical_difference.png" for dataset in datasets]


class PlanPaths:
    """The path methods of `attnlab.plan.Plan` (a mixin: it has no state of its own)."""

    @staticmethod
    def fold_folder(fold) -> str:
        """The sub-folder of one fold's files ("" without folds)."""
        return "" if fold is None else f"fold{fold}/"

    @staticmethod
    def draw_folder(draw) -> str:
        """The sub-folder of one data draw's cache ("" for the shared one)."""
        return "" if draw is None else f"data{draw}/"

    def cache_file(self, dataset: str, name: str, fold=None, draw=None) -> str:
        """A cache file of a dataset (of one data draw, of one fold of a group_kfold
        dataset)."""
        return f"results/{dataset}/cache/{self.draw_folder(draw)}{self.fold_folder(fold)}{name}"

    @staticmethod
    def training_file(run: Mapping, name: str) -> str:
        """A file of one run (dataset, variant, seed, fold), in its fold's folder if any."""
        run_dir = f"results/{run['dataset']}/{run['variant']}/seed{run['seed']}"
        return f"{run_dir}/{PlanPaths.fold_folder(run.get('fold'))}{name}"

    @staticmethod
    def pack_outputs(seeds) -> list[str]:
        """The files a job training `seeds` of a {dataset}/{variant} writes, seed by seed
        in the order of `attnlab.train.Outputs` (model, history, metrics, predictions)."""
        names = ["model.keras", "history.csv", "metrics.json", "predictions.parquet"]
        runs = [{"dataset": "{dataset}", "variant": "{variant}", "seed": s} for s in seeds]
        return [PlanPaths.training_file(run, name) for run in runs for name in names]

    def _model_on_test_set(self, run: Mapping, dataset: str, fold=None) -> dict:
        """A run's model and the test arrays of `dataset` (of the run's seed's draw)."""
        draw = self.draw_of(run["seed"])
        test = [self.cache_file(dataset, f"test_{k}.npy", fold, draw) for k in "xy"]
        return {
            "model": self.training_file(run, "model.keras"),
            "images": test[0],
            "labels": test[1],
            "records": [f"{path}.sha256" for path in test],
        }

    def shown_model(self, run: Mapping) -> dict:
        """The model and test arrays the figures explain: fold 1's on a grouped dataset."""
        fold = self.folds_of(run["dataset"])[0]
        return self._model_on_test_set(dict(run) | {"fold": fold}, run["dataset"], fold)

    def cross_inputs(self, pair: str, variant: str, seed) -> dict:
        """A cross-dataset score's model and the test arrays it is scored on (the test
        dataset's draw of the same seed)."""
        train, test = self.cross_pair(pair)
        return self._model_on_test_set({"dataset": train, "variant": variant, "seed": seed}, test)

    def manifest_inputs(self, dataset: str, draw=None) -> dict:
        """The dataset's image folder, of one data draw where the images depend on it
        (and, for audio, the table of its recordings)."""
        cfg = self.dataset(dataset)
        if cfg["source"] == "folder":
            return {"images": cfg["path"]}
        images = f"resources/images/{dataset}"
        if draw is not None and "images" in self.drawn_stages(dataset):
            images += f".data{draw}"
        if cfg["source"] in RECORDING_SOURCES:
            return {"images": images, "recordings": f"{images}.recordings.csv"}
        return {"images": images}

    def dataset_cache(self, dataset: str) -> list[str]:
        """The manifest and every split's arrays of one dataset (of each of its folds)."""
        files = [self.cache_file(dataset, "manifest.parquet")]
        for fold in self.folds_of(dataset):
            for split in self.splits_of(dataset):
                files += [self.cache_file(dataset, f"{split}_{k}.npy", fold) for k in "xy"]
        return files

    def train_inputs(self, dataset: str, variant: str, fold=None, seed=None) -> dict:
        """The manifest and the cache arrays (with their checksum records) a job reads:
        the seed's own data draw with `data_seeds`."""
        recipe, draw = self.recipe_of(dataset, variant), self.draw_of(seed)
        arrays = {
            role: self.cache_file(dataset, f"{stem}.npy", fold, draw)
            for role, stem in spec.recipe_arrays(recipe).items()
        }
        records = {f"{role}_sha256": f"{path}.sha256" for role, path in arrays.items()}
        manifest = self.cache_file(dataset, "manifest.parquet", draw=draw)
        return {"manifest": manifest, **arrays, **records}

    def dataset_outputs(self, dataset: str) -> list[str]:
        """The cache, tables and figures of one dataset (its runs come from the workflow,
        which alone knows the seeds decision rounds add)."""
        names = ["study", "compare", "mcnemar", "verdicts", *RANKING_TABLES]
        names += ["decisions"] * bool(self.sequential)
        if dataset in self.fold_datasets:
            names += [*FOLD_TABLES] + ["random_vs_grouped"] * bool(self.compared_with(dataset))
        tables = [f"results/tables/{dataset}/{name}.csv" for name in names]
        figures = [
            f"results/figures/{dataset}/{name}.png"
            for name in (*FIGURES, *self.map_figures(dataset))
        ]
        return self.dataset_cache(dataset) + tables + figures

    def study_outputs(self) -> list[str]:
        """The tables across datasets, the summary and every sweep's table and figure."""
        targets = [f"results/tables/{name}.csv" for name in STUDY_TABLES]
        targets.append("results/summary.md")
        for name in self.sweeps:
            targets += [f"results/tables/sweeps/{name}.csv", f"results/figures/sweeps/{name}.png"]
        return targets
