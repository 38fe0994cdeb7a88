# Trained runs scored on another dataset's test set (config cross_dataset).


rule cross_evaluate:
    input:
        unpack(plan_inputs(PLAN.cross_inputs)),
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
