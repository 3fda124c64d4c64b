# The per-attempt wrapper, run as: sh -c "$(cat wrapper.sh)" cube-task ATTEMPT_DIR COMMAND
# in a new session (its pid is the process group id), stdout/stderr already on the log file.
# 1. claim the launch: mkdir is atomic, so of two wrappers for one attempt only one runs it;
# 2. record "PID STARTTIME" (field 22 of /proc/PID/stat defeats pid reuse);
# 3. run the command in a subshell in the attempt's work directory. SIGTERM to the group
#    reaches the command (a trapped signal is reset in the subshell) while the wrapper, whose
#    trap waits for the foreground command to end, outlives it: the engine learns the attempt
#    ended only when the command has, however long its own clean-up takes;
# 4. record its exit status. One write of a short line: a reader that sees no newline yet
#    treats the file as not written. Killed with SIGKILL, the wrapper records nothing and the
#    engine, which committed the kill first, records the outcome itself.
__cube_d=$1 __cube_c=$2
mkdir "$__cube_d/started" 2>/dev/null || exit 0
trap : TERM INT HUP
read -r __cube_s < /proc/$$/stat
set -f; set -- $__cube_s; set +f
echo "$$ ${22}" > "$__cube_d/pid"
cd "$__cube_d/work" && (unset __cube_s; eval "$__cube_c") < /dev/null
echo $? > "$__cube_d/exit"
