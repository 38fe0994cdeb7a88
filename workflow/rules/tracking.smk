# Finished runs -> a local MLflow store to browse with `mlflow ui` (optional extra).


rule mlflow:
    input:
        metrics=[f for d in DATASETS for f in fold_run_files(d, "metrics.json")],
        history=[f for d in DATASETS for f in fold_run_files(d, "history.csv")],
        predictions=[
            f for d in DATASETS for f in fold_run_files(d, "predictions.parquet")
        ],
        models=[f for d in DATASETS for f in fold_run_files(d, "model.keras")],
    output:
        store=directory("results/mlruns"),
    log:
        "results/logs/tracking/mlflow.log",
    conda:
        "../envs/attnlab.yaml"
    script:
        "../scripts/mlflow_export.py"
