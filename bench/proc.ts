import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** What the benches read of processes and of the machine in /proc (Linux). */

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * CPU seconds a process has used (utime + stime), plus those of its waited-for children when
 * `children` is set (cutime + cstime). Undefined when the process is gone.
 */
export function cpuSeconds(pid: number, { children = false } = {}): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "pid (comm) ": state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const at = (field: number) => Number(fields[field - 3]);
    const ticks = at(14) + at(15) + (children ? at(16) + at(17) : 0);
    return ticks / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/**
 * The name and CPU seconds (utime + stime) of thread `tid` of process `pid`, from
 * /proc/<pid>/task/<tid>/stat (/proc/<tid>/stat would give the whole process). Undefined when gone.
 */
export function threadCpu(pid: number, tid: number): { name: string; seconds: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[14 - 3]) + Number(fields[15 - 3]);
    return {
      name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
      seconds: ticks / ticksPerSecond(),
    };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds the machine has been busy (every core, /proc/stat: user, nice, system, irq, softirq,
 * steal; guest time is already in user). `softirq: false` leaves softirq out: on loopback the TCP
 * work of the sockets runs there and is charged to no process, so it cannot be told apart from
 * other processes' load. NaN when /proc/stat cannot be read.
 */
export function machineBusySeconds({ softirq = true } = {}): number {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n', 1)[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, soft = 0, steal = 0] = fields;
    return (user + nice + system + irq + (softirq ? soft : 0) + steal) / ticksPerSecond();
  } catch {
    return NaN;
  }
}

/** The `Vm…` and `Rss…` lines of /proc/<pid>/status, in bytes. */
export function procStatus(pid: number | 'self'): Record<string, number> {
  const values: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const match = /^(Vm\w+|Rss\w+):\s+(\d+) kB/.exec(line);
    if (match) values[match[1]!] = Number(match[2]) * 1024;
  }
  return values;
}

/** Resident set size and its high-water mark, in MiB. */
export function memoryMiB(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = procStatus(pid);
    return { rss: (status.VmRSS ?? NaN) / 2 ** 20, hwm: (status.VmHWM ?? NaN) / 2 ** 20 };
  } catch {
    return undefined;
  }
}

/** The soft and hard RLIMIT_NOFILE of this process (children inherit them). */
export function openFileLimits(): { soft: number; hard: number } {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((row) => row.startsWith('Max open files'));
  const [soft, hard] = (line ?? '').split(/\s{2,}/).slice(1, 3);
  const parse = (value: string | undefined): number =>
    value === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(value ?? 1024);
  return { soft: parse(soft), hard: parse(hard) };
}
