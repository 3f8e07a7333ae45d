/** Runs the `twelve` CLI from source (no build needed): `node --import tsx test/support/nats-cli.ts consume nats ...`. */
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
