# Trained runs scored on another dataset's test set (config cross_dataset).


rule cross_evaluate:
    input:
        model=lambda wc: f"results/{cross_pair(wc)[0]}/{wc.variant}/seed{wc.seed}/model.keras",
        images=lambda wc: cache_file(cross_pair(wc)[1], "test_x.npy"),
        labels=lambda wc: cache_file(cross_pair(wc)[1], "test_y.npy"),
        records=lambda wc: [
            cache_file(cross_pair(wc)[1], f"test_{kind}.npy.sha256") for kind in "xy"
        ],
    output:
        "results/cross/{pair}/{variant}/seed{seed}.json",
    log:
        "results/logs/cross/{pair}/{variant}/seed{seed}.log",
    benchmark:
        "results/benchmarks/cross/{pair}/{variant}/seed{seed}.tsv"
    conda:
        "../envs/attnlab.yaml"
    threads: config["threads"]
    resources:
        gpu=1 if config["device"] == "gpu" else 0,
    params:
        train=lambda wc: cross_pair(wc)[0],
        test=lambda wc: cross_pair(wc)[1],
        device=config["device"],
    script:
        "../scripts/cross_evaluate.py"


rule cross_table:
    input:
        metrics=lambda wc: run_files(cross_pair(wc)[0], "metrics.json"),
        predictions=lambda wc: run_files(cross_pair(wc)[0], "predictions.parquet"),
        scores=cross_files,
    output:
        csv=table_report(
            "results/tables/cross/{pair}.csv", "transfer", "cross-dataset", "{pair}"
        ),
        md="results/tables/cross/{pair}.md",
    log:
        "results/logs/report/cross_{pair}.log",
    conda:
        "../envs/attnlab.yaml"
    script:
        "../scripts/cross_table.py"
