# One trained model per (dataset, variant, seed).


rule train:
    input:
        unpack(train_inputs),
    output:
        model="results/{dataset}/{variant}/seed{seed}/model.keras",
        history="results/{dataset}/{variant}/seed{seed}/history.csv",
        metrics="results/{dataset}/{variant}/seed{seed}/metrics.json",
        predictions="results/{dataset}/{variant}/seed{seed}/predictions.parquet",
    log:
        "results/logs/train/{dataset}/{variant}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{dataset}/{variant}/seed{seed}.tsv"
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
        recipe=lambda wc: recipe_of(wc.dataset, wc.variant),
        precision=config["precision"],
        device=config["device"],
        code_hash=source_hash("models", "layers", "registry", "train"),
    script:
        "../scripts/train.py"
