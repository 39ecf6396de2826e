#!/usr/bin/env bash
# The README's first command (`make demo`): apply examples/quickstart with the
# provider built from this checkout, against the landing-zone emulator on loopback.
#
#   scripts/demo.sh           build, start the emulator, apply, print outputs, stop it
#   scripts/demo.sh destroy   start the emulator on the saved state, destroy, stop it
#
# Nothing reaches AWS: credentials are dummies, every endpoint is the emulator and
# the shared AWS config and credential files are not read.
# Environment:
#   KORE_DEMO_DIR   scratch folder for the Terraform working copy, the emulator's
#                   state and its log (default: $TMPDIR or /tmp, then
#                   terraform-provider-kore-demo)
#   TERRAFORM       Terraform to run (default: .tools/bin/terraform, which is 1.15.5)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
demo_dir=${KORE_DEMO_DIR:-${TMPDIR:-/tmp}/terraform-provider-kore-demo}
emulator_host=127.0.0.1
emulator_port=4566
emulator_url="http://$emulator_host:$emulator_port"
python="$repo_root/.venv/bin/python"
# Terraform's colours only help on a terminal; a log file gets plain text.
color_flags=()
[[ -t 1 ]] || color_flags=(-no-color)
emulator_bin="$repo_root/target/debug/account-factory-emulator"
emulator_state="$demo_dir/emulator-state.json"
emulator_log="$demo_dir/emulator.log"
provider_dir="$repo_root/target/debug"
terraform=${TERRAFORM:-$repo_root/.tools/bin/terraform}
workdir="$demo_dir/examples/quickstart"
emulator_pid=

section() {
    printf '\n==> [%3ss] %s\n' "$SECONDS" "$*"
}

fail() {
    echo "demo: $*" >&2
    exit 1
}

port_in_use() {
    (exec 3<>"/dev/tcp/$emulator_host/$emulator_port") 2>/dev/null
}

build() {
    section "Building the provider and the emulator (debug)"
    cargo build -p terraform-provider-kore -p account-factory-emulator --bins
    section "Installing Terraform"
    "$repo_root/scripts/install-tools.sh"
    [[ -x $terraform ]] || fail "TERRAFORM=$terraform is not executable"
}

start_emulator() {
    section "Starting the emulator on $emulator_url (log: $emulator_log)"
    if port_in_use; then
        fail "$emulator_host:$emulator_port is already in use; stop what listens there (an earlier demo's emulator?) and retry"
    fi
    echo "--- demo.sh started the emulator at $(date -u +%FT%TZ) ---" >>"$emulator_log"
    "$emulator_bin" --listen "$emulator_host:$emulator_port" --state-file "$emulator_state" \
        >>"$emulator_log" 2>&1 &
    emulator_pid=$!
    trap stop_emulator EXIT

    local deadline=$((SECONDS + 30))
    until port_in_use; do
        if ! kill -0 "$emulator_pid" 2>/dev/null; then
            emulator_pid=
            tail -n 20 "$emulator_log" >&2
            fail "the emulator exited during startup; its log is above and in $emulator_log"
        fi
        ((SECONDS < deadline)) || fail "the emulator did not listen on $emulator_host:$emulator_port within 30 s; see $emulator_log"
        sleep 0.2
    done
}

stop_emulator() {
    [[ -n $emulator_pid ]] || return 0
    kill -TERM "$emulator_pid" 2>/dev/null || true
    local waited=0
    while kill -0 "$emulator_pid" 2>/dev/null && ((waited < 50)); do
        sleep 0.1
        waited=$((waited + 1))
    done
    if kill -0 "$emulator_pid" 2>/dev/null; then
        echo "demo: the emulator (pid $emulator_pid) ignored SIGTERM for 5 s; killing it" >&2
        kill -KILL "$emulator_pid" 2>/dev/null || true
    fi
    wait "$emulator_pid" 2>/dev/null || true
    emulator_pid=
}

# Point Terraform at the provider in target/debug and the AWS SDK at the emulator.
configure_environment() {
    local cli_config="$demo_dir/terraform.tfrc"
    cat >"$cli_config" <<EOF
provider_installation {
  dev_overrides {
    "registry.terraform.io/appvia/kore" = "$provider_dir"
  }
  direct {}
}
EOF
    export TF_CLI_CONFIG_FILE="$cli_config"
    export TF_INPUT=0 CHECKPOINT_DISABLE=1
    export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
    export AWS_ENDPOINT_URL="$emulator_url" AWS_EC2_METADATA_DISABLED=true
    export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
    unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE
}

run_apply() {
    [[ -d $repo_root/examples/quickstart ]] ||
        fail "examples/quickstart does not exist in $repo_root, so there is nothing to apply yet"
    build

    section "Copying examples/ to $demo_dir"
    mkdir -p "$demo_dir/examples"
    # Copy all of examples/ so relative module sources such as ../modules/ resolve.
    # The copy keeps any terraform.tfstate from an earlier demo.
    cp -R "$repo_root/examples/." "$demo_dir/examples/"
    configure_environment
    start_emulator

    # `terraform get` fetches the local module; `init` is not needed with dev_overrides and
    # would try the registry for the provider recorded in an earlier demo's state.
    section "terraform get (log: $demo_dir/get.log)"
    "$terraform" -chdir="$workdir" get -no-color >"$demo_dir/get.log" 2>&1 ||
        { cat "$demo_dir/get.log"; fail "terraform get failed"; }
    section "terraform apply: one organization and four accounts through Account Factory"
    "$terraform" -chdir="$workdir" apply -auto-approve -input=false -compact-warnings "${color_flags[@]}"
    section "Accounts the installation manages (data source kore_cloud_accounts)"
    "$terraform" -chdir="$workdir" output -json accounts | "$python" "$repo_root/scripts/demo_report.py" accounts

    section "Stopping the emulator"
    stop_emulator
    echo "Done in ${SECONDS}s. The emulator's state and log are in $demo_dir."
    echo "To destroy the demo accounts: make demo-destroy"
}

run_destroy() {
    [[ -f $workdir/terraform.tfstate ]] ||
        fail "no demo state in $workdir; run make demo first (or set KORE_DEMO_DIR to the folder it used)"
    build
    configure_environment
    start_emulator

    section "terraform destroy: unmanage every account; close those with close_on_deletion"
    "$terraform" -chdir="$workdir" destroy -auto-approve -input=false -compact-warnings "${color_flags[@]}"
    section "What the emulator recorded, in order"
    "$python" "$repo_root/scripts/demo_report.py" lifecycle "$emulator_url"

    section "Stopping the emulator"
    stop_emulator
    # A later demo starts from the emulator's seed again, because closed accounts
    # would keep their email addresses taken.
    rm -rf "$demo_dir/examples" "$emulator_state"
    echo "Destroyed in ${SECONDS}s. The emulator's log is $emulator_log."
}

mkdir -p "$demo_dir"
case ${1:-apply} in
apply) run_apply ;;
destroy) run_destroy ;;
*) fail "unknown command '$1'; use no argument to apply or 'destroy'" ;;
esac
