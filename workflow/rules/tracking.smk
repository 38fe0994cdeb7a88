# Finished runs -> a local MLflow store to browse with `mlflow ui` (optional extra).


rule mlflow:
    input:
        metrics=lambda wc: every_training_file("metrics.json"),
        history=lambda wc: every_training_file("history.csv"),
        predictions=lambda wc: every_training_file("predictions.parquet"),
        models=lambda wc: every_training_file("model.keras"),
    output:
        store=directory("results/mlruns"),
    log:
        "results/logs/tracking/mlflow.log",
    conda:
        "../envs/attnlab.yaml"
    script:
        "../scripts/mlflow_export.py"
