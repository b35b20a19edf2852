/** @module A TCP port on 127.0.0.1 whose SYNs go unanswered, as behind a router that drops them: a python3 process holds a listener with a full accept queue. */
import { ChildProcess } from "../../demo/child-process.ts";

// listen(0) leaves room for one pending connection; the process fills it with its own connect and never
// accepts, so the kernel drops every later SYN (tcp_abort_on_overflow 0) and a connect hangs until its timeout.
const PROGRAM = `
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0)
own = socket.create_connection(s.getsockname())
print(s.getsockname()[1], flush=True)
sys.stdin.read()
`;

export interface SynBlackhole extends AsyncDisposable {
  port: number;
}

/** Starts the blackhole; disposing it ends the process (and frees the port). */
export async function startSynBlackhole(): Promise<SynBlackhole> {
  const proc = new ChildProcess("syn-blackhole", ["python3", "-c", PROGRAM], { stdin: true });
  const [line] = await proc.waitForLine(/^\d+$/, { timeoutMs: 10_000 });
  return {
    port: Number(line),
    [Symbol.asyncDispose]: () => proc[Symbol.asyncDispose](),
  };
}
