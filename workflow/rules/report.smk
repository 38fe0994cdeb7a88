# Trained runs -> tables, statistics, figures, summary (and the HTML report's entries).


rule dataset_tables:
    input:
        metrics=lambda wc: run_files(wc.dataset, "metrics.json"),
        predictions=lambda wc: run_files(wc.dataset, "predictions.parquet"),
    output:
        study_csv=table_report(
            "results/tables/{dataset}/study.csv", "study_table", "{dataset}", "study"
        ),
        study_md="results/tables/{dataset}/study.md",
        compare_csv=table_report(
            "results/tables/{dataset}/compare.csv",
            "comparisons",
            "{dataset}",
            "vs baseline",
        ),
        compare_md="results/tables/{dataset}/compare.md",
        mcnemar_csv=table_report(
            "results/tables/{dataset}/mcnemar.csv", "mcnemar", "{dataset}", "McNemar"
        ),
        verdicts_csv=table_report(
            "results/tables/{dataset}/verdicts.csv",
            "verdicts",
            "{dataset}",
            "verdicts",
        ),
        verdicts_md="results/tables/{dataset}/verdicts.md",
    log:
        "results/logs/report/tables_{dataset}.log",
    conda:
        "../envs/attnlab.yaml"
    params:
        baseline=lambda wc: dataset_config(wc.dataset)["baseline"],
        runs=lambda wc: run_ids(wc.dataset),
    script:
        "../scripts/tables_dataset.py"


rule rankings:
    input:
        metrics=lambda wc: run_files(wc.dataset, "metrics.json"),
        predictions=lambda wc: run_files(wc.dataset, "predictions.parquet"),
    output:
        ranks_csv=table_report(
            "results/tables/{dataset}/ranks.csv", "ranks", "{dataset}", "ranking"
        ),
        ranks_md="results/tables/{dataset}/ranks.md",
        posthoc_csv="results/tables/{dataset}/posthoc.csv",
        bayes_csv=table_report(
            "results/tables/{dataset}/bayes.csv",
            "bayes",
            "{dataset}",
            "Bayes vs baseline",
        ),
        bayes_md="results/tables/{dataset}/bayes.md",
        power_csv=table_report(
            "results/tables/{dataset}/power.csv",
            "power",
            "{dataset}",
            "seeds needed",
        ),
        power_md="results/tables/{dataset}/power.md",
        diagram=dataset_report(
            "{dataset}", "critical_difference", "critical_difference"
        ),
    log:
        "results/logs/report/rankings_{dataset}.log",
    conda:
        "../envs/attnlab.yaml"
    params:
        baseline=lambda wc: dataset_config(wc.dataset)["baseline"],
        title="{dataset}",
    script:
        "../scripts/rankings.py"


rule sweep:
    input:
        metrics=lambda wc: sweep_files(wc.sweep, "metrics.json"),
        predictions=lambda wc: sweep_files(wc.sweep, "predictions.parquet"),
    output:
        csv=table_report(
            "results/tables/sweeps/{sweep}.csv", "sweep", "sweeps", "{sweep}"
        ),
        md="results/tables/sweeps/{sweep}.md",
        figure=report(
            "results/figures/sweeps/{sweep}.png",
            caption="../report/sweep.rst",
            category="sweeps",
            labels={"figure": "{sweep}"},
        ),
    log:
        "results/logs/report/sweep_{sweep}.log",
    conda:
        "../envs/attnlab.yaml"
    params:
        sweep=lambda wc: PLAN.sweep_params(wc.sweep),
    script:
        "../scripts/sweep.py"


rule study_tables:
    input:
        metrics=lambda wc: [f for d in DATASETS for f in run_files(d, "metrics.json")],
        predictions=lambda wc: [
            f for d in DATASETS for f in run_files(d, "predictions.parquet")
        ],
        decisions=lambda wc: (
            [round_file(d, last_round(d)) for d in DATASETS] if SEQUENTIAL else []
        ),
    output:
        cross_domain_csv=table_report(
            "results/tables/cross_domain.csv", "cross_domain", "study", "cross-domain"
        ),
        cross_domain_md="results/tables/cross_domain.md",
        verdicts_csv=table_report(
            "results/tables/verdicts.csv", "verdicts", "study", "verdicts"
        ),
        verdicts_md="results/tables/verdicts.md",
        summary=report(
            "results/summary.md", caption="../report/summary.rst", category="study"
        ),
    log:
        "results/logs/report/tables.log",
    conda:
        "../envs/attnlab.yaml"
    params:
        baselines={d: dataset_config(d)["baseline"] for d in DATASETS},
        runs=lambda wc: [run for d in DATASETS for run in run_ids(d)],
        sweeps={name: PLAN.sweep_params(name) for name in SWEEPS},
        data_seed=config["data_seed"],
        compared={d: PLAN.compared_with(d) for d in FOLD_DATASETS},
    script:
        "../scripts/tables.py"


rule results_page:
    input:
        summary="results/summary.md",
        metrics=lambda wc: [f for d in DATASETS for f in run_files(d, "metrics.json")],
        figures=[f"results/{path}" for path in plan.summary_figures(DATASETS)],
    output:
        page=plan.PAGE,
        figures=[
            f"docs/{plan.PAGE_COPIES}{path}" for path in plan.summary_figures(DATASETS)
        ],
    log:
        "results/logs/report/results_page.log",
    conda:
        "../envs/attnlab.yaml"
    params:
        # The Snakefile's own configfile comes last here, yet is loaded first: once.
        configfiles=list(
            dict.fromkeys(
                os.path.relpath(os.path.realpath(f)) for f in workflow.configfiles
            )
        ),
        config=config,
        code_hash=source_hash("train"),
    script:
        "../scripts/results_page.py"


rule fold_tables:
    input:
        metrics=lambda wc: run_files(wc.dataset, "metrics.json"),
        predictions=lambda wc: run_files(wc.dataset, "predictions.parquet"),
    output:
        folds_csv=table_report(
            "results/tables/{dataset}/folds.csv", "folds", "{dataset}", "folds"
        ),
        folds_md="results/tables/{dataset}/folds.md",
        speakers_csv=table_report(
            "results/tables/{dataset}/speakers.csv",
            "speakers",
            "{dataset}",
            "speakers",
        ),
        speakers_md="results/tables/{dataset}/speakers.md",
    log:
        "results/logs/report/folds_{dataset}.log",
    wildcard_constraints:
        dataset=one_of(FOLD_DATASETS),
    conda:
        "../envs/attnlab.yaml"
    params:
        runs=lambda wc: run_ids(wc.dataset),
        group=lambda wc: dataset_config(wc.dataset)["split"]["group"],
    script:
        "../scripts/fold_tables.py"


rule split_gap:
    input:
        random_metrics=lambda wc: compared_files(wc.dataset, "metrics.json"),
        random_predictions=lambda wc: compared_files(wc.dataset, "predictions.parquet"),
        metrics=lambda wc: run_files(wc.dataset, "metrics.json"),
        predictions=lambda wc: run_files(wc.dataset, "predictions.parquet"),
    output:
        csv=table_report(
            "results/tables/{dataset}/random_vs_grouped.csv",
            "random_vs_grouped",
            "{dataset}",
            "random split vs unseen speakers",
        ),
        md="results/tables/{dataset}/random_vs_grouped.md",
    log:
        "results/logs/report/random_vs_grouped_{dataset}.log",
    wildcard_constraints:
        dataset=one_of(FOLD_DATASETS),
    conda:
        "../envs/attnlab.yaml"
    params:
        random=lambda wc: PLAN.compared_with(wc.dataset),
    script:
        "../scripts/split_gap.py"


rule param_table:
    output:
        csv=table_report("results/tables/params.csv", "params", "study", "parameters"),
        md="results/tables/params.md",
    log:
        "results/logs/report/params.log",
    conda:
        "../envs/attnlab.yaml"
    threads: config["threads"]
    params:
        architectures={d: [v.to_dict() for v in VARIANTS[d].values()] for d in DATASETS},
        code_hash=source_hash("models", "cost"),
    script:
        "../scripts/param_table.py"


rule curves:
    input:
        history=lambda wc: fold_run_files(wc.dataset, "history.csv"),
    output:
        accuracy=dataset_report("{dataset}", "accuracy_curves", "accuracy_curves"),
        loss=dataset_report("{dataset}", "loss_curves", "loss_curves"),
    log:
        "results/logs/report/curves_{dataset}.log",
    conda:
        "../envs/attnlab.yaml"
    params:
        title="{dataset}",
        runs=lambda wc: fold_run_ids(wc.dataset),
    script:
        "../scripts/figures_curves.py"


rule results_figures:
    input:
        metrics=lambda wc: run_files(wc.dataset, "metrics.json"),
        predictions=lambda wc: run_files(wc.dataset, "predictions.parquet"),
    output:
        confusion=dataset_report("{dataset}", "confusion", "confusion"),
        cost_benefit=dataset_report("{dataset}", "cost_benefit", "cost_benefit"),
    log:
        "results/logs/report/results_figures_{dataset}.log",
    conda:
        "../envs/attnlab.yaml"
    params:
        baselines=lambda wc: {wc.dataset: dataset_config(wc.dataset)["baseline"]},
        classes=lambda wc: dataset_config(wc.dataset)["classes"],
        title="{dataset}",
        runs=lambda wc: run_ids(wc.dataset),
    script:
        "../scripts/figures_results.py"


rule attention_maps:
    input:
        unpack(shown_model),
    output:
        maps="results/{dataset}/{variant}/seed{seed}/attention_maps.npz",
    log:
        "results/logs/report/attention_maps/{dataset}/{variant}/seed{seed}.log",
    benchmark:
        "results/benchmarks/attention_maps/{dataset}/{variant}/seed{seed}.tsv"
    conda:
        "../envs/attnlab.yaml"
    threads: config["threads"]
    resources:
        gpu=1 if config["device"] == "gpu" else 0,
    params:
        examples=config["figures"]["examples"],
        seed=config["data_seed"],
        device=config["device"],
    script:
        "../scripts/attention_maps.py"


rule attention_figure:
    input:
        maps=map_archives,
    output:
        dataset_report("{dataset}", "attention_figure", "{figure}"),
    log:
        "results/logs/report/attention_figure_{dataset}_{figure}.log",
    conda:
        "../envs/attnlab.yaml"
    params:
        title="{dataset}",
    script:
        "../scripts/figures_attention.py"
