/** @module Sets this process's I/O scheduling class and level with the ioprio_set system call, through libc's syscall(2). */
import { dlopen, FFIType, read } from "bun:ffi";

/** I/O scheduling classes a process may give itself without privilege (ioprio_set(2); RT needs CAP_SYS_ADMIN). */
export type IoClass = "best-effort" | "idle";

// linux/ioprio.h: the priority word is (class << IOPRIO_CLASS_SHIFT) | level; levels run 0 (first) to 7 (last).
const IOPRIO_CLASS_SHIFT = 13;
const IOPRIO_CLASS: Record<IoClass, number> = { "best-effort": 2, idle: 3 }; // IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE
const IOPRIO_WHO_PROCESS = 1;
export const IOPRIO_LEVEL_MAX = 7;

// Bun has no binding for ioprio_set and the call has no glibc wrapper, so it goes through syscall(2) with the
// architecture's number: arch/x86/entry/syscalls/syscall_64.tbl (251) and include/uapi/asm-generic/unistd.h (30).
const NR_IOPRIO_SET: Partial<Record<NodeJS.Architecture, number>> = { x64: 251, arm64: 30 };

/** errno values ioprio_set(2) documents, by number (asm-generic/errno-base.h), for a readable error. */
const ERRNO_NAMES: Record<number, string> = { 1: "EPERM", 3: "ESRCH", 22: "EINVAL" };

/** Thrown when the I/O priority cannot be set; the process keeps running at its inherited I/O priority. */
export class IoPriorityError extends Error {
  readonly code = "ERR_IO_PRIORITY";
}

type Libc = ReturnType<typeof openLibc>;
let libc: Libc | undefined;

function openLibc() {
  return dlopen("libc.so.6", {
    // long syscall(long number, ...): x86-64 and AArch64 Linux pass variadic integer arguments in registers
    // exactly like fixed ones, so declaring the four we pass is the same call.
    syscall: {
      args: [FFIType.i64, FFIType.i64, FFIType.i64, FFIType.i64],
      returns: FFIType.i64_fast,
    },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
}

/**
 * ioprio_set(IOPRIO_WHO_PROCESS, tid, class|level): on Linux it acts on one thread (tid 0: the calling one);
 * threads started later inherit their creator's.
 */
export function setIoPriority(ioClass: IoClass, level: number, tid = 0): void {
  if (!Number.isInteger(level) || level < 0 || level > IOPRIO_LEVEL_MAX)
    throw new RangeError(
      `Cannot set I/O priority: level ${level} is not an integer in [0, ${IOPRIO_LEVEL_MAX}]`,
    );
  const nr = NR_IOPRIO_SET[process.arch];
  if (process.platform !== "linux" || nr === undefined)
    throw new IoPriorityError(
      `Cannot set I/O priority: no ioprio_set on ${process.platform}/${process.arch}`,
    );
  try {
    libc ??= openLibc();
  } catch (err) {
    throw new IoPriorityError(`Cannot set I/O priority: libc.so.6 did not load (${(err as Error).message})`);
  }
  const word = (IOPRIO_CLASS[ioClass] << IOPRIO_CLASS_SHIFT) | level;
  const r = Number(libc.symbols.syscall(nr, IOPRIO_WHO_PROCESS, tid, word));
  if (r !== 0) {
    const location = libc.symbols.__errno_location();
    const errno = location === null ? 0 : read.i32(location, 0);
    throw new IoPriorityError(
      `Cannot set I/O priority: ioprio_set failed with ${ERRNO_NAMES[errno] ?? `errno ${errno}`}`,
    );
  }
}
