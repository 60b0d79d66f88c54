import { runCli } from './cli';

// Entry point of `cimd` (see bin/cimd.js). Exit codes: 0 valid/allow, 1 invalid/deny, 2 usage or I/O error.
void runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stdin: () => process.stdin,
}).then((code) => {
  process.exitCode = code;
});
