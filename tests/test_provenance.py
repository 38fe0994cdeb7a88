"""Provenance: which code, packages and machine made a run."""

import subprocess

import pytest

from attnlab import provenance, results_page


def test_a_checkout_gives_its_commit_and_whether_tracked_files_changed(tmp_path):
    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "code.py").write_text("A = 1\n")
    git("add", "code.py")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    state = provenance.git_state(tmp_path)
    assert len(state["commit"]) == 40 and state["dirty"] is False
    (tmp_path / "scratch.txt").write_text("untracked files do not count\n")
    assert provenance.git_state(tmp_path)["dirty"] is False
    (tmp_path / "code.py").write_text("A = 2\n")
    assert provenance.git_state(tmp_path) == {"commit": state["commit"], "dirty": True}


def test_the_page_rule_does_not_count_its_own_outputs_as_changes(tmp_path):
    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "results.md").write_text("old page\n")
    (tmp_path / "code.py").write_text("A = 1\n")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    (tmp_path / "docs" / "results.md").unlink()  # as Snakemake does before the rule
    assert provenance.git_state(tmp_path)["dirty"] is True
    assert results_page.page_git_state(tmp_path)["dirty"] is False
    (tmp_path / "code.py").write_text("A = 2\n")
    assert results_page.page_git_state(tmp_path)["dirty"] is True


def test_outside_a_checkout_the_commit_is_unknown(tmp_path):
    assert provenance.git_state(tmp_path) == {"commit": None, "dirty": None}


def test_cpu_features_come_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    flags = "fpu sse2 avx2 fma amx_bf16 amx_tile"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: Test CPU 9000\nflags\t\t: {flags}\n")
    info = provenance.cpu_info(cpuinfo)
    assert info["cpu"] == "Test CPU 9000"
    assert info["cpu_features"] == ["avx2", "fma", "amx_bf16", "amx_tile"]


def test_collect_names_code_packages_and_machine():
    record = provenance.collect(None, "float32", 1)
    assert record["commit"] is None or len(record["commit"]) == 40
    assert {"numpy", "keras", "snakemake"} <= set(record["packages"])
    assert record["cpu_count"] >= 1 and record["precision"] == "float32"


def test_the_summary_counts_runs_per_origin_and_flags_a_mix():
    one = provenance.collect(None, "float32", 1)
    other = {**one, "commit": "f" * 40, "dirty": True}
    lines = provenance.summary_lines([one, one, other, None])
    assert lines[0].startswith("**The runs come from more than one")
    assert lines[1].startswith("- 2 run(s): commit ")
    assert any("ffffffffff with uncommitted changes" in line for line in lines)
    assert lines[-1] == "- 1 run(s): not recorded"
    assert len(provenance.summary_lines([one, one])) == 1


COMMIT = "a" * 40
SUMMARY = "# attnlab: results summary\n\nSeeds used: 4, 5.\n\n![cd](figures/d/cd.png)\n"


def test_the_results_page_names_one_clean_commit_and_the_config():
    records = [{"commit": COMMIT, "dirty": False}] * 3
    page = results_page.results_markdown(
        SUMMARY, records, ["config/config.yaml"], {"seeds": [4, 5]}, "snakemake docs/results.md"
    )
    assert page.startswith("# attnlab: results\n") and "results summary" not in page
    assert f"the 3 runs of one run of `snakemake docs/results.md` at commit\n`{COMMIT}`" in page
    assert "`config/config.yaml`" in page and "seeds:\n- 4\n- 5" in page
    assert "](results/figures/d/cd.png)" in page


@pytest.mark.parametrize(
    ("records", "found"),
    [
        ([{"commit": COMMIT, "dirty": False}, {"commit": "b" * 40, "dirty": False}], "(1 runs), b"),
        ([{"commit": COMMIT, "dirty": True}], "with uncommitted changes (1 runs)"),
        ([None, {"commit": COMMIT, "dirty": False}], "not recorded (1 runs)"),
    ],
    ids=["two-commits", "dirty", "unrecorded"],
)
def test_the_results_page_refuses_runs_of_mixed_or_unclean_code(records, found):
    with pytest.raises(
        results_page.MixedRunsError, match="one commit without uncommitted"
    ) as caught:
        results_page.one_commit(records)
    assert found in str(caught.value) and "snakemake --forcerun train" in str(caught.value)


def test_tables_may_come_from_a_later_clean_commit_with_the_runs_training_code():
    later = {"commit": "c" * 40, "dirty": False}
    assert results_page.tables_commit_line(COMMIT, {"commit": COMMIT, "dirty": False}, [], "") == ""
    line = results_page.tables_commit_line(COMMIT, later, ["h" * 16] * 2, "h" * 16)
    assert f"later commit `{'c' * 40}`" in line and "code hash `hhhhhhhhhhhh`" in line
    page = results_page.results_markdown(SUMMARY, [{"commit": COMMIT}], [], {}, "s", line)
    assert (
        f"at commit\n`{COMMIT}`; the README draws its conclusions from this page.\n{line}" in page
    )
    with pytest.raises(results_page.MixedRunsError, match="trained by other code"):
        results_page.tables_commit_line(COMMIT, later, ["h" * 16, "g" * 16], "h" * 16)
    with pytest.raises(results_page.MixedRunsError, match="commit the changes"):
        results_page.tables_commit_line(COMMIT, {"commit": COMMIT, "dirty": True}, [], "")
