/**
 * `npx twelve worker` (npm exec) puts npm and a shell between a process manager and this
 * process, and npm exits on SIGTERM without passing it on: the worker would be orphaned and
 * go on running (and holding leases) after its supervisor thought it stopped. When npm
 * started us and our parent goes away, we take that as the SIGTERM it swallowed: the usual
 * drain runs. A process started directly (node_modules/.bin/twelve, exec in a container) is
 * not watched: being re-parented is normal for a daemon.
 */
export function stopWhenNpmParentExits(env: NodeJS.ProcessEnv = process.env): void {
  if (env.npm_command !== 'exec') return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.stderr.write(`twelve: the npm process that started this one (pid ${parent}) exited; stopping as on SIGTERM\n`);
    process.kill(process.pid, 'SIGTERM');
  }, 250);
  timer.unref();
}
