/** What a waiting thread waits for, and the command that moves it on (local and remote CLI). */
export interface WaitingThread {
  id: string;
  status: string;
  waitingReason: string | null;
}

/** `remote`: decisions are recorded under the API key's name, so the hints carry no --as. */
export function waitingHint(thread: WaitingThread, options: { remote: boolean }): string {
  const id = thread.id;
  const as = options.remote ? '' : ' --as <you>';
  switch (thread.status) {
    case 'awaiting_approval':
      return `waits for approval: ${thread.waitingReason}\n  decide with: twelve approve ${id}${as} [--comment ...]   or: twelve reject ${id}${as} --comment "<why>"`;
    case 'awaiting_review':
      return (
        `waits for a review of its answer: ${thread.waitingReason?.replace(/^review: /, '')}\n  see it in full: twelve review show ${id}\n` +
        `  then: twelve review approve ${id}${as}   or: twelve review edit ${id}${as} --output <json|@file>   or: twelve review send-back ${id}${as} --feedback "<what to change>"   or: twelve review reject ${id}${as} --comment "<why>"`
      );
    case 'awaiting_human':
      if (thread.waitingReason?.startsWith('blocked:')) {
        return `is ${thread.waitingReason}\n  fix the configuration${options.remote ? " of the server's workers" : ''}, then: twelve resume ${id}${as}`;
      }
      if (thread.waitingReason?.startsWith('unconfirmed:')) {
        return `waits for a person to check another system: ${thread.waitingReason.slice('unconfirmed: '.length)}\n  answer with: twelve answer ${id}${as} "happened" | "did not happen" | "retry"   (a comment may follow: "happened: <what you found>")`;
      }
      if (thread.waitingReason?.startsWith('release:')) {
        return `is held after a deploy (${thread.waitingReason})\n  look at the change (twelve threads show ${id}), then move it on: twelve resume ${id}${as} --comment "<why>"   or end it: twelve cancel ${id}${as}`;
      }
      if (isEscalation(thread.waitingReason)) {
        return `waits for a human: ${thread.waitingReason}\n  guide it: twelve answer ${id}${as} "<guidance>"   raise a limit: twelve budget ${id}${as} --max-cost-usd <n>   stop it: twelve cancel ${id}${as}`;
      }
      return `waits for an answer: ${thread.waitingReason}\n  answer with: twelve answer ${id}${as} "<answer>"`;
    case 'sleeping':
      return options.remote
        ? `${thread.waitingReason}; the server's workers continue it after that (follow it with: twelve resume ${id})`
        : `${thread.waitingReason}; a worker (twelve worker) or twelve resume ${id} continues it after that`;
    case 'paused':
      return `is ${thread.waitingReason}; continue with: twelve resume ${id}${as}`;
    case 'awaiting_child':
      return `is ${thread.waitingReason}; it goes on when that thread ends (see it: twelve threads show ${id})`;
    default:
      return `is ${thread.status}`;
  }
}

/** Escalations and budget breaches take guidance, not an answer. */
export function isEscalation(waitingReason: string | null | undefined): boolean {
  return /^(escalated|budget):/.test(waitingReason ?? '');
}

/** Waits that `twelve resume` ends with a resume event: escalations, budget breaches, blocked configuration, a release hold. */
export function takesResume(waitingReason: string | null | undefined): boolean {
  return /^(escalated|budget|blocked|release):/.test(waitingReason ?? '');
}
