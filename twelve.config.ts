/** The agents the `twelve` CLI finds in this repository: the examples. */
import { defineConfig } from 'twelve-agents';
import emailClassifier from './examples/email-classifier/agent.js';
import refunds from './examples/refunds/agent.js';

export default defineConfig({ agents: [emailClassifier, refunds] });
