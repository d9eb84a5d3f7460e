/**
 * `pnpm gossip:sim [command] [options]`: the gossip package's experiments, each a subcommand that
 * runs on the simulation runtime. The first argument names the command (default `epidemic`);
 * the rest is the command's own. Progress goes to stderr, results to stdout. Bad arguments print
 * the error and the command's usage and exit with code 2.
 *
 * To add an experiment, add an entry to `commands`: an async function of its arguments that
 * throws an error with `code: 'USAGE'` and a `usage` text (see `UsageError`) on bad input.
 */
import { broadcastCommand } from './broadcast-command.ts';
import { epidemicCommand } from './epidemic-command.ts';
import { swimCommand } from './swim-command.ts';

const commands: Record<string, (argv: string[]) => Promise<void>> = {
  epidemic: epidemicCommand,
  swim: swimCommand,
  broadcast: broadcastCommand,
};

const DEFAULT_COMMAND = 'epidemic';

function usage(): string {
  return `usage: pnpm gossip:sim [${Object.keys(commands).join('|')}] [options]   (default ${DEFAULT_COMMAND}; <command> --help for its options)`;
}

/** A command's complaint about its arguments: any error with `code: 'USAGE'`, from whichever command module. */
function isUsageError(err: unknown): err is Error & { readonly usage?: unknown } {
  return err instanceof Error && (err as { readonly code?: unknown }).code === 'USAGE';
}

async function main(argv: string[]): Promise<number> {
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  const first = args[0];
  const named = first !== undefined && !first.startsWith('-');
  const name = named ? first : DEFAULT_COMMAND;
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`gossip:sim: unknown command ${JSON.stringify(name)}\n${usage()}\n`);
    return 2;
  }
  try {
    await command(named ? args.slice(1) : args);
    return 0;
  } catch (err) {
    if (isUsageError(err)) {
      process.stderr.write(`gossip:sim ${name}: ${err.message}\n\n${typeof err.usage === 'string' ? err.usage : usage()}\n`);
      return 2;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`gossip:sim: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
