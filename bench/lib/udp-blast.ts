/** @module UDP rounds for the control bench: datagrams with a bounded window of unanswered ones, the CPU the answering process spent per answer, and the steady-state mix of two rounds. */
import { cpuSecondsOf } from "./process-cpu.ts";

/**
 * Sends datagrams with at most `window` unanswered, counting answers; returns answered datagrams per second.
 * The window keeps the kernel's socket buffers from overflowing, so the figure is the receiver's, not loss.
 */
export async function udpBlast(
  port: number,
  datagrams: Uint8Array[],
  o: { window?: number; fromPort?: number } = {},
): Promise<{ sent: number; answered: number; perSec: number; fromPort: number }> {
  const window = o.window ?? 256;
  let answered = 0;
  let sent = 0;
  let wake: (() => void) | null = null;
  const sock = await Bun.udpSocket({
    hostname: "127.0.0.1",
    port: o.fromPort ?? 0,
    socket: {
      data() {
        answered++;
        // Refill once half the window is answered: one wake-up per half window, not per datagram.
        if (wake && sent - answered <= window / 2) {
          const w = wake;
          wake = null;
          w();
        }
      },
    },
  });
  const t0 = performance.now();
  while (sent < datagrams.length) {
    while (sent < datagrams.length && sent - answered < window)
      sock.send(datagrams[sent++]!, port, "127.0.0.1");
    await new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, 50); // a lost datagram must not stall the run
    });
  }
  const drainUntil = performance.now() + 500;
  while (answered < sent && performance.now() < drainUntil) await Bun.sleep(5);
  const elapsed = (performance.now() - t0) / 1000;
  sock.close();
  return { sent, answered, perSec: answered / elapsed, fromPort: sock.port };
}

export interface UdpResult {
  sent: number;
  answered: number;
  perSec: number;
  /** CPU time (user + system) the answering process spent per answered datagram, in µs. */
  cpuMicros: number;
}

/**
 * The steady state a node serves all day, from the two rounds that bound it: each device keeps alive once per
 * interval from an unchanged mapping, and control/store/keepalive-table.ts writes an unchanged mapping back once
 * its stored time is two intervals old, so one keepalive in three is written. Time per keepalive is the mix of
 * the two rounds' times (and CPU per keepalive likewise); nothing here is measured a third time.
 */
export function steadyMix(unchanged: UdpResult, written: UdpResult): UdpResult {
  const mix = (a: number, b: number) => (2 / 3) * a + (1 / 3) * b;
  return {
    sent: unchanged.sent + written.sent,
    answered: unchanged.answered + written.answered,
    perSec: 1 / mix(1 / unchanged.perSec, 1 / written.perSec),
    cpuMicros: mix(unchanged.cpuMicros, written.cpuMicros),
  };
}

/**
 * Runs a UDP round and adds the CPU time the answering process spent per answer. Throughput moves with whatever
 * else the two shared cores run; CPU per datagram much less, so the two ratios together say what the node costs.
 */
export async function cpuOf<R extends { sent: number; answered: number; perSec: number }>(
  pid: number,
  round: () => Promise<R>,
): Promise<R & UdpResult> {
  const before = cpuSecondsOf(pid);
  const r = await round();
  return { ...r, cpuMicros: ((cpuSecondsOf(pid) - before) * 1e6) / Math.max(1, r.answered) };
}
