/**
 * The keepalived container's command: a small POSIX `sh` supervisor around keepalived, so that a
 * keepalived that dies leaves no virtual IP behind.
 *
 * keepalived removes its addresses when it stops gracefully (SIGTERM), but not when it is SIGKILLed
 * (an OOM kill, a crash): the addresses stay on the interface, and the node keeps answering ARP for
 * them while another node has taken over (two holders, for as long as the container stays down; in
 * CrashLoopBackOff that is minutes). The supervisor runs keepalived in the foreground as its child and:
 *  - before keepalived starts, removes the addresses of the rendered config that a predecessor left
 *    on this node (a container restart after a kill -9 of the whole container, supervisor included);
 *  - before keepalived starts, removes the pid files its command line names (`--pid`, `--vrrp_pid`,
 *    `--checkers_pid`): they live in the pod's `run` volume, which outlives the container, and no
 *    keepalived of a container that is just starting can be alive. A stale one whose pid still answers
 *    `kill(pid, 0)` (the killed predecessor's VRRP child, a zombie not yet reaped by the pod's PID 1)
 *    makes keepalived say "daemon is already running" and exit 0;
 *  - forwards SIGTERM, SIGINT and SIGHUP to keepalived (graceful stop with a priority-0 advert; reload);
 *  - when keepalived exits for any reason, removes the same addresses, then exits with its status.
 *
 * Why here: the keepalived container already has NET_ADMIN (it adds and removes these very addresses),
 * so removing them there grants nothing new; the agent stays unprivileged. The script needs only what
 * the keepalived image has: `/bin/sh` (busybox or dash), `rm` and `ip` (iproute2 or busybox); no node.
 *
 * Which addresses: those of the `virtual_ipaddress` blocks of the config keepalived runs (the agent's
 * own format: `ADDRESS/PREFIX dev IFACE`, one per line), read when keepalived exits, so that a config
 * the agent re-rendered since (discovery mode) is the one used. An address that is not on the node is
 * skipped silently.
 *
 * The script holds no `$(` and no `$$`: the kubelet expands `$(VAR)` and reduces `$$` in a container's
 * command and args.
 */

/** The argv[0] the script runs under (shown by `ps` and in its log lines). */
export const SUPERVISOR_NAME = 'keepalived-supervisor';

/**
 * The supervisor, for `sh -c SCRIPT keepalived-supervisor CONFIG KEEPALIVED_ARGV...`: `$1` is the
 * keepalived.conf whose addresses it guards, the rest is keepalived's command line.
 */
export const SUPERVISOR_SCRIPT = [
  'conf="$1"; shift',
  // Removes every virtual_ipaddress entry of the config from its interface; silent for absent ones.
  'release() {',
  '  in_block=0',
  '  while read -r address word dev rest; do',
  '    case "$address" in',
  '      virtual_ipaddress|virtual_ipaddress_excluded) in_block=1; continue ;;',
  "      '}') in_block=0; continue ;;",
  '    esac',
  '    if [ "$in_block" = 1 ] && [ "$word" = dev ] && [ -n "$dev" ] && ip addr del "$address" dev "$dev" 2>/dev/null; then',
  `      echo "${SUPERVISOR_NAME}: removed $address from $dev ($1)"`,
  '    fi',
  '  done < "$conf"',
  '}',
  'release "left before keepalived started"',
  // The pid files of keepalived's command line (long options only, as the DaemonSet gives them).
  'option=',
  'for arg in "$@"; do',
  '  case "$option" in --pid|--vrrp_pid|--checkers_pid) rm -f -- "$arg" ;; esac',
  '  case "$arg" in --pid=*|--vrrp_pid=*|--checkers_pid=*) rm -f -- "${arg#*=}" ;; esac',
  '  option="$arg"',
  'done',
  '"$@" &',
  'child=$!',
  "trap 'kill -TERM \"$child\" 2>/dev/null' TERM",
  "trap 'kill -INT \"$child\" 2>/dev/null' INT",
  "trap 'kill -HUP \"$child\" 2>/dev/null' HUP",
  'status=0',
  // `wait` returns early when a trapped signal arrives: wait again until keepalived has really exited.
  'while kill -0 "$child" 2>/dev/null; do wait "$child"; status=$?; done',
  'release "keepalived exited with status $status"',
  'exit "$status"',
].join('\n');

/** The supervisor as a file, which the namespace's agent ConfigMap carries once for all its pods. */
export const SUPERVISOR_FILE_CONTENT = `${SUPERVISOR_SCRIPT}\n`;

/**
 * The keepalived container's `command`: the supervisor around `keepalivedArgv`, guarding the addresses
 * of `configFile` (the file keepalived's `--use-file` names). With `scriptFile` (where the pod mounts
 * `SUPERVISOR_FILE_CONTENT`) sh runs that file; without, the script is inline.
 */
export function supervisedKeepalivedCommand(configFile: string, keepalivedArgv: readonly string[], scriptFile?: string): string[] {
  const supervisor = scriptFile === undefined ? ['/bin/sh', '-c', SUPERVISOR_SCRIPT, SUPERVISOR_NAME] : ['/bin/sh', scriptFile];
  return [...supervisor, configFile, ...keepalivedArgv];
}
