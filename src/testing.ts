/** Test helpers for agents built with Twelve: `twelve-agents/testing`. */
export { scriptedModel, type ScriptedModel, type ScriptedReply, type Script } from './model/scripted.js';
export { SqliteStore } from './store/sqlite/sqlite-store.js';
