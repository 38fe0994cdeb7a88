# Trained models per (dataset, variant, seed), and per fold of a grouped dataset. The
# first seeds train in packs of `pack_seeds` per job (PLAN.seed_packs: one rule each).

TRAIN_PARAMS = {
    "architecture": variant_record,
    "preprocessing": lambda wc: spec.preprocessing_of(dataset_config(wc.dataset)),
    "recipe": lambda wc: PLAN.recipe_of(wc.dataset, wc.variant),
    "precision": config["precision"],
    "device": config["device"],
    "code_hash": source_hash("train"),
}
TRAIN_RESOURCES = {
    "gpu": 1 if config["device"] == "gpu" else 0,
    "mem_mb": train_mem_mb,
}


rule train:
    input:
        unpack(plan_inputs(PLAN.train_inputs)),
    output:
        model="results/{dataset}/{variant}/seed{seed}/model.keras",
        history="results/{dataset}/{variant}/seed{seed}/history.csv",
        metrics="results/{dataset}/{variant}/seed{seed}/metrics.json",
        predictions="results/{dataset}/{variant}/seed{seed}/predictions.parquet",
    log:
        "results/logs/train/{dataset}/{variant}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{dataset}/{variant}/seed{seed}.tsv"
    wildcard_constraints:
        dataset=one_of(PLAN.plain_datasets),
        seed=one_of(PLAN.single_seeds),
    priority: train_priority
    conda:
        "../envs/attnlab.yaml"
    threads: config["threads"]
    resources:
        **TRAIN_RESOURCES,
    params:
        **TRAIN_PARAMS,
        seeds=lambda wc: [wc.seed],
        data_seed=lambda wc: PLAN.data_seed_of(wc.seed),
    script:
        "../scripts/train.py"


for pack in PLAN.seed_packs:
    seeds_label = "_".join(str(seed) for seed in pack)

    rule:
        name:
            f"train_seeds_{seeds_label}"
        input:
            unpack(plan_inputs(PLAN.train_inputs)),
        output:
            PLAN.pack_outputs(pack),
        log:
            f"results/logs/train/{{dataset}}/{{variant}}/seeds_{seeds_label}.log",
        benchmark:
            f"results/benchmarks/train/{{dataset}}/{{variant}}/seeds_{seeds_label}.tsv"
        wildcard_constraints:
            dataset=one_of(PLAN.plain_datasets),
        priority: train_priority
        conda:
            "../envs/attnlab.yaml"
        threads: config["threads"]
        resources:
            **TRAIN_RESOURCES,
        params:
            **TRAIN_PARAMS,
            seeds=pack,
            data_seed=PLAN.data_seed,
        script:
            "../scripts/train.py"


use rule train as train_fold with:
    output:
        model="results/{dataset}/{variant}/seed{seed}/fold{fold}/model.keras",
        history="results/{dataset}/{variant}/seed{seed}/fold{fold}/history.csv",
        metrics="results/{dataset}/{variant}/seed{seed}/fold{fold}/metrics.json",
        predictions="results/{dataset}/{variant}/seed{seed}/fold{fold}/predictions.parquet",
    log:
        "results/logs/train/{dataset}/{variant}/seed{seed}/fold{fold}.log",
    benchmark:
        "results/benchmarks/train/{dataset}/{variant}/seed{seed}/fold{fold}.tsv"
    wildcard_constraints:
        dataset=one_of(FOLD_DATASETS),
        seed=one_of(str(seed) for seed in SEED_SEQUENCE),


rule pool_folds:
    input:
        metrics=lambda wc: fold_files(wc, "metrics.json"),
        predictions=lambda wc: fold_files(wc, "predictions.parquet"),
        manifest="results/{dataset}/cache/manifest.parquet",
    output:
        metrics="results/{dataset}/{variant}/seed{seed}/metrics.json",
        predictions="results/{dataset}/{variant}/seed{seed}/predictions.parquet",
    log:
        "results/logs/train/{dataset}/{variant}/seed{seed}.log",
    wildcard_constraints:
        dataset=one_of(FOLD_DATASETS),
    conda:
        "../envs/attnlab.yaml"
    params:
        group=lambda wc: dataset_config(wc.dataset)["split"]["group"],
    script:
        "../scripts/pool_folds.py"
