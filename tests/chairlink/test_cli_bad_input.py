"""Every file or argument a ``chairlink`` command takes, given wrong: one line, non-zero exit.

Missing, empty, binary, a folder, or a file of the wrong kind: the command says in one line on
stderr which file is wrong and how, exits non-zero, and never shows a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from rosbags.rosbag1 import Writer as Ros1Writer
from rosbags.typesys import Stores, get_typestore

from chairlink.cli.main import main
from edge.rosbag import BagReader

REPO = Path(__file__).resolve().parents[2]
SCENARIO = str(REPO / "scenarios" / "corridor-walk.yaml")
CHAIR = str(REPO / "configs" / "chair.yaml")
MODEL = str(REPO / "models" / "detector.yaml")


def _files(folder: Path) -> dict[str, Path]:
    """One file or folder of each wrong kind."""
    files = {
        "missing": folder / "missing.yaml",
        "empty": folder / "empty.yaml",
        "binary": folder / "binary.yaml",
        "folder": folder / "a-folder",
        "broken": folder / "broken.yaml",
        "list": folder / "list.yaml",
        "text": folder / "text.txt",
    }
    files["empty"].write_bytes(b"")
    # Not UTF-8 from the second byte on, and no YAML either.
    files["binary"].write_bytes(bytes([0x89, 0xF8, 0x00, 0xFF, 0xFE]) + os.urandom(2000))
    files["folder"].mkdir()
    files["broken"].write_text("just: [unclosed\n", encoding="utf-8")
    files["list"].write_text("- a\n- b\n", encoding="utf-8")
    files["text"].write_text("hello\n", encoding="utf-8")
    return files


# Each command, with the place its input goes; None when that kind of input is valid for it
# (an empty chair.yaml is the defaults, by design).
Make = Callable[[str, Path], list[str]]
COMMANDS: dict[str, tuple[Make, set[str]]] = {
    "config check": (lambda f, _t: ["config", "check", f], {"empty"}),
    "config show": (lambda f, _t: ["config", "show", f], {"empty"}),
    "ros params": (lambda f, _t: ["ros", "params", f], {"empty"}),
    "ros params -o": (lambda f, _t: ["ros", "params", CHAIR, "-o", f"{f}/params.yaml"], set()),
    "edge agent": (lambda f, _t: ["edge", "agent", "--config", f], {"empty"}),
    "sim run": (lambda f, _t: ["sim", "run", f], set()),
    "sim run --telemetry": (
        lambda f, _t: ["sim", "run", SCENARIO, "--telemetry", f, "--duration", "0.1"],
        {"empty"},
    ),
    "sim record": (lambda f, t: ["sim", "record", f, "-o", str(t / "out")], set()),
    "sim record -o": (
        lambda f, _t: ["sim", "record", SCENARIO, "-o", f"{f}/bag", "--duration", "0.1"],
        set(),
    ),
    "model check": (lambda f, _t: ["model", "check", f], set()),
    "site info": (lambda f, _t: ["site", "info", f], set()),
    "site build -o": (lambda f, _t: ["site", "build", "-o", f"{f}/site"], set()),
    "firmware sim --config": (lambda f, _t: ["firmware", "sim", "--config", f], {"empty"}),
    "firmware sim --link": (lambda f, _t: ["firmware", "sim", "--link", f"{f}/tty"], set()),
    "firmware probe --config": (
        lambda f, _t: ["firmware", "probe", "--port", "/dev/null", "--config", f],
        {"empty"},
    ),
    "mqtt tail --password-file": (
        lambda f, _t: ["mqtt", "tail", "--password-file", f, "--seconds", "0.1"],
        {"empty", "broken", "list", "text"},
    ),
    "bag info": (lambda f, _t: ["bag", "info", f], set()),
}
# Outputs are given below a file, where nothing can be created, whatever the user's rights.
OUTPUTS = {"ros params -o", "sim record -o", "site build -o", "firmware sim --link"}
KINDS = ("missing", "empty", "binary", "folder", "broken", "list", "text")
CASES = [
    (name, kind)
    for name, (_make, valid) in COMMANDS.items()
    for kind in (("text",) if name in OUTPUTS else KINDS)
    if kind not in valid
]


@pytest.mark.parametrize(("command", "kind"), CASES)
def test_a_wrong_input_gets_one_line_and_a_non_zero_exit(
    command: str, kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    given = _files(tmp_path)[kind]
    make, _valid = COMMANDS[command]
    code = main(make(str(given), tmp_path))
    err = capsys.readouterr().err
    assert code != 0
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("chairlink: error: ")
    assert given.name in lines[0], err


def _ros1_bag(path: Path) -> Path:
    store = get_typestore(Stores.ROS1_NOETIC)
    string = store.types["std_msgs/msg/String"]
    with Ros1Writer(path) as writer:
        connection = writer.add_connection("/chatter", string.__msgtype__, typestore=store)
        writer.write(connection, 10**9, store.serialize_ros1(string(data="hi"), string.__msgtype__))
    return path


def test_bag_info_names_a_ros1_bag_a_ros1_bag_and_reads_a_folder_of_them(tmp_path: Path) -> None:
    bag = _ros1_bag(tmp_path / "run.bag")
    with BagReader(bag) as reader:
        assert reader.info().storage == "rosbag1"
    folder = tmp_path / "ros1"
    folder.mkdir()
    _ros1_bag(folder / "a.bag")
    with BagReader(folder) as reader:
        info = reader.info()
    assert info.storage == "rosbag1"
    assert info.message_count == 1


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("random.bag", os.urandom(64), "a ROS 1 bag starts with '#ROSBAG V2.0'"),
        ("random.mcap", os.urandom(64), "MCAP magic"),
        ("random.db3", os.urandom(64), "SQLite"),
        ("notes.txt", b"hello", "expected a rosbag2 folder, a ROS 1 .bag, an MCAP or a .db3"),
    ],
)
def test_bag_info_says_what_a_file_that_is_no_bag_should_have_been(
    name: str, content: bytes, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / name).write_bytes(content)
    assert main(["bag", "info", str(tmp_path / name)]) == 1
    err = capsys.readouterr().err
    assert says in err
    assert len(err.splitlines()) == 1


def test_bag_info_on_a_rosbag2_folder_without_metadata_says_how_to_rebuild_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "run_0.mcap").write_bytes(b"\x89MCAP0\r\n")
    assert main(["bag", "info", str(tmp_path)]) == 1
    assert "ros2 bag reindex" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [["sim", "run", "{binary}"], ["bag", "info", "{bag}"], ["config", "check", "{binary}"]],
)
def test_as_a_process_binary_input_gives_one_line_and_no_traceback(
    args: list[str], tmp_path: Path
) -> None:
    binary = tmp_path / "scenario.yaml"
    binary.write_bytes(bytes([0x89, 0xF8]) + os.urandom(4000))
    bag = tmp_path / "random.bag"
    bag.write_bytes(os.urandom(4000))
    argv = [a.format(binary=binary, bag=bag) for a in args]
    result = subprocess.run(
        [sys.executable, "-m", "chairlink", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
