# Raw inputs -> image folders (one folder per class) -> manifest + NPY caches.
# The mirror is read from the config inside the fetch scripts, not passed as a param:
# where the verified bytes came from must not make the whole study rerun.


rule mnist_raw:
    output:
        "resources/raw/mnist/{name}",
    log:
        "results/logs/data/mnist_raw_{name}.log",
    wildcard_constraints:
        name=one_of(raw.MNIST_FILES),
    conda:
        "../envs/attnlab.yaml"
    script:
        "../scripts/fetch_mnist.py"


rule fsdd_raw:
    output:
        directory(raw.FSDD_RECORDINGS),
    log:
        "results/logs/data/fsdd_raw.log",
    conda:
        "../envs/attnlab.yaml"
    script:
        "../scripts/fetch_fsdd.py"


rule mnist_images:
    input:
        expand("resources/raw/mnist/{name}", name=raw.MNIST_FILES),
    output:
        directory("resources/images/{dataset}"),
    log:
        "results/logs/data/images_{dataset}.log",
    wildcard_constraints:
        dataset=one_of(datasets_from("mnist")),
    conda:
        "../envs/attnlab.yaml"
    params:
        train_per_class=lambda wc: dataset_config(wc.dataset)["train_per_class"],
        test_per_class=lambda wc: dataset_config(wc.dataset)["test_per_class"],
        seed=data_seed_of,
    script:
        "../scripts/mnist_images.py"


rule audio_images:
    input:
        lambda wc: PLAN.audio_settings(wc.dataset)["path"],
    output:
        images=directory("resources/images/{dataset}"),
        recordings="resources/images/{dataset}.recordings.csv",
    log:
        "results/logs/data/images_{dataset}.log",
    wildcard_constraints:
        dataset=one_of(datasets_from(*plan.RECORDING_SOURCES)),
    conda:
        "../envs/attnlab.yaml"
    params:
        classes=lambda wc: dataset_config(wc.dataset)["classes"],
        audio=lambda wc: PLAN.audio_settings(wc.dataset),
        size=lambda wc: dataset_config(wc.dataset)["image_size"],
        channels=lambda wc: dataset_config(wc.dataset)["channels"],
        spectrogram=lambda wc: dataset_config(wc.dataset)["spectrogram"],
        seed=data_seed_of,
    script:
        "../scripts/audio_images.py"


rule manifest:
    input:
        unpack(plan_inputs(PLAN.manifest_inputs)),
    output:
        "results/{dataset}/cache/manifest.parquet",
    log:
        "results/logs/data/manifest_{dataset}.log",
    conda:
        "../envs/attnlab.yaml"
    params:
        classes=lambda wc: dataset_config(wc.dataset)["classes"],
        size=lambda wc: dataset_config(wc.dataset)["image_size"],
        channels=lambda wc: dataset_config(wc.dataset)["channels"],
        split=lambda wc: dataset_config(wc.dataset)["split"],
        seed=data_seed_of,
        resize=lambda wc: dataset_config(wc.dataset)["resize"],
        convert_channels=lambda wc: dataset_config(wc.dataset)["convert_channels"],
    script:
        "../scripts/manifest.py"


rule split_arrays:
    input:
        "results/{dataset}/cache/manifest.parquet",
    output:
        x="results/{dataset}/cache/{split}_x.npy",
        y="results/{dataset}/cache/{split}_y.npy",
        x_sum="results/{dataset}/cache/{split}_x.npy.sha256",
        y_sum="results/{dataset}/cache/{split}_y.npy.sha256",
    log:
        "results/logs/data/arrays_{dataset}_{split}.log",
    conda:
        "../envs/attnlab.yaml"
    params:
        channels=lambda wc: dataset_config(wc.dataset)["channels"],
        size=lambda wc: dataset_config(wc.dataset)["image_size"],
        resize=lambda wc: dataset_config(wc.dataset)["resize"],
        convert_channels=lambda wc: dataset_config(wc.dataset)["convert_channels"],
    script:
        "../scripts/split_arrays.py"


use rule split_arrays as fold_arrays with:
    output:
        x="results/{dataset}/cache/fold{fold}/{split}_x.npy",
        y="results/{dataset}/cache/fold{fold}/{split}_y.npy",
        x_sum="results/{dataset}/cache/fold{fold}/{split}_x.npy.sha256",
        y_sum="results/{dataset}/cache/fold{fold}/{split}_y.npy.sha256",
    log:
        "results/logs/data/arrays_{dataset}_fold{fold}_{split}.log",


rule noisy_train:
    input:
        x="results/{dataset}/cache/train_x.npy",
        x_sum="results/{dataset}/cache/train_x.npy.sha256",
    output:
        x="results/{dataset}/cache/train_noisy_x.npy",
        x_sum="results/{dataset}/cache/train_noisy_x.npy.sha256",
    log:
        "results/logs/data/noisy_{dataset}.log",
    conda:
        "../envs/attnlab.yaml"
    params:
        sigma=lambda wc: dataset_config(wc.dataset)["noise_sigma"],
        seed=data_seed_of,
    script:
        "../scripts/noisy_train.py"


use rule noisy_train as fold_noisy_train with:
    input:
        x="results/{dataset}/cache/fold{fold}/train_x.npy",
        x_sum="results/{dataset}/cache/fold{fold}/train_x.npy.sha256",
    output:
        x="results/{dataset}/cache/fold{fold}/train_noisy_x.npy",
        x_sum="results/{dataset}/cache/fold{fold}/train_noisy_x.npy.sha256",
    log:
        "results/logs/data/noisy_{dataset}_fold{fold}.log",


# With data_seeds, a training seed other than data_seed reads its own draw of the data:
# the same rules, with the seed of the draw.
use rule mnist_images as mnist_images_drawn with:
    output:
        directory("resources/images/{dataset}.data{draw}"),
    log:
        "results/logs/data/images_{dataset}.data{draw}.log",


use rule audio_images as audio_images_drawn with:
    output:
        images=directory("resources/images/{dataset}.data{draw}"),
        recordings="resources/images/{dataset}.data{draw}.recordings.csv",
    log:
        "results/logs/data/images_{dataset}.data{draw}.log",


use rule manifest as manifest_drawn with:
    output:
        "results/{dataset}/cache/data{draw}/manifest.parquet",
    log:
        "results/logs/data/manifest_{dataset}.data{draw}.log",


use rule split_arrays as split_arrays_drawn with:
    input:
        "results/{dataset}/cache/data{draw}/manifest.parquet",
    output:
        x="results/{dataset}/cache/data{draw}/{split}_x.npy",
        y="results/{dataset}/cache/data{draw}/{split}_y.npy",
        x_sum="results/{dataset}/cache/data{draw}/{split}_x.npy.sha256",
        y_sum="results/{dataset}/cache/data{draw}/{split}_y.npy.sha256",
    log:
        "results/logs/data/arrays_{dataset}.data{draw}_{split}.log",


use rule noisy_train as noisy_train_drawn with:
    input:
        x="results/{dataset}/cache/data{draw}/train_x.npy",
        x_sum="results/{dataset}/cache/data{draw}/train_x.npy.sha256",
    output:
        x="results/{dataset}/cache/data{draw}/train_noisy_x.npy",
        x_sum="results/{dataset}/cache/data{draw}/train_noisy_x.npy.sha256",
    log:
        "results/logs/data/noisy_{dataset}.data{draw}.log",
