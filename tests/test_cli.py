import json

import numpy as np
import click
from click.testing import CliRunner

from xorgpu.cli.main import cli
from xorgpu.config import Config, RunOptions, SeedRange
from xorgpu.experiment import prepare
from xorgpu.notebook import run_notebook


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_run_json_has_the_promised_fields():
    result = invoke("run", "--nets", 200, "--epochs", 3000, "--json", "--backend", "numpy")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    for key in ("nets", "solved", "success_rate", "success_ci95", "epochs_to_solve", "config"):
        assert key in report
    assert report["nets"] == 200 and "median" in report["epochs_to_solve"]
    low, high = report["success_ci95"]
    assert low <= report["success_rate"] <= high
    assert Config.from_dict(report["config"]).epochs == 3000


def test_run_table_is_readable():
    result = invoke("run", "--seeds", "10:60", "--epochs", 500, "--sample-every", 250)
    assert result.exit_code == 0, result.output
    report = json.loads(invoke("run", "--seeds", "10:60", "--epochs", 500, "--sample-every", 250, "--json").stdout)
    lines = result.stdout.splitlines()
    assert lines[0] == "xorgpu: 2-4-1 sigmoid net on XOR: learning rate 0.1, momentum 0, 500 epochs, initial weights U[0,1) and zero biases"
    assert f"  nets                {report['nets']}" in lines and f"  solved              {report['solved']}" in lines
    assert any(line.startswith("  success rate") and "95% CI [" in line for line in lines)
    start = lines.index("  loss percentiles    epoch       p10         median      p90     (each within 1%)") + 1
    rows = lines[start:start + 3]
    assert [int(row.split()[0]) for row in rows] == [0, 250, 500]  # one row per sampled epoch
    assert lines[start + 3] == "" and lines[start + 4].startswith("  seeds 10:60; trained by the fused engine, backend numpy, on cpu (")


def test_run_out_writes_the_documented_npz(tmp_path):
    out = tmp_path / "nets.npz"
    result = invoke("run", "--seeds", "5:25", "--epochs", 2000, "--hidden", 3, "--out", out,
                    "--processes", 2)
    assert result.exit_code == 0, result.output
    with np.load(out, allow_pickle=False) as data:
        assert data["seeds"].tolist() == list(range(5, 25))
        assert data["outputs"].shape == (20, 4)
        assert data["epochs_to_solve"].shape == data["final_loss"].shape == (20,)
        config = Config.from_json(str(data["config"]))
        statistics = json.loads(str(data["statistics"]))
    assert config.hidden == 3
    assert statistics["nets"] == 20 and statistics["config"] == config.to_dict()
    expected, _ = prepare(config, RunOptions(backend="numpy")).train(SeedRange(5, 25))
    with np.load(out, allow_pickle=False) as data:
        np.testing.assert_array_equal(data["outputs"], expected.outputs)


def test_demo_prints_what_the_notebook_prints():
    result = invoke("demo", "--seed", 3)
    assert result.exit_code == 0
    lines = []
    run_notebook(3, print_fn=lines.append)
    assert result.stdout.splitlines() == "\n".join(lines).splitlines()
    assert result.stdout.startswith("Epoch 0, Loss: ")
    assert "Epoch 8000, Loss: " in result.stdout and "Predictions after training:" in result.stdout


def test_existing_out_file_is_kept_when_the_run_fails_early(tmp_path):
    out = tmp_path / "keep.npz"
    out.write_bytes(b"earlier results")
    result = invoke("run", "--nets", 0, "--out", out)
    assert result.exit_code != 0 and out.read_bytes() == b"earlier results"


def test_backend_cupy_without_a_device_is_one_line(monkeypatch):
    from xorgpu import backend  # noqa: PLC0415

    monkeypatch.setattr(backend, "_import_cupy", lambda: (None, "no CUDA device"))
    result = invoke("run", "--nets", 10, "--epochs", 10, "--backend", "cupy")
    assert result.exit_code == 2 and result.stderr == "xorgpu: error: backend cupy is not available: no CUDA device\n"


def test_bare_xorgpu_prints_its_help_and_succeeds():
    result = CliRunner().invoke(cli, [])
    assert result.exit_code == 0 and result.stdout.startswith("Usage: ") and "  run " in result.stdout


def test_a_mistyped_command_gets_the_command_it_was_probably_meant_to_be():
    typo, unknown = CliRunner().invoke(cli, ["submt", "--nets", "10"]), CliRunner().invoke(cli, ["zzz"])
    assert typo.exit_code == 2 and typo.stderr == "xorgpu: error: No such command 'submt'. Did you mean 'submit'?\n"
    assert unknown.exit_code == 2 and unknown.stderr.startswith("xorgpu: error: No such command 'zzz'. The commands: run, ")


def test_run_json_says_where_its_numbers_came_from():
    import platform  # noqa: PLC0415
    import socket  # noqa: PLC0415

    import xorgpu  # noqa: PLC0415

    report = json.loads(invoke("run", "--seeds", "7:27", "--epochs", 10, "--engine", "array", "--backend", "numpy",
                               "--json").stdout)
    made = report["provenance"]
    assert made["seeds"] == "7:27" and made["version"] == xorgpu.__version__
    assert (made["engine"], made["backend"]) == ("array", "numpy") and made["device"].startswith("cpu (")
    assert made["host"] == socket.gethostname() and made["python"] == platform.python_version()
    assert made["numpy"] == np.__version__ and made["started"].endswith("+00:00") and made["wall_seconds"] > 0


def test_demo_explain_shows_one_epoch_a_gradient_check_and_the_boundary():
    result = invoke("demo", "--seed", 0, "--explain")
    assert result.exit_code == 0, result.output
    text = result.stdout
    for heading in ("forward 2: a1 = sigmoid(z1)", "backward 2: hidden delta", "gradient dL/dW1",
                    "update to W1", "gradient check", "decision boundary", "after 10000 epochs"):
        assert heading in text
    worst = float(text.split("largest relative difference: ")[1].split()[0])
    assert worst < 1e-6  # backprop agrees with central finite differences
    picture = text.split("after 10000 epochs")[1].splitlines()[1:14]
    assert sum(line.count("X") for line in picture) == 4  # the four XOR patterns are marked


def test_commands_print_nothing_on_a_stderr_that_is_not_a_terminal(tmp_path):
    """No progress bar, nor its label, where stderr is a pipe or a log: stdout holds the
    results and stderr only what a person must read (here: nothing)."""
    for args in (["run", "--nets", 20, "--epochs", 50, "--engine", "array"],
                 ["map", "--x", "lr:0.1:10:log", "--y", "momentum:0:0.5", "--resolution", 4, "--epochs", 20,
                  "--engine", "array"],
                 ["sweep", "--nets", 10, "--hidden", "2,3", "--epochs", 20, "--engine", "array", "-o",
                  tmp_path / "s.jsonl"]):
        result = invoke(*args)
        assert result.exit_code == 0 and result.stdout, result.output
        assert result.stderr == "", (args[0], result.stderr)


def test_a_rerun_sweep_says_which_cells_it_reused(tmp_path):
    sweep = ["sweep", "--nets", 10, "--epochs", 20, "--engine", "array", "-o", tmp_path / "s.jsonl"]
    assert invoke(*sweep, "--hidden", "2,3").stderr == ""
    extended = invoke(*sweep, "--hidden", "2,3,4")
    assert extended.stderr.strip() == f"xorgpu: 2 of 3 cells were finished in {tmp_path / 's.jsonl'} already: not trained again"
    again = invoke(*sweep, "--hidden", "2,3,4")
    assert "all 3 of 3 cells were finished" in again.stderr and "nothing to train" in again.stderr
    assert again.stdout == extended.stdout


def completions(line: str, env: dict | None = None) -> list[str]:
    """What `xorgpu` offers bash for the last word of `line` (click's bash completion protocol)."""
    import os  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    words = line.split(" ")
    program = os.path.join(os.path.dirname(sys.executable), "xorgpu")  # the installed command: its name sets the variable
    result = subprocess.run([program], capture_output=True, text=True, timeout=60,
                            env={**os.environ, **(env or {}), "_XORGPU_COMPLETE": "bash_complete",
                                 "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)})
    assert result.returncode == 0 and result.stderr == "", result.stderr
    return result.stdout.splitlines()


def test_completion_offers_preset_names_job_ids_and_files(redis_server):
    assert completions("xorgpu sweep --preset rhw") == ["plain,rhw1986-local-minima", "plain,rhw1986-xor-211",
                                                         "plain,rhw1986-parity"]
    assert completions("xorgpu run -o ") == ["file,"]
    first = invoke("submit", "--nets", 10, "--redis-url", redis_server.url).stdout.strip()
    second = invoke("submit", "--nets", 10, "--redis-url", redis_server.url).stdout.strip()
    env = {"XORGPU_REDIS_URL": redis_server.url}
    assert completions("xorgpu status ", env) == [f"plain,{second}", f"plain,{first}"]  # newest first
    assert completions(f"xorgpu cancel {first[:6]}", env) == [f"plain,{first}"]
    assert completions(f"xorgpu status --redis-url {redis_server.url} {second[:6]}") == [f"plain,{second}"]
    assert completions(f"xorgpu report {first[:6]}", env) == [f"plain,{first}", f"file,{first[:6]}"]
    unreachable = {"XORGPU_REDIS_URL": "redis://127.0.0.1:9/0"}
    assert completions("xorgpu plot ", unreachable) == ["file,"]  # no Redis: files, and not a word of error


def test_every_command_has_examples_and_every_input_is_explained():
    from xorgpu.cli.main import COMMANDS  # noqa: PLC0415

    for name in COMMANDS:
        command = cli.get_command(None, name)
        help_text = invoke(name, "--help").stdout
        assert "Example" in help_text and f"xorgpu {name}" in help_text.split("Example", 1)[1], name
        for param in command.params:
            if isinstance(param, click.Argument):
                assert param.human_readable_name in command.help, (name, param.name)
            elif param.name != "help":
                assert param.help, (name, param.opts)
