"""Which Keras dtype policy a training job uses (config `precision`).

`precision: auto` trains in bfloat16 (float32 master weights, `mixed_bfloat16`) only where
both hold: the machine that runs the job has bfloat16 units, and the model (a built-in
variant, unchanged) was shown to keep its accuracy in bfloat16 (its registry record's
`bf16_equivalence`, a measured section of BENCHMARKS.md). Anything else trains in
float32. The job decides on its own machine (a SLURM node may differ from the host that
planned the run), and its `metrics.json` records the policy it used.
"""

from __future__ import annotations

from attnlab import provenance, registry

# AVX512_BF16 (bf16 dot products) or AMX (bf16 tile matmuls), as /proc/cpuinfo names them.
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")
# NVIDIA GPUs compute in bfloat16 from Ampere (compute capability 8.0) on.
GPU_BF16_CAPABILITY = (8, 0)


def bf16_units(device: str, cpu_features=None, gpu_capability=None) -> str | None:
    """What gives this machine fast bfloat16 for `device`, in words, or None.

    `cpu_features` and `gpu_capability` default to this machine's (/proc/cpuinfo flags;
    the first visible GPU's compute capability, which needs TensorFlow).
    """
    if device == "gpu":
        capability = _gpu_capability() if gpu_capability is None else gpu_capability
        if capability and tuple(capability) >= GPU_BF16_CAPABILITY:
            return f"GPU of compute capability {capability[0]}.{capability[1]}"
        return None
    if cpu_features is None:
        cpu_features = provenance.cpu_info()["cpu_features"]
    found = [flag for flag in CPU_BF16_FLAGS if flag in cpu_features]
    return f"CPU with {', '.join(found)}" if found else None


def _gpu_capability() -> tuple[int, int] | None:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    return tf.config.experimental.get_device_details(gpus[0]).get("compute_capability")


def resolve(setting: str, architecture, device: str, units=bf16_units) -> tuple[str, str]:
    """(the dtype policy to train with, why) for config `precision` = `setting`.

    `architecture` is the variant's record as plain data (`registry.Variant.to_dict`).
    """
    if setting != "auto":
        return setting, "set in the config"
    evidence = registry.bf16_evidence(architecture)
    if not evidence:
        name = f"{architecture['family']}/{architecture['name']}"
        return "float32", f"auto: bfloat16 is not shown equivalent for {name}"
    hardware = units(device)
    if hardware is None:
        return "float32", f"auto: no bfloat16 units for device {device}"
    return "mixed_bfloat16", f"auto: {hardware}, and {evidence}"
