"""Process settings made before TensorFlow is imported."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, os, sys
from attnlab import runtime
runtime.configure(threads=int(sys.argv[1]), device="cpu")
import tensorflow as tf
print(json.dumps({
    "intra": tf.config.threading.get_intra_op_parallelism_threads(),
    "inter": tf.config.threading.get_inter_op_parallelism_threads(),
    "cuda": os.environ["CUDA_VISIBLE_DEVICES"],
    "gpus": len(tf.config.list_physical_devices("GPU")),
}))
try:
    runtime.configure(threads=1)
except RuntimeError as error:
    print(json.dumps({"again": str(error)}))
"""


def probe(threads: int) -> list[dict]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(threads)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_both_thread_pools_follow_threads_and_cpu_hides_gpus():
    for threads in (1, 2):
        pools, again = probe(threads)
        assert pools == {"intra": threads, "inter": threads, "cuda": "", "gpus": 0}
        assert "before TensorFlow is imported" in again["again"]
