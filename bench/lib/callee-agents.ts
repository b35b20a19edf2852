/** @module The control bench's callees in a process of their own: real UDP recorders that keep alive and answer status triggers, off the load generator's event loop. */
/*
 *   bun bench/lib/callee-agents.ts      stdin: one JSON line {"node":{"host","port"},"devices":[{"id","secret"}]}
 *                                      then "keepalive" lines (after a node restart); each is answered "ready" on stdout.
 */
import { DeviceAgent } from "../../test/support/device-agent.ts";

interface Setup {
  node: { host: string; port: number };
  devices: Array<{ id: string; secret: string }>;
}

const agents: DeviceAgent[] = [];
const lines = console[Symbol.asyncIterator]();
const first = await lines.next();
if (first.done) process.exit(1);
const setup = JSON.parse(first.value) as Setup;
for (const d of setup.devices) {
  const agent = await DeviceAgent.start(d, setup.node);
  // The bench sends thousands of triggers; the agent's record of them (for tests) is not kept here.
  const answer = agent.answer;
  agent.answer = (t) => {
    agent.triggers.length = 0;
    return answer(t);
  };
  agents.push(agent);
}
const keepalives = async () => {
  await Promise.all(agents.map((a) => a.keepalive(3600)));
  process.stdout.write("ready\n");
};
await keepalives();
for await (const line of lines) {
  if (line.trim() === "keepalive") await keepalives();
}
for (const a of agents) await a[Symbol.asyncDispose]();
