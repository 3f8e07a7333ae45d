/**
 * `twelve deploy plan`, the logic: for the releases the working tree would deploy (agent ->
 * release), every in-flight thread of those agents grouped by the release that last stepped
 * it, and what the deploy would do to it: stays (already on this release), continue or hold
 * (the move a new worker would record, with its reasons and the changes), or left (a newer
 * release already stepped it: this code never would). Reads the store; writes nothing.
 */
import type { Store, StoredRelease, ThreadRecord } from '../store/types.js';
import { foldEvents, threadStatuses, isTerminal, type ThreadStatus } from '../thread/state.js';
import { planMove } from './move.js';

export type PlannedAction = 'stays' | 'continue' | 'hold' | 'left';

export interface PlannedThread {
  id: string;
  status: ThreadStatus;
  action: PlannedAction;
  compatible: boolean;
  reason: string;
}

export interface PlannedGroup {
  /** The release that last stepped these threads. */
  releaseId: string;
  /** Known to the store (its manifest can be compared). */
  known: boolean;
  /** What differs from the deployed release (empty for the deployed release itself). */
  changes: Array<{ kind: string; detail: string }>;
  threads: PlannedThread[];
}

export interface AgentPlan {
  agent: string;
  /** The release the working tree makes of this agent. */
  releaseId: string;
  groups: PlannedGroup[];
}

export interface DeployPlan {
  agents: AgentPlan[];
  summary: Record<PlannedAction, number> & { threads: number };
}

export interface PlanDeployOptions {
  store: Store;
  /** The releases to deploy, one per agent. */
  releases: Array<{ agent: string; releaseId: string; manifest: Record<string, unknown> }>;
}

const inFlight = threadStatuses.filter((status) => !isTerminal(status));

export async function planDeploy({ store, releases }: PlanDeployOptions): Promise<DeployPlan> {
  const summary = { threads: 0, stays: 0, continue: 0, hold: 0, left: 0 };
  const stored = new Map<string, Promise<StoredRelease | undefined>>();
  const getRelease = (id: string) => {
    let found = stored.get(id);
    if (!found) stored.set(id, (found = store.getRelease(id)));
    return found;
  };
  const agents: AgentPlan[] = [];
  for (const release of releases) {
    const groups = new Map<string, PlannedGroup>();
    const target = await getRelease(release.releaseId);
    for (const thread of await allInFlight(store, release.agent)) {
      let group = groups.get(thread.releaseId);
      if (!group) {
        const old = thread.releaseId === release.releaseId ? undefined : await getRelease(thread.releaseId);
        groups.set(thread.releaseId, (group = { releaseId: thread.releaseId, known: thread.releaseId === release.releaseId || Boolean(old), changes: [], threads: [] }));
      }
      const planned = await planThread(store, thread, release, target, getRelease);
      if (group.changes.length === 0 && planned.changes.length > 0) group.changes = planned.changes;
      group.threads.push(planned.thread);
      summary.threads++;
      summary[planned.thread.action]++;
    }
    // The deployed release first, then the others newest first (unknown releases last).
    const ordinalOf = async (id: string) => (await getRelease(id))?.ordinal ?? -1;
    const ordered = await Promise.all([...groups.values()].map(async (group) => ({ group, ordinal: group.releaseId === release.releaseId ? Infinity : await ordinalOf(group.releaseId) })));
    ordered.sort((a, b) => b.ordinal - a.ordinal);
    agents.push({ agent: release.agent, releaseId: release.releaseId, groups: ordered.map((entry) => entry.group) });
  }
  return { agents, summary };
}

async function planThread(
  store: Store,
  thread: ThreadRecord,
  release: PlanDeployOptions['releases'][number],
  target: StoredRelease | undefined,
  getRelease: (id: string) => Promise<StoredRelease | undefined>,
): Promise<{ thread: PlannedThread; changes: Array<{ kind: string; detail: string }> }> {
  const base = { id: thread.id, status: thread.status };
  if (thread.releaseId === release.releaseId) return { thread: { ...base, action: 'stays', compatible: true, reason: 'already on this release' }, changes: [] };
  const old = await getRelease(thread.releaseId);
  // Deploying an older build (a rollback): the threads a newer release stepped are never taken back.
  if (old && target && old.agent === target.agent && old.ordinal > target.ordinal) {
    return { thread: { ...base, action: 'left', compatible: false, reason: `newer release than ${release.releaseId}: workers on it never step this thread (no downgrade)` }, changes: [] };
  }
  const state = foldEvents(thread.id, await store.loadEvents(thread.id));
  const move = planMove({ thread: state, from: thread.releaseId, to: release.releaseId, before: old?.manifest, after: release.manifest });
  return { thread: { ...base, action: move.decision, compatible: move.compatible, reason: move.reason }, changes: move.changes };
}

/** Every unfinished thread of the agent, page by page (newest first). */
async function allInFlight(store: Store, agent: string): Promise<ThreadRecord[]> {
  const found: ThreadRecord[] = [];
  let after: { createdAt: string; id: string } | undefined;
  for (;;) {
    const page = await store.listThreads({ agent, status: inFlight, limit: 500, ...(after ? { after } : {}) });
    found.push(...page);
    if (page.length < 500) return found;
    const last = page[page.length - 1]!;
    after = { createdAt: last.createdAt, id: last.id };
  }
}
