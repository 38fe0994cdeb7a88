"""A throw-away one-node SLURM cluster for integration tests.

``slurm_cluster()`` (a context manager) installs SLURM and munge with apt when
they are missing, starts ``munged``, ``slurmctld`` and ``slurmd`` from a
temporary directory (own config, ports, munge key and socket: apart from the
apt install nothing outside that directory is written) and stops every daemon
it started, by pid, on exit, even when the body raised.
``run_snakemake_on_slurm()`` runs a workflow through the test profile
(``tests/slurm/profile``) against that cluster.

Where the cluster cannot be brought up (not root, no apt-get, install failed)
``ClusterUnavailable`` is raised; the pytest fixture turns it into a skip.

The node has ``nproc`` CPUs, 80% of the machine's memory and one fake GPU
(``gres.conf``: ``Name=gpu File=/dev/null``), so a job asking ``--gpus=1`` is
scheduled and gets ``CUDA_VISIBLE_DEVICES`` set.  There is no accounting storage:
``sacct`` does not work, which is why the test profile uses
``slurm-status-command: squeue`` (with ``MinJobAge=300`` so finished jobs stay
visible to ``squeue`` long enough).

Usable as a script too: ``python tests/slurm/slurm_cluster.py`` brings the
cluster up, prints ``sinfo`` and the environment to use it, and waits for Ctrl-C.
"""

from __future__ import annotations

import atexit
import contextlib
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEST_PROFILE = HERE / "profile"
PARTITION = "debug"
NODE = "localhost"

APT_PACKAGES = ("slurm-wlm", "slurm-client", "munge")
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "srun", "squeue", "sinfo", "scancel", "scontrol", "sacct")


class ClusterUnavailable(RuntimeError):
    """SLURM cannot be brought up on this machine; the message says why."""


def _log(msg: str) -> None:
    print(f"[slurm-cluster] {msg}", file=sys.stderr, flush=True)


def _missing_binaries() -> list[str]:
    return [b for b in (*DAEMONS, *CLIENTS, "munge") if shutil.which(b) is None]


def ensure_installed(timeout: float = 900) -> float:
    """Install SLURM and munge with apt-get when missing; returns seconds spent.

    Raises ClusterUnavailable when not root, without apt-get, or when the
    install fails.
    """
    if not _missing_binaries():
        return 0.0
    if os.geteuid() != 0:
        raise ClusterUnavailable(
            f"SLURM is not installed (missing: {', '.join(_missing_binaries())}) "
            "and installing it needs root"
        )
    if shutil.which("apt-get") is None:
        raise ClusterUnavailable("SLURM is not installed and there is no apt-get to install it")
    start = time.monotonic()
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *APT_PACKAGES],
    ):
        _log("running " + " ".join(cmd))
        try:
            proc = subprocess.run(
                cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise ClusterUnavailable(f"{' '.join(cmd)} timed out after {timeout}s") from exc
        if proc.returncode != 0:
            tail = (proc.stdout + proc.stderr)[-2000:]
            raise ClusterUnavailable(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{tail}")
    missing = _missing_binaries()
    if missing:
        raise ClusterUnavailable(
            f"apt-get installed {' '.join(APT_PACKAGES)} but {', '.join(missing)} is still missing"
        )
    spent = time.monotonic() - start
    _log(f"installed {' '.join(APT_PACKAGES)} in {spent:.1f}s")
    return spent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _node_memory_mb() -> int:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                return int(int(line.split()[1]) / 1024 * 0.8)
    return 1024


def _tail(path: Path, n: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


@dataclass
class SlurmCluster:
    """A running one-node cluster; use ``env()`` to talk to it."""

    root: Path
    conf: Path
    bin_dir: Path
    partition: str = PARTITION
    node: str = NODE
    cpus: int = 1
    memory_mb: int = 1024
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    startup_seconds: float = 0.0
    install_seconds: float = 0.0

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for client commands and snakemake: SLURM_CONF and the wrappers.

        SLURM_* / SBATCH_* / SRUN_* variables inherited from an outer SLURM job
        (CI running inside SLURM) are dropped so they cannot leak into this one.
        """
        env = dict(os.environ if base is None else base)
        for var in list(env):
            if var.startswith(("SLURM_", "SBATCH_", "SRUN_", "SQUEUE_")):
                del env[var]
        env["SLURM_CONF"] = str(self.conf)
        env["PATH"] = f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}"
        return env

    def run(self, *cmd: str, timeout: float = 30) -> subprocess.CompletedProcess:
        """Run a SLURM client command (``sinfo``, ``squeue``...) against this cluster."""
        return subprocess.run(
            list(cmd), env=self.env(), capture_output=True, text=True, timeout=timeout
        )

    def node_state(self) -> str:
        try:
            proc = self.run("sinfo", "-h", "-N", "-n", self.node, "-o", "%t", timeout=10)
        except subprocess.TimeoutExpired:
            return "timeout"
        return proc.stdout.strip() if proc.returncode == 0 else f"error: {proc.stderr.strip()}"

    def logs(self) -> str:
        """The tails of the daemons' logs, for failure messages."""
        parts = []
        for name in ("munged.log", "slurmctld.log", "slurmd.log"):
            parts.append(f"--- {name} ---\n{_tail(self.root / 'log' / name)}")
        return "\n".join(parts)

    def cancel_all_jobs(self, timeout: float = 20) -> None:
        """scancel every job of this cluster and wait until squeue lists none running."""
        if "slurmctld" not in self.procs or self.procs["slurmctld"].poll() is not None:
            return
        with contextlib.suppress(subprocess.TimeoutExpired, OSError):
            self.run("scancel", "--full", "--quiet", "-u", pwd.getpwuid(os.getuid()).pw_name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                proc = self.run("squeue", "-h", "-t", "PD,R,CG,S", "-o", "%i", timeout=10)
            except subprocess.TimeoutExpired:
                break
            if proc.returncode != 0 or not proc.stdout.strip():
                return
            time.sleep(0.5)

    def stop(self) -> None:
        """Cancel jobs, stop every daemon started (by pid, newest first), remove files."""
        self.cancel_all_jobs()
        for name in reversed(list(self.procs)):
            proc = self.procs[name]
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    _log(f"{name} (pid {proc.pid}) ignored SIGTERM, killing it")
                    proc.kill()
                    proc.wait(timeout=10)
        self.procs.clear()
        shutil.rmtree(self.root, ignore_errors=True)


def _write_config(root: Path, cpus: int, memory_mb: int) -> tuple[Path, Path]:
    """Write slurm.conf + gres.conf (+ srun wrapper) under root; returns (conf, bin_dir)."""
    for sub in ("etc", "log", "spool/ctld", "spool/d", "run", "bin"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    munge_dir = root / "munge"
    conf = root / "etc" / "slurm.conf"
    conf.write_text(
        f"""\
# One-node test cluster written by {Path(__file__).name}.
ClusterName=attnlab-test
SlurmctldHost={NODE}
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={munge_dir / "munge.socket"}
StateSaveLocation={root / "spool/ctld"}
SlurmdSpoolDir={root / "spool/d"}
SlurmctldPidFile={root / "run/slurmctld.pid"}
SlurmdPidFile={root / "run/slurmd.pid"}
SlurmctldLogFile={root / "log/slurmctld.log"}
SlurmdLogFile={root / "log/slurmd.log"}
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
# squeue must still list finished jobs when the executor plugin polls them.
MinJobAge=300
GresTypes=gpu
NodeName={NODE} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory_mb} Gres=gpu:1 State=UNKNOWN
PartitionName={PARTITION} Nodes={NODE} Default=YES MaxTime=INFINITE State=UP
"""
    )
    # slurmd reads gres.conf from the directory of slurm.conf.
    (root / "etc" / "gres.conf").write_text(f"NodeName={NODE} Name=gpu File=/dev/null\n")
    # The jobstep plugin strips every SLURM_* variable (SLURM_CONF included) before
    # its nested `srun`, which would then look for /etc/slurm/slurm.conf.  A wrapper
    # first on PATH points every client command back at this cluster.
    bin_dir = root / "bin"
    for client in CLIENTS:
        real = shutil.which(client)
        if real is None:
            continue
        wrapper = bin_dir / client
        wrapper.write_text(f'#!/bin/sh\nSLURM_CONF="{conf}" exec "{real}" "$@"\n')
        wrapper.chmod(0o755)
    return conf, bin_dir


def _start_munged(root: Path, procs: dict[str, subprocess.Popen]) -> None:
    """munged as the munge user, with its own key and socket under root.

    munged refuses files it deems insecure: the key must be owned by munge with
    mode 0600, its directories must not be writable by others.
    """
    try:
        munge = pwd.getpwnam("munge")
    except KeyError as exc:
        raise ClusterUnavailable("there is no 'munge' user (is munge installed?)") from exc
    munge_dir = root / "munge"
    munge_dir.mkdir(mode=0o755, exist_ok=True)
    os.chown(munge_dir, munge.pw_uid, munge.pw_gid)
    key = munge_dir / "munge.key"
    key.write_bytes(os.urandom(128))
    key.chmod(0o600)
    os.chown(key, munge.pw_uid, munge.pw_gid)
    log = root / "log" / "munged.log"
    log.touch()
    os.chown(log, munge.pw_uid, munge.pw_gid)
    socket_path = munge_dir / "munge.socket"
    procs["munged"] = subprocess.Popen(
        [
            shutil.which("munged") or "munged",
            "--foreground",
            f"--socket={socket_path}",
            f"--key-file={key}",
            f"--log-file={log}",
            f"--pid-file={munge_dir / 'munged.pid'}",
            f"--seed-file={munge_dir / 'munged.seed'}",
        ],
        user=munge.pw_uid,
        group=munge.pw_gid,
        extra_groups=[g.gr_gid for g in grp.getgrall() if munge.pw_name in g.gr_mem],
        stdout=subprocess.DEVNULL,
        stderr=open(root / "log" / "munged.stderr", "w"),  # noqa: SIM115
        start_new_session=True,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if procs["munged"].poll() is not None:
            raise ClusterUnavailable(
                "munged exited:\n" + _tail(root / "log" / "munged.stderr") + _tail(log)
            )
        check = subprocess.run(
            f"munge -n -S {socket_path} | unmunge -S {socket_path}",
            shell=True,
            capture_output=True,
            text=True,
        )
        if check.returncode == 0:
            return
        time.sleep(0.2)
    raise ClusterUnavailable("munged did not answer within 15s:\n" + _tail(log))


def start_cluster(timeout: float = 90) -> SlurmCluster:
    """Bring up munged + slurmctld + slurmd; return once the node is idle.

    Raises ClusterUnavailable (after cleaning up) when that fails.
    """
    install_seconds = ensure_installed()
    if os.geteuid() != 0:
        raise ClusterUnavailable("starting slurmd/munged as the test does needs root")
    start = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="attnlab-slurm-"))
    root.chmod(0o755)  # munged (user munge) must reach its socket directory
    # At least 2 CPUs, so a 2-thread job (profiles/slurm trains with 2) fits on
    # a 1-core runner too; SlurmdParameters=config_overrides lets slurmd accept
    # a node configured with more CPUs than it has.
    cpus = max(2, len(os.sched_getaffinity(0)))
    memory_mb = _node_memory_mb()
    conf, bin_dir = _write_config(root, cpus, memory_mb)
    cluster = SlurmCluster(
        root=root,
        conf=conf,
        bin_dir=bin_dir,
        cpus=cpus,
        memory_mb=memory_mb,
        install_seconds=install_seconds,
    )
    # Backstop for a run that never reaches its teardown (stop() is idempotent).
    atexit.register(cluster.stop)
    try:
        _start_munged(root, cluster.procs)
        env = cluster.env()
        for name, cmd in (
            ("slurmctld", ["slurmctld", "-D", "-i", "-f", str(conf)]),
            ("slurmd", ["slurmd", "-D", "-N", NODE, "-f", str(conf)]),
        ):
            cluster.procs[name] = subprocess.Popen(
                [shutil.which(cmd[0]) or cmd[0], *cmd[1:]],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=open(root / "log" / f"{name}.stderr", "w"),  # noqa: SIM115
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            for name, proc in cluster.procs.items():
                if proc.poll() is not None:
                    raise ClusterUnavailable(
                        f"{name} exited with {proc.returncode}:\n"
                        + _tail(root / "log" / f"{name}.stderr")
                        + "\n"
                        + cluster.logs()
                    )
            state = cluster.node_state()
            if state == "idle":
                cluster.startup_seconds = time.monotonic() - start
                _log(
                    f"cluster up in {cluster.startup_seconds:.1f}s "
                    f"({cpus} CPUs, {memory_mb} MB, 1 fake GPU; SLURM_CONF={conf})"
                )
                return cluster
            time.sleep(0.5)
        raise ClusterUnavailable(
            f"node not idle after {timeout}s (last sinfo: {state!r}):\n{cluster.logs()}"
        )
    except BaseException:
        cluster.stop()
        raise


@contextlib.contextmanager
def slurm_cluster(timeout: float = 90) -> Iterator[SlurmCluster]:
    """``with slurm_cluster() as cluster:`` — a running cluster, stopped on exit."""
    cluster = start_cluster(timeout=timeout)
    try:
        yield cluster
    finally:
        cluster.stop()


def run_snakemake_on_slurm(
    cluster: SlurmCluster,
    workdir: Path | str,
    snakefile: Path | str,
    configfiles: Sequence[Path | str] = (),
    extra_args: Sequence[str] = (),
    profile: Path | str = TEST_PROFILE,
    timeout: float = 600,
    check: bool = True,
) -> subprocess.CompletedProcess:
    """Run ``snakemake --profile <profile>`` in workdir, submitting to the cluster.

    The interpreter running the tests (the venv) runs snakemake, and its bin
    directory is put first on PATH: sbatch exports the environment to the jobs,
    which run snakemake again inside SLURM.  Output goes to
    ``workdir/snakemake-slurm.log`` (``.2.log``... for later runs) and into the
    returned object; with ``check`` a non-zero exit raises AssertionError
    carrying that output, the jobs' SLURM logs and the daemons' logs.
    """
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(Path(snakefile).resolve()),
        "--directory",
        str(workdir),
        "--profile",
        str(Path(profile).resolve()),
    ]
    cmd += list(extra_args)
    if configfiles:  # last: --configfile takes several values (targets would join them)
        cmd += ["--configfile", *(str(Path(c).resolve()) for c in configfiles)]
    env = cluster.env()
    env.pop("SNAKEMAKE_PROFILE", None)
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = f"{cluster.bin_dir}{os.pathsep}{venv_bin}{os.pathsep}{env['PATH']}"
    runs = len(list(workdir.glob("snakemake-slurm*.log")))
    log = workdir / ("snakemake-slurm.log" if runs == 0 else f"snakemake-slurm.{runs + 1}.log")
    _log("running " + " ".join(cmd))
    try:
        proc = subprocess.run(
            cmd,
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or ""
        out = out.decode(errors="replace") if isinstance(out, bytes) else out
        log.write_text(out)
        raise AssertionError(
            f"snakemake on SLURM timed out after {timeout}s:\n{out[-6000:]}\n{cluster.logs()}"
        ) from exc
    log.write_text(proc.stdout)
    if check and proc.returncode != 0:
        slurm_logs = ""
        for path in sorted((workdir / ".snakemake" / "slurm_logs").rglob("*.log")):
            slurm_logs += f"--- {path} ---\n{_tail(path, 2000)}\n"
        raise AssertionError(
            f"snakemake on SLURM exited {proc.returncode}:\n{proc.stdout[-6000:]}\n"
            f"{slurm_logs}{cluster.logs()}"
        )
    return proc


def main() -> int:
    try:
        cluster = start_cluster()
    except ClusterUnavailable as exc:
        print(f"cannot bring up SLURM: {exc}", file=sys.stderr)
        return 1
    try:
        print(cluster.run("sinfo").stdout)
        print(f"export SLURM_CONF={cluster.conf} PATH={cluster.bin_dir}:$PATH")
        print("Ctrl-C stops the cluster.")
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
