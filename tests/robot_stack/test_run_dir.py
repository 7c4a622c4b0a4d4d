"""`--run-dir` of a new run: an existing folder with anything in it is refused before a byte is
written (a report, metrics, checkpoints of someone else's are never overwritten or pruned)."""
import pytest

from robot_stack.cli.main import main
from robot_stack.config import ConfigError
from robot_stack.session import prepare_run

pytestmark = pytest.mark.unit


def snapshot(d):
    return {p.relative_to(d): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def foreign_folder(d):
    d.mkdir()
    (d / "report.md").write_text("# mine\n")
    (d / "curves.png").write_bytes(b"\x89PNG not really")
    (d / "metrics.csv").write_text("when,what\n2024,something\n")
    (d / "checkpoints").mkdir()
    (d / "checkpoints" / "ckpt-000000001.safetensors").write_bytes(b"someone else's")
    return d


@pytest.mark.parametrize("command", [["train", "--episodes", "1"], ["up", "sim", "--episodes", "1"]])
def test_a_new_run_into_an_unrelated_folder_is_refused_and_nothing_is_written(tmp_path, capsys, command):
    d = foreign_folder(tmp_path / "x")
    before = snapshot(d)
    rc = main([*command, "--run-dir", str(d)])
    err = capsys.readouterr().err
    assert rc == 2 and "not empty" in err and "--run-dir" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert snapshot(d) == before and sorted(p.name for p in d.iterdir()) == sorted(
        ["report.md", "curves.png", "metrics.csv", "checkpoints"])


def test_a_single_foreign_file_is_enough_to_refuse(tmp_path, capsys):
    d = tmp_path / "x"
    d.mkdir()
    (d / "report.md").write_text("# mine\n")
    assert main(["train", "--episodes", "1", "--run-dir", str(d)]) == 2
    assert (d / "report.md").read_text() == "# mine\n" and [p.name for p in d.iterdir()] == ["report.md"]


def test_a_new_or_empty_folder_is_a_fine_run_folder(tmp_path):
    for d in (tmp_path / "new", tmp_path / "empty"):
        if d.name == "empty":
            d.mkdir()
        d.mkdir(parents=True, exist_ok=True)  # what `new_run_dir` does before prepare_run
        prof, cfg = prepare_run("sim", ["train.episodes=1"], d, resume=False)
        assert (d / "config.yaml").is_file() and cfg.train.episodes == 1
        with pytest.raises(ConfigError, match="already holds a run; use --resume"):
            prepare_run("sim", [], d, resume=False)
