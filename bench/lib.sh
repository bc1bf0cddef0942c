# Shared by the benchmark scripts (sourced): installing their tools, the HAProxy and nginx proxy
# configurations they compare Fulcrum with, the CPU time and memory of a process tree, the JDK.
# Both scripts configure the anchors alike, so their figures can be read side by side.

# install_missing PACKAGE...: apt-get installs the packages that are not installed (with sudo
# when not root; `apt-get update` first only if the install fails); fails when it cannot.
install_missing() {
  local missing=() pkg sudo=""
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  ((${#missing[@]})) || return 0
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  echo "bench: installing ${missing[*]}" >&2
  { DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" \
    || { $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; }; } >&2
}

# bench_processes PREFIX: a work directory $work (readable by nginx workers running as nobody),
# the PID map of the processes a script starts, and a cleanup on exit that stops them by PID
# (SIGTERM, then SIGKILL after 5 s) and removes $work.
bench_processes() {
  work=$(mktemp -d "/tmp/$1.XXXXXX")
  chmod 755 "$work"
  declare -gA PID=()
  trap cleanup EXIT
  trap 'exit 130' INT TERM
}
stop_pid() {
  local pid=$1 i
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
cleanup() {
  local name
  for name in "${!PID[@]}"; do stop_pid "${PID[$name]}"; done
  rm -rf "$work"
}

# require_free_ports PORT...: exits 1 naming the first port something already listens on.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
require_free_ports() {
  local p
  for p in "$@"; do
    if port_open "$p"; then echo "bench: port 127.0.0.1:$p is in use; stop what holds it first" >&2; exit 1; fi
  done
}

# haproxy_config BIND SERVER...: HTTP round-robin over the servers, 2 threads, keep-alive and
# connection reuse to the servers.
haproxy_config() {
  local bind=$1 i=0 s; shift
  cat <<CFG
global
  nbthread 2
  maxconn 9500
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 2s
  timeout client 30s
  timeout server 30s
frontend web
  bind $bind
  default_backend app
backend app
  balance roundrobin
CFG
  for s in "$@"; do i=$((i + 1)); echo "  server s$i $s"; done
}

# nginx_common DIR: the top of an nginx.conf whose files all live under DIR (the nginx -p prefix)
nginx_common() {
  cat <<CFG
pid $1/nginx.pid;
error_log $1/error.log warn;
daemon off;
events { worker_connections 10240; }
CFG
}

# nginx_http_common DIR: the start of an http block (no access log, temp files under DIR)
nginx_http_common() {
  cat <<CFG
  access_log off;
  client_body_temp_path $1/client_temp;
  proxy_temp_path $1/proxy_temp;
  fastcgi_temp_path $1/fastcgi_temp;
  uwsgi_temp_path $1/uwsgi_temp;
  scgi_temp_path $1/scgi_temp;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
CFG
}

# nginx_proxy_config DIR LISTEN SERVER...: 2 workers, round-robin over the servers with upstream
# keep-alive, responses streamed (never spooled to disk).
nginx_proxy_config() {
  local dir=$1 listen=$2 s; shift 2
  nginx_common "$dir"
  echo "worker_processes 2;"
  echo "http {"
  nginx_http_common "$dir"
  echo -n "  upstream app {"
  for s in "$@"; do echo -n " server $s;"; done
  echo " keepalive 64; }"
  cat <<CFG
  server {
    listen $listen;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_max_temp_file_size 0;
    }
  }
}
CFG
}

# --- routes (bench/run.sh -W routes): N pools b1..bN, each of the same servers, so that only
# the routing differs from the one-pool configurations above. Host routes: h1.example.com ..
# hN.example.com to b1..bN; path-prefix routes: /p1/ .. /pN/ to b1..bN. A request no route takes
# gets an error status (HAProxy 503, nginx and Fulcrum 404), never a pool, so a load that is not
# routed where meant shows as errors.

# haproxy_routes_config N HOSTS_BIND MAP_BIND PATHS_BIND MAP_FILE SERVER...: three frontends of the
# global and defaults of haproxy_config: N `acl hI hdr(host) -i hI.example.com` + `use_backend bI
# if hI` (rules tried in order); the same as one map file (`use_backend
# %[req.hdr(host),lower,map(MAP_FILE)]`, a tree lookup), written to MAP_FILE; N `acl pI path_beg
# /pI/` + `use_backend bI if pI`.
haproxy_routes_config() {
  local n=$1 hosts=$2 map=$3 paths=$4 map_file=$5 i j s; shift 5
  haproxy_config "$hosts" "$@" | sed '/^frontend web$/,$d'
  for ((i = 1; i <= n; i++)); do echo "h$i.example.com b$i"; done > "$map_file"
  echo "frontend hosts"
  echo "  bind $hosts"
  for ((i = 1; i <= n; i++)); do echo "  acl h$i hdr(host) -i h$i.example.com"; done
  for ((i = 1; i <= n; i++)); do echo "  use_backend b$i if h$i"; done
  echo "frontend hosts-map"
  echo "  bind $map"
  echo "  use_backend %[req.hdr(host),lower,map($map_file)]"
  echo "frontend paths"
  echo "  bind $paths"
  for ((i = 1; i <= n; i++)); do echo "  acl p$i path_beg /p$i/"; done
  for ((i = 1; i <= n; i++)); do echo "  use_backend b$i if p$i"; done
  for ((i = 1; i <= n; i++)); do
    echo "backend b$i"
    echo "  balance roundrobin"
    j=0
    for s in "$@"; do j=$((j + 1)); echo "  server s$j $s"; done
  done
}

# nginx_routes_config N DIR HOSTS_LISTEN PATHS_LISTEN SERVER...: the workers and upstream
# keep-alive of nginx_proxy_config, N upstreams; on HOSTS_LISTEN N `server { server_name
# hI.example.com; location / {...} }` (a hash lookup of the Host) and a default server answering
# 404; on PATHS_LISTEN one server with N `location /pI/` (a prefix tree) and `location /` answering 404.
nginx_routes_config() {
  local n=$1 dir=$2 hosts=$3 paths=$4 i s; shift 4
  nginx_common "$dir"
  echo "worker_processes 2;"
  echo "http {"
  nginx_http_common "$dir"
  echo "  proxy_http_version 1.1;"
  echo "  proxy_set_header Connection \"\";"
  echo "  proxy_max_temp_file_size 0;"
  for ((i = 1; i <= n; i++)); do
    echo -n "  upstream b$i {"
    for s in "$@"; do echo -n " server $s;"; done
    echo " keepalive 64; }"
  done
  echo "  server { listen $hosts default_server; return 404; }"
  for ((i = 1; i <= n; i++)); do
    echo "  server { listen $hosts; server_name h$i.example.com; location / { proxy_pass http://b$i; } }"
  done
  echo "  server {"
  echo "    listen $paths;"
  echo "    location / { return 404; }"
  for ((i = 1; i <= n; i++)); do echo "    location /p$i/ { proxy_pass http://b$i; }"; done
  echo "  }"
  echo "}"
}

# fulcrum_routes_config N ADMIN HOSTS_LISTEN PATHS_LISTEN SERVER...: listener `hosts` with N routes
# `match: {host: hI.example.com}` (a hash lookup of the host), listener `paths` with N routes
# `match: {path-prefix: /pI/}` (no host: tried in order), no catch-all (404); health checks off.
fulcrum_routes_config() {
  local n=$1 admin=$2 hosts=$3 paths=$4 i s; shift 4
  echo "name: bench-routes"
  echo "admin:"
  echo "  listen: $admin"
  echo "listeners:"
  echo "  - name: hosts"
  echo "    listen: $hosts"
  echo "    protocol: http"
  echo "    routes:"
  for ((i = 1; i <= n; i++)); do echo "      - {match: {host: h$i.example.com}, pool: b$i}"; done
  echo "  - name: paths"
  echo "    listen: $paths"
  echo "    protocol: http"
  echo "    routes:"
  for ((i = 1; i <= n; i++)); do echo "      - {match: {path-prefix: /p$i/}, pool: b$i}"; done
  echo "pools:"
  for ((i = 1; i <= n; i++)); do
    echo "  - name: b$i"
    echo "    algorithm: round-robin"
    echo "    servers:"
    for s in "$@"; do echo "      - address: $s"; done
    echo "    health-check:"
    echo "      type: none"
  done
}

# tree_pids PID: the process and all its descendants, one PID a line, from /proc.
tree_pids() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" '
    { pid = $1; rest = $0; sub(/^.*\) /, "", rest); split(rest, f, " "); ppid[pid] = f[2] }
    END { n = 1; q[1] = root
          for (i = 1; i <= n; i++) { p = q[i]; print p; for (c in ppid) if (ppid[c] == p) q[++n] = c } }'
}

# tree_ticks PID: utime+stime (clock ticks) of a process and all its descendants, from /proc
# (nginx's and HAProxy's workers, all JVM threads).
tree_ticks() {
  local p
  for p in $(tree_pids "$1"); do cat "/proc/$p/stat" 2>/dev/null || true; done |
    awk '{ rest = $0; sub(/^.*\) /, "", rest); split(rest, f, " "); t += f[12] + f[13] } END { print t + 0 }'
}

# tree_rss_kib PID: the sum of VmRSS (KiB) over a process and its descendants (pages that
# nginx's master and workers share count once per process).
tree_rss_kib() {
  local p
  for p in $(tree_pids "$1"); do cat "/proc/$p/status" 2>/dev/null || true; done |
    awk '$1 == "VmRSS:" { k += $2 } END { print k + 0 }'
}

# bench_jdk: the JDK that ./fulcrum runs on (the launcher's own search; it builds the jar when
# missing), printed as its java.home.
bench_jdk() {
  JAVA_OPTS=-XshowSettings:properties ./fulcrum --version 2>&1 | awk '$1 == "java.home" { print $3; exit }'
}
