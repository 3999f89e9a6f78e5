#!/usr/bin/env bash
# The demo: builds rapportd, then runs it on the sample rules in a throwaway folder and shows
# what it knows. Everything it starts is stopped when it ends (also on Ctrl-C or an error).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bash .ci/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j2 --target rapportd

demo=$(mktemp -d /tmp/rapport-demo-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$demo"
}
trap cleanup EXIT INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

cp packaging/examples/rules.json "$demo/rules.json"
port=$(( 20000 + RANDOM % 20000 ))
cat > "$demo/settings.json" <<JSON
{"user": {"name": "Mia Marketing", "address": "mia@vendor.example"},
 "rules": "rules.json", "state_dir": "state",
 "api": {"port": $port, "token_file": "state/token"}}
JSON

step "Validate the admin's rules and print the account directory"
build/bin/rapportd --check-config "$demo/settings.json" --print-directory

step "A broken rules file is refused with every error and its JSON path"
sed -e 's/"owner": "rita"/"owner": "rtia"/' -e 's/"P45D", "P90D"/"P90D", "P45D"/' \
  packaging/examples/rules.json > "$demo/broken-rules.json"
sed 's/"rules.json"/"broken-rules.json"/' "$demo/settings.json" > "$demo/broken-settings.json"
build/bin/rapportd --check-config "$demo/broken-settings.json" || echo "(exit status $? — as expected)"

step "Start rapportd, reload a broken file (refused, old rules kept), then a good one"
build/bin/rapportd --config "$demo/settings.json" 2> "$demo/rapportd.log" &
pids+=($!)
for _ in $(seq 50); do grep -q "rapportd running" "$demo/rapportd.log" && break; sleep 0.1; done
cp "$demo/rules.json" "$demo/rules.good"
cp "$demo/broken-rules.json" "$demo/rules.json"
kill -HUP "${pids[0]}"; sleep 0.5
cp "$demo/rules.good" "$demo/rules.json"
kill -HUP "${pids[0]}"; sleep 0.5
kill -TERM "${pids[0]}"; wait "${pids[0]}" || true
sed 's/^/  /' "$demo/rapportd.log"
echo
echo "Demo finished; its folder $demo is removed now."
