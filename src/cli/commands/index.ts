/** Every `twelve` command, in the order the help lists them. */
import type { CommandSpec } from '../command.js';
import { agents } from './agents.js';
import { answer } from './answer.js';
import { approve } from './approve.js';
import { audit } from './audit.js';
import { budget } from './budget.js';
import { build } from './build.js';
import { cancel } from './cancel.js';
import { consume } from './consume.js';
import { deploy } from './deploy.js';
import { dev } from './dev.js';
import { evalCommand } from './eval.js';
import { fork } from './fork.js';
import { inbox } from './inbox.js';
import { migrate } from './migrate.js';
import { pause } from './pause.js';
import { reject } from './reject.js';
import { releases } from './releases.js';
import { replay } from './replay.js';
import { resume } from './resume.js';
import { review } from './review.js';
import { run } from './run.js';
import { serve } from './serve.js';
import { threads } from './threads.js';
import { worker } from './worker.js';

export const commands: readonly CommandSpec[] = [run, resume, fork, threads, inbox, approve, reject, answer, review, budget, pause, cancel, agents, releases, replay, audit, deploy, build, evalCommand, worker, consume, migrate, serve, dev];
