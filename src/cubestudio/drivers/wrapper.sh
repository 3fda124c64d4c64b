# The per-attempt wrapper, run as: sh -c CODE cube-task ATTEMPT_DIR COMMAND, CODE being this
# file without its comment lines (sh parses it for every attempt),
# in a new session (its pid is the process group id), stdout/stderr already on the log file,
# with ATTEMPT_DIR and its work/ and outputs/ folders made by the engine. Only shell
# builtins: a task costs this one sh and the subshell of its command, no other process.
# 1. claim the launch and say who runs it, in one step: `started` is created with O_EXCL
#    (noclobber), so of two wrappers for one attempt only one runs it, and it holds
#    "PID STARTTIME" (field 22 of /proc/PID/stat defeats pid reuse);
# 2. run the command in a subshell in the attempt's work directory ($CUBE_WORKDIR instead
#    when the task has a workdir:). SIGTERM to the group reaches the command's processes
#    (a caught signal is reset for the programs they exec) while the wrapper and the
#    subshell, whose traps wait for their foreground command to end, outlive them: the
#    engine learns the attempt ended only when the command has, however long its own
#    clean-up takes (sh does not exec the command's last program, so without the subshell's
#    trap it would die at once and step 4 would cut the clean-up short). The subshell then
#    exits 143, as a shell reports a SIGTERM, without running the rest of the command;
# 3. record its exit status. One write of a short line: a reader that sees no newline yet
#    treats the file as not written. Killed with SIGKILL, the wrapper records nothing and the
#    engine, which committed the kill first, records the outcome itself;
# 4. then end what is left of the process group (daemons the command started, children that
#    ignore SIGTERM), the wrapper included, as Kubernetes does with a pod's containers. The
#    wrapper leads the group, so while it lives the group id names no one else; and it does
#    so whichever engine watches it, the one that started it or one that adopted it after a
#    crash. The exit status is complete on disk before the group dies.
__cube_d=$1 __cube_c=$2
read -r __cube_s < /proc/$$/stat
set -f; set -- $__cube_s; set +f
set -C
{ echo "$$ ${22}" > "$__cube_d/started"; } 2>/dev/null || exit 0
set +C
trap : TERM INT HUP
cd "${CUBE_WORKDIR:-$__cube_d/work}" && (unset __cube_s; trap 'exit 143' TERM INT HUP; eval "$__cube_c") < /dev/null
echo $? > "$__cube_d/exit"
kill -s KILL 0
