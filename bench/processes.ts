/**
 * Control of the stack's processes (bench/stack.ts), one handle each: start, SIGKILL, SIGSTOP /
 * SIGCONT, graceful stop, and start again with the same settings (the same ports, the same
 * SQLite file for the dev server). The benches start them once; the fault-injection suite
 * (test/faults/) kills, pauses and restarts them under load. One module per part, re-exported
 * here: the handle and its shared signalling (process-handle.ts), the Node processes
 * (node-process.ts), the dev server (dev-server-process.ts), the /proc and health probes
 * (process-probes.ts).
 */

export { sleep } from './common.js';
export { childPid, existsPid, waitHealthy } from './process-probes.js';
export type { ProcessHandle, ProcessState, Role } from './process-handle.js';
export { NodeProcess } from './node-process.js';
export { DevServerProcess } from './dev-server-process.js';
