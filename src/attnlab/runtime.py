"""Process-level settings that must be made before TensorFlow is imported."""

from __future__ import annotations

import os
import sys


def configure(threads: int = 1, device: str = "cpu") -> None:
    """Pin TensorFlow's thread pools and hide GPUs for `device="cpu"` (as the study did).

    Both pools get `threads`: with two, independent ops of a step run side by side
    (lenet 1.6-2.2 s instead of 2.55 s per 1200 samples on 2 cores, BENCHMARKS.md).

    Environment variables only take effect before the first `import tensorflow`, so
    this refuses to run after it.
    """
    if "tensorflow" in sys.modules:
        raise RuntimeError("attnlab.runtime.configure() must run before TensorFlow is imported")
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = str(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    for gpu in tf.config.list_physical_devices("GPU"):
        tf.config.experimental.set_memory_growth(gpu, True)


def device_name(device: str) -> str | None:
    """The GPU's name when training on one, else None."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if device != "gpu" or not gpus:
        return None
    details = tf.config.experimental.get_device_details(gpus[0])
    return details.get("device_name", gpus[0].name)
