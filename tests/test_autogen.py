import subprocess
import sys

from hpy_build.api import autogen


def test_generated_files_are_up_to_date():
    assert autogen.stale_files() == [], "run: python -m hpy_build.api.autogen"


def test_check_mode_reports_a_stale_file(tmp_path):
    for relpath in autogen.GENERATED:
        target = tmp_path / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(autogen.render(relpath))
    assert autogen.stale_files(str(tmp_path)) == []
    (tmp_path / "include/hpy/autogen_ctx.h").write_text("/* edited by hand */\n")
    assert autogen.stale_files(str(tmp_path)) == ["include/hpy/autogen_ctx.h"]


def test_check_command_exit_status():
    result = subprocess.run([sys.executable, "-m", "hpy_build.api.autogen", "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
