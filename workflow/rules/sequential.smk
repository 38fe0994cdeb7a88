# Seeds on demand (config sequential): decide, then train more seeds where undecided.


checkpoint decide_seeds:
    input:
        metrics=lambda wc: round_runs(wc, "metrics.json"),
        predictions=lambda wc: round_runs(wc, "predictions.parquet"),
    output:
        "results/sequential/{dataset}/round{round}.json",
    log:
        "results/logs/sequential/{dataset}_round{round}.log",
    conda:
        "../envs/attnlab.yaml"
    params:
        baseline=lambda wc: dataset_config(wc.dataset)["baseline"],
        seeds=lambda wc: round_seeds(wc.dataset, int(wc.round)),
        sequence=SEED_SEQUENCE,
        settings=SEQUENTIAL,
    script:
        "../scripts/decide_seeds.py"


rule decisions:
    input:
        state=lambda wc: round_file(wc.dataset, last_round(wc.dataset)),
    output:
        csv=table_report(
            "results/tables/{dataset}/decisions.csv",
            "decisions",
            "{dataset}",
            "decisions",
        ),
        md="results/tables/{dataset}/decisions.md",
    log:
        "results/logs/sequential/{dataset}_decisions.log",
    conda:
        "../envs/attnlab.yaml"
    script:
        "../scripts/decisions.py"
