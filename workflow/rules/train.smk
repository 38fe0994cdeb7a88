# One trained model per (dataset, variant, seed), and per fold of a grouped dataset.


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
    priority: train_priority
    conda:
        "../envs/attnlab.yaml"
    threads: config["threads"]
    resources:
        gpu=1 if config["device"] == "gpu" else 0,
        mem_mb=train_mem_mb,
    params:
        architecture=variant_record,
        preprocessing=lambda wc: spec.preprocessing_of(dataset_config(wc.dataset)),
        recipe=lambda wc: PLAN.recipe_of(wc.dataset, wc.variant),
        precision=config["precision"],
        device=config["device"],
        code_hash=source_hash("train"),
        data_seed=lambda wc: PLAN.data_seed_of(wc.seed),
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
