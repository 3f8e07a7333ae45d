/** The agents the `twelve` command finds in this project (twelve agents ls, twelve run <name>). */
import { defineConfig } from 'twelve-agents';
import support from './agents/support.js';

export default defineConfig({ agents: [support] });
