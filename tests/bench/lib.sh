# Shared by the benchmark scripts (sourced, not run).

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }
# A key=value field of the load tool's summary line.
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

# The shipped config for a benchmark run: port $1, data in $2, the
# repository's menus, rules and console by absolute path, warnings only in
# the log, no per-address connection limit (the load comes from one address).
bench_config() {
  sed -e "s|^  port: 8080|  port: $1|" -e "s|sqlite_path: ../data/gateway.db|sqlite_path: $2/gateway.db|" \
      -e "s|  level: info|  level: warn|" -e "s|max_connections_per_address: 64|max_connections_per_address: 0|" \
      -e "s|directory: ../menus|directory: $PWD/menus|" -e "s|partners_file: partners.yaml|partners_file: $PWD/config/partners.yaml|" \
      -e "s|rules_directory: ../referral-rules|rules_directory: $PWD/referral-rules|" \
      -e "s|data_key_file: ../data/gateway.key|data_key_file: $2/gateway.key|" \
      -e "s|directory: ../gateway/console|directory: $PWD/gateway/console|" \
      -e "s|reply_templates: reply-templates.yaml|reply_templates: $PWD/config/reply-templates.yaml|" \
      config/gateway.yaml
}
